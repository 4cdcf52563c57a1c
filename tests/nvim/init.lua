-- Attaches `neuride lsp` to Neovim (0.7+) the way docs/editors.md says, then
-- opens a workspace with a broken model and writes every diagnostic Neovim
-- received to $NEURIDE_NVIM_OUT as JSON lines. Driven by tests/lsp_nvim.rs.
local root = os.getenv("NEURIDE_NVIM_ROOT")
local out = os.getenv("NEURIDE_NVIM_OUT")
local bin = os.getenv("NEURIDE_BIN")

vim.filetype = vim.filetype or {}
vim.cmd([[autocmd BufRead,BufNewFile *.neuro setfiletype neuro]])

local received = {}
local function record(uri, diagnostics)
  local f = io.open(out, "a")
  f:write(vim.fn.json_encode({ uri = uri, diagnostics = diagnostics }) .. "\n")
  f:close()
end

local default_handler = vim.lsp.handlers["textDocument/publishDiagnostics"]
vim.lsp.handlers["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
  record(result.uri, result.diagnostics)
  return default_handler(err, result, ctx, config)
end

local client_id = vim.lsp.start_client({
  name = "neuride",
  cmd = { bin, "lsp" },
  root_dir = root,
  workspace_folders = { { uri = vim.uri_from_fname(root), name = "workspace" } },
})

vim.cmd("edit " .. root .. "/app.neuro")
vim.lsp.buf_attach_client(0, client_id)

-- Stop once the broken model's diagnostics arrived (or give up after 20 s).
local deadline = vim.loop.now() + 20000
local function poll()
  local f = io.open(out, "r")
  local text = f and f:read("*a") or ""
  if f then f:close() end
  if text:find("broken.onnx", 1, true) or vim.loop.now() > deadline then
    vim.lsp.stop_client(client_id)
    vim.defer_fn(function() vim.cmd("qa!") end, 300)
  else
    vim.defer_fn(poll, 50)
  end
end
vim.defer_fn(poll, 50)
