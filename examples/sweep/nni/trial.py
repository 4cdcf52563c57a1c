#!/usr/bin/env python3
"""An NNI trial (NNI's trial API: get_next_parameter / report_final_result)
that runs neuride: the parameters NNI proposes from search_space.json are
`neuride simulate` options, the reported result is the accuracy (NNI's
"default" metric) with the steps and synops beside it.

    nnictl create --config config.yml        # with NNI installed

Without NNI the trial runs standalone on the parameters given as JSON
(`--params '{"steps": 20, "encode": "rate"}'`, default: 20 steps, current
input) and prints the result instead of reporting it.
"""
import argparse
import json
import os
import sys
from pathlib import Path

try:
    import nni
except ImportError:  # standalone: NNI is heavy and optional
    nni = None

# Appended, not prepended: examples/sweep holds this `nni/` folder, which
# must not shadow the real package.
sys.path.append(str(Path(__file__).resolve().parent.parent))
from neuride_trial import DEFAULT_TARGET, result, simulate  # noqa: E402

REPO = Path(__file__).resolve().parents[3]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--neuride", default=os.environ.get("NEURIDE", str(REPO / "target/release/neuride")))
    parser.add_argument("--params", help="JSON parameters when NNI does not provide them")
    parser.add_argument("--limit", type=int, help="simulate only the first N samples")
    args = parser.parse_args()

    params = {"steps": 20, "encode": "current"}
    if nni is not None:
        params.update(nni.get_next_parameter() or {})
    if args.params:
        params.update(json.loads(args.params))
    outcome = result(simulate(args.neuride, DEFAULT_TARGET, params, args.limit))
    final = {"default": outcome["accuracy"], **outcome, "params": params}
    if nni is not None:
        nni.report_final_result(final)
    else:
        print(json.dumps(final))


if __name__ == "__main__":
    main()
