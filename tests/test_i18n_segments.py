"""The 8-tier high/low RFM scheme (重要价值客户 ... 一般挽留客户), worked by hand."""

from __future__ import annotations

import polars as pl
import pytest

from profiling.errors import ProfilingError
from profiling.profiles import segments as SG
from profiling.vocabulary.i18n import language

# six buyers and one visitor who never bought. Medians over the buyers:
# R 1,2,2,3,4,5 -> 2.5; F 1,1,2,3,4,5 -> 2.5; M 1,2,3,4,5,5 -> 3.5 (high = strictly above)
SCORES = pl.DataFrame(
    {
        "user_id": ["u1", "u2", "u3", "u4", "u5", "u6", "u7"],
        "r_score": [5, 1, 4, 2, 3, 2, None],
        "f_score": [5, 1, 2, 4, 3, 1, None],
        "m_score": [5, 1, 4, 2, 3, 5, None],
    },
    schema_overrides={"r_score": pl.Int8, "f_score": pl.Int8, "m_score": pl.Int8},
)


def test_each_buyer_gets_the_tier_of_its_high_and_low_scores_against_the_median():
    assert SG.rfm_tier_names(SCORES).to_list() == [
        "Important value",  # R5 H, F5 H, M5 H
        "General win-back",  # R1 L, F1 L, M1 L
        "Important development",  # R4 H, F2 L, M4 H
        "General retention",  # R2 L, F4 H, M2 L
        "General value",  # R3 H, F3 H, M3 L (3 is below the median 3.5)
        "Important win-back",  # R2 L, F1 L, M5 H
        "No purchase yet",
    ]


def test_a_score_equal_to_the_median_counts_as_low():
    # medians R 3, F 3, M 3 over three buyers: the middle buyer is low on everything
    scores = pl.DataFrame(
        {"r_score": [1, 3, 5], "f_score": [1, 3, 5], "m_score": [1, 3, 5]},
        schema={"r_score": pl.Int8, "f_score": pl.Int8, "m_score": pl.Int8},
    )
    assert SG.rfm_tier_names(scores).to_list() == [
        "General win-back",
        "General win-back",
        "Important value",
    ]


def test_without_spend_data_every_buyer_is_low_on_m():
    scores = SCORES.with_columns(pl.lit(None, pl.Int8).alias("m_score"))
    assert SG.rfm_tier_names(scores).to_list()[:2] == ["General value", "General win-back"]


def test_every_tier_has_a_definition_and_a_rule_in_both_languages():
    names = [n for n, _hl, _t in SG.RFM_TIERS]
    assert len(set(names)) == 8
    assert set(SG.TIER_DEFINITIONS) == set(names) | {SG.NO_PURCHASE, SG.REFUNDED_ALL}
    assert set(SG.TIER_RULES) == set(SG.TIER_DEFINITIONS)
    with language("zh"):
        assert [SG.segment_label(n) for n in names] == [
            "重要价值客户",
            "重要发展客户",
            "重要保持客户",
            "重要挽留客户",
            "一般价值客户",
            "一般发展客户",
            "一般保持客户",
            "一般挽留客户",
        ]
    assert SG.segment_label("Important win-back") == "Important win-back"
    assert SG.segment_label("k-means group 3") == "k-means group 3"  # not a known name


def test_the_tier_scheme_renames_rfm_segments_of_a_profile_frame():
    profiles = pl.DataFrame(
        {
            "user_id": ["a", "b", "c", "d"],
            "recency_days": [1.0, 100.0, 5.0, None],
            "frequency": [5, 1, 1, 0],
            "monetary": [500.0, 10.0, 400.0, 0.0],
        }
    )
    out = SG.rfm_segments(profiles, scheme=SG.SCHEME_8)
    # R scores 5, 1, 4 (median 4): only a is high; F 5, 1, 1 (median 1): a high;
    # M 5, 1, 4 (median 4): a high
    assert out["rfm_segment"].to_list() == [
        "Important value",
        "General win-back",
        "General win-back",
        "No purchase yet",
    ]


def test_an_unknown_scheme_is_named_in_the_error():
    with pytest.raises(ProfilingError, match=r"segment scheme: expected one of .*got 'tiers9'"):
        SG.rfm_segments(pl.DataFrame({"user_id": []}), scheme="tiers9")
