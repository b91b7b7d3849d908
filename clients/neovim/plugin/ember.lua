-- Nothing runs until require('ember').setup({}) is called.
if vim.g.loaded_ember then
  return
end
vim.g.loaded_ember = true
