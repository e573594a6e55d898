"""No leakage: segments and fallbacks come from the training part only, as of the cutoff.

The fixture is a log where the leak changes the result. Four users bought item A early in
January (A is the most popular item in training: 4 buyers against 2 for B); V1 and V2
bought B five times each late in January; X appears only after the cutoff and buys B six
times. Computed on the whole log (test period included), RFM puts X in the same segment as
V2 ("Loyal"), so every model's cold-user fallback would serve X the segment favourite B (a
hit at k=1). Computed on the training part alone, X has no segment: the fallback is the
overall favourite A (a miss).
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from profiling.cli import main
from profiling.data.dataset import Dataset
from profiling.evaluation import compare, temporal_split, train_as_of, train_segments
from profiling.evaluation.compare import NO_SEGMENT
from profiling.profiles.features import build_profiles
from profiling.profiles.segments import rfm_segments
from profiling.recommenders.popularity import Popularity, SegmentPopularity
from profiling.vocabulary import schema as S

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def leak_log() -> pl.DataFrame:
    rows = []

    def buy(user: str, item: str, day: int, amount: float = 10.0) -> None:
        rows.append((user, item, T0 + dt.timedelta(days=day), amount))

    for n, u in enumerate(["W1", "W2", "W3", "W4"]):
        buy(u, "A", 1 + n)
    for u in ["V1", "V2"]:
        for d in (20, 22, 24, 26, 28):
            buy(u, "B", d, 50.0)
    for d in (40, 41, 42, 43, 44, 45):
        buy("X", "B", d, 80.0)
    buy("W1", "C", 46)
    buy("V1", "D", 47)
    frame = pl.DataFrame(
        rows,
        schema={
            S.USER_ID: pl.String,
            S.ITEM_ID: pl.String,
            S.TIMESTAMP: pl.Datetime("us", "UTC"),
            S.AMOUNT: pl.Float64,
        },
        orient="row",
    )
    numeric = {S.QUANTITY: pl.Int64, S.PRICE: pl.Float64, S.RATING: pl.Float64}
    return frame.with_columns(
        pl.lit(S.PURCHASE).alias(S.EVENT_TYPE),
        *[
            pl.lit(None, dtype=numeric.get(c, pl.String)).alias(c)
            for c in S.EVENT_COLUMNS
            if c not in frame.columns and c != S.EVENT_TYPE
        ],
    ).select(S.EVENT_COLUMNS)


@pytest.fixture(scope="module")
def split():
    # 22 events, test_fraction 0.4: cutoff = 13th event in time = V1/V2's purchase on day 28
    return temporal_split(leak_log(), test_fraction=0.4)


def full_log_segments() -> pl.DataFrame:
    """The leak: RFM over the whole log, test period included."""
    ds = Dataset(events=leak_log(), users=None, items=None, report=None, fingerprint="", name="")
    return rfm_segments(build_profiles(ds)).select(
        S.USER_ID, pl.col("rfm_segment").alias("segment")
    )


def test_train_segments_know_nothing_after_the_cutoff(split):
    assert split.cutoff == T0 + dt.timedelta(days=28)
    assert train_as_of(split) == split.cutoff
    seg = train_segments(split)
    assert set(seg[S.USER_ID]) == {"W1", "W2", "W3", "W4", "V1", "V2"}  # X is test-only
    segment = dict(seg.iter_rows())
    # in training V1 and V2 are alike (4 purchases each, last on day 26, 200 spent)
    assert segment["V1"] == segment["V2"]
    # the whole log would tell X apart and pair it with V2: the leak this module prevents
    leaky = dict(full_log_segments().iter_rows())
    assert leaky["X"] == leaky["V2"]


def test_the_cold_users_fallback_uses_train_only_segments(split):
    models = {"popularity": Popularity(), "segment-popularity": SegmentPopularity()}
    honest = compare(models, split, k=1, n_boot=50, n_permutations=50)
    x = honest.per_user.filter((pl.col(S.USER_ID) == "X") & (pl.col("metric") == "ndcg"))
    # X is cold: overall favourite A (4 train buyers) is recommended, X bought B: a miss
    assert x["is_cold"].all()
    assert x["value"].to_list() == [0.0, 0.0]
    recs = honest.recommendations.filter((pl.col(S.USER_ID) == "X") & (pl.col("rank") == 1))
    assert recs[S.ITEM_ID].to_list() == ["A", "A"] and recs["is_fallback"].all()
    # in the per-segment breakdown X is "new since the cutoff", not in a segment
    by_seg = honest.breakdown(honest.segments)
    assert NO_SEGMENT in set(by_seg["segment"])
    x_only = by_seg.filter(pl.col("segment") == NO_SEGMENT)
    assert (x_only["users"] == 1).all()
    # the same comparison fed the whole-log segments scores X a hit: the leak is visible
    leaky = compare(
        models, split, k=1, user_segments=full_log_segments(), n_boot=50, n_permutations=50
    )
    xl = leaky.per_user.filter((pl.col(S.USER_ID) == "X") & (pl.col("metric") == "ndcg"))
    assert xl["value"].to_list() == [1.0, 1.0]


def test_the_cli_evaluates_with_train_only_segments(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    leak_log().select(
        S.USER_ID, S.ITEM_ID, pl.col(S.TIMESTAMP).dt.strftime("%Y-%m-%d %H:%M"), S.AMOUNT
    ).rename({S.AMOUNT: "total"}).write_csv(path)
    out = tmp_path / "eval"
    code = main(
        [
            "evaluate",
            str(path),
            "--models",
            "popularity,segment-popularity",
            "--k",
            "1",
            "--test-fraction",
            "0.4",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    per_user = pl.read_parquet(out / "per_user.parquet")
    x = per_user.filter((pl.col(S.USER_ID) == "X") & (pl.col("metric") == "ndcg"))
    assert x["value"].to_list() == [0.0, 0.0]
    report = json.loads((out / "report.json").read_text())
    assert "training part only" in report["segments"]
    assert report["relevance"]["rule"] == "relevant: purchases in the test part (transaction log)"
