local id = vim.lsp.start_client({ name = "rec", cmd = { "python3", "/tmp/rec/fake_server.py" }, root_dir = "/tmp/rec/ws",
  workspace_folders = { { uri = "file:///tmp/rec/ws", name = "ws" } } })
vim.cmd("edit /tmp/rec/ws/a.neuro")
vim.lsp.buf_attach_client(0, id)
vim.defer_fn(function() vim.cmd("qa!") end, 1500)
