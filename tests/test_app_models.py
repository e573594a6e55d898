"""The User profile never waits for training; models are saved with the workspace, shown as
stale after new data, and the dataset is never copied per page run."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.recommenders import registry
from profiling.workspace.results import ResultStore
from tests._apptest import compare_and_wait, wait_for_comparison
from ui import jobs as ui_jobs

APP = str(Path(__file__).resolve().parent.parent / "app.py")
OWN_LANES = (ui_jobs.WORKSPACE, ui_jobs.COMPARE, ui_jobs.LOADS, ui_jobs.PROFILES)
"""The lanes whose jobs each test starts afresh (the warm map worker is kept)."""
LOG = "user,item,when,qty,price\n" + "\n".join(
    f"c{u},i{(u * d) % 9},2024-01-{1 + (u + d) % 27:02d} 1{d % 10}:00,1,{1 + u % 7}"
    for u in range(30)
    for d in range(1 + u % 5)
)


@pytest.fixture
def own_home(tmp_path, monkeypatch):
    """A workspace folder of this test's own (no models saved by other tests), and no
    background training left over from them."""
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    ui_jobs.runtime().shutdown(wait=False, lanes=OWN_LANES)
    log = tmp_path / "shop.csv"
    log.write_text(LOG + "\n")
    yield W.create("Shop", log)
    if os.environ.get(ui_jobs.THREAD_LANES_ENV):  # block_fits: the next test gets processes
        ui_jobs.shutdown()
    else:  # this test's worker process, not the session's warm map worker
        ui_jobs.runtime().shutdown(wait=False, lanes=OWN_LANES)


def open_user(slug: str, user: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = slug
    at.query_params["user"] = user
    at.session_state["ps_user_models"] = ["popularity"]
    at.run()
    return at.switch_page("app_pages/user.py").run()


def wait_for_lists(at: AppTest, n: int) -> AppTest:
    deadline = time.time() + 60
    # the recommendation lists are the page's only tables (they wrap long reasons)
    while len(at.table) < n and time.time() < deadline:
        time.sleep(0.3)
        at.run()
    return at


def block_fits(monkeypatch) -> threading.Event:
    """Every model made from the registry waits in ``fit`` until the event is set (the
    User page's models train in a thread then: a patch does not reach another process)."""
    monkeypatch.setenv(ui_jobs.THREAD_LANES_ENV, ui_jobs.WORKSPACE)
    ui_jobs.shutdown()  # the next runtime reads the variable
    release = threading.Event()
    real = registry.make

    def slow_make(name, **kw):
        model = real(name, **kw)
        fit = model.fit

        def blocked_fit(*a, **k):
            release.wait(60)
            return fit(*a, **k)

        model.fit = blocked_fit
        return model

    monkeypatch.setattr(registry, "make", slow_make)
    return release


def test_the_user_page_renders_before_any_model_is_fitted(
    own_home, monkeypatch, clear_streamlit_caches
):
    release = block_fits(monkeypatch)
    try:
        at = open_user(own_home.slug, "c7")
        assert not at.exception
        assert at.header[0].value == "User c7"  # the profile is there at once
        progress = [p.proto.text for p in at.get("progress")]
        assert any("Training popularity in the background" in t for t in progress)
    finally:
        release.set()
    at = wait_for_lists(at, 2)
    assert not at.exception and not at.get("progress")


def test_models_are_saved_with_the_workspace_and_stale_after_new_data(
    own_home, tmp_path, clear_streamlit_caches
):
    at = wait_for_lists(open_user(own_home.slug, "c7"), 2)
    assert not at.exception
    saved = list((own_home.results_dir / "model").rglob("*.pkl"))
    assert len(saved) == 2  # popularity and buy-again, for this data version
    # a restarted server (no jobs, empty caches) shows the saved lists without training;
    # reading them happens in the background too: the first run does not wait for it
    assert ui_jobs.runtime().in_process(ui_jobs.WORKSPACE)  # trained in a worker process
    ui_jobs.runtime().shutdown(wait=False, lanes=OWN_LANES)
    import streamlit as st

    st.cache_resource.clear()
    real_get = ResultStore.get
    release = threading.Event()

    def slow_get(self, kind, *a, **k):
        if kind == "model":
            release.wait(60)
        return real_get(self, kind, *a, **k)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ResultStore, "get", slow_get)
        at = open_user(own_home.slug, "c7")
        assert not at.exception and at.header[0].value == "User c7"
        progress = [p.proto.text for p in at.get("progress")]
        assert any("Reading the saved popularity model" in t for t in progress), progress
        release.set()
        at = wait_for_lists(at, 2)
    assert len(at.table) >= 2 and not at.get("progress")  # popularity and buy-again
    trained = [
        j.key for j in ui_jobs.runtime().jobs(ui_jobs.WORKSPACE) if "rfm-history" not in j.key
    ]
    assert not trained  # read, not trained again
    # new data: the saved model is shown as stale, with a retrain button
    batch = tmp_path / "more.csv"
    batch.write_text(
        "user,item,when,qty,price\nc7,i3,2024-02-10 10:00,1,5\nc99,i1,2024-02-11 10:00,1,2\n"
    )
    own_home.add(batch)
    at = wait_for_comparison(open_user(own_home.slug, "c7"))  # the old model is read first
    warnings = [w.value for w in at.warning]
    # 2 new events on top of the first batch's
    assert any(
        w.startswith("Not current: trained on data to ")
        and w.endswith(" Jan 2024; 2 newer events.")
        for w in warnings
    ), warnings
    retrain = next(b for b in at.button if b.label == "Retrain on the current data")
    retrain.click().run()
    at = wait_for_lists(at, 2)
    deadline = time.time() + 30
    while any(w.value.startswith("Not current") for w in at.warning) and time.time() < deadline:
        time.sleep(0.3)
        at.run()
    assert not any(w.value.startswith("Not current") for w in at.warning)


def test_page_runs_share_one_dataset_instead_of_copying_it(
    own_home, monkeypatch, clear_streamlit_caches
):
    reads = []
    real = W.Workspace.dataset

    def counted(self, *a, **k):
        reads.append(self.slug)
        return real(self, *a, **k)

    monkeypatch.setattr(W.Workspace, "dataset", counted)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = own_home.slug
    at.run()
    for page in (
        "app_pages/segments.py",
        "app_pages/overview.py",
        "app_pages/changes.py",
        "app_pages/overview.py",
    ):
        at.switch_page(page).run()
        assert not at.exception
    assert reads == [own_home.slug]  # read once, then the same object on every run


def test_a_comparison_is_saved_and_shown_after_a_restart_then_stale_after_new_data(
    own_home, tmp_path, clear_streamlit_caches, monkeypatch
):
    import streamlit as st

    def page() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=180)
        at.query_params["ws"] = own_home.slug
        at.session_state["ps_rec_models"] = ["popularity", "item-knn"]
        at.run()
        return at.switch_page("app_pages/recommenders.py").run()

    at = page()
    assert any("Train and compare" in i.value for i in at.info)  # nothing saved yet
    compare_and_wait(at)
    assert not at.exception and "Comparison" in [s.value for s in at.subheader]
    st.cache_resource.clear()  # a restarted server: no caches, no finished jobs in memory
    st.cache_data.clear()
    ui_jobs.runtime().shutdown(wait=False, lanes=[ui_jobs.COMPARE])
    at = page()
    assert not at.exception
    assert any(c.value.startswith("Saved comparison, compared on data to") for c in at.caption)
    assert "Comparison" in [s.value for s in at.subheader]
    batch = tmp_path / "more.csv"
    batch.write_text("user,item,when,qty,price\nc3,i2,2024-02-10 10:00,1,5\n")
    own_home.add(batch)
    at = page()
    assert "is not current" in at.warning[0].value and "1 newer event." in at.warning[0].value
    assert "Comparison" not in [s.value for s in at.subheader]


def test_the_recommenders_page_trains_in_the_background_and_other_pages_stay_usable(
    own_home, monkeypatch, clear_streamlit_caches
):
    release = block_fits(monkeypatch)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = own_home.slug
    at.session_state["ps_rec_models"] = ["popularity", "item-knn"]
    at.run()
    at.switch_page("app_pages/recommenders.py").run()
    try:
        at.get("form_submit_button")[0].click().run()  # returns while the fit is blocked
        assert not at.exception
        deadline = time.time() + 30
        while time.time() < deadline:  # the job's first message is "started"
            progress = [p.proto.text for p in at.get("progress")]
            if len(progress) == 1 and "Training popularity (1 of 2)" in progress[0]:
                break
            time.sleep(0.2)
            at.run()
        assert len(progress) == 1 and "Training popularity (1 of 2)" in progress[0]
        assert "Comparison" not in [s.value for s in at.subheader]
        at.switch_page("app_pages/overview.py").run()  # another page while it trains
        assert not at.exception and at.metric
        at.switch_page("app_pages/recommenders.py").run()
        assert at.get("progress")  # still training, still not waiting
    finally:
        release.set()
    at = wait_for_comparison(at)
    assert not at.exception and not at.get("progress")
    assert "Comparison" in [s.value for s in at.subheader]
    assert sorted(at.table[0].value.columns[1:]) == ["item-knn", "popularity"]


def test_clustering_with_another_k_runs_in_the_background_and_the_default_is_shown_meanwhile(
    own_home, monkeypatch, clear_streamlit_caches
):
    from profiling.profiles import segments
    from ui import profiles

    release = threading.Event()
    real = segments.build_segments

    def blocked(*a, **k):
        release.wait(60)
        return real(*a, **k)

    ui_jobs.runtime().shutdown(wait=False, lanes=[ui_jobs.PROFILES])
    monkeypatch.setattr(profiles, "build_segments", blocked)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = own_home.slug
    at.run()
    at.switch_page("app_pages/segments.py").run()
    at.segmented_control(key="ps_seg_kind").set_value("Clusters").run()
    default_k = profiles.segmentation().seg.k
    try:
        at.selectbox(key="ps_seg_k").set_value(3 if default_k != 3 else 4).run()
        assert not at.exception
        progress = [p.proto.text for p in at.get("progress")]
        assert len(progress) == 1 and "in the background" in progress[0]
        assert at.dataframe  # the default segmentation's table is drawn meanwhile
    finally:
        release.set()
    deadline = time.time() + 60
    while at.get("progress") and time.time() < deadline:
        time.sleep(0.3)
        at.run()
    assert not at.exception and not at.get("progress")
    wanted = 3 if default_k != 3 else 4
    assert any(f"**{wanted} behaviour groups**" in m.value for m in at.markdown)


def test_the_recommenders_page_does_not_start_a_model_that_would_not_fit(
    own_home, monkeypatch, clear_streamlit_caches
):
    # 30 users, 9 items, 90 events: ALS needs (30 + 9) x 128 factors x 8 bytes x 2 plus
    # 90 rows x 120 bytes = 90,672 bytes; popularity 2 x 10,800 + 9 x 2,000 = 39,600
    monkeypatch.setenv("PERSONA_STUDIO_MODEL_MEMORY", "50000")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = own_home.slug
    at.run()
    at.switch_page("app_pages/recommenders.py").run()
    assert "als" not in at.multiselect(key="ps_rec_models").value  # not a default here
    at.multiselect(key="ps_rec_models").set_value(["popularity", "als"])
    at = compare_and_wait(at)
    assert not at.exception
    assert "als would need about 89 KB" in at.warning[0].value
    assert at.table[0].value.columns[1:].to_list() == ["popularity"]


def test_the_quarter_end_segment_history_is_rebuilt_in_the_background(
    own_home, monkeypatch, clear_streamlit_caches
):

    ui_jobs.runtime().shutdown(wait=False, lanes=[ui_jobs.PROFILES])
    at = open_user(own_home.slug, "c7")
    assert not at.exception and at.header[0].value == "User c7"
    history = next(e for e in at.expander if e.label == "Segment history")
    assert "being worked out in the background" in history.caption[0].value
    rt = ui_jobs.runtime()
    assert rt.in_process(ui_jobs.WORKSPACE)  # past segments are worked out in the worker
    next(j for j in rt.jobs(ui_jobs.WORKSPACE) if "rfm-history" in j.key).future.result(60)
    at.run()
    history = next(e for e in at.expander if e.label == "Segment history")
    table = history.dataframe[0].value
    # the log spans January 2024 only: the latest date and no earlier quarter end
    assert (table["From"] == "rebuilt from the log").sum() == 1
    assert "being worked out" not in history.caption[0].value
