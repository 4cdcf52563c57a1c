import sys, json
inp = sys.stdin.buffer
def read():
    headers = {}
    while True:
        line = inp.readline()
        if not line: sys.exit(0)
        line = line.strip()
        if not line: break
        k, v = line.split(b":", 1); headers[k.lower()] = v.strip()
    return json.loads(inp.read(int(headers[b"content-length"])))
msg = read()
open("/tmp/rec/nvim_initialize.json", "w").write(json.dumps(msg, indent=2))
body = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {"capabilities": {}}}).encode()
sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body); sys.stdout.buffer.flush()
while True: read()
