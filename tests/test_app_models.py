"""The User profile never waits for training; models are saved with the workspace, shown as
stale after new data, and the dataset is never copied per page run."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.recommenders import registry
from ui import recommenders as rec_ui

APP = str(Path(__file__).resolve().parent.parent / "app.py")
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
    monkeypatch.setattr(rec_ui, "_TRAINER", None)
    log = tmp_path / "shop.csv"
    log.write_text(LOG + "\n")
    return W.create("Shop", log)


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


def test_the_user_page_renders_before_any_model_is_fitted(own_home, monkeypatch,
                                                          clear_streamlit_caches):  # fmt: skip
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
    # a restarted server (no jobs, empty caches) shows the saved lists without training
    rec_ui._TRAINER = None
    import streamlit as st

    st.cache_resource.clear()
    at = open_user(own_home.slug, "c7")
    assert len(at.table) >= 2 and not at.get("progress")  # popularity and buy-again
    # new data: the saved model is shown as stale, with a retrain button
    batch = tmp_path / "more.csv"
    batch.write_text(
        "user,item,when,qty,price\nc7,i3,2024-02-10 10:00,1,5\nc99,i1,2024-02-11 10:00,1,2\n"
    )
    own_home.add(batch)
    at = open_user(own_home.slug, "c7")
    warnings = [w.value for w in at.warning]
    # 2 new events on top of the first batch's
    assert any(w.startswith("Not current: trained on data to 2024-01-") and
               w.endswith("; 2 newer events.") for w in warnings), warnings  # fmt: skip
    retrain = next(b for b in at.button if b.label == "Retrain on the current data")
    retrain.click().run()
    at = wait_for_lists(at, 2)
    deadline = time.time() + 30
    while any(w.value.startswith("Not current") for w in at.warning) and time.time() < deadline:
        time.sleep(0.3)
        at.run()
    assert not any(w.value.startswith("Not current") for w in at.warning)


def test_page_runs_share_one_dataset_instead_of_copying_it(own_home, monkeypatch,
                                                           clear_streamlit_caches):  # fmt: skip
    reads = []
    real = W.Workspace.dataset

    def counted(self, *a, **k):
        reads.append(self.slug)
        return real(self, *a, **k)

    monkeypatch.setattr(W.Workspace, "dataset", counted)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = own_home.slug
    at.run()
    for page in ("app_pages/segments.py", "app_pages/overview.py", "app_pages/changes.py",
                 "app_pages/overview.py"):  # fmt: skip
        at.switch_page(page).run()
        assert not at.exception
    assert reads == [own_home.slug]  # read once, then the same object on every run


def test_a_comparison_is_saved_and_shown_after_a_restart_then_stale_after_new_data(
    own_home, tmp_path, clear_streamlit_caches
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
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and "Comparison" in [s.value for s in at.subheader]
    st.cache_resource.clear()  # a restarted server
    st.cache_data.clear()
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
