"""AppTest: every page renders without an exception, plus one interaction per page."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.data.dataset import load_sample
from profiling.profiles.users import bought_items
from tests._apptest import compare_and_wait, wait_for_background
from ui import state

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = [
    "app_pages/overview.py",
    "app_pages/changes.py",
    "app_pages/data.py",
    "app_pages/segments.py",
    "app_pages/recommenders.py",
    "app_pages/user.py",
    "app_pages/map.py",
    "app_pages/predictions.py",
]


def run_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300).run()  # a busy 2-core machine is slow
    if page:
        at.switch_page(page).run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_sample_store(clear_streamlit_caches, page):
    at = run_app(page)
    assert not at.exception
    assert not at.error
    assert at.title[0].value in (
        "Overview",
        "Data",
        "Segments",
        "Recommenders",
        "User profile",
        "Profile map",
        "What changed",
        "Predictions",
    )


def test_the_overview_shows_the_sample_store_headline_numbers(clear_streamlit_caches):
    at = run_app()
    at.segmented_control(key="ps_ov_period").set_value("all").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "3,000"
    assert int(metrics["Orders"].replace(",", "")) > 1_000
    rows = next(c.value for c in at.caption if c.value.startswith("Workspace"))
    assert int(rows.split(" · ")[1].removesuffix(" rows").replace(",", "")) > 100_000
    assert any("3,000 customers, 500 items" in c.value for c in at.caption)
    assert any("Data quality: 100.0% of" in md.value for md in at.markdown)


def test_the_quality_badge_opens_the_cleaning_report(clear_streamlit_caches):
    at = run_app()
    next(b for b in at.button if b.label == "See the cleaning report").click().run()
    assert not at.exception
    assert at.header[0].value == "Cleaning report · Sample store"


def test_the_data_page_reports_every_table_of_the_sample_store(clear_streamlit_caches):
    at = run_app("app_pages/data.py")
    headers = [h.value for h in at.header]
    assert headers == ["Cleaning report · Sample store", "Preview"]
    labels = [m.label for m in at.metric]
    assert labels.count("Rows read") == 3  # events, users and items
    assert any("3,000 of 3,000" in md.value for md in at.markdown)


def test_the_data_page_asks_for_files_and_offers_no_batch_for_the_read_only_sample(
    clear_streamlit_caches,
):
    at = run_app("app_pages/data.py")
    assert not at.exception
    assert any("Upload an events file" in i.value for i in at.info)
    assert len(at.get("file_uploader")) == 3
    options = at.segmented_control(key="ps_data_source").options
    assert options == ["New workspace from files", "Manage workspaces"]


def _workspace(name: str, text: str, tmp_path) -> str:
    """A workspace made from a small CSV (in the session's PERSONA_STUDIO_HOME); its slug."""
    path = tmp_path / f"{W.slugify(name)}.csv"
    path.write_text(text)
    if W.slugify(name) in {w.slug for w in W.list_workspaces()}:  # left by an earlier test
        W.delete(W.slugify(name))
    return W.create(name, path).slug


def test_a_missing_workspace_is_named_and_nothing_else_is_shown(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = "no-such-shop"
    at.run()
    assert not at.exception
    assert "Workspace **no\\-such\\-shop** could not be opened" in at.error[0].value
    assert "Sample store (sample)" in at.error[0].value  # a way on: the workspace list
    assert not at.metric  # no other workspace's numbers


def test_a_corrupt_workspace_file_shows_a_message_not_a_traceback(clear_streamlit_caches, tmp_path):
    slug = _workspace("Corrupt shop", "user,when,amount\nu1,2024-01-01,5\n", tmp_path)
    W.open_workspace(slug).db_path.write_bytes(b"garbage")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = slug
    at.run()
    assert not at.exception
    assert "expected a DuckDB database" in at.error[0].value


def test_the_sidebar_picker_switches_the_workspace_and_the_url(clear_streamlit_caches, tmp_path):
    slug = _workspace(
        "Small shop", "user,when,amount\nu1,2024-01-01,5\nu2,2024-01-02,7\n", tmp_path
    )
    at = AppTest.from_file(APP, default_timeout=120).run()
    picker = at.sidebar.selectbox(key=state.PICKER)
    assert "Sample store" in picker.options and "Small shop" in picker.options
    assert picker.value == "sample"
    picker.set_value(slug).run()
    assert not at.exception
    assert at.query_params["ws"] == slug
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "2"
    # the sample store's currency (USD) is not carried over to a workspace that has none
    assert metrics["Revenue"] == "12.00"
    assert "currency" not in W.open_workspace(slug).meta()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_the_workspace_named_in_the_url(clear_streamlit_caches, tmp_path, page):
    rows = "\n".join(
        f"c{u},i{(u + d) % 6},2024-0{1 + d % 3}-{1 + u % 27:02d} 10:00,1,{u + 1}"
        for u in range(40)
        for d in range(1 + u % 4)
    )
    # a workspace of its own per page: a background job of the page before (a model or a
    # map still finishing) can never meet this one
    name = f"Url shop {Path(page).stem}"
    slug = _workspace(name, "user,item,when,qty,price\n" + rows + "\n", tmp_path)
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = slug
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    if page == "app_pages/predictions.py":  # 87 days of log: too short, and it says so
        assert "the log spans 87 days" in at.error[0].value
    else:
        assert not at.error
    assert any("Url shop" in c.value for c in at.caption) or page == "app_pages/data.py"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_copes_with_a_two_user_workspace(clear_streamlit_caches, tmp_path, page):
    slug = _workspace(
        f"Two users {Path(page).stem}",
        "user,item,when,qty,price\nu1,a,2024-01-01 10:00,1,5\n"
        "u2,b,2024-01-02 11:00,2,3\nu1,b,2024-01-05 12:00,1,3\n",
        tmp_path,
    )
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = slug
    at.run()
    at.switch_page(page).run()
    assert not at.exception


def test_a_link_to_a_missing_user_says_so_and_shows_no_other_user(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = "sample"
    at.query_params["user"] = "NOBODY-42"
    at.run()
    at.switch_page("app_pages/user.py").run()
    assert not at.exception
    assert "NOBODY\\-42" in at.error[0].value and "is not in workspace" in at.error[0].value
    assert not at.header  # no "User U000001" in its place
    at.selectbox(key="ps_user_search_missing").set_value("U000042").run()
    assert at.header[0].value == "User U000042"


def test_a_user_link_with_its_workspace_opens_that_user(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = "sample"
    at.query_params["user"] = "U000042"
    at.run()
    at.switch_page("app_pages/user.py").run()
    assert not at.exception
    assert at.header[0].value == "User U000042"
    assert any(e.label == "Segment history" for e in at.expander)


def test_what_changed_shows_flows_with_revenue_and_exports_an_audience(clear_streamlit_caches):
    at = wait_for_background(run_app("app_pages/changes.py"))  # profiles rebuilt as of dates
    assert not at.exception and not at.error
    assert at.subheader[0].value == "Flows between segments"
    flows = at.dataframe[0].value
    assert list(flows.columns) == [
        "from_segment",
        "to_segment",
        "users",
        "share_of_from",
        "revenue_12m",
    ]
    assert (flows["from_segment"] != flows["to_segment"]).all() and flows["users"].sum() > 0
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[0] == "Download the flows (CSV)"
    assert labels[1].startswith("Download ") and " as CSV" in labels[1]
    at.segmented_control(key="ps_chg_kind").set_value("cluster_name").run()
    assert at.get("progress")  # clusters as of both dates: worked out in the background
    at = wait_for_background(at)
    assert not at.exception and not at.error and at.subheader[0].value == "Flows between segments"


def test_the_overview_shows_the_rfm_segment_mix(clear_streamlit_caches):
    at = run_app()
    assert "Who the customers are" in [s.value for s in at.subheader]


def test_the_segments_page_switches_segmentation_compares_and_exports(clear_streamlit_caches):
    at = run_app("app_pages/segments.py")
    assert not at.exception
    members_pick = at.selectbox(key="ps_members_rfm_segment")
    assert "Champions" in members_pick.options
    members_pick.set_value("Champions").run()  # RFM segments are their own names
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Export segment sizes as CSV" in labels
    assert any("customers as CSV" in label for label in labels)

    at.segmented_control(key="ps_seg_kind").set_value("Clusters").run()
    assert not at.exception and not at.error
    a = at.selectbox(key="ps_cmp_a_cluster")
    b = at.selectbox(key="ps_cmp_b_cluster")
    assert a.value != b.value
    b.set_value("2").run()  # raw cluster label; options show the generated names
    assert not at.exception
    assert any(c.value.startswith("The biggest differences") for c in at.caption)


def test_a_custom_rule_segment_counts_its_members(clear_streamlit_caches):
    at = run_app("app_pages/segments.py")
    at.segmented_control(key="ps_seg_kind").set_value("Custom rule").run()
    assert not at.exception and not at.error
    at.radio(key="ps_cseg_combine_new").set_value("or").run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any(" customers in **" in c for c in captions)


def test_the_recommenders_page_compares_a_small_model_set(clear_streamlit_caches):
    at = run_app("app_pages/recommenders.py")
    assert any("Train and compare" in i.value for i in at.info)
    at.multiselect(key="ps_rec_models").set_value(["popularity", "item-knn", "ease"])
    compare_and_wait(at)
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader] == [
        "Comparison",
        "Which model serves which customers",
        "Why was this recommended?",
    ]
    glance = at.table[0].value  # one row per measure, one column per model
    assert sorted(glance.columns[1:]) == ["ease", "item-knn", "popularity"]
    assert any("★" in str(v) for v in glance.iloc[0, 1:])  # the best model is marked
    detail = at.table[1].value  # the chosen measure (NDCG) with its interval, best first
    assert detail["compared with the best"].iloc[0] == "★ best"
    assert " to " in detail["likely range"].iloc[0]
    reasons = at.table[-1].value
    assert reasons["why"].str.len().min() > 0  # every recommended item has a reason


def test_the_recommenders_page_tunes_on_validation_and_shows_the_chosen_settings(
    clear_streamlit_caches,
):
    at = run_app("app_pages/recommenders.py")
    # the relevance rule follows the log: the sample store is an event log, purchases count
    assert any("Relevant: purchases in the test part (event log)" in c.value for c in at.caption)
    at.multiselect(key="ps_rec_models").set_value(["popularity", "ease"])
    at.toggle(key="ps_rec_tune").set_value(True)
    compare_and_wait(at)
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader][:2] == ["Tuned settings", "Comparison"]
    tuned = at.dataframe[0].value
    # popularity has nothing to tune; EASE's two settings, one row each, in plain words
    assert tuned["model"].to_list() == ["ease", "ease"]
    assert tuned["setting"].to_list() == [
        "how strongly similarities are held back (L2)",
        "how repeated actions count",
    ]
    assert tuned["chosen value"][1] in ("by the logarithm of their count", "once, however often")
    assert "{" not in "".join(tuned["chosen value"])  # no raw JSON
    assert tuned["validation NDCG"][0] >= tuned["with the default settings"][0]
    assert any("Benjamini-Hochberg" in c.value for c in at.caption)
    assert "hits and catches balanced (F1@10)" in at.table[0].value["measure"].to_list()


def test_the_recommenders_page_runs_every_fold_of_kfold(clear_streamlit_caches):
    at = run_app("app_pages/recommenders.py")
    at.multiselect(key="ps_rec_models").set_value(["popularity", "item-knn"])
    at.selectbox(key="ps_rec_protocol").set_value("kfold")
    compare_and_wait(at)
    assert not at.exception and not at.error
    assert any("Average over 5 rounds" in c.value for c in at.caption)
    assert any("standard deviation over the folds" in c.value for c in at.caption)
    detail = at.table[1].value
    assert detail["likely range"].iloc[0].startswith("± ")
    # with Tune, every fold tunes on its own training part and the table says which fold
    at.toggle(key="ps_rec_tune").set_value(True)
    at.multiselect(key="ps_rec_models").set_value(["popularity", "ease"])
    compare_and_wait(at)
    assert not at.exception and not at.error
    tuned = at.dataframe[0].value  # one row per setting: EASE has two, in every fold
    assert tuned["fold"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert set(tuned["model"]) == {"ease"}
    assert set(tuned["setting"]) == {
        "how strongly similarities are held back (L2)",
        "how repeated actions count",
    }


def test_a_log_without_item_ids_explains_why_there_are_no_recommenders(
    clear_streamlit_caches, tmp_path
):
    slug = _workspace(
        "Amounts",
        "customer,date,amount\nc1,2024-01-01,5\nc2,2024-01-02,7\nc1,2024-02-01,3\n",
        tmp_path,
    )
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = slug
    at.run()
    assert any(c.value.endswith("; no item ids.") for c in at.caption)  # the Overview says so
    at.switch_page("app_pages/recommenders.py").run()
    assert not at.exception
    assert "no item ids" in at.info[0].value


def test_the_user_page_opens_a_similar_user_and_shows_reasons(clear_streamlit_caches):
    at = run_app("app_pages/user.py")
    assert not at.exception
    assert at.header[0].value == "User U000001"
    similar = [b for b in at.button if b.key and b.key.startswith("ps_sim_")]
    assert len(similar) == 5
    target = similar[0].label
    similar[0].click().run()
    assert not at.exception
    assert at.header[0].value == f"User {target}"
    reasons = _model_lists(_lists_ready(at))[-1]
    assert list(reasons.columns) == ["rank", "item", "bought before", "why"]
    assert reasons["why"].str.len().min() > 0


def _unescaped(frame):
    """A User-page list with the Markdown escapes of its text taken off again."""
    return frame.replace(to_replace=r"\\(.)", value=r"\1", regex=True)


def _lists_ready(at, seconds: float = 90):
    """Rerun until every recommendation list has been trained in the background."""
    deadline = time.time() + seconds
    while at.get("progress") and time.time() < deadline:
        time.sleep(0.5)
        at.run()
    return at


def _model_lists(at):
    """The per-model recommendation tables of the User page (not the buy-again list)."""
    return [_unescaped(t.value) for t in at.table if "bought before" in t.value.columns]


def test_recommendations_show_new_items_and_buy_again_is_its_own_list(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["user"] = "U000042"
    at.run()
    at.switch_page("app_pages/user.py").run()
    assert not at.exception
    bought = set(bought_items(load_sample().events, "U000042"))
    assert bought
    _lists_ready(at)
    titles = dict(load_sample().items.select("title", "item_id").iter_rows())
    # by default every model's list holds only items new to the user
    for table in _model_lists(at):
        assert (table["bought before"] == "").all()
    # the buy-again list holds only their own purchases, each with its frequency and recency
    again = _unescaped(at.table[-1].value)
    assert list(again.columns) == ["rank", "item", "why"]
    assert len(again) > 0
    assert all(titles[t] in bought for t in again["item"])
    assert again["why"].str.startswith("you bought it").all()
    # with seen items allowed back, a list row is ticked exactly when the user bought it
    at.toggle(key="ps_user_hide_seen").set_value(False).run()
    assert not at.exception
    marks = _model_lists(_lists_ready(at))[-1]
    assert [titles[t] in bought for t in marks["item"]] == (marks["bought before"] == "✓").tolist()


def test_a_user_link_opens_that_user(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["user"] = "U000042"
    at.run()
    at.switch_page("app_pages/user.py").run()
    assert not at.exception
    assert at.header[0].value == "User U000042"


def _map_title(at: AppTest) -> str:
    import json

    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return spec["layout"]["title"]["text"]


def test_the_map_changes_colour_and_draws_umap_when_the_worker_is_done(clear_streamlit_caches):
    import time

    at = run_app("app_pages/map.py")
    assert not at.exception
    at.segmented_control(key="ps_map_method").set_value("pca").run()
    assert _map_title(at).startswith("PCA map of 3,000 users")
    at.selectbox(key="ps_map_color").set_value("monetary").run()
    assert not at.exception
    import base64
    import json

    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["marker"]["colorbar"]["title"]["text"] == "net spend"  # glossary label
    x = spec["data"][0]["x"]  # numbers travel as a base64 typed array (8-byte floats)
    assert x["dtype"] == "f8" and len(base64.b64decode(x["bdata"])) == 3000 * 8
    at.segmented_control(key="ps_map_method").set_value("umap").run()
    deadline = time.time() + 120
    while not _map_title(at).startswith("UMAP map of") and time.time() < deadline:
        time.sleep(1)
        at.run()
    assert _map_title(at).startswith("UMAP map of 3,000 users")
    assert not at.exception


def test_a_large_user_base_is_drawn_from_a_stratified_sample(clear_streamlit_caches, monkeypatch):
    from profiling.profiles import embeddings

    monkeypatch.setattr(embeddings, "MAX_POINTS", 1000)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["ps_map_method"] = "pca"
    at.run()
    at.switch_page("app_pages/map.py").run()
    assert not at.exception
    assert "stratified sample of 1,000 users" in at.info[0].value
    assert "3,000 users are more than a map can show" in at.info[0].value
    assert _map_title(at).startswith("PCA map of 1,000 users")


def test_the_map_can_be_drawn_from_als_user_factors(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["ps_map_method"] = "pca"
    at.run()
    at.switch_page("app_pages/map.py").run()
    at.selectbox(key="ps_map_source").set_value("als").run()
    assert not at.exception
    assert _map_title(at) == "PCA map of 3,000 users · Taste from purchases (ALS)"
    assert any("64 standardized inputs" in c.value for c in at.caption)


def test_picking_a_segment_opens_one_of_its_members(clear_streamlit_caches):
    at = run_app("app_pages/user.py")
    at.selectbox(key=state.USER_SEGMENT).set_value("rfm_segment=Champions").run()
    assert not at.exception
    user = at.header[0].value.removeprefix("User ")
    assert any("Segment: Champions" in m.value for m in at.markdown)
    # the search box now lists the segment's members only: as many as the library puts in
    # Champions on the sample store (RFM on profiles as of its last event; 286 on the store
    # before issue 17 regenerated it)
    from profiling.profiles.features import build_profiles
    from profiling.profiles.segments import rfm_segments

    rfm = rfm_segments(build_profiles(load_sample()))
    champions = rfm.filter(rfm["rfm_segment"] == "Champions")["user_id"]
    assert champions.len() > 100
    assert sorted(at.selectbox(key=state.USER_PICK).options) == sorted(champions)
    assert user in at.selectbox(key=state.USER_PICK).options
    next(b for b in at.button if b.label == "Random user").click().run()
    assert not at.exception
    assert at.header[0].value.removeprefix("User ") in at.selectbox(key=state.USER_PICK).options
    assert any("Segment: Champions" in m.value for m in at.markdown)


def test_page_settings_travel_in_the_link(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = "sample"
    at.query_params["view"] = "RFM segments"
    at.query_params["segment"] = "At risk"
    at.run()
    at.switch_page("app_pages/segments.py").run()
    assert not at.exception
    assert at.selectbox(key="ps_members_rfm_segment").value == "At risk"
    at.segmented_control(key="ps_seg_kind").set_value("Clusters").run()
    assert at.query_params["view"] == "Clusters"
    assert at.query_params["ws"] == "sample"

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = "sample"
    at.query_params["color"] = "monetary"
    at.session_state["ps_map_method"] = "pca"
    at.run()
    at.switch_page("app_pages/map.py").run()
    assert not at.exception
    assert at.selectbox(key="ps_map_color").value == "monetary"


def test_a_big_store_lists_some_users_and_keeps_a_linked_one(clear_streamlit_caches, monkeypatch):
    from ui import profiles

    monkeypatch.setattr(profiles, "SEARCH_LIMIT", 5)  # the sample's 3,000 users count as many
    at = run_app("app_pages/user.py")
    box = at.selectbox(key=state.USER_PICK)
    assert box.options == ["U000001", "U000002", "U000003", "U000004", "U000005"]
    assert "type any customer id" in box.help
    # a user beyond the listed ones, opened by a link, is listed first and shown
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["user"] = "U002999"
    at.run()
    at.switch_page("app_pages/user.py").run()
    assert not at.exception and at.header[0].value == "User U002999"
    assert at.selectbox(key=state.USER_PICK).options[:2] == ["U002999", "U000001"]


def test_search_options_list_the_first_ids_and_the_current_one():
    from ui import profiles

    pool = [f"u{i}" for i in range(profiles.SEARCH_LIMIT + 3)]
    listed, typed = profiles.search_options(pool, "u5")
    assert typed and listed == pool[: profiles.SEARCH_LIMIT]
    listed, typed = profiles.search_options(pool, pool[-1])
    assert typed and listed[0] == pool[-1] and len(listed) == profiles.SEARCH_LIMIT + 1
    assert profiles.search_options(pool[:3], "u1") == (pool[:3], False)


def test_on_a_big_store_similar_users_are_indexed_in_the_background(
    clear_streamlit_caches, monkeypatch
):
    from ui import jobs, profiles

    monkeypatch.setattr(profiles, "NEIGHBOURS_INLINE", 0)  # the sample's 3,000 users: "big"
    release = threading.Event()
    real = profiles._index_job

    def slow_index(prof, *, progress):
        release.wait(60)
        return real(prof, progress=progress)

    monkeypatch.setattr(profiles, "_index_job", slow_index)
    jobs.runtime().shutdown(wait=False, lanes=[jobs.PROFILES])
    monkeypatch.setattr(profiles, "_INDEXES", {})
    try:
        at = run_app("app_pages/user.py")
        assert not at.exception and at.header[0].value.startswith("User ")  # shown at once
        progress = [p.proto.text for p in at.get("progress")]
        assert any("Indexing 3,000 profiles to find similar customers" in t for t in progress)
    finally:
        release.set()
    (job,) = profiles._INDEXES.values()  # one index job, started by the first page run
    job.future.result(60)
    at.run()
    assert not at.exception
    similar = [b for b in at.button if b.key and b.key.startswith("ps_sim_")]
    assert len(similar) == 5
