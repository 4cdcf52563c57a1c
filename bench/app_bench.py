#!/usr/bin/env python3
"""Neuro apps, side by side in one run: replay throughput of the whole app
(sensor -> model stage -> rule -> events) in `neuride app run` against the
loop a Python user writes for the same app, and MQTT latency from a
publish to the app's event through a local mosquitto.

1. The iris ML app (examples/iot-app, `greenhouse`: leaf -> iris ->
   species, `virginica when species == 2 for 3`), N readings replayed in
   a loop. Python: onnxruntime (1 thread) called per reading, then the
   same rule. The number of rule events must agree.
2. The digits SNN app (examples/digits-snn, `digit_door`: cam -> snn ->
   argmax, `unlock when digit == 7 for 2`), its converted network at 25
   steps per reading. Python: snnTorch per reading when torch and snntorch
   import (Leaky(beta=1, subtract reset) layers on the weights neuride's
   converter wrote, as bench/snn_bench.py runs it), else the same network
   in numpy per reading (IF neurons with subtract reset, one spike per step
   at most, as snnTorch's Leaky(beta=1)); the script says which. Agreement
   of the two sides' digits is printed.
3. MQTT: a probe app (probe -> iris -> species, `hit when species == 2`)
   with --mqtt and --emit-topic; paho-mqtt publishes a class-0 row then a
   class-2 row (QoS 1) and waits for the `hit` event (QoS 1), 1,000 times;
   latency = event received - class-2 row published.

neuride's throughput is the report's `readings_per_s` (the run loop's wall
time: datasets read and models compiled before it); Python's is timed
around its loop (session created before it). Medians of --runs runs.

usage: python3 bench/app_bench.py [--neuride target/release/neuride] [--runs 3]
needs: numpy, onnxruntime, paho-mqtt (scripts/test-venv makes target/test-venv
with them), mosquitto (Debian package) for part 3.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def run_app(neuride, neuro, *args):
    out = subprocess.run([neuride, "app", "run", neuro, "--format", "json", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def firings(conditions, hold):
    run, fired, n = 0, False, 0
    for holds in conditions:
        if not holds:
            run, fired = 0, False
            continue
        run += 1
        if run >= hold and not fired:
            fired, n = True, n + 1
    return n


# ---------------------------------------------------------------- ML app
def python_iris_loop(model, x, readings):
    """What a user writes: one onnxruntime call per reading, then the rule."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rows = [x[i:i + 1] for i in range(len(x))]
    run, fired, events = 0, False, []
    start = time.perf_counter()
    for k in range(readings):
        species = session.run(None, {name: rows[k % len(rows)]})[0][0]
        if species == 2:
            run += 1
            if run >= 3 and not fired:
                fired = True
                events.append({"t": k / 5.0, "rule": "virginica", "event": "virginica-detected", "values": {"species": 2}})
        else:
            run, fired = 0, False
    return readings / (time.perf_counter() - start), len(events)


def bench_ml(neuride, runs, readings):
    neuro = os.path.join(EXAMPLES, "iot-app", "greenhouse.neuro")
    model = os.path.join(EXAMPLES, "iot-app", "models", "iris_logreg_nozipmap.onnx")
    x = np.load(os.path.join(EXAMPLES, "iot-app", "data", "iris.npz"))["x"].astype(np.float32)
    ours, theirs, events = [], [], None
    for _ in range(runs):
        report = run_app(neuride, neuro, "--app", "greenhouse", "--loop", "--limit", str(readings))
        ours.append(report["readings_per_s"])
        rate, python_events = python_iris_loop(model, x, readings)
        theirs.append(rate)
        events = (report["events"]["virginica"], python_events)
    assert events[0] == events[1], f"rule events differ: neuride {events[0]}, python {events[1]}"
    return statistics.median(ours), statistics.median(theirs), events[0]


# ---------------------------------------------------------------- SNN app
def digits_workspace(tmp, steps):
    """The digits example with its converted network simulated `steps` per reading."""
    work = os.path.join(tmp, "digits")
    shutil.copytree(os.path.join(EXAMPLES, "digits-snn"), work)
    path = os.path.join(work, "digits.neuro")
    text = open(path).read().replace("    steps = 50\n", f"    steps = {steps}\n", 1)
    open(path, "w").write(text)
    return path


def converted_layers(neuride, tmp):
    """(weight, bias) per layer of the network neuride's converter makes of the
    digits CNN (the app's `convert(cnn) { percentile(99.9, data: calib) }`)."""
    out = os.path.join(tmp, "cnn_snn.neuro")
    subprocess.run([neuride, "convert", os.path.join(EXAMPLES, "digits-snn", "models", "digits_cnn.onnx"),
                    "--calib", os.path.join(EXAMPLES, "digits-snn", "data", "digits_calib.npz"), "--max-to-avg", "-o", out],
                   check=True, capture_output=True)
    z = np.load(out.replace(".neuro", ".npz"))
    names = [k[: -len(".weight")] for k in z.files if k.endswith(".weight")]
    return [(z[n + ".weight"], z[n + ".bias"] if n + ".bias" in z.files else None) for n in names]


def snntorch_loop(layers, x, steps, readings):
    import torch
    import torch.nn.functional as F
    import snntorch as snn

    torch.set_grad_enabled(False)
    torch.set_num_threads(1)
    t = [(torch.tensor(w), None if b is None else torch.tensor(b)) for w, b in layers]
    lif1 = snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract")
    lif2 = snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract")
    digits = []
    start = time.perf_counter()
    for k in range(readings):
        xb = torch.tensor(x[k % len(x)][None])
        cur1 = F.conv2d(xb, t[0][0], t[0][1], padding=1)
        mem1 = torch.full_like(cur1, 0.5)
        mem2 = None
        out = torch.zeros(1, 10)
        for _ in range(steps):
            spk1, mem1 = lif1(cur1, mem1)
            cur2 = F.conv2d(F.avg_pool2d(spk1, 2), t[1][0], t[1][1], padding=1)
            if mem2 is None:
                mem2 = torch.full_like(cur2, 0.5)
            spk2, mem2 = lif2(cur2, mem2)
            out += F.linear(F.avg_pool2d(spk2, 2).flatten(1), *t[2])
        digits.append(int(out.argmax(1)[0]))
    return readings / (time.perf_counter() - start), digits


def conv2d(x, w, b):
    """x [C, H, W], w [O, C, 3, 3], padding 1, stride 1."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))  # C, H, W, 3, 3
    out = np.einsum("chwij,ocij->ohw", windows, w, optimize=True)
    return out if b is None else out + b[:, None, None]


def pool2(x):
    c, h, w = x.shape
    return x.reshape(c, h // 2, 2, w // 2, 2).mean(axis=(2, 4))


def numpy_loop(layers, x, steps, readings):
    (w1, b1), (w2, b2), (w3, b3) = layers
    digits = []
    start = time.perf_counter()
    for k in range(readings):
        cur1 = conv2d(x[k % len(x)], w1, b1)
        mem1 = np.full_like(cur1, 0.5)
        mem2 = None
        out = np.zeros(10, dtype=np.float32)
        for _ in range(steps):
            mem1 += cur1
            spk1 = (mem1 >= 1.0).astype(np.float32)
            mem1 -= spk1
            cur2 = conv2d(pool2(spk1), w2, b2)
            if mem2 is None:
                mem2 = np.full_like(cur2, 0.5)
            mem2 += cur2
            spk2 = (mem2 >= 1.0).astype(np.float32)
            mem2 -= spk2
            out += w3 @ pool2(spk2).reshape(-1) + (0 if b3 is None else b3)
        digits.append(int(np.argmax(out)))
    return readings / (time.perf_counter() - start), digits


def bench_snn(neuride, runs, readings, python_readings, steps):
    with tempfile.TemporaryDirectory() as tmp:
        neuro = digits_workspace(tmp, steps)
        data = np.load(os.path.join(EXAMPLES, "digits-snn", "data", "digits_test.npz"))
        x = data["x"].astype(np.float32)
        layers = converted_layers(neuride, tmp)
        try:
            import snntorch  # noqa: F401
            import torch  # noqa: F401
            loop, peer = snntorch_loop, "snnTorch (CPU, 1 thread)"
        except ImportError:
            loop, peer = numpy_loop, "numpy (snnTorch not installed)"
        ours, theirs = [], []
        for _ in range(runs):
            report = run_app(neuride, neuro, "--app", "digit_door", "--loop", "--limit", str(readings))
            ours.append(report["readings_per_s"])
            rate, digits = loop(layers, x, steps, python_readings)
            theirs.append(rate)
        traced = subprocess.run([neuride, "app", "run", neuro, "--app", "digit_door", "--limit", str(len(x)), "--trace", "--format", "jsonl"],
                                check=True, capture_output=True, text=True).stdout
        app_digits = [e["values"]["digit"] for e in map(json.loads, traced.splitlines()) if e["kind"] == "prediction"]
        _, python_digits = loop(layers, x, steps, len(x))
        agree = sum(a == b for a, b in zip(app_digits, python_digits)) / len(x)
        accuracy = sum(int(a == y) for a, y in zip(app_digits, data["y"])) / len(x)
        return statistics.median(ours), statistics.median(theirs), peer, agree, accuracy


# ---------------------------------------------------------------- MQTT
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_mqtt(neuride, messages):
    import paho.mqtt.client as mqtt

    broker = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        conf = os.path.join(tmp, "mosquitto.conf")
        # set_tcp_nodelay: mosquitto's default leaves Nagle's algorithm on,
        # which holds each small packet for the peer's delayed ACK (~40 ms).
        open(conf, "w").write(f"listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n")
        shutil.copy(os.path.join(EXAMPLES, "iot-app", "models", "iris_logreg_nozipmap.onnx"), os.path.join(tmp, "iris.onnx"))
        neuro = os.path.join(tmp, "probe.neuro")
        open(neuro, "w").write('model iris = onnx("iris.onnx")\n\napp probe {\n    sensor probe: f32[4] @ 1000Hz = mqtt("bench/probe")\n'
                               '    pipeline probe -> iris -> species\n    rule hit when species == 2 => emit "hit"\n}\n')
        mosquitto = subprocess.Popen([broker, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        app = None
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.02)
            app = subprocess.Popen([neuride, "app", "run", neuro, "--mqtt", f"mqtt://127.0.0.1:{port}", "--emit-topic", "bench/ev", "--format", "jsonl"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            assert '"started"' in app.stdout.readline()
            threading.Thread(target=lambda: [None for _ in app.stdout], daemon=True).start()
            got = threading.Event()
            received = []

            def on_message(_client, _userdata, message):
                received.append(time.perf_counter())
                got.set()

            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench")
            client.on_message = on_message
            client.connect("127.0.0.1", port)
            # paho leaves Nagle's algorithm on: the class-2 row would wait
            # for the broker's delayed ACK of the class-0 row before it.
            client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.subscribe("bench/ev/hit", qos=1)
            client.loop_start()
            time.sleep(0.5)
            x = np.load(os.path.join(EXAMPLES, "iot-app", "data", "iris.npz"))["x"]
            zero, two = json.dumps(x[0].tolist()), json.dumps(x[149].tolist())
            latencies = []
            for _ in range(messages):
                got.clear()
                client.publish("bench/probe", zero, qos=1)
                sent = time.perf_counter()
                client.publish("bench/probe", two, qos=1)
                if not got.wait(5):
                    raise RuntimeError("no event within 5 s")
                latencies.append((received[-1] - sent) * 1e3)
            client.loop_stop()
            client.disconnect()
        finally:
            if app:
                app.terminate()
                app.wait()
            mosquitto.terminate()
            mosquitto.wait()
    latencies.sort()
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--neuride", default=os.environ.get("NEURIDE_BIN", os.path.join(ROOT, "target", "release", "neuride")))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ml-readings", type=int, default=300_000)
    parser.add_argument("--snn-readings", type=int, default=20_000)
    parser.add_argument("--snn-python-readings", type=int, default=450)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--mqtt-messages", type=int, default=1000)
    parser.add_argument("--skip-mqtt", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average {load:.1f}; neuride {args.neuride}", file=sys.stderr)

    ours, theirs, events = bench_ml(args.neuride, args.runs, args.ml_readings)
    print(f"| iris ML app (greenhouse), {args.ml_readings:,} readings | {ours:,.0f} | {theirs:,.0f} (onnxruntime per reading) | {ours / theirs:.1f}x | {events:,} rule events on both sides |")
    ours, theirs, peer, agree, accuracy = bench_snn(args.neuride, args.runs, args.snn_readings, args.snn_python_readings, args.steps)
    print(f"| digits SNN app (digit_door), {args.steps} steps/reading, {args.snn_readings:,} readings | {ours:,.0f} | {theirs:,.0f} ({peer}) | {ours / theirs:.1f}x | digits agree on {agree:.1%} of 450; app accuracy {accuracy:.1%} |")
    if not args.skip_mqtt:
        p50, p99 = bench_mqtt(args.neuride, args.mqtt_messages)
        print(f"| MQTT publish -> event received (mosquitto, QoS 1 both ways), {args.mqtt_messages} events | p50 {p50:.2f} ms | p99 {p99:.2f} ms | | |")
    print(f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
