"""The peers of bench/serve_bench.py: the same Open Inference Protocol JSON
endpoint (`POST /v2/models/NAME/infer`) on Flask (the lab's stack) and on
FastAPI/uvicorn, each running onnxruntime on one thread, as the lab did.

usage: python serve_peers.py flask|fastapi PORT EXAMPLES_DIR
"""
import sys

import numpy as np
import onnxruntime as ort

FRAMEWORK, PORT, EXAMPLES = sys.argv[1], int(sys.argv[2]), sys.argv[3]
MODELS = {
    "iris_logreg_nozipmap": "iot-app/models/iris_logreg_nozipmap.onnx",
    "digits_cnn": "digits-snn/models/digits_cnn.onnx",
}
DATATYPES = {np.dtype(np.float32): "FP32", np.dtype(np.int64): "INT64", np.dtype(np.float64): "FP64"}


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(f"{EXAMPLES}/{path}", options, providers=["CPUExecutionProvider"])


SESSIONS = {name: session(path) for name, path in MODELS.items()}


def infer(name, request):
    model = SESSIONS[name]
    feeds = {i["name"]: np.asarray(i["data"], dtype=np.float32).reshape(i["shape"]) for i in request["inputs"]}
    names = [o.name for o in model.get_outputs()]
    values = model.run(None, feeds)
    return {
        "model_name": name,
        "outputs": [
            {"name": n, "shape": list(v.shape), "datatype": DATATYPES[v.dtype], "data": v.ravel().tolist()}
            for n, v in zip(names, values)
        ],
    }


if FRAMEWORK == "flask":
    from flask import Flask, jsonify, request

    app = Flask(__name__)

    @app.post("/v2/models/<name>/infer")
    def flask_infer(name):
        return jsonify(infer(name, request.get_json()))

    app.run(host="127.0.0.1", port=PORT, threaded=True)
else:
    import uvicorn
    from fastapi import FastAPI, Request

    app = FastAPI()

    @app.post("/v2/models/{name}/infer")
    async def fastapi_infer(name: str, request: Request):
        return infer(name, await request.json())

    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
