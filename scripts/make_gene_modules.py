#!/usr/bin/env python3
"""Gene-expression-like tables with co-expressed feature modules.

scikit-learn's make_classification draws one latent *activity* per module
and sample (some modules informative of the class, the rest not); each
module's genes follow its activity (a gene-specific loading and baseline,
log-normal noise), and some genes belong to no module. Gene order is
shuffled, so a layout that keeps a module together has to find it.

    python3 scripts/make_gene_modules.py fixture   # tests/fixtures/data/genes_modules.npz
    python3 scripts/make_gene_modules.py example   # examples/tabular-snn/genes_{train,test}.npz

Arrays: x f32 [rows, genes] (expression, positive), y i64 [rows],
module i64 [genes] (the module of each gene, -1 for none).
Needs numpy and scikit-learn only (the test environment has both).
"""
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

ROOT = Path(__file__).resolve().parent.parent


def make(rows, modules, genes_per_module, lone_genes, informative, classes, seed, class_sep):
    activity, y = make_classification(
        n_samples=rows,
        n_features=modules,
        n_informative=informative,
        n_redundant=0,
        n_repeated=0,
        n_classes=classes,
        n_clusters_per_class=1,
        class_sep=class_sep,
        flip_y=0.02,
        shuffle=True,
        random_state=seed,
    )
    rng = np.random.default_rng(seed)
    columns, module_of = [], []
    for m in range(modules):
        for _ in range(genes_per_module):
            loading = rng.uniform(0.6, 1.2)
            baseline = rng.uniform(0.5, 2.5)
            noise = rng.normal(0.0, 0.35, rows)
            columns.append(np.exp(baseline + loading * activity[:, m] * 0.6 + noise))
            module_of.append(m)
    for _ in range(lone_genes):
        baseline = rng.uniform(0.5, 2.5)
        columns.append(np.exp(baseline + rng.normal(0.0, 0.6, rows)))
        module_of.append(-1)
    x = np.stack(columns, axis=1)
    order = rng.permutation(x.shape[1])
    return (
        x[:, order].astype(np.float32),
        y.astype(np.int64),
        np.asarray(module_of, dtype=np.int64)[order],
    )


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "fixture"
    if which == "fixture":
        x, y, module = make(200, 8, 8, 16, 4, 2, seed=3, class_sep=1.5)
        out = ROOT / "tests/fixtures/data/genes_modules.npz"
        np.savez(out, x=x, y=y, module=module)
        print(f"{out}: x {x.shape}, {int((module >= 0).sum())} genes in 8 modules")
    elif which == "example":
        # 16 modules of 12 genes (6 informative) + 64 lone genes = 256 genes
        # (a 16x16 image); 4 classes; 1,500 training and 500 test rows.
        x, y, module = make(2000, 16, 12, 64, 6, 4, seed=18, class_sep=1.6)
        folder = ROOT / "examples/tabular-snn"
        np.savez(folder / "genes_train.npz", x=x[:1500], y=y[:1500], module=module)
        np.savez(folder / "genes_test.npz", x=x[1500:], y=y[1500:], module=module)
        print(f"{folder}: genes_train.npz x {x[:1500].shape}, genes_test.npz x {x[1500:].shape}")
    else:
        sys.exit(f"expected 'fixture' or 'example', found {which!r}")


if __name__ == "__main__":
    main()
