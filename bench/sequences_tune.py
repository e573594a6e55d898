"""Choosing the deep sequential models' settings on VALIDATION only: every configuration is
fitted on the training part of the leave-last split (``bench/sequences.py``'s protocol) and
scored by the model's own early-stopping validation (NDCG@10 of each validation user's
last TRAINING step, full catalog); the held-out test items are never scored here.

    .venv/bin/python bench/sequences_tune.py --dataset ml100k \
        --configs '[{"m": "sasrec", "max_len": 200, "batch_size": 64}]' [--budget 170]

``m`` is "gru4rec" or "sasrec"; every other key is a model parameter. Prints, per
configuration: fit seconds, the training summary (epochs, why it stopped, best validation
NDCG@10) and the validation NDCG@10 after every epoch, with the load average.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiling.evaluation import interactions_from, leave_last_n  # noqa: E402 - after the sys.path set-up above
from profiling.recommenders.registry import make  # noqa: E402 - after the sys.path set-up above


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_sequences", ROOT / "bench" / "sequences.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="ml100k")
    ap.add_argument("--data", type=Path, default=Path("/tmp/movielens"))
    ap.add_argument("--configs", required=True, help="JSON list of parameter dicts")
    ap.add_argument("--budget", type=float, default=170.0)
    args = ap.parse_args()
    ds, relevant = _bench().load(args.dataset, args.data.resolve())
    split = leave_last_n(ds.events, n=1, relevant_types=relevant)
    train = interactions_from(split.train)
    print(f"{ds.name}; load average {os.getloadavg()[0]:.1f}", flush=True)
    for config in json.loads(args.configs):
        params = dict(config)
        model = make(params.pop("m"))
        model.set_params(**{"time_budget": args.budget, **params})
        start = time.perf_counter()
        model.fit(train, items=ds.items, events=split.train)
        h = model.history_
        print(
            f"{model.name} {params}: {time.perf_counter() - start:.0f} s, "
            f"{h[-1]['seconds'] / len(h):.1f} s/epoch, {model.training_summary()}; "
            f"validation NDCG@10 by epoch {[round(x['validation_ndcg'], 3) for x in h]}; "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
