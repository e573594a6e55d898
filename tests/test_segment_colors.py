"""One colour and one order per segment on every chart."""

from __future__ import annotations

import polars as pl

from profiling.present import viz
from profiling.present.predict_viz import score_by_segment_figure
from profiling.profiles.segments import SegmentDescription

# sizes sorted by users, as describe_segments returns them: not the best-to-lost order
NAMES = ["Lost", "Champions", "At risk", "Loyal", "No purchase yet"]
BEST_TO_LOST = ["Champions", "Loyal", "At risk", "Lost", "No purchase yet"]


def descs(names=NAMES, ids=None):
    return [
        SegmentDescription(
            segment=ids[i] if ids else n,
            name=n,
            users=100 - 10 * i,
            share_of_users=0.2,
            revenue=10.0,
            share_of_revenue=0.2,
            top_features=[],
        )
        for i, n in enumerate(names)
    ]


def test_rfm_segments_are_ordered_best_to_lost_whatever_order_they_come_in():
    assert viz.segment_order(NAMES) == BEST_TO_LOST
    assert viz.segment_order(["Zeta group", "Lost", "Alpha group"]) == [
        "Lost",
        "Zeta group",
        "Alpha group",
    ]


def test_the_donut_the_bars_the_heatmap_the_map_and_the_sankey_agree_on_colour_and_order():
    d = descs()
    donut = viz.segment_mix_figure(d).data[0]
    assert list(donut.labels) == BEST_TO_LOST
    donut_colors = dict(zip(donut.labels, donut.marker.colors, strict=True))

    bars = viz.segment_sizes_figure(d)
    assert list(bars.data[0].y) == BEST_TO_LOST
    assert bars.layout.yaxis.autorange == "reversed"  # first name on top
    for trace in bars.data:
        assert dict(zip(trace.y, trace.marker.color, strict=True)) == donut_colors

    z = pl.DataFrame(
        {"segment": NAMES, "feature": ["frequency"] * 5, "z": [0.0] * 5, "mean": [1.0] * 5}
    )
    heat = viz.segment_heatmap_figure(z, viz.segment_order(NAMES), {})
    assert list(heat.data[0].y) == BEST_TO_LOST
    assert heat.layout.yaxis.autorange == "reversed"  # same top-to-bottom order as the bars

    table = pl.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(5)],
            "x": [0.0] * 5,
            "y": [0.0] * 5,
            "rfm_segment": NAMES,
        }
    )
    m = viz.map_figure(table, table["rfm_segment"], True, "segment")
    assert [t.legendgroup for t in m.data] == BEST_TO_LOST
    assert {t.legendgroup: t.marker.color for t in m.data} == donut_colors

    flows = pl.DataFrame(
        {
            "from_segment": NAMES,
            "to_segment": NAMES[::-1],
            "users": [1] * 5,
            "revenue_12m": [0.0] * 5,
        }
    )
    node = viz.migration_figure(flows, "a", "b").data[0].node
    assert list(node.label) == BEST_TO_LOST + BEST_TO_LOST
    assert dict(zip(node.label, node.color, strict=True)) == donut_colors

    dist = pl.DataFrame({"user_id": ["u"] * 5, "segment": NAMES, "score": [0.5] * 5})
    boxes = score_by_segment_figure(dist, "t").data
    assert [b.name for b in boxes] == BEST_TO_LOST
    assert {b.name: b.marker.color for b in boxes} == donut_colors


def test_a_segment_keeps_its_colour_when_other_segments_are_missing():
    # the bug: colours by position made Loyal red on one dataset and blue on another
    few = viz.segment_mix_figure(descs(["Loyal", "Lost"])).data[0]
    many = viz.segment_mix_figure(descs()).data[0]
    assert (
        dict(zip(few.labels, few.marker.colors, strict=True))["Loyal"]
        == dict(zip(many.labels, many.marker.colors, strict=True))["Loyal"]
    )


def test_clusters_take_a_stable_colour_by_their_id():
    a = viz.segment_colors(descs(["Big spenders", "Browsers"], ids=["0", "1"]))
    b = viz.segment_colors(descs(["Browsers", "Big spenders"], ids=["1", "0"]))
    assert a == b
    assert a["Big spenders"] == viz.CLUSTER_COLORS[0]
    assert a["Browsers"] == viz.CLUSTER_COLORS[1]
    table = pl.DataFrame(
        {
            "user_id": ["u0", "u1"],
            "x": [0.0, 1.0],
            "y": [0.0, 1.0],
            "cluster_name": ["Browsers", "Big spenders"],
        }
    )
    m = viz.map_figure(
        table,
        table["cluster_name"],
        True,
        "group",
        segment_ids={"Big spenders": "0", "Browsers": "1"},
    )
    assert {t.legendgroup: t.marker.color for t in m.data} == a
