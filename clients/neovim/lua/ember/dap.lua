-- nvim-dap integration: the `ember` adapter, Python configurations and the `ember/profile`
-- listener. Takes the dap module as an argument so the tables can be checked without it.
local M = {}

M.LAUNCH_NAME = 'Ember: profile current file'
M.ATTACH_NAME = 'Ember: attach to process'

--- The adapter table nvim-dap documents for an executable adapter (`:h dap-adapter`).
function M.adapter(bin)
  return { type = 'executable', command = bin, args = { 'dap' } }
end

--- Configurations for `dap.configurations.python` (`:h dap-configuration`). nvim-dap expands
--- `${file}` and calls function values (in a coroutine, so the process picker can wait).
function M.configurations()
  return {
    {
      type = 'ember',
      request = 'launch',
      name = M.LAUNCH_NAME,
      program = '${file}',
      args = {},
      console = 'internalConsole',
    },
    {
      type = 'ember',
      request = 'attach',
      name = M.ATTACH_NAME,
      processId = function()
        return require('dap.utils').pick_process()
      end,
    },
  }
end

--- Adds Ember's adapter, configurations (replacing earlier copies) and event listener to `dap`.
function M.register(dap, bin, on_profile)
  dap.adapters.ember = M.adapter(bin)
  local list = dap.configurations.python or {}
  for i = #list, 1, -1 do
    if list[i].type == 'ember' then
      table.remove(list, i)
    end
  end
  for _, c in ipairs(M.configurations()) do
    table.insert(list, c)
  end
  dap.configurations.python = list
  local key = 'event_ember/profile'
  dap.listeners.after[key] = dap.listeners.after[key] or {}
  dap.listeners.after[key].ember = function(session, body)
    on_profile(body, session and session.id)
  end
end

return M
