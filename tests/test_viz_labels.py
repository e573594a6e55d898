"""Chart labels that must stay readable: the cleaning chart on a linear axis with counts,
values clear of the error bars, model names in a legend, and the cold-user sentence."""

from __future__ import annotations

import polars as pl

from profiling.evaluation.tables import cold_users_note
from profiling.present import viz


def test_the_cleaning_chart_is_linear_and_writes_counts_and_shares_of_rows_read():
    summary = pl.DataFrame(
        {
            "reason": ["missing user id", "refund"],
            "action": ["dropped", "kept"],
            "rows": [107_927, 9_000],
        }
    )
    fig = viz.cleaning_figure(summary, rows_kept=410_763)
    assert fig.layout.xaxis.type in (None, "linear")  # never "log"
    bar = fig.data[0]
    # rows read = kept + dropped = 410,763 + 107,927 = 518,690 (the refund rows are kept)
    assert list(bar.x) == [9_000, 107_927, 410_763]  # bottom to top
    assert list(bar.text) == [
        f"9,000 ({9_000 / 518_690:.1%})",
        "107,927 (20.8%)",  # 107,927 / 518,690
        "410,763 (79.2%)",  # 410,763 / 518,690
    ]
    assert bar.textposition == "outside" and bar.cliponaxis is False
    assert fig.layout.xaxis.range[1] > 410_763  # room for the longest bar's label


METRICS = pl.DataFrame(
    {
        "model": ["popularity", "ease", "als"],
        "metric": ["ndcg"] * 3,
        "k": [10] * 3,
        "value": [0.03, 0.09, 0.08],
        "ci_low": [0.02, 0.08, 0.07],
        "ci_high": [0.04, 0.10, 0.09],
        "is_best": [False, True, False],
    }
)
TIMINGS = pl.DataFrame(
    {
        "model": ["popularity", "ease", "als"],
        "fit_seconds": [0.01, 2.0, 30.0],
        "predict_seconds": [0.1, 0.2, 0.3],
    }
)


def test_bar_values_sit_inside_the_bars_base_clear_of_the_error_bars():
    bar = viz.metric_bars_figure(METRICS, "ndcg").data[0]
    assert list(bar.x) == ["ease", "als", "popularity"]
    assert list(bar.text) == ["0.090", "0.080", "0.030"]
    assert bar.textposition == "inside" and bar.insidetextanchor == "start"
    assert list(bar.error_y.array) == [0.10 - 0.09, 0.09 - 0.08, 0.04 - 0.03]


def test_time_against_quality_names_models_in_a_legend_not_next_to_the_points():
    fig = viz.time_quality_figure(METRICS, TIMINGS, "ndcg")
    assert [t.name for t in fig.data] == ["popularity", "ease", "als"]
    assert all(t.mode == "markers" for t in fig.data)  # no text that could overlap
    # each model keeps the colour of its position in the comparison (as in the P/R chart)
    assert [t.marker.color for t in fig.data] == list(viz.MODEL_COLORS[:3])
    assert fig.layout.xaxis.dtick == 1  # 0.01 s to 30 s spans decades: one tick per decade


def test_the_cold_user_sentence_counts_cold_users_and_fallback_models():
    per_user = pl.DataFrame(
        {
            "model": ["pop", "pop", "pop", "ease", "ease", "ease"],
            "user_id": ["u1", "u2", "u3"] * 2,
            "metric": ["ndcg"] * 6,
            "value": [0.1] * 6,
            "is_cold": [True, False, False] * 2,
        }
    )
    recs = pl.DataFrame(
        {
            "model": ["pop", "pop", "ease", "ease"],
            "user_id": ["u1", "u2", "u1", "u2"],
            "item_id": ["a", "a", "a", "b"],
            "is_fallback": [True, False, True, False],
        }
    )
    note = cold_users_note(per_user, recs)
    # 1 cold user (u1) of 3 test users = 33%; both models gave u1 only fallback items
    assert note == (
        "1 of the 3 test users (33%) had no history before the cutoff date, so the models "
        "know nothing about them: every model gives them the same fallback list of the most "
        "popular items, which is why their bars are the same for every model."
    )
    mixed = recs.with_columns(
        pl.when((pl.col("model") == "ease") & (pl.col("user_id") == "u1"))
        .then(False)
        .otherwise(pl.col("is_fallback"))
        .alias("is_fallback")
    )
    assert "1 of the 2 models give them the same fallback list" in cold_users_note(per_user, mixed)
    assert cold_users_note(per_user.with_columns(pl.lit(False).alias("is_cold")), recs) is None


def test_radar_labels_break_over_lines_instead_of_showing_the_markup():
    from profiling.vocabulary import glossary as G

    fig = viz.radar_figure(
        {"view_to_purchase": 1.0, "frequency": 0.0},
        {"view_to_purchase": 0.0, "frequency": 1.0},
        "a",
        "b",
    )
    theta = list(fig.data[0].theta)
    assert G.short_label("view_to_purchase") == "views that led to a purchase"
    assert theta[0] == "views that led<br>to a purchase"  # lines of at most 14 characters
    assert "&lt;br&gt;" not in " ".join(theta)


def _comparison_metrics() -> pl.DataFrame:
    """Two models, two measures: ease best on NDCG, pop clearly worse there (adjusted p
    0.01), pop best on precision with ease not clearly worse (p 0.40)."""
    nan = float("nan")
    return pl.DataFrame(
        {
            "model": ["pop", "ease", "pop", "ease"],
            "metric": ["ndcg", "ndcg", "precision", "precision"],
            "k": [10] * 4,
            "value": [0.05, 0.091, 0.03, 0.029],
            "ci_low": [0.04, 0.080, 0.027, 0.026],
            "ci_high": [0.06, 0.100, 0.033, 0.032],
            "p_adjusted": [0.01, nan, nan, 0.40],
            "is_best": [False, True, True, False],
        }
    )


def test_the_comparison_reads_one_measure_per_row_and_one_measure_in_detail():
    from profiling.evaluation.tables import by_measure_table, measure_table

    glance = by_measure_table(_comparison_metrics())
    # models best first on the first measure (NDCG): ease, then pop; values with their marks
    assert glance.columns == ["measure", "ease", "pop"]
    assert glance.rows() == [
        ("ranking quality (NDCG@10)", "0.091 ★", "0.050 †"),
        ("hits in the list (precision@10)", "0.029", "0.030 ★"),
    ]
    detail = measure_table(_comparison_metrics(), "precision")
    assert detail.columns == [
        "model",
        "hits in the list (precision@10)",
        "likely range",
        "compared with the best",
    ]
    assert detail.rows() == [
        ("pop", "0.030", "0.027 to 0.033", "★ best"),
        ("ease", "0.029", "0.026 to 0.032", "not clearly different"),
    ]
    assert measure_table(_comparison_metrics(), "ndcg")["compared with the best"].to_list() == [
        "★ best",
        "clearly worse †",
    ]


def test_the_timeline_is_as_tall_as_its_lanes():
    from datetime import datetime

    t = pl.DataFrame(
        {
            "timestamp": [datetime(2024, 1, 1), datetime(2024, 2, 1), datetime(2024, 3, 1)],
            "event_type": ["purchase", "refund", "purchase"],
            "item_id": ["a", "b", "a"],
        }
    )
    fig = viz.timeline_figure(t)
    assert [tr.name for tr in fig.data] == ["purchase", "refund"]
    assert fig.layout.height == 110 + 45 * 2  # two lanes, not a fixed 300 px
