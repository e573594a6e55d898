"""Journeys that hold (issue 24): a real retail export split into a workspace and a batch,
walked through every page; each defect found there has a test here on a tiny hand-made log."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from profiling import workspace as W

APP = str(Path(__file__).resolve().parent.parent / "app.py")

BATCH_1 = """user,item,when,qty,price
u1,i1,2024-01-01 10:00,1,5
u1,i2,2024-01-02 10:00,2,3
u2,i1,2024-01-03 11:00,1,5
"""
# u3 is new in the second file; u1 buys again
BATCH_2 = """user,item,when,qty,price
u3,i2,2024-02-01 09:00,1,3
u1,i1,2024-02-02 09:00,1,5
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def two_snapshots(home, tmp_path):
    b1, b2 = tmp_path / "b1.csv", tmp_path / "b2.csv"
    b1.write_text(BATCH_1)
    b2.write_text(BATCH_2)
    ws = W.create("Two files", b1)
    ws.add(b2)
    return ws


def test_what_changed_compares_two_snapshots(clear_streamlit_caches, two_snapshots):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = two_snapshots.slug
    at.run()
    at.switch_page("app_pages/changes.py").run()
    assert not at.exception
    at.segmented_control(key="ps_chg_mode").set_value("Two snapshots").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    # snapshot 1: u1, u2; snapshot 2: u1, u2, u3 -> 3 compared, u3 new
    assert metrics["Customers compared"] == "3"
    assert metrics["New customers"] == "1"
    flows = at.dataframe[0].value
    # every one of the three customers changed segment; revenue in the 12 months before
    # snapshot 1: u1 1 x 5 + 2 x 3 = 11, u2 5, u3 nothing (new)
    assert list(flows["users"]) == [1, 1, 1]
    assert list(flows["revenue_12m"]) == [11.0, 5.0, 0.0]
    assert list(flows["share_of_from"]) == [1.0, 1.0, 1.0]
    assert flows["from_segment"].iloc[2] == "New users"
