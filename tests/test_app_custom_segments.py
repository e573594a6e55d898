"""AppTest: a custom rule segment is named, saved with the workspace, shown first, deleted."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.data.dataset import load_sample
from profiling.profiles.features import build_profiles
from profiling.workspace import custom_segments as C
from ui import custom_segments as UI

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_a_custom_segment_is_named_saved_with_the_workspace_and_deleted(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/segments.py").run()
    at.segmented_control(key="ps_seg_kind").set_value("Custom rule").run()
    assert not at.exception and not at.error
    # the default rule: at most 30 days since the last order and at least 3 orders
    at.text_input(key="ps_cseg_name_new").set_value("Recent regulars").run()
    members = at.selectbox(key="ps_members_custom")
    assert members.value == "Recent regulars"  # the segment, not "Everyone else"
    prof = build_profiles(load_sample())
    expected = prof.filter((pl.col("recency_days") <= 30) & (pl.col("frequency") >= 3)).height
    assert 0 < expected < prof.height
    assert any(f"{expected:,} customers in **Recent regulars**" in c.value for c in at.caption)

    at.button(key="ps_cseg_save").click().run()
    assert not at.exception and not at.error
    assert any("Saved the segment **Recent regulars**" in s.value for s in at.success)
    assert at.selectbox(key=UI.PICK).value == "Recent regulars"
    stored = C.saved(W.open_workspace(W.SAMPLE_SLUG))
    assert [s.name for s in stored] == ["Recent regulars"]
    assert stored[0].rules == (C.Rule("recency_days", "<=", "30"), C.Rule("frequency", ">=", "3"))

    # a fresh session (as after a restart) lists it and opens it with its members first
    at2 = AppTest.from_file(APP, default_timeout=120).run()
    at2.switch_page("app_pages/segments.py").run()
    at2.segmented_control(key="ps_seg_kind").set_value("Custom rule").run()
    pick = at2.selectbox(key=UI.PICK)
    assert pick.options == [UI.NEW, "Recent regulars"]
    pick.set_value("Recent regulars").run()
    assert at2.selectbox(key="ps_members_custom").value == "Recent regulars"

    at2.button(key="ps_cseg_del").click().run()
    assert not at2.exception
    assert C.saved(W.open_workspace(W.SAMPLE_SLUG)) == []
    assert at2.selectbox(key=UI.PICK).value == UI.NEW


def test_a_reserved_name_is_refused_with_a_message(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/segments.py").run()
    at.segmented_control(key="ps_seg_kind").set_value("Custom rule").run()
    at.text_input(key="ps_cseg_name_new").set_value("Everyone else").run()
    assert not at.exception
    assert any("names the users outside the rule" in e.value for e in at.error)
