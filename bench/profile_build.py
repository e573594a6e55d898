"""Benchmark: building user profiles and RFM segments with `profiling.profiles.features` and
`profiling.profiles.segments`, against a straightforward pandas implementation of the same features
measured in the same run on the same cleaned events.

    .venv/bin/python bench/profile_build.py [--sizes 1000000,3000000,10000000]

For each size N (events; users = N/20, items = N/200) a child process generates a store with
`profiling.data.sample.generate_store`, writes it with `write_store` (events.parquet, users.csv,
items.csv), reads and cleans it once with `load_dataset` and caches the cleaned tables as
parquet. Then, each in a fresh process so that peak memory (max RSS) is its own:

- ours: the cleaned tables are read back into a `Dataset` (not timed), then
  `build_profiles(ds)` + `rfm_segments(profiles)` are timed;
- pandas: the same cleaned tables are converted to pandas (not timed), then a groupby /
  agg / pivot_table implementation of the same per-user columns and RFM quintile scores
  (`rank(pct=True)`) is timed;
- check: both results have the same users and agree on a few columns.

"before MB" is the resident memory (RSS) right before the timer starts, mostly the dataset;
"peak MB" is the max RSS from the timer's start on (the peak is reset through
/proc/self/clear_refs, so reading and converting the data beforehand do not count), dataset
included, so peak - before is what the computation itself added.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS, TARGET_RATIO, TARGET_PEAK_MB = 20.0, 3.0, 6 * 1024
# columns compared between the two implementations: (column, kind). Numbers must agree within
# 1e-6; a quintile score may differ by one for a handful of users (at most 1 in 10,000) whose
# money sum differs by a rounding error (1e-14) from a tied user's, which changes the tie.
CHECKS = (
    ("n_events", "num"),
    ("frequency", "num"),
    ("monetary", "num"),
    ("sessions", "num"),
    ("active_days", "num"),
    ("recency_days", "num"),
    ("price_level", "num"),
    ("rating_mean", "num"),
    ("category_entropy", "num"),
    ("preferred_hour", "num"),
    ("top_category", "str"),
    ("favourite_brand", "str"),
    ("r_score", "score"),
    ("f_score", "score"),
    ("m_score", "score"),
    ("rfm_segment", "str"),
)


def _rss_mb() -> float:
    """Current resident set size of this process, MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> bool:
    """Reset the process's peak RSS to its current RSS (Linux >= 4.0), so that the peak
    measured afterwards is that of the timed work and not of reading or converting the
    data beforehand. Returns whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


# ---- children ------------------------------------------------------------------------------
def prepare(n_events: int, d: str) -> dict:
    """Generate and write a store, clean it once and cache the cleaned tables as parquet."""
    from profiling.data.dataset import load_dataset
    from profiling.data.sample import generate_store, write_store

    n_users, n_items = max(n_events // 20, 10), max(n_events // 200, 50)
    store = generate_store(n_users=n_users, n_items=n_items, n_events=n_events, random_state=42)
    paths = write_store(store, d)
    del store
    ds = load_dataset(paths["events"], paths["users"], paths["items"])
    ds.events.write_parquet(Path(d) / "clean_events.parquet")
    ds.users.write_parquet(Path(d) / "clean_users.parquet")
    ds.items.write_parquet(Path(d) / "clean_items.parquet")
    with open(Path(d) / "clean_meta.pkl", "wb") as f:
        pickle.dump({"report": ds.report, "fingerprint": ds.fingerprint, "name": ds.name}, f)
    return {
        "events": ds.events.height,
        "users": ds.events["user_id"].n_unique(),
        "items": ds.items.height,
        "events_mb": Path(paths["events"]).stat().st_size / 1e6,
    }


def _dataset(d: str):
    """The cleaned Dataset of ``prepare``, read back from parquet (no re-cleaning)."""
    import polars as pl

    from profiling.data.dataset import Dataset

    with open(Path(d) / "clean_meta.pkl", "rb") as f:
        meta = pickle.load(f)  # noqa: S301 - reads a pickle this project wrote into its own private folder
    return Dataset(
        events=pl.read_parquet(Path(d) / "clean_events.parquet"),
        users=pl.read_parquet(Path(d) / "clean_users.parquet"),
        items=pl.read_parquet(Path(d) / "clean_items.parquet"),
        **meta,
    )


def ours(d: str) -> dict:
    from profiling.profiles.features import build_profiles
    from profiling.profiles.segments import rfm_segments

    ds = _dataset(d)
    before, reset = _rss_mb(), _reset_peak()
    t = time.perf_counter()
    profiles = build_profiles(ds)
    rfm = rfm_segments(profiles)
    seconds = time.perf_counter() - t
    peak = _peak_mb()
    cols = [c for c, _k in CHECKS if c in profiles.columns]
    check = profiles.select("user_id", *cols).join(
        rfm.select("user_id", *[c for c in rfm.columns if c in dict(CHECKS)]), on="user_id"
    )
    check.write_parquet(Path(d) / "check_ours.parquet")
    (Path(d) / "columns_ours.json").write_text(json.dumps(profiles.columns + rfm.columns))
    return {
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_mb": peak,
        "peak_reset": reset,
        "users": profiles.height,
    }


def pandas_baseline(d: str) -> dict:
    import gc

    ds = _dataset(d)
    events, items, users = ds.events.to_pandas(), ds.items.to_pandas(), ds.users.to_pandas()
    when = ds.as_of
    del ds
    gc.collect()
    before, reset = _rss_mb(), _reset_peak()
    t = time.perf_counter()
    profiles = pandas_profiles(events, items, users, when)
    rfm = pandas_rfm(profiles)
    seconds = time.perf_counter() - t
    peak = _peak_mb()
    cols = [c for c, _k in CHECKS if c in profiles.columns]
    check = profiles[["user_id", *cols]].merge(
        rfm[["user_id", *[c for c in rfm.columns if c in dict(CHECKS)]]], on="user_id"
    )
    check.to_parquet(Path(d) / "check_pandas.parquet", index=False)
    (Path(d) / "columns_pandas.json").write_text(json.dumps([*profiles.columns, *rfm.columns]))
    return {
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_mb": peak,
        "peak_reset": reset,
        "users": len(profiles),
    }


def check(d: str) -> dict:
    """Compare the check columns of both implementations, user by user."""
    import polars as pl

    a = pl.read_parquet(Path(d) / "check_ours.parquet")
    b = pl.read_parquet(Path(d) / "check_pandas.parquet")
    out: dict = {"users_ours": a.height, "users_pandas": b.height, "columns": {}}
    cols_a, cols_b = (
        json.loads((Path(d) / f"columns_{k}.json").read_text()) for k in ("ours", "pandas")
    )
    out["only_ours"] = sorted(set(cols_a) - set(cols_b))
    out["only_pandas"] = sorted(set(cols_b) - set(cols_a))
    j = a.join(b, on="user_id", how="full", suffix="__pd", coalesce=True)
    out["same_users"] = a.height == b.height == j.height
    for col, kind in CHECKS:
        if col not in a.columns or col not in b.columns:
            out["columns"][col] = None if col not in a.columns and col not in b.columns else False
            continue
        x, y = pl.col(col), pl.col(f"{col}__pd")
        if kind == "str":
            x, y = x.cast(pl.String), y.cast(pl.String)
            close, near = x == y, pl.lit(False)
        else:
            x, y = x.cast(pl.Float64).fill_nan(None), y.cast(pl.Float64).fill_nan(None)
            close = (x - y).abs() <= 1e-6 + 1e-9 * y.abs()
            near = pl.lit(kind == "score") & ((x - y).abs() <= 1)
        both_null = x.is_null() & y.is_null()
        bad, off_by_one = j.select(
            (~(close | both_null).fill_null(False)).sum().alias("bad"),
            (~close & near).fill_null(False).sum().alias("near"),
        ).row(0)
        out["columns"][col] = bad == 0 or (bad == off_by_one and bad <= j.height / 10_000)
        if bad and out["columns"][col]:
            out.setdefault("ties", {})[col] = bad
    return out


# ---- the pandas baseline ---------------------------------------------------------------
def pandas_profiles(events, items, users, when):
    """The per-user columns of `build_profiles`, written with pandas groupby/agg/pivot_table."""
    import numpy as np
    import pandas as pd

    from profiling.profiles.features import (
        AGE_BANDS,
        COUNTED_TYPES,
        MAX_CATEGORY_COLUMNS,
        PARTS_OF_DAY,
    )

    e = events[events["timestamp"] <= when]
    e = e.merge(items[["item_id", "category", "brand"]], on="item_id", how="left")
    if not e["timestamp"].is_monotonic_increasing:
        e = e.sort_values("timestamp", kind="stable")
    ts, et = e["timestamp"], e["event_type"]
    hour = ts.dt.hour
    e = e.assign(
        _hour=hour,
        _day=ts.dt.floor("D"),
        _weekend=ts.dt.day_of_week >= 5,
        _last30=ts > when - timedelta(days=30),
        _prev30=(ts > when - timedelta(days=60)) & (ts <= when - timedelta(days=30)),
        _gross=e["amount"].where(et == "purchase", 0.0),
        _refunded=e["amount"].where(et == "refund", 0.0),
        **{f"_part_{p}": (hour >= lo) & (hour < hi) for p, (lo, hi) in PARTS_OF_DAY.items()},
        **{f"_is_{t}": et == t for t in COUNTED_TYPES},
    )
    # sessions: a new one after a gap of more than 30 whole minutes (events are in time order)
    gap = e.groupby("user_id")["timestamp"].diff()
    e["_new_session"] = gap.isna() | (gap // pd.Timedelta(minutes=1) > 30)

    g = e.groupby("user_id")
    base = g.agg(
        n_events=("timestamp", "size"),
        first_seen=("timestamp", "min"),
        last_seen=("timestamp", "max"),
        active_days=("_day", "nunique"),
        sessions=("_new_session", "sum"),
        gross_spend=("_gross", "sum"),
        refunded=("_refunded", "sum"),
        _n_weekend=("_weekend", "sum"),
        events_last_30d=("_last30", "sum"),
        events_prev_30d=("_prev30", "sum"),
        **{f"_n_{p}": (f"_part_{p}", "sum") for p in PARTS_OF_DAY},
        **{f"n_{t}": (f"_is_{t}", "sum") for t in COUNTED_TYPES},
    )

    # purchases: orders, days, last purchase, unit price, units, price level vs category median
    buys = e[et == "purchase"]
    orders = "order_id" if events["order_id"].notna().any() else "_day"
    cat_median = e[e["price"].notna() & e["category"].notna()].groupby("category")["price"].median()
    buys = buys.assign(_price_ratio=buys["price"] / buys["category"].map(cat_median))
    purchases = buys.groupby("user_id").agg(
        frequency=(orders, "nunique"),
        purchase_days=("_day", "nunique"),
        last_purchase=("timestamp", "max"),
        avg_unit_price=("price", "mean"),
        units_bought=("quantity", "sum"),
        price_level=("_price_ratio", "mean"),
    )

    # preferred hour: the most frequent hour, the earliest on ties
    per_hour = e.groupby(["user_id", "_hour"]).size().unstack(fill_value=0)
    preferred = per_hour.idxmax(axis=1).rename("preferred_hour")

    ratings = (
        e[e["rating"].notna()]
        .groupby("user_id")["rating"]
        .agg(n_ratings="size", rating_mean="mean", rating_std="std")
    )

    # favourite brand: the most frequent brand, the first by name on ties
    per_brand = e[e["brand"].notna()].groupby(["user_id", "brand"]).size().rename("n")
    per_brand = per_brand.reset_index()
    top_brand = per_brand[per_brand["n"] == per_brand.groupby("user_id")["n"].transform("max")]
    brand = top_brand.groupby("user_id")["brand"].min().rename("favourite_brand")

    # category affinity: interaction and spend shares (pivot), entropy, top category
    long = (
        e[e["category"].notna()]
        .groupby(["user_id", "category"])
        .agg(_cat_n=("timestamp", "size"), _cat_spend=("_gross", "sum"))
        .reset_index()
    )
    totals = long.groupby("category")["_cat_n"].sum().reset_index()
    totals = totals.sort_values(["_cat_n", "category"], ascending=[False, True])
    keep = totals["category"].head(MAX_CATEGORY_COLUMNS).tolist()
    long["_c"] = long["category"].where(long["category"].isin(keep), "Other")
    tot = long.groupby("user_id")[["_cat_n", "_cat_spend"]].transform("sum")
    long["_share"] = long["_cat_n"] / tot["_cat_n"]
    long["_spend_share"] = (long["_cat_spend"] / tot["_cat_spend"]).where(
        tot["_cat_spend"] > 0, 0.0
    )
    long["_plogp"] = -long["_share"] * np.log(long["_share"])
    top = long.sort_values(["user_id", "_share", "category"], ascending=[True, False, True])
    top = top.drop_duplicates("user_id").set_index("user_id")
    affinity = pd.DataFrame(
        {
            "category_entropy": long.groupby("user_id")["_plogp"].sum(),
            "top_category": top["category"],
            "top_category_share": top["_share"],
        }
    )
    wide = long.pivot_table(
        index="user_id", columns="_c", values=["_share", "_spend_share"], aggfunc="sum"
    ).fillna(0.0)
    order = keep + (["Other"] if len(totals) > len(keep) else [])
    shares = pd.concat(
        [
            wide["_share"].reindex(columns=order).add_prefix("cat_share__"),
            wide["_spend_share"].reindex(columns=order).add_prefix("spend_share__"),
        ],
        axis=1,
    )

    p = base.join([purchases, preferred, ratings, brand, affinity, shares], how="left")
    share_cols = [c for c in p.columns if c.startswith(("cat_share__", "spend_share__"))]
    p[share_cols] = p[share_cols].fillna(0.0)

    # ratios, RFM inputs and momentum
    day = pd.Timedelta(days=1)
    n = p["n_events"]

    def ratio(a: str, b: str):
        return p[a] / p[b].where(p[b] > 0)

    recent, prev = p["events_last_30d"], p["events_prev_30d"]
    p = p.assign(
        tenure_days=(when - p["first_seen"]) / day,
        days_since_seen=(when - p["last_seen"]) / day,
        recency_days=(when - p["last_purchase"]) / day,
        frequency=p["frequency"].fillna(0),
        monetary=p["gross_spend"] + p["refunded"],
        avg_order_value=p["gross_spend"] / p["frequency"].where(p["frequency"] > 0),
        events_per_session=n / p["sessions"],
        view_to_cart=ratio("n_cart", "n_view"),
        cart_to_purchase=ratio("n_purchase", "n_cart"),
        view_to_purchase=ratio("n_purchase", "n_view"),
        refund_rate=ratio("n_refund", "n_purchase"),
        weekend_share=p["_n_weekend"] / n,
        **{f"share_{part}": p[f"_n_{part}"] / n for part in PARTS_OF_DAY},
        momentum=((recent - prev) / (recent + prev)).where(recent + prev > 0, 0.0),
        n_ratings=p["n_ratings"].fillna(0),
    )
    drop = [c for c in p.columns if c.startswith("_")] + ["n_rating"]
    drop += [f"n_{t}" for t in COUNTED_TYPES if p[f"n_{t}"].sum() == 0]
    if "n_refund" in drop:
        drop.append("refund_rate")
    p = p.drop(columns=list(dict.fromkeys(drop))).reset_index()

    if users is not None:
        u = users.drop(columns=[c for c in users.columns if c != "user_id" and c in p.columns])
        if "age" in u.columns:
            u = u.assign(
                age_band=pd.cut(
                    u["age"],
                    bins=[lo for lo, _hi, _l in AGE_BANDS] + [AGE_BANDS[-1][1]],
                    labels=[label for _lo, _hi, label in AGE_BANDS],
                    right=False,
                )
            )
        p = p.merge(u, on="user_id", how="left")
    return p.sort_values("user_id", ignore_index=True)


def pandas_rfm(p):
    """RFM quintile scores with ``rank(pct=True)`` and the named segments of
    `profiling.profiles.segments.RFM_SEGMENTS`."""
    import numpy as np
    import pandas as pd

    from profiling.profiles.segments import NO_PURCHASE, RFM_SEGMENTS

    buyers = p[p["frequency"] > 0]

    def score(s, higher_is_better: bool = True):
        pct = s.rank(method="average", pct=True, ascending=higher_is_better)
        return np.ceil(pct * 5).clip(1, 5).astype("Int8")

    scored = pd.DataFrame(
        {
            "user_id": buyers["user_id"],
            "r_score": score(buyers["recency_days"], higher_is_better=False),
            "f_score": score(buyers["frequency"]),
            "m_score": score(buyers["monetary"]),
        }
    )
    out = p[["user_id"]].merge(scored, on="user_id", how="left")
    cell = out["r_score"].astype("string") + out["f_score"].astype("string")
    out["rfm_cell"] = cell
    cell = cell.fillna("")
    out["rfm_segment"] = np.select(
        [cell.str.contains(rx) for _name, rx, _text in RFM_SEGMENTS],
        [name for name, _rx, _text in RFM_SEGMENTS],
        default=NO_PURCHASE,
    )
    return out


# ---- parent ----------------------------------------------------------------------------
def _child(kind: str, d: str) -> None:
    if kind.startswith("prepare:"):
        out = prepare(int(kind.split(":")[1]), d)
    else:
        out = {"ours": ours, "pandas": pandas_baseline, "check": check}[kind](d)
    # a fresh interpreter per measurement (the parent stays small, so max RSS is the child's)
    out.setdefault("peak_mb", _peak_mb())
    print(json.dumps(out))


def run(kind: str, d: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, d],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"child {kind!r} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _agreement(c: dict) -> str:
    if not c["same_users"]:
        return f"NO: users differ ({c['users_ours']:,} vs {c['users_pandas']:,})"
    bad = [k for k, v in c["columns"].items() if v is False]
    compared = [k for k, v in c["columns"].items() if v is not None]
    text = f"yes ({len(compared)} columns)" if not bad else f"NO: {', '.join(bad)}"
    if c.get("ties"):
        text += "; off by one at float ties: " + ", ".join(
            f"{k} {v} users" for k, v in c["ties"].items()
        )
    if c["only_ours"] or c["only_pandas"]:
        text += f"; columns only in ours {c['only_ours']}, only in pandas {c['only_pandas']}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000,3000000,10000000", help="event counts")
    parser.add_argument(
        "--repeat", type=int, default=1, help="fresh processes per measurement; best time kept"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    print(
        "Profile build: profiling.profiles.features.build_profiles + profiling.profiles.segments.rfm_segments\n"
        "  vs a pandas groupby/agg/pivot_table implementation of the same per-user features\n"
        "  and RFM quintile scores (rank(pct=True)), on the same cleaned events.\n"
        "Data: profiling.data.sample.generate_store(seed 42), users = events/20, items = events/200,\n"
        "  written by write_store and cleaned once by load_dataset; reading, cleaning and the\n"
        "  pandas conversion are not timed. Each measurement runs in a fresh process; 'before MB'\n"
        "  is its RSS when the timer starts (mostly the dataset), 'peak MB' its max RSS while\n"
        "  timed, dataset included.\n"
        f"  {os.cpu_count()} CPUs, polars {_version('polars')}, pandas {_version('pandas')}.\n"
        f"Targets: 10M events in <= {TARGET_SECONDS:.0f} s, >= {TARGET_RATIO:.0f}x faster "
        f"than pandas, peak <= {TARGET_PEAK_MB / 1024:.0f} GB.",
        flush=True,
    )
    load_start = os.getloadavg()[0]
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="profile_build_") as d:
            t = time.perf_counter()
            meta = run(f"prepare:{n}", d)
            prep = time.perf_counter() - t
            a = min((run("ours", d) for _ in range(args.repeat)), key=lambda r: r["seconds"])
            b = min((run("pandas", d) for _ in range(args.repeat)), key=lambda r: r["seconds"])
            c = run("check", d)
        rows.append((meta, a, b, c))
        print(
            f"  done {meta['events']:,} events (prepare {prep:.0f} s, ours {a['seconds']:.1f} s, "
            f"pandas {b['seconds']:.1f} s)",
            flush=True,
        )
    head = (
        f"{'events':>11}{'users':>9}{'items':>8} |{'ours s':>8}{'before MB':>10}{'peak MB':>9}"
        f" |{'pandas s':>9}{'before MB':>10}{'peak MB':>9} |{'pandas/ours':>12} | agree"
    )
    print()
    print(head)
    print("-" * len(head))
    for meta, a, b, c in rows:
        print(
            f"{meta['events']:>11,}{meta['users']:>9,}{meta['items']:>8,} |"
            f"{a['seconds']:>8.2f}{a['rss_before_mb']:>10.0f}{a['peak_mb']:>9.0f} |"
            f"{b['seconds']:>9.2f}{b['rss_before_mb']:>10.0f}{b['peak_mb']:>9.0f} |"
            f"{b['seconds'] / a['seconds']:>11.2f}x | {_agreement(c)}"
        )
    if not all(r[1]["peak_reset"] and r[2]["peak_reset"] for r in rows):
        print("note: the peak could not be reset before timing; peak MB is the process's max RSS")
    print(
        f"load average (1 min) at start / end: {load_start:.2f} / {os.getloadavg()[0]:.2f}"
        f"{'; best of ' + str(args.repeat) + ' runs' if args.repeat > 1 else ''} (other work on"
        " the machine slows both sides)"
    )
    meta, a, b, _c = rows[-1]
    ok = {
        f"time <= {TARGET_SECONDS:.0f} s": a["seconds"] <= TARGET_SECONDS,
        f">= {TARGET_RATIO:.0f}x faster than pandas": b["seconds"] / a["seconds"] >= TARGET_RATIO,
        f"peak <= {TARGET_PEAK_MB / 1024:.0f} GB": a["peak_mb"] <= TARGET_PEAK_MB,
    }
    scale = "" if meta["events"] >= 10_000_000 else " (targets are for 10M events)"
    print(
        f"targets at {meta['events']:,} events{scale}: "
        + "; ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in ok.items())
    )


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    main()
