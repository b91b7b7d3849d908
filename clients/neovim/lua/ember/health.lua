-- :checkhealth ember
local M = {}

function M.check()
  local health = vim.health
  health.start('ember')
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim 0.10 or newer is needed (inlay hints)', { 'Upgrade Neovim' })
  end
  local ember = require('ember')
  if not ember.config then
    health.warn('setup() was not called', { "Add require('ember').setup({}) to your config" })
  end
  local bin, err = require('ember.binary').resolve(ember.config or {})
  if bin then
    local out = vim.fn.system({ bin, '--version' })
    health.ok(('ember: %s (%s)'):format(bin, vim.trim(out)))
  else
    health.error(err)
  end
  if pcall(require, 'dap') then
    health.ok('nvim-dap is installed: :EmberProfile and :EmberAttach are available')
  else
    health.warn('nvim-dap is not installed: inline timings work, launching and attaching do not', {
      'Install https://github.com/mfussenegger/nvim-dap for :EmberProfile and :EmberAttach',
    })
  end
  local clients = vim.lsp.get_clients({ name = 'ember' })
  if #clients > 0 then
    for _, c in ipairs(clients) do
      health.ok(('ember lsp is running (id %d, root %s)'):format(c.id, tostring(c.root_dir)))
    end
  else
    health.info('ember lsp is not running yet: it starts with the first Python buffer')
  end
end

return M
