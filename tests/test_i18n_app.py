"""AppTest: the language switch in the sidebar and ``?lang=`` in the URL."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import state

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=300)


def _switch(at: AppTest):
    return at.segmented_control(key=state.LANG_PICK)


def test_a_first_visit_without_a_choice_is_english_and_the_url_says_so(clear_streamlit_caches):
    at = _app().run()
    assert not at.exception
    assert _switch(at).value == "en"
    assert _switch(at).label == "Language"
    assert at.query_params[state.LANG_PARAM] == "en"
    # the browser is told to remember the choice for its next visit
    assert any("ps_lang=en" in h.proto.body for h in at.sidebar.get("html"))


def test_lang_in_the_url_opens_the_app_in_chinese(clear_streamlit_caches):
    at = _app()
    at.query_params[state.LANG_PARAM] = "zh"
    at.run()
    assert not at.exception
    assert _switch(at).value == "zh"
    assert _switch(at).label == "语言"
    assert at.session_state[state.LANG] == "zh"


def test_an_unknown_lang_in_the_url_falls_back_and_is_replaced(clear_streamlit_caches):
    at = _app()
    at.query_params[state.LANG_PARAM] = "fr"
    at.run()
    assert not at.exception
    assert _switch(at).value == "en"
    assert at.query_params[state.LANG_PARAM] == "en"


def test_the_sidebar_switch_changes_the_language_the_url_and_survives_navigation(
    clear_streamlit_caches,
):
    at = _app().run()
    _switch(at).set_value("zh").run()
    assert not at.exception
    assert at.query_params[state.LANG_PARAM] == "zh"
    assert _switch(at).label == "语言"
    at.switch_page("app_pages/segments.py").run()
    assert not at.exception
    assert _switch(at).value == "zh"
    assert at.query_params[state.LANG_PARAM] == "zh"
    _switch(at).set_value("en").run()
    assert _switch(at).label == "Language"
    assert at.query_params[state.LANG_PARAM] == "en"


def test_the_eight_tier_scheme_picked_on_the_overview_names_the_segments_in_chinese(
    clear_streamlit_caches,
):
    at = _app()
    at.query_params[state.LANG_PARAM] = "zh"
    at.run()
    at.radio(key="ps_ov_scheme_sample").set_value("tiers8").run()
    assert not at.exception
    at.switch_page("app_pages/segments.py").run()
    assert not at.exception
    sizes = at.table[0].value  # segment, customers, shares, what sets it apart
    names = set(sizes.iloc[:, 0])
    assert "重要价值客户" in names and "一般挽留客户" in names
    assert not names & {"冠军客户", "Champions", "Important value"}
