-- Ember for Neovim: `ember lsp` for Python buffers (inline timings), the nvim-dap adapter and
-- configurations when nvim-dap is installed, and commands to reach the flamegraph.
local binary = require('ember.binary')
local ember_dap = require('ember.dap')

local M = {}

M.defaults = {
  path = nil, -- the ember binary; default: $EMBER_BIN, then `ember` on PATH
  open_flamegraph = true, -- open the flamegraph URL when a profiling session starts
  inlay_hints = true, -- switch inlay hints on in buffers Ember attaches to
  codelens = true, -- show and refresh Ember's code lenses
  -- How `ember lsp` is started: 'auto' (vim.lsp.config/enable on 0.11+, vim.lsp.start before),
  -- 'config', 'start' (a FileType autocmd calling vim.lsp.start), or false (no LSP, DAP only).
  lsp = 'auto',
  filetypes = { 'python' },
  root_markers = { '.ember', 'pyproject.toml', 'setup.py', 'setup.cfg', 'requirements.txt', '.git' },
  init_options = {}, -- passed to `ember lsp` as initializationOptions
  settings = {}, -- answered to workspace/configuration, section "ember"
}

M.config = nil
M.bin = nil
M.last_url = nil

local levels = vim.log.levels
local has_011 = vim.fn.has('nvim-0.11') == 1

local function notify(msg, level)
  vim.notify(msg, level or levels.INFO, { title = 'ember' })
end

local function is_local_url(url)
  if type(url) ~= 'string' then
    return false
  end
  local host = url:match('^https?://(%[[^%]]+%])') or url:match('^https?://([^/:]+)')
  return host == '127.0.0.1' or host == 'localhost' or host == '[::1]'
end

--- Opens a flamegraph URL served by Ember on this machine; says so when no browser can.
function M.open_url(url)
  if not is_local_url(url) then
    return false
  end
  M.last_url = url
  local ok, cmd, err = pcall(vim.ui.open, url)
  if not ok or not cmd then
    notify(('flamegraph at %s (no browser could be opened: %s)'):format(url, tostring(err or cmd)), levels.WARN)
    return false
  end
  notify('flamegraph: ' .. url)
  return true
end

M.opened_sessions = {}

--- The `ember/profile` DAP event: {url, path, samples}. The browser opens on the first event
--- of a session that carries a URL; the adapter reports the profile again when it is saved.
function M.on_profile(body, session_id)
  if type(body) ~= 'table' or not is_local_url(body.url) then
    return
  end
  M.last_url = body.url
  local key = session_id or 'default'
  if not M.config.open_flamegraph then
    notify(('profiling: flamegraph at %s'):format(body.url))
  elseif not M.opened_sessions[key] then
    M.opened_sessions[key] = true
    M.open_url(body.url)
  end
end

local function clients()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = 'ember' })
  end
  return vim.lsp.get_active_clients({ name = 'ember' })
end

--- Runs one of the server's workspace/executeCommand commands; `done(err, result)` optional.
function M.server_command(command, arguments, done)
  local client = clients()[1]
  if not client then
    notify('ember lsp is not running: open a Python file first (see :checkhealth vim.lsp).', levels.WARN)
    return false
  end
  local params = { command = command, arguments = arguments or {} }
  local handler = function(err, result)
    if err then
      notify(('%s failed: %s'):format(command, err.message or vim.inspect(err)), levels.ERROR)
    end
    if done then
      done(err, result)
    end
  end
  if has_011 then
    client:request('workspace/executeCommand', params, handler)
  else
    client.request('workspace/executeCommand', params, handler)
  end
  return true
end

-- An empty Lua table is sent as a JSON array; the server expects objects.
local function object(t)
  return next(t) == nil and vim.empty_dict() or t
end

local function lsp_config()
  return {
    cmd = { M.bin, 'lsp' },
    filetypes = M.config.filetypes,
    root_markers = M.config.root_markers,
    init_options = object(M.config.init_options),
    settings = { ember = object(M.config.settings) },
  }
end

local function start_lsp()
  local group = vim.api.nvim_create_augroup('ember_lsp', { clear = true })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if not client or client.name ~= 'ember' then
        return
      end
      if M.config.inlay_hints and vim.lsp.inlay_hint then
        vim.lsp.inlay_hint.enable(true, { bufnr = args.buf })
      end
      if M.config.codelens then
        vim.lsp.codelens.refresh({ bufnr = args.buf })
        -- TextChanged: normal-mode edits (dd, p, u) move lines too.
        vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'TextChanged' }, {
          group = group,
          buffer = args.buf,
          callback = function()
            vim.lsp.codelens.refresh({ bufnr = args.buf })
          end,
        })
      end
    end,
  })
  local mode = M.config.lsp
  if mode == 'auto' then
    mode = has_011 and 'config' or 'start'
  end
  if mode == 'config' then
    vim.lsp.config('ember', lsp_config())
    vim.lsp.enable('ember')
    return
  end
  -- vim.lsp.start (before 0.11, or lsp = 'start'): start or reuse the client per Python buffer.
  local cfg = lsp_config()
  local function start(buf)
    local file = vim.api.nvim_buf_get_name(buf)
    if file == '' then
      return
    end
    local marker = vim.fs.find(cfg.root_markers, { upward = true, path = vim.fs.dirname(file) })[1]
    vim.lsp.start({
      name = 'ember',
      cmd = cfg.cmd,
      root_dir = marker and vim.fs.dirname(marker) or vim.fn.getcwd(),
      init_options = cfg.init_options,
      settings = cfg.settings,
    }, { bufnr = buf })
  end
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = cfg.filetypes,
    callback = function(args)
      start(args.buf)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(cfg.filetypes, vim.bo[buf].filetype) then
      start(buf)
    end
  end
end

local function need_dap(what)
  local ok, dap = pcall(require, 'dap')
  if ok then
    return dap
  end
  notify(
    ('%s needs nvim-dap (https://github.com/mfussenegger/nvim-dap), which is not installed. '):format(what)
      .. 'Inline timings and :EmberLoad/:EmberFlamegraph work without it.',
    levels.ERROR
  )
  return nil
end

local function need_bin()
  if M.bin then
    return true
  end
  local _, err = binary.resolve(M.config)
  notify(err, levels.ERROR)
  return false
end

local function find_config(name)
  for _, c in ipairs(ember_dap.configurations()) do
    if c.name == name then
      return c
    end
  end
end

local function create_commands()
  local cmd = vim.api.nvim_create_user_command
  cmd('EmberFlamegraph', function()
    if #clients() > 0 then
      -- The server opens the page with window/showDocument {external = true}, which Neovim
      -- hands to vim.ui.open; the reply carries the URL too, shown for copying.
      M.server_command('ember.openFlamegraph', {}, function(_, result)
        if type(result) == 'table' and type(result.url) == 'string' then
          M.last_url = result.url
          notify('flamegraph: ' .. result.url)
        end
      end)
    elseif M.last_url then
      M.open_url(M.last_url)
    else
      notify('no profile yet: run :EmberProfile, or :EmberLoad a profile file.', levels.WARN)
    end
  end, { desc = 'Ember: open the flamegraph' })
  cmd('EmberLoad', function(o)
    local file = vim.fn.fnamemodify(vim.fn.expand(o.args), ':p')
    if vim.fn.filereadable(file) ~= 1 then
      notify(('cannot read %s: give the path of a profile file.'):format(file), levels.ERROR)
      return
    end
    M.server_command('ember.loadProfile', { file })
  end, { nargs = 1, complete = 'file', desc = 'Ember: load a profile into the inline timings' })
  cmd('EmberToggleInline', function()
    M.server_command('ember.toggleInline', {})
  end, { desc = 'Ember: show or hide inline timings' })
  cmd('EmberClearFocus', function()
    M.server_command('ember.clearFocus', {})
  end, { desc = 'Ember: show timings of the whole profile again' })
  cmd('EmberProfile', function()
    local dap = need_dap(':EmberProfile')
    if dap and need_bin() then
      dap.run(find_config(ember_dap.LAUNCH_NAME))
    end
  end, { desc = 'Ember: profile the current file' })
  cmd('EmberAttach', function(o)
    local dap = need_dap(':EmberAttach')
    if dap and need_bin() then
      local c = vim.deepcopy(find_config(ember_dap.ATTACH_NAME))
      if o.args ~= '' then
        c.processId = tonumber(o.args) or o.args
      end
      dap.run(c)
    end
  end, { nargs = '?', desc = 'Ember: attach the profiler to a process (picker without a PID)' })
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  local bin, err = binary.resolve(M.config)
  M.bin = bin
  create_commands()
  if not bin then
    notify(err, levels.ERROR)
    return
  end
  if M.config.lsp then
    start_lsp()
  end
  local ok, dap = pcall(require, 'dap')
  if ok then
    ember_dap.register(dap, bin, M.on_profile)
  end
end

return M
