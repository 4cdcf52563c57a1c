#!/usr/bin/env python3
"""The ONNX node conformance suite, run through `neuride infer` and onnxruntime.

The cases come from the onnx package itself
(`onnx.backend.test.case.node.collect_testcases()`, 1,884 cases for onnx
1.23) and are written, never committed, into target/onnx-node-suite/cases in
the backend-test layout (`model.onnx`, `test_data_set_N/input_I.pb`,
`output_I.pb`) plus `case.json` with the case's tolerances. A case is
*runnable* when every graph input and output is a tensor (1,855 cases); the
others (sequence/optional graph inputs or outputs) are run too and reported
apart.

Each case runs through the `neuride` binary (`neuride infer MODEL --input
NAME=input_I.pb ... -o OUTDIR/`, the outputs written as .pb files) and
through onnxruntime's Python API, and both are compared with the expected
outputs exactly as onnx's backend runner compares (same shape, same dtype,
`np.testing.assert_allclose` with the case's rtol/atol; strings equal).

    python scripts/onnx_node_suite.py                 # both, per-op table and failures
    python scripts/onnx_node_suite.py --engine ort --match-ort   # neuride's ort engine == onnxruntime
    python scripts/onnx_node_suite.py --check         # CI guard (no onnxruntime run)
    python scripts/onnx_node_suite.py --update        # rewrite tests/onnx_node/passing.txt

--check fails when a case of tests/onnx_node/passing.txt no longer passes,
when a case listed as a known failure in docs/infer.md ("Node-suite cases
neuride does not pass") passes (remove it: the list only shrinks), or when a
case is in neither list. Use the test venv's python (`bash scripts/test-venv`).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "target" / "onnx-node-suite" / "cases"
PASSING = ROOT / "tests" / "onnx_node" / "passing.txt"
DOC = ROOT / "docs" / "infer.md"
KNOWN_HEADING = "### Node-suite cases neuride does not pass"


# ------------------------------------------------------------------ generating


def _write_value(path: Path, value, type_proto, name: str) -> None:
    if type_proto.HasField("map_type"):
        proto = numpy_helper.from_dict(value, name)
    elif type_proto.HasField("sequence_type"):
        proto = numpy_helper.from_list(value, name)
    elif type_proto.HasField("optional_type"):
        proto = numpy_helper.from_optional(value, name)
    elif isinstance(value, onnx.TensorProto):
        proto = value
    else:
        proto = numpy_helper.from_array(value, name)
    path.write_bytes(proto.SerializeToString())


def generate(cases_dir: Path) -> None:
    """Writes every node case (as onnx's `backend-test-tools generate-data` does).

    Several runs may start at once (the CI guard's tests run in parallel):
    one generates under a lock into a fresh folder renamed into place, the
    others wait for it and reuse the result."""
    import fcntl

    cases_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(cases_dir.parent / f".{cases_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = cases_dir / ".onnx-version"
        if stamp.exists() and stamp.read_text() == onnx.__version__:
            return
        fresh = cases_dir.parent / f".{cases_dir.name}.new"
        if fresh.exists():
            shutil.rmtree(fresh)
        fresh.mkdir()
        _write_cases(fresh)
        (fresh / ".onnx-version").write_text(onnx.__version__)
        if cases_dir.exists():
            shutil.rmtree(cases_dir)
        fresh.rename(cases_dir)


def _write_cases(cases_dir: Path) -> None:
    from onnx.backend.test.case import node

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = node.collect_testcases(None)
    for case in cases:
        out = cases_dir / case.name
        out.mkdir()
        graph = case.model.graph
        (out / "model.onnx").write_bytes(case.model.SerializeToString())
        runnable = all(
            v.type.HasField("tensor_type") for v in list(graph.input) + list(graph.output)
        )
        meta = {"rtol": case.rtol, "atol": case.atol, "runnable": runnable}
        (out / "case.json").write_text(json.dumps(meta))
        for i, (inputs, outputs) in enumerate(case.data_sets or []):
            data = out / f"test_data_set_{i}"
            data.mkdir()
            for j, value in enumerate(inputs):
                v = graph.input[j]
                _write_value(data / f"input_{j}.pb", value, v.type, v.name)
            for j, value in enumerate(outputs):
                v = graph.output[j]
                _write_value(data / f"output_{j}.pb", value, v.type, v.name)


# ------------------------------------------------------------------ reading


def load_value(path: Path, type_proto):
    data = path.read_bytes()
    if type_proto.HasField("sequence_type"):
        s = onnx.SequenceProto()
        s.ParseFromString(data)
        return numpy_helper.to_list(s)
    if type_proto.HasField("optional_type"):
        o = onnx.OptionalProto()
        o.ParseFromString(data)
        return numpy_helper.to_optional(o)
    if type_proto.HasField("map_type"):
        m = onnx.MapProto()
        m.ParseFromString(data)
        return numpy_helper.to_dict(m)
    t = onnx.TensorProto()
    t.ParseFromString(data)
    return numpy_helper.to_array(t)


def data_sets(case: Path):
    """[(input files, output files)] in order."""
    sets = sorted(case.glob("test_data_set_*"), key=lambda p: int(p.name.rsplit("_", 1)[1]))

    def numbered(d: Path, prefix: str):
        return sorted(d.glob(f"{prefix}_*.pb"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))

    return [(numbered(s, "input"), numbered(s, "output")) for s in sets]


# ------------------------------------------------------------------ comparing


def compare(got, want, rtol: float, atol: float) -> str | None:
    """onnx's `assert_similar_outputs` for one value; the problem, or None."""
    if isinstance(want, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"expected a sequence, found {type(got).__name__}"
        if len(got) != len(want):
            return f"{len(got)} sequence items, expected {len(want)}"
        for g, w in zip(got, want):
            problem = compare(g, w, rtol, atol)
            if problem:
                return problem
        return None
    if want is None or got is None:
        return None if want is None and got is None else f"optional: {got!r} vs {want!r}"
    if isinstance(want, dict):
        return None if got == want else "maps differ"
    got = np.asarray(got)
    want = np.asarray(want)
    if tuple(got.shape) != tuple(want.shape):
        return f"shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    try:
        if want.dtype == object:
            np.testing.assert_array_equal(got, want)
            return None
        if got.dtype != want.dtype:
            return f"dtype {got.dtype}, expected {want.dtype}"
        r = rtol
        if got.dtype.name == "bfloat16":
            r = max(rtol, 2**-6)
            got = got.astype(np.float32)
            want = want.astype(np.float32)
        np.testing.assert_allclose(got, want, rtol=r, atol=atol)
    except AssertionError as e:
        lines = [l for l in str(e).strip().splitlines() if l.strip()]
        return " ".join(lines[:4])[:300]
    except Exception as e:  # noqa: BLE001 (a comparison numpy cannot make is a failure)
        return f"cannot compare: {e}"[:300]
    return None


def check_outputs(case: Path, model, produced: list, outputs: list[Path]) -> str | None:
    meta = json.loads((case / "case.json").read_text())
    if len(produced) != len(outputs):
        return f"{len(produced)} outputs, expected {len(outputs)}"
    for j, (got, file) in enumerate(zip(produced, outputs)):
        want = load_value(file, model.graph.output[j].type)
        problem = compare(got, want, meta["rtol"], meta["atol"])
        if problem:
            return f"output {j} ({model.graph.output[j].name}): {problem}"
    return None


# ------------------------------------------------------------------ running


def run_neuride(neuride: str, engine: str, case: Path) -> str | None:
    """The case through `neuride infer`; the problem, or None when it passes."""
    model = onnx.load(str(case / "model.onnx"))
    inits = {i.name for i in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in inits]
    for inputs, outputs in data_sets(case):
        with tempfile.TemporaryDirectory(prefix="neuride-node-") as tmp:
            out_dir = Path(tmp) / "out"
            command = [neuride, "infer", str(case / "model.onnx"), "-o", f"{out_dir}/"]
            if engine != "auto":
                command += ["--engine", engine]
            for name, file in zip(names, inputs):
                command += ["--input", f"{name}={file}"]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=120)
            except subprocess.TimeoutExpired:
                return "timed out after 120 s"
            if done.returncode != 0:
                message = " ".join(done.stderr.split())
                return (message or f"exit code {done.returncode}")[:400]
            produced = []
            for j, v in enumerate(model.graph.output):
                file = out_dir / f"output_{j}.pb"
                if not file.exists():
                    return f"output {j} was not written"
                produced.append(load_value(file, v.type))
        problem = check_outputs(case, model, produced, outputs)
        if problem:
            return problem
    return None


def run_ort(case: Path) -> str | None:
    import onnxruntime as ort

    model = onnx.load(str(case / "model.onnx"))
    try:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        session = ort.InferenceSession(
            str(case / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
    except Exception as e:  # noqa: BLE001
        return " ".join(str(e).split())[:400]
    names = [i.name for i in session.get_inputs()]
    for inputs, outputs in data_sets(case):
        feeds = {}
        by_name = {v.name: v for v in model.graph.input}
        for name, file in zip(names, inputs):
            feeds[name] = load_value(file, by_name[name].type)
        try:
            produced = session.run(None, feeds)
        except Exception as e:  # noqa: BLE001
            return " ".join(str(e).split())[:400]
        problem = check_outputs(case, model, produced, outputs)
        if problem:
            return problem
    return None


# ------------------------------------------------------------------ reporting


def op_of(name: str, single: dict[str, str]) -> str:
    """The op a case tests: its node's op, or (expanded and multi-node
    cases) the op of the longest single-node case its name starts with."""
    if name in single:
        return single[name]
    base = name.removesuffix("_expanded")
    best = ""
    for other in single:
        if (base == other or base.startswith(other + "_")) and len(other) > len(best):
            best = other
    return single[best] if best else base.removeprefix("test_")


def case_ops(cases: list[Path]) -> dict[str, str]:
    single = {}
    for case in cases:
        model = onnx.load(str(case / "model.onnx"), load_external_data=False)
        if len(model.graph.node) == 1:
            single[case.name] = model.graph.node[0].op_type
    return {c.name: op_of(c.name, single) for c in cases}


def known_failures() -> dict[str, str]:
    """docs/infer.md's list: `- \\`test_x\\`: reason` lines under KNOWN_HEADING."""
    known = {}
    inside = False
    for line in DOC.read_text().splitlines():
        if line.startswith("#"):
            inside = line.strip() == KNOWN_HEADING
            continue
        m = re.match(r"\s*[-*] `(test_[A-Za-z0-9_]+)`(?:[:,]\s*(.*))?", line) if inside else None
        if m:
            known[m.group(1)] = m.group(2) or ""
        elif inside:
            # Grouped lines: `- reason: \`a\`, \`b\``
            m = re.match(r"\s*[-*] (.*?): ((?:`test_[A-Za-z0-9_]+`[,. ]*)+)$", line)
            if m:
                for name in re.findall(r"`(test_[A-Za-z0-9_]+)`", m.group(2)):
                    known[name] = m.group(1)
    return known


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--neuride", default=str(ROOT / "target" / "debug" / "neuride"),
                        help="the neuride binary (default: target/debug/neuride)")
    parser.add_argument("--engine", default="auto", help="neuride's --engine (auto, ort, ...)")
    parser.add_argument("--cases", default=str(CASES), help="where the cases are written")
    parser.add_argument("--check", action="store_true",
                        help="CI guard against tests/onnx_node/passing.txt and docs/infer.md; no onnxruntime run")
    parser.add_argument("--update", action="store_true", help="rewrite the passing list from this run")
    parser.add_argument("--no-ort", action="store_true", help="do not run onnxruntime")
    parser.add_argument("--no-neuride", action="store_true", help="do not run neuride")
    parser.add_argument("-k", "--filter", default="", help="only cases whose name contains this")
    parser.add_argument("--every", type=int, default=1,
                        help="only every Nth case in name order (a fixed sample, for a quicker run)")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--quiet", action="store_true", help="no per-op table")
    parser.add_argument("--match-ort", action="store_true",
                        help="fail unless neuride (with --engine ort) passes exactly the cases onnxruntime passes")
    args = parser.parse_args()

    cases_dir = Path(args.cases)
    generate(cases_dir)
    cases = sorted(p for p in cases_dir.iterdir() if p.is_dir() and args.filter in p.name)
    cases = cases[:: max(1, args.every)]
    runnable = {c.name for c in cases if json.loads((c / "case.json").read_text())["runnable"]}
    ops = case_ops(cases)
    run_ort_too = args.match_ort or not (args.no_ort or args.check)

    results: dict[str, dict[str, str | None]] = {c.name: {} for c in cases}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        if not args.no_neuride:
            futures = {pool.submit(run_neuride, args.neuride, args.engine, c): c.name for c in cases}
            for f in concurrent.futures.as_completed(futures):
                results[futures[f]]["neuride"] = f.result()
    if run_ort_too:
        for c in cases:
            results[c.name]["ort"] = run_ort(c)

    def passed(side: str, names) -> set[str]:
        return {n for n in names if side in results[n] and results[n][side] is None}

    all_names = [c.name for c in cases]
    sides = [s for s in ("neuride", "ort") if any(s in r for r in results.values())]
    if not args.quiet:
        print(f"{'op':<34} {'cases':>5} " + " ".join(f"{s:>8}" for s in sides))
        for op in sorted(set(ops.values()), key=str.lower):
            names = [n for n in all_names if ops[n] == op]
            counts = " ".join(f"{len(passed(s, names)):>8}" for s in sides)
            print(f"{op:<34} {len(names):>5} {counts}")
        print()
        for name in all_names:
            for side in sides:
                problem = results[name].get(side)
                if problem is not None:
                    print(f"FAIL {side:<7} {name}: {problem}")
        print()
    label = "neuride" if args.engine == "auto" else f"neuride --engine {args.engine}"
    run_names = [n for n in all_names if n in runnable]
    other = [n for n in all_names if n not in runnable]
    for side in sides:
        who = label if side == "neuride" else "onnxruntime " + __import__("onnxruntime").__version__
        print(f"{who}: {len(passed(side, run_names))} of {len(run_names)} runnable cases pass "
              f"(+{len(passed(side, other))} of {len(other)} with sequence/optional graph inputs or outputs)")
    if "neuride" in sides and "ort" in sides:
        ort_only = sorted(passed("ort", all_names) - passed("neuride", all_names))
        print(f"onnxruntime passes {len(ort_only)} cases neuride does not")

    if args.match_ort:
        # Compared on the runnable cases (the ort engine passes tensors
        # only), leaving out those onnxruntime's Python binding cannot even
        # feed or read (bfloat16 has no numpy type there; the C API that
        # neuride's engine uses has it).
        binding = ("Numpy_type", "No corresponding Numpy type")
        compared = [n for n in run_names
                    if not any(b in (results[n].get("ort") or "") for b in binding)]
        differ = sorted(passed("neuride", compared) ^ passed("ort", compared))
        for name in differ:
            print(f"differs: {name}: neuride {results[name]['neuride']!r}, onnxruntime {results[name]['ort']!r}")
        if differ:
            return 1
        print(f"match: neuride --engine {args.engine} passes the same {len(passed('ort', compared))} cases as onnxruntime "
              f"({len(compared)} runnable cases compared; {len(run_names) - len(compared)} left out that onnxruntime's "
              f"Python binding cannot feed, of which neuride's ort engine passes {len(passed('neuride', set(run_names) - set(compared)))})")
        return 0
    passing_file = PASSING
    if args.update and "neuride" in sides:
        passing_file.parent.mkdir(parents=True, exist_ok=True)
        passing_file.write_text("\n".join(sorted(passed("neuride", all_names))) + "\n")
        print(f"wrote {passing_file.relative_to(ROOT)}")
    if args.check:
        return check(passed("neuride", all_names), set(all_names), results, passing_file, args.engine)
    return 0


def check(passing: set[str], names: set[str], results, passing_file: Path, engine: str) -> int:
    expected = set(passing_file.read_text().split())
    problems = []
    for name in sorted(expected - passing):
        if name in names:
            problems.append(f"{name} stopped passing: {results[name]['neuride']}")
        else:
            problems.append(f"{name} is listed in {passing_file.name} but is not a case of onnx {onnx.__version__}")
    if engine == "auto":
        known = known_failures()
        for name in sorted(passing & set(known)):
            problems.append(f"{name} now passes: remove it from docs/infer.md's known failures "
                            f"and run --update")
        for name in sorted(names - expected - set(known)):
            problems.append(f"{name} is in neither {passing_file.name} nor docs/infer.md's known failures "
                            f"({'passes' if name in passing else results[name]['neuride']})")
    if problems:
        print(f"{len(problems)} problems:")
        for p in problems:
            print("  " + p)
        return 1
    print(f"check: all {len(expected)} listed cases pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
