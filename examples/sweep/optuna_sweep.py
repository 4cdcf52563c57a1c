#!/usr/bin/env python3
"""neuride as the trial of an Optuna study: each trial simulates the spiking
network with the settings Optuna proposes (time steps, input encoding,
neuron threshold) and reports (accuracy, steps), a two-objective study whose
Pareto front is the best accuracy / time-step trade-off.

One worker per process; every worker joins the same study through shared
storage, so a sweep that outgrows one machine runs on many:

    # on each machine (PostgreSQL or MySQL storage)
    python3 optuna_sweep.py --storage postgresql://user:pw@db/neuride \\
        --study tabular --trials 200 --neuride /path/to/neuride
    # or several processes on one machine, sharing an SQLite file
    python3 optuna_sweep.py --storage sqlite:///study.db --study tabular \\
        --trials 40 --neuride ../../target/release/neuride &
    python3 optuna_sweep.py --storage sqlite:///study.db --study tabular \\
        --trials 40 --neuride ../../target/release/neuride

`--trials` is the study's total of finished trials: every worker stops when
the study has that many. The default target is examples/tabular-snn
(cnn.onnx on test_images.npz); --model/--data/--calib change it. Needs
optuna (pip install optuna); neuride does the simulating.
"""
import argparse
import json
import os
import sys
from pathlib import Path

import optuna
from optuna.samplers import TPESampler
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState

sys.path.insert(0, str(Path(__file__).resolve().parent))
from neuride_trial import DEFAULT_TARGET, result, simulate  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--storage", required=True, help="Optuna storage URL (sqlite:///f.db, postgresql://..., mysql://...)")
    parser.add_argument("--study", required=True, help="study name (workers with the same name share it)")
    parser.add_argument("--trials", type=int, required=True, help="finished trials the study should reach")
    parser.add_argument("--neuride", required=True, help="the neuride binary")
    parser.add_argument("--model", default=DEFAULT_TARGET["model"])
    parser.add_argument("--data", default=DEFAULT_TARGET["data"])
    parser.add_argument("--calib", default=DEFAULT_TARGET["calib"])
    parser.add_argument("--limit", type=int, help="simulate only the first N samples")
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--seed", type=int, help="sampler seed (each worker should differ)")
    args = parser.parse_args()

    storage = args.storage
    lock = None
    if storage.startswith("sqlite:///"):
        # Workers starting together on a new SQLite file would each create
        # Optuna's tables (alembic's version row: a UNIQUE failure); the
        # first creates the storage and the study under a file lock, the
        # others then load them. Later, SQLite's own lock suffices: wait for it.
        import fcntl

        lock = open(storage[len("sqlite:///"):] + ".lock", "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
        storage = optuna.storages.RDBStorage(storage, engine_kwargs={"connect_args": {"timeout": 60}})
    study = optuna.create_study(
        study_name=args.study,
        storage=storage,
        load_if_exists=True,
        directions=["maximize", "minimize"],
        sampler=TPESampler(seed=args.seed),
    )
    if lock is not None:
        lock.close()
    target = {"model": args.model, "data": args.data, "calib": args.calib}

    def objective(trial):
        params = {
            "steps": trial.suggest_int("steps", 1, args.max_steps, log=True),
            "encode": trial.suggest_categorical("encode", ["current", "rate"]),
        }
        outcome = result(simulate(args.neuride, target, params, args.limit))
        trial.set_user_attr("worker", os.getpid())
        trial.set_user_attr("synops_per_sample", outcome["synops_per_sample"])
        trial.set_user_attr("wall_s", outcome["wall_s"])
        return outcome["accuracy"], outcome["steps"]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(
        objective,
        callbacks=[MaxTrialsCallback(args.trials, states=(TrialState.COMPLETE,))],
    )
    front = [
        {"number": t.number, "params": t.params, "accuracy": t.values[0], "steps": t.values[1]}
        for t in sorted(study.best_trials, key=lambda t: t.values[1])
    ]
    complete = len(study.get_trials(states=(TrialState.COMPLETE,)))
    print(json.dumps({"study": args.study, "complete": complete, "pareto": front}, indent=2))


if __name__ == "__main__":
    main()
