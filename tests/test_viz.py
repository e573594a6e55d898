"""Plotly figures show data text as written: Plotly's label markup is escaped (viz.plotly_text)."""

from __future__ import annotations

from types import SimpleNamespace

import polars as pl

from profiling.present import predict_viz as PV
from profiling.present import viz

BOLD = "<b>Bold & co</b>"
BOLD_SHOWN = "&lt;b&gt;Bold &amp; co&lt;/b&gt;"  # Plotly turns the entities back into < & >
LINK = '<a href="https://evil.example/">x</a><br>'
LINK_SHOWN = '&lt;a href="https://evil.example/"&gt;x&lt;/a&gt;&lt;br&gt;'


def test_plotly_text_escapes_strings_lists_and_series_and_leaves_numbers():
    assert viz.plotly_text(BOLD) == BOLD_SHOWN
    assert viz.plotly_text([BOLD, None, 3]) == [BOLD_SHOWN, None, 3]
    assert viz.plotly_text(("a<b",)) == ["a&lt;b"]
    s = pl.Series("c", [LINK, None], dtype=pl.Categorical)
    assert viz.plotly_text(s).to_list() == [LINK_SHOWN, None]
    ints = pl.Series("n", [1, 2])
    assert viz.plotly_text(ints) is ints and viz.plotly_text(2.5) == 2.5
    assert viz.plotly_text("&amp;") == "&amp;amp;"  # an entity in the data stays as typed


def _seg(name, users):
    return SimpleNamespace(
        name=name, segment=name, users=users, share_of_users=0.5, share_of_revenue=0.5
    )


def test_segment_figures_escape_segment_and_category_names():
    mix = viz.segment_mix_figure([_seg(BOLD, 5), _seg("Lost", 5)])
    assert list(mix.data[0].labels) == ["Lost", BOLD_SHOWN]  # RFM names first, best to lost
    sizes = viz.segment_sizes_figure([_seg(LINK, 5)])
    assert [list(t.y) for t in sizes.data] == [[LINK_SHOWN], [LINK_SHOWN]]
    z = pl.DataFrame({"segment": ["s1"], "feature": ["frequency"], "z": [0.5], "mean": [1.0]})
    heat = viz.segment_heatmap_figure(z, ["s1"], {"s1": BOLD})
    assert list(heat.data[0].y) == [BOLD_SHOWN]
    aff = pl.DataFrame({"category": [BOLD], "user": [1.0], "population": [0.5]})
    assert [list(t.x) for t in viz.affinity_figure(aff).data] == [[BOLD_SHOWN], [BOLD_SHOWN]]
    radar = viz.radar_figure({"frequency": 1.0}, {"frequency": 0.0}, BOLD, "b")
    assert [t.name for t in radar.data] == [BOLD_SHOWN, "b"]


def test_the_sankey_escapes_node_labels_and_the_map_keeps_the_raw_id_for_selection():
    flows = pl.DataFrame(
        {"from_segment": [BOLD], "to_segment": ["Lost"], "users": [3], "revenue_12m": [1.0]}
    )
    sankey = viz.migration_figure(flows, "2024-01-01", "<i>after</i>")
    assert list(sankey.data[0].node.label) == [BOLD_SHOWN, "Lost"]
    assert list(sankey.data[0].node.customdata) == ["2024-01-01", "&lt;i&gt;after&lt;/i&gt;"]
    table = pl.DataFrame({"user_id": [LINK], "x": [0.0], "y": [1.0], "rfm_segment": [BOLD]})
    fig = viz.map_figure(table, table["rfm_segment"], True, "<b>colour</b>")
    row = fig.data[0].customdata[0]
    assert row[0] == LINK  # picked_user reads customdata[0]: the raw id
    assert row[1] == LINK_SHOWN and row[2] == BOLD_SHOWN  # the hover shows these
    assert "%{customdata[1]}" in fig.data[0].hovertemplate
    assert "%{customdata[0]}" not in fig.data[0].hovertemplate
    assert fig.data[0].name == f"{BOLD_SHOWN} (1)"
    assert fig.layout.legend.title.text == "&lt;b&gt;colour&lt;/b&gt;"


def test_prediction_figures_escape_segment_names():
    dist = pl.DataFrame({"user_id": ["u"], "segment": [BOLD], "score": [0.5]})
    fig = PV.score_by_segment_figure(dist, "Churn by <b>segment</b>")
    assert fig.data[0].name == BOLD_SHOWN
    assert fig.layout.title.text == "Churn by &lt;b&gt;segment&lt;/b&gt;"


def test_a_chinese_label_is_broken_between_characters_to_fit_its_width():
    from profiling.present.viz import _short

    # no spaces to break at: 10 wide characters (20 columns) over two lines of at most 14
    assert _short("浏览转化为购买的比例", 14) == "浏览转化为购买<br>的比例"
    assert _short("share of views that end in a purchase", 14) == (
        "share of views<br>that end in a<br>purchase"
    )
