"""Journeys that hold (issue 24): a real retail export split into a workspace and a batch,
walked through every page; each defect found there has a test here on a tiny hand-made log."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.data.dataset import load_dataset
from profiling.present import report as R

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


@pytest.fixture(scope="module")
def report_ds(tmp_path_factory):
    path = tmp_path_factory.mktemp("journeys") / "log.csv"
    path.write_text(BATCH_1)
    return load_dataset(path, name="Shop")


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


# ---- the stakeholder report: the saved model comparison, and sections that cannot be built
def _run(metrics):
    from types import SimpleNamespace

    from ui.recommenders import Run

    split = SimpleNamespace(description="global temporal split", cutoff=datetime(2024, 2, 15))
    comp = SimpleNamespace(metrics=metrics, split=split)
    return Run(comp, pl.DataFrame(), None, None, {}, [], {}, {}, ())


def _info(saved_at="2024-03-02T10:00:00+00:00"):
    from profiling.workspace.results import SavedInfo

    return SavedInfo("comparison", "v1", "2024-03-01T00:00:00+00:00", 5, saved_at)


METRICS = pl.DataFrame(
    {
        "model": ["popularity", "buy_again"],
        "metric": ["hit_rate", "hit_rate"],
        "k": [10, 10],
        "value": [0.20, 0.45],
    }
)


def test_the_report_reads_the_comparison_the_recommenders_page_saves():
    from ui.stakeholder import comparison_section

    saved = comparison_section(_info(), _run(METRICS), "v1")
    assert isinstance(saved, R.SavedComparison)
    assert saved.metrics["value"].to_list() == [0.20, 0.45]
    assert saved.split == "global temporal split" and saved.cutoff == datetime(2024, 2, 15)


def test_an_unreadable_saved_comparison_is_a_missing_section_saying_why(report_ds):
    from ui.stakeholder import comparison_section

    old = (None, None, None, None, None)  # the tuple an older version of the app saved
    gap = comparison_section(_info(), old, "v1")
    assert isinstance(gap, R.MissingSection)
    assert "older version of the app" in gap.reason and "2024-03-02" in gap.reason
    rep = R.build_report(report_ds, [], charts=False, missing=[gap])
    assert rep.missing == [gap]
    assert (
        "<h2>Product suggestions: which model works best</h2>\n"
        '<p class="missing">This section could not be built: the comparison saved on '
        "2024-03-02 was made by an older version of the app"
    ) in rep.html
    assert gap.sentence().startswith(
        "Product suggestions: which model works best: this section could not be built ("
    )


# ---- percentile sentences with ties
def test_percentile_sentences_say_ties_instead_of_counting_them_as_below():
    from profiling.profiles.users import percentiles

    # 10 customers: orders 0 x2, 1 x7, 3 x1 (like a retail log where most order once)
    prof = pl.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(10)],
            "frequency": [0, 0, 1, 1, 1, 1, 1, 1, 1, 3],
            "recency_days": [None, None, 5.0, 5.0, 5.0, 9.0, 9.0, 9.0, 9.0, 1.0],
        }
    )
    zero = percentiles(prof, "u0", ("frequency",)).row(0, named=True)
    # nobody has fewer than 0 orders: not "higher than 20%"
    assert (zero["below"], zero["tied"]) == (0.0, 20.0)
    assert zero["sentence"] == "more than 0% of customers; the same as 20%"
    one = percentiles(prof, "u2", ("frequency",)).row(0, named=True)
    assert one["sentence"] == "more than 20% of customers; the same as 70%"
    top = percentiles(prof, "u9", ("frequency",)).row(0, named=True)
    assert top["sentence"] == "more than 90% of customers; the same as 10%"
    # recency: 4 bought 9 days ago and 2 never bought -> 60% bought longer ago or never
    rec = percentiles(prof, "u2", ("recency_days",)).row(0, named=True)
    assert rec["sentence"] == "more recent than 60% of customers; the same as 30%"


def test_a_tiny_share_is_not_rounded_to_none_and_everyone_tied_is_said_so():
    from profiling.profiles.users import percentile_sentence

    assert percentile_sentence("frequency", 0.8, 34.2) == (
        "more than 0.8% of customers; the same as 34%"
    )
    assert percentile_sentence("frequency", 0.0, 100.0) == "the same as every customer"
    assert percentile_sentence("frequency", None, None) == ""
