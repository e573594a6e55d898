"""The privacy controls in the app (AppTest): small segments hidden, DP note with epsilon,
the open-mode note, and the pseudonym note."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.data.dataset import sample_paths
from profiling.workspace import privacy as WP
from tests._apptest import wait_for_background
from ui.text import escape_markdown

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _workspace(tmp_path, name: str) -> W.Workspace:
    events = tmp_path / f"{W.slugify(name)}.parquet"
    ev = pl.read_parquet(sample_paths()["events"])
    keep = ev["user_id"].unique().sort().head(150)
    ev.filter(pl.col("user_id").is_in(keep.implode())).write_parquet(events)
    existing = {w.slug: w for w in W.list_workspaces()}
    return existing.get(W.slugify(name)) or W.create(name, str(events))


def _counts(sizes) -> list[int]:
    """The customers column of the Segments page's sizes table ("1,234") as numbers."""
    return [int(n.replace(",", "")) for n in sizes["customers"]]


def _segments(slug: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = slug
    at.run()
    at.switch_page("app_pages/segments.py").run()
    return at


def test_small_segments_are_hidden_and_dp_counts_say_their_epsilon(
    clear_streamlit_caches, tmp_path
):
    ws = _workspace(tmp_path, "Privacy app shop")
    at = _segments(ws.slug)
    assert not at.exception
    sizes = at.table[0].value
    small = [n for n in _counts(sizes) if n < 40]
    assert small, "the 150-user store has RFM segments under 40 users"
    WP.set_settings(ws, WP.PrivacySettings(min_group=40, dp_epsilon=2.0), "test")
    at = _segments(ws.slug)
    assert not at.exception
    sizes = at.table[0].value
    # every segment shown has at least 40 users give or take the noise, or is the merged row
    labels = list(sizes["segment"])
    assert all(
        n >= 30 or s == "fewer than 40 users" for s, n in zip(labels, _counts(sizes), strict=True)
    )
    captions = " ".join(c.value for c in at.caption)
    assert "segments under 40 users merged or hidden" in captions
    assert "differential-privacy noise (ε = 2)" in captions
    assert "Open mode: no sign-in is configured" in " ".join(c.value for c in at.sidebar.caption)


def test_the_sidebar_says_when_ids_are_pseudonyms(clear_streamlit_caches, tmp_path):
    ws = _workspace(tmp_path, "Pseudonym app shop")
    WP.pseudonymize_workspace(ws, b"k" * 16, "test")
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = ws.slug
    at.run()
    assert not at.exception
    assert any("pseudonyms" in c.value for c in at.sidebar.caption)


def _spec(at, index: int) -> dict:
    import json

    return json.loads(at.get("plotly_chart")[index].proto.spec)


def test_overview_changes_and_heatmap_hide_groups_under_k(clear_streamlit_caches, tmp_path):
    ws = _workspace(tmp_path, "Suppression app shop")
    WP.set_settings(ws, WP.PrivacySettings(min_group=40), "test")
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = ws.slug
    at.run()
    assert not at.exception
    # Overview: the segment table shows segments of 40+ users and the merged row only
    mix = at.table[0].value  # the segment table (a wrapping table of formatted counts)
    assert len(mix) >= 1
    assert all(int(str(n).replace(",", "")) >= 40 for n in mix["customers"])
    assert "segments under 40 users merged or hidden" in " ".join(c.value for c in at.caption)
    donut = [
        d
        for d in (_spec(at, i)["data"][0] for i in range(len(at.get("plotly_chart"))))
        if d.get("type") == "pie"
    ][0]
    assert all(v >= 40 for v in donut["values"])

    at = wait_for_background(at.switch_page("app_pages/changes.py").run())
    assert not at.exception
    flows = at.dataframe[0].value
    assert all(n >= 40 for n in flows["users"])
    assert "flows under 40 users hidden" in " ".join(c.value for c in at.caption)
    sankey = _spec(at, 0)["data"][0]
    assert sankey["type"] == "sankey" and all(v >= 40 for v in sankey["link"]["value"])

    at.switch_page("app_pages/segments.py").run()
    assert not at.exception
    sizes = at.table[0].value  # Markdown-escaped text: "Can\\'t lose them"
    shown = {re.sub(r"\\(.)", r"\1", s) for s in sizes["segment"]} - {"fewer than 40 users"}
    heat = [
        d
        for d in (_spec(at, i)["data"][0] for i in range(len(at.get("plotly_chart"))))
        if d.get("type") == "heatmap"
    ][0]
    assert set(heat["y"]) == shown  # the heatmap hides the same small segments


def test_after_an_erasure_the_user_page_says_why_models_are_trained_again(
    clear_streamlit_caches, tmp_path
):
    from profiling.workspace.results import ResultStore

    ws = _workspace(tmp_path, "Erasure app shop")
    ds = ws.dataset()
    user = ds.events["user_id"].sort()[0]
    ResultStore(ws.results_dir).put(
        "model",
        {"name": "item-knn"},
        ws.data_version(),
        {"x": 1},
        data_end=ds.as_of,
        events=ds.events.height,
    )
    WP.erase_user(ws, user, "dpo@example.com")
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = ws.slug
    at.run()
    at.switch_page("app_pages/user.py").run()
    assert not at.exception
    notes = " ".join(i.value for i in at.info)
    assert "Models are trained again: a user was erased from this workspace" in notes
    assert escape_markdown("(asked by dpo@example.com)") in notes  # shown as text


def test_the_privacy_note_speaks_chinese(clear_streamlit_caches, tmp_path):
    ws = _workspace(tmp_path, "Privacy app shop")
    WP.set_settings(ws, WP.PrivacySettings(min_group=40, dp_epsilon=2.0), "test")
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = ws.slug
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/segments.py").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "隐私：" in captions
    assert "少于 40 位客户的分群已合并或隐藏" in captions
    assert "客户数加入了差分隐私噪声（ε = 2）" in captions
