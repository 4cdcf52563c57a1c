"""tritonclient.http against `neuride serve`, compared with onnxruntime.

Usage: serve_tritonclient.py HOST:PORT WORKSPACE

Calls the server exactly as a Triton/KServe user would (health, metadata,
readiness, infer with binary and JSON tensors, requested outputs or not) on
the example models, runs the same inputs through onnxruntime on the same
files, and fails on any difference beyond float rounding. Prints one JSON
line with what it checked.
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import tritonclient.http as http
from tritonclient.utils import InferenceServerException

url, root = sys.argv[1], Path(sys.argv[2])
client = http.InferenceServerClient(url=url)
assert client.is_server_live()
assert client.is_server_ready()
server = client.get_server_metadata()
assert server["name"] == "neuride", server
assert "binary_tensor_data" in server["extensions"], server

CASES = [
    ("iris_logreg_nozipmap", "iot-app/models/iris_logreg_nozipmap.onnx", "iot-app/data/iris.npz", [1, 7, 150]),
    ("digits_cnn", "digits-snn/models/digits_cnn.onnx", "digits-snn/data/digits_test.npz", [1, 32]),
]
checked = 0
worst = 0.0
for name, model, data, batches in CASES:
    assert client.is_model_ready(name), name
    metadata = client.get_model_metadata(name)
    assert metadata["platform"] == "onnx", metadata
    session = ort.InferenceSession(str(root / model))
    port = metadata["inputs"][0]
    assert port["shape"][0] == -1, port
    x = np.load(root / data)["x"].astype(np.float32)
    for batch in batches:
        sample = x[:batch]
        expected = session.run(None, {port["name"]: sample})
        for binary in (True, False):
            tensor = http.InferInput(port["name"], list(sample.shape), port["datatype"])
            tensor.set_data_from_numpy(sample, binary_data=binary)
            outputs = [http.InferRequestedOutput(o["name"], binary_data=binary) for o in metadata["outputs"]]
            for requested in (outputs, None):
                result = client.infer(name, [tensor], outputs=requested, request_id=f"{name}-{batch}")
                response = result.get_response()
                assert response["model_name"] == name and response["id"] == f"{name}-{batch}", response
                for spec, want in zip(metadata["outputs"], expected):
                    got = result.as_numpy(spec["name"])
                    assert got is not None, (name, spec)
                    assert got.shape == want.shape and got.dtype == want.dtype, (name, spec, got.shape, got.dtype, want.shape, want.dtype)
                    if np.issubdtype(want.dtype, np.floating):
                        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
                        worst = max(worst, float(np.max(np.abs(got - want))))
                    else:
                        np.testing.assert_array_equal(got, want)
                    checked += 1

# Errors come back as the client's exception, naming what was wrong.
try:
    client.infer("no_such_model", [tensor])
    raise AssertionError("an unknown model answered")
except InferenceServerException as error:
    assert "no model 'no_such_model'" in error.message(), error.message()
wrong = http.InferInput("X", [1, 5], "FP32")
wrong.set_data_from_numpy(np.zeros((1, 5), np.float32))
try:
    client.infer("iris_logreg_nozipmap", [wrong])
    raise AssertionError("a wrong shape ran")
except InferenceServerException as error:
    assert "'X'" in error.message(), error.message()

print(json.dumps({"outputs_checked": checked, "max_abs_diff": worst}))
