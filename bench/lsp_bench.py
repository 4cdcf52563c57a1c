#!/usr/bin/env python3
"""Benchmarks `neuride lsp` over stdio, as an editor drives it.

1. median hover on a node of an 8,000-node model (goal < 5 ms);
2. time from a 350 MB model appearing in the workspace (renamed into place)
   to its diagnostics being published (goal < 300 ms), server-side watcher;
3. server RSS with the example workspace open (goal < 60 MB);
4. RSS after 20 workspace re-checks (`neuride.recheck`) against after the
   first (goal <= 1.2x);
5. median hover and `$/cancelRequest` latency while 4 `neuride.simulate`
   jobs run (goals < 200 ms and < 1 s);
6. RSS growth while analysing a 1 MB `.npz` that inflates to 1 GiB
   (goal < 100 MB).

Usage: python3 bench/lsp_bench.py [path/to/neuride]   (default target/release/neuride)
Needs: onnx, numpy. Prints a markdown table.
"""
import json, os, statistics, subprocess, sys, tempfile, threading, time, queue
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/neuride")
NVIM_INIT = os.path.join(ROOT, "tests/e2e/nvim-0.7.2-initialize.json")


def uri(path):
    return "file://" + path


class Lsp:
    def __init__(self, root):
        self.proc = subprocess.Popen([BIN, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env={**os.environ, "NEURIDE_LOG": "warn"})
        self.messages = queue.Queue()
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()
        params = json.load(open(NVIM_INIT))["params"]
        text = json.dumps(params).replace("$ROOT_URI", uri(root)).replace("$ROOT_PATH", root)
        self.request("initialize", json.loads(text))
        self.notify("initialized", {})

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.messages.put((time.perf_counter(), json.loads(out.read(length))))

    def send(self, message):
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        rid = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            _, message = self.messages.get(timeout=120)
            if message.get("id") == rid and "method" not in message:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message["result"]
            if "method" in message and "id" in message:
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def wait_diagnostics(self, file_uri, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            at, message = self.messages.get(timeout=timeout)
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == file_uri:
                return at, message["params"]["diagnostics"]
            if "method" in message and "id" in message:
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
        raise TimeoutError(file_uri)

    def rss_mb(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    def close(self):
        self.request("shutdown", None)
        self.notify("exit", None)
        self.proc.wait(timeout=10)


def chain_model(n_nodes, path):
    """A transformer-like chain: MatMul -> Add -> Relu blocks with 64x64 weights."""
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    x = "x"
    blocks = n_nodes // 3
    for i in range(blocks):
        w = numpy_helper.from_array(rng.standard_normal((64, 64)).astype(np.float32) * 0.05, f"w{i}")
        b = numpy_helper.from_array(np.zeros(64, np.float32), f"b{i}")
        inits += [w, b]
        nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"m{i}"], name=f"block{i}/matmul"))
        nodes.append(helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"], name=f"block{i}/add"))
        nodes.append(helper.make_node("Relu", [f"a{i}"], [f"r{i}"], name=f"block{i}/relu"))
        x = f"r{i}"
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", 64])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="bench")
    onnx.save(model, path)
    return len(nodes)


def big_model(path, megabytes=350):
    """~350 MB of weights in 12 layers of 1,100 nodes in all (ViT-B/16 sized)."""
    rng = np.random.default_rng(1)
    per_layer = megabytes * 1024 * 1024 // 4 // 12
    side = int(per_layer ** 0.5)
    nodes, inits = [], []
    x = "x"
    for i in range(12):
        inits.append(numpy_helper.from_array(rng.standard_normal((side, side), dtype=np.float32), f"w{i}"))
        nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"m{i}"], name=f"layer{i}/matmul"))
        prev = f"m{i}"
        for j in range(90):
            nodes.append(helper.make_node("Relu" if j % 2 else "Identity", [prev], [f"l{i}_{j}"], name=f"layer{i}/op{j}"))
            prev = f"l{i}_{j}"
        x = prev
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", side])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", side])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def bomb_npz(path, gib=1):
    """A deflated .npz of zeros: about 1 MB on disk, `gib` GiB inflated."""
    import zipfile
    header = b"\x93NUMPY\x01\x00"
    n = gib * (1 << 30) // 4
    text = ("{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % n).encode()
    text += b" " * (118 - len(text) - 1) + b"\n"
    head = header + len(text).to_bytes(2, "little") + text
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("zeros.npy", "w", force_zip64=True) as f:
            f.write(head)
            block = bytes(1 << 24)
            for _ in range(n * 4 // len(block)):
                f.write(block)


def recheck(lsp):
    lsp.request("workspace/executeCommand", {"command": "neuride.recheck", "arguments": []})


def main():
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = os.path.realpath(work)
        ws = os.path.join(work, "ws")
        os.makedirs(ws)
        chain = os.path.join(ws, "chain8000.onnx")
        n = chain_model(8001, chain)
        lsp = Lsp(ws)
        lsp.wait_diagnostics(uri(chain))
        view = lsp.request("neuride/modelText", {"uri": uri(chain)})
        nodes = [e for e in view["map"] if e["kind"] == "node"]
        target = nodes[len(nodes) // 2]["range"]["start"]
        times = []
        for _ in range(300):
            t0 = time.perf_counter()
            result = lsp.request("textDocument/hover", {"textDocument": {"uri": view["uri"]}, "position": target})
            times.append((time.perf_counter() - t0) * 1000)
            assert result is not None
        rows.append((f"hover on a node of a {n}-node model (median of 300)", f"{statistics.median(times):.2f} ms", "< 5 ms"))

        big_src = os.path.join(work, "big.onnx")
        big_model(big_src)
        size_mb = os.path.getsize(big_src) / 1e6
        latencies = []
        for i in range(5):
            dest = os.path.join(ws, f"big{i}.onnx")
            t0 = time.perf_counter()
            os.link(big_src, dest)  # appears atomically, as a rename would
            at, _ = lsp.wait_diagnostics(uri(dest))
            latencies.append((at - t0) * 1000)
        rows.append((f"diagnostics after a {size_mb:.0f} MB model appears (median of 5)",
                     f"{statistics.median(latencies):.0f} ms", "< 300 ms"))

        recheck(lsp)
        first = lsp.rss_mb()
        for _ in range(19):
            recheck(lsp)
        last = lsp.rss_mb()
        rows.append((f"RSS after 20 re-checks of {len(os.listdir(ws))} files / after the first",
                     f"{last:.0f} / {first:.0f} MB = {last / first:.2f}x", "<= 1.2x"))

        bomb = os.path.join(work, "bomb.npz")
        bomb_npz(bomb)
        before = lsp.rss_mb()
        peak = [before]
        dest = os.path.join(ws, "bomb.npz")
        os.link(bomb, dest)
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], lsp.rss_mb())
                time.sleep(0.005)
        sampler = threading.Thread(target=sample)
        sampler.start()
        lsp.wait_diagnostics(uri(dest))
        done.set()
        sampler.join()
        rows.append((f"RSS growth analysing a {os.path.getsize(bomb) / 1e6:.1f} MB .npz of 1 GiB inflated (peak)",
                     f"{peak[0] - before:.0f} MB", "< 100 MB"))
        lsp.close()

    lsp = Lsp(os.path.join(ROOT, "tests/fixtures"))
    mlp = os.path.join(ROOT, "tests/fixtures/dl/digits_mlp.onnx")
    data = os.path.join(ROOT, "tests/fixtures/data/digits_test.npz")
    lsp.wait_diagnostics(uri(mlp))
    view = lsp.request("neuride/modelText", {"uri": uri(mlp)})
    target = [e for e in view["map"] if e["kind"] == "node"][0]["range"]["start"]
    jobs = []
    for i in range(4):
        rid = lsp.next_id
        lsp.next_id += 1
        lsp.send({"jsonrpc": "2.0", "id": rid, "method": "workspace/executeCommand",
                  "params": {"command": "neuride.simulate", "workDoneToken": f"bench-{i}",
                             "arguments": [{"uri": uri(mlp), "data": uri(data), "steps": 1000000, "batch": 1}]}})
        jobs.append(rid)
    time.sleep(1.0)
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        lsp.request("textDocument/hover", {"textDocument": {"uri": view["uri"]}, "position": target})
        times.append((time.perf_counter() - t0) * 1000)
    rows.append(("hover while 4 simulate jobs run (median of 50)", f"{statistics.median(times):.2f} ms", "< 200 ms"))
    cancels = []
    for i, rid in enumerate(jobs):
        # Stopped means the job's progress ended, not only that the request
        # was answered.
        t0 = time.perf_counter()
        lsp.notify("$/cancelRequest", {"id": rid})
        answered = ended = False
        while not (answered and ended):
            _, message = lsp.messages.get(timeout=120)
            answered |= message.get("id") == rid and "method" not in message
            ended |= (message.get("method") == "$/progress"
                      and message["params"]["token"] == f"bench-{i}"
                      and message["params"]["value"]["kind"] == "end")
        cancels.append((time.perf_counter() - t0) * 1000)
    rows.append(("cancelling a running simulate job until its progress ends (max of 4)", f"{max(cancels):.1f} ms", "< 1 s"))
    lsp.close()

    examples = os.path.join(ROOT, "examples")
    lsp = Lsp(examples)
    time.sleep(3)
    lsp.request("neuride/models", {})
    rows.append(("server RSS with examples/ open", f"{lsp.rss_mb():.1f} MB", "< 60 MB"))
    lsp.close()

    print("| measure | neuride | goal |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
