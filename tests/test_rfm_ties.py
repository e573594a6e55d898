"""RFM scores on a skewed log: more than half of the buyers bought exactly once."""

from __future__ import annotations

import math

import polars as pl

from profiling.present.viz import rfm_grid_figure
from profiling.profiles.segments import (
    empty_score_notes,
    empty_scores,
    quantile_scores,
    rfm_grid,
    rfm_mix,
    rfm_segments,
)

# user, recency_days, frequency, expected R, expected F, expected segment
# F: six buyers tie on 1 order, the lowest value -> F 1 (their average rank 3.5 alone would
#    give ceil(3.5 * 5 / 10) = 2); the two 2s have ranks 7, 8 -> ceil(7.5 * 5 / 10) = 4;
#    3 and 7 orders have ranks 9 and 10 -> 5. No buyer has F 2 or 3.
# R: ranks by recency, largest first (545 days is rank 1): score ceil(rank / 2).
SKEWED = [
    ("a", 545.0, 1, 1, 1, "Lost"),
    ("b", 400.0, 1, 1, 1, "Lost"),
    ("c", 300.0, 1, 2, 1, "Hibernating"),
    ("d", 200.0, 1, 2, 1, "Hibernating"),
    ("e", 100.0, 1, 3, 1, "About to sleep"),
    ("f", 10.0, 1, 4, 1, "Promising"),
    ("g", 50.0, 2, 3, 4, "Loyal"),
    ("h", 5.0, 2, 5, 4, "Champions"),
    ("i", 20.0, 3, 4, 5, "Loyal"),
    ("j", 1.0, 7, 5, 5, "Champions"),
]


def profiles() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": [u[0] for u in SKEWED],
            "recency_days": [u[1] for u in SKEWED],
            "frequency": [u[2] for u in SKEWED],
            "monetary": [10.0 * u[2] for u in SKEWED],
        }
    )


def test_the_tied_group_of_one_time_buyers_scores_1_and_lost_exists():
    assert math.ceil(3.5 * 5 / 10) == 2  # what the average rank alone would give
    out = rfm_segments(profiles()).sort("user_id")
    assert out["r_score"].to_list() == [u[3] for u in SKEWED]
    assert out["f_score"].to_list() == [u[4] for u in SKEWED]
    assert out["rfm_segment"].to_list() == [u[5] for u in SKEWED]
    # a one-time buyer last seen 545 days ago is Lost, not Hibernating
    assert out.filter(pl.col("user_id") == "a")["rfm_segment"].item() == "Lost"


def test_recency_ties_on_the_oldest_value_score_1():
    # three buyers tie on the largest recency: lowest group -> 1, though their average
    # rank 2 of 5 alone gives ceil(2 * 5 / 5) = 2
    days = pl.Series("recency_days", [90.0, 90.0, 90.0, 3.0, 1.0])
    assert quantile_scores(days, higher_is_better=False).to_list() == [1, 1, 1, 4, 5]


def test_empty_scores_are_named_in_the_notes_the_grid_and_the_definitions():
    p = profiles()
    rfm = rfm_segments(p)
    assert empty_scores(rfm) == {"r_score": [], "f_score": [2, 3], "m_score": [2, 3]}
    assert empty_score_notes(rfm) == [
        "No buyer has F score 2 or 3: tied values share one score, and 6 of 10 buyers tie "
        "on one frequency (F 1).",
        "No buyer has M score 2 or 3: tied values share one score, and 6 of 10 buyers tie "
        "on one spend (M 1).",
    ]
    fig = rfm_grid_figure(rfm_grid(p, rfm))
    assert "no order-count score 2, 3: tied values share one score" in fig.layout.title.text
    defs = {d.segment: d.definition for d in rfm_mix(p)}
    # Hibernating is R 1-2 with F 1-2: its F 2 cannot occur here
    assert defs["Hibernating"].endswith(
        "(here no buyer has order-count score 2: tied values share one score)"
    )
    assert "here no buyer" not in defs["Champions"]
