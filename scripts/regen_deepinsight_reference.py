#!/usr/bin/env python3
"""Reference pixel maps and images from pyDeepInsight for
tests/fixtures/data/genes_modules.npz -> tests/fixtures/reference/deepinsight.npz.

pyDeepInsight is heavy (it imports torch, OpenCV, grad-cam): run this in a
separate environment, never in CI:

    python -m venv /tmp/heavy && /tmp/heavy/bin/pip install pyDeepInsight==0.2.3 \
        scikit-learn==1.9.1 scipy==1.17.1 matplotlib opencv-python-headless torch
    /tmp/heavy/bin/python scripts/regen_deepinsight_reference.py

One deliberate patch: pyDeepInsight 0.2.3's `_minimum_bounding_rectangle`
turns the hull by +angle, which takes an edge at `angle` to `2 angle` rather
than onto the axis, and skips the closing hull edge. The patched version
below turns by -angle over every edge (the StackOverflow answer it cites),
which is what neuride implements; everything else is pyDeepInsight's code.

Arrays: for each case `pca_bin`, `kpca_bin`, `pca_lsa` (12x12 pixels):
`<case>_pixels` i64 [features, 2] (row, column), `<case>_images` f64
[rows, 12, 12] (Norm2Scaler, then transform(img_format="scalar")), and
`<case>_rotated` f64 [features, 2] (the turned embedding).
"""
from pathlib import Path

import numpy as np
import sklearn
from scipy.spatial import ConvexHull
from sklearn.decomposition import PCA, KernelPCA

import pyDeepInsight
from pyDeepInsight import ImageTransformer
from pyDeepInsight.utils import Norm2Scaler

ROOT = Path(__file__).resolve().parent.parent


def minimum_bounding_rectangle(hull_points):
    pi2 = np.pi / 2
    closed = np.vstack([hull_points, hull_points[:1]])
    edges = closed[1:] - closed[:-1]
    angles = np.unique(np.abs(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), pi2)))
    rotations = np.vstack(
        [np.cos(angles), np.sin(angles), -np.sin(angles), np.cos(angles)]
    ).T.reshape((-1, 2, 2))
    rot_points = np.dot(rotations, hull_points.T)
    min_x, max_x = np.nanmin(rot_points[:, 0], axis=1), np.nanmax(rot_points[:, 0], axis=1)
    min_y, max_y = np.nanmin(rot_points[:, 1], axis=1), np.nanmax(rot_points[:, 1], axis=1)
    best = np.argmin((max_x - min_x) * (max_y - min_y))
    return None, rotations[best]


ImageTransformer._minimum_bounding_rectangle = staticmethod(minimum_bounding_rectangle)


def main():
    data = np.load(ROOT / "tests/fixtures/data/genes_modules.npz")
    x = data["x"].astype(np.float64)
    scaled = Norm2Scaler().fit_transform(x)
    out = {}
    cases = {
        "pca_bin": (PCA(n_components=2), "bin"),
        "kpca_bin": (KernelPCA(n_components=2, kernel="rbf"), "bin"),
        "pca_lsa": (PCA(n_components=2), "lsa"),
    }
    for name, (extractor, discretization) in cases.items():
        it = ImageTransformer(feature_extractor=extractor, discretization=discretization, pixels=(12, 12))
        it.fit(scaled)
        out[f"{name}_pixels"] = it.coords().astype(np.int64)
        out[f"{name}_images"] = it.transform(scaled, img_format="scalar")
        out[f"{name}_rotated"] = it._xrot
    target = ROOT / "tests/fixtures/reference/deepinsight.npz"
    np.savez_compressed(target, **out)
    print(f"{target}: pyDeepInsight {pyDeepInsight.__version__ if hasattr(pyDeepInsight, '__version__') else '0.2.3'}, scikit-learn {sklearn.__version__}")


if __name__ == "__main__":
    main()
