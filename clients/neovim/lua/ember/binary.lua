-- Finds the `ember` binary: the `path` option, else $EMBER_BIN, else `ember` on PATH.
local M = {}

--- @return string|nil path, string|nil error message saying what to set
function M.resolve(opts)
  local configured = opts.path or vim.env.EMBER_BIN
  if configured and configured ~= '' then
    local full = vim.fn.exepath(vim.fn.expand(configured))
    if full ~= '' then
      return full
    end
    return nil,
      ('ember: %q is not an executable file. Pass its full path as require("ember").setup({ path = ... }).'):format(
        configured
      )
  end
  local found = vim.fn.exepath('ember')
  if found ~= '' then
    return found
  end
  return nil,
    'ember: the `ember` binary was not found on PATH. Install it, or pass its full path as '
      .. 'require("ember").setup({ path = "/path/to/ember" }).'
end

return M
