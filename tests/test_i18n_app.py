"""AppTest: the language switch in the sidebar and ``?lang=`` in the URL."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from profiling.vocabulary import i18n
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


def test_every_fragment_reruns_in_the_sessions_language():
    # a fragment reruns alone, without the router that sets the language: one made with
    # st.fragment directly read English on its own reruns (the User profile's scores)
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    direct = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("ui", "app_pages")
        for path in sorted((root / folder).rglob("*.py"))
        if path.name != "i18n.py"
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\bst\.fragment\b", line)
    ]
    assert direct == [], "use ui.i18n.fragment instead of st.fragment: " + ", ".join(direct)


def test_a_fragment_made_with_the_helper_sets_the_language_first(monkeypatch):
    import ui.i18n as ui_i18n
    from profiling.vocabulary import i18n

    calls = []
    monkeypatch.setattr(ui_i18n.st, "fragment", lambda f, run_every=None: f)
    monkeypatch.setattr(ui_i18n, "in_session_language", lambda: calls.append("language"))

    @ui_i18n.fragment(run_every=1.0)
    def block(x):
        calls.append(x)
        return i18n.current() if hasattr(i18n, "current") else None

    block("drawn")
    assert calls == ["language", "drawn"]
    assert block.__name__ == "block"


def test_no_cached_function_fixes_its_spinner_text_when_its_module_is_imported():
    # st.cache_resource(show_spinner="Building user profiles…") showed English on a Chinese
    # page while a big store loaded
    import re

    root = Path(__file__).resolve().parents[1]
    fixed = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("ui", "app_pages")
        for path in sorted((root / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"show_spinner=[\"']", line)
    ]
    assert fixed == [], "use ui.i18n.cached for a spinner text: " + ", ".join(fixed)


def test_a_cached_functions_spinner_reads_in_the_page_language(monkeypatch):
    import ui.i18n as ui_i18n

    said, computed = [], []
    real = ui_i18n.st.cache_resource

    def cache_resource(*, show_spinner, **kwargs):
        said.append(show_spinner)  # the text Streamlit shows while a call computes
        return real(show_spinner=show_spinner, **kwargs)

    monkeypatch.setattr(ui_i18n.st, "cache_resource", cache_resource)

    @ui_i18n.cached(i18n.N_("Building user profiles…"), max_entries=2)
    def build(n):
        computed.append(n)
        return n * 2

    build.clear()
    with i18n.language("zh"):
        assert build(3) == 6
    assert build(3) == 6  # from the cache: one cache whatever the language
    assert computed == [3] and said == ["Building user profiles…", "正在构建用户画像…"]
    build.clear()
    assert build(3) == 6 and computed == [3, 3]


def test_the_custom_segment_builder_speaks_chinese(clear_streamlit_caches):
    at = _app()
    at.query_params[state.LANG_PARAM] = "zh"
    at.run()
    at.switch_page("app_pages/segments.py").run()
    at.segmented_control(key="ps_seg_kind").set_value("Custom rule").run()
    assert not at.exception and not at.error
    assert "自定义分群" in [h.value for h in at.subheader]
    pick = at.selectbox(key="ps_cseg_pick")
    assert pick.label == "本工作区已保存的分群"
    assert pick.options[0] == "+ 新建分群（尚未保存）"
    assert at.text_input(key="ps_cseg_name_new").label == "分群名称"
    combine = at.radio(key="ps_cseg_combine_new")
    assert combine.label == "客户须满足"
    assert combine.options == ["全部条件", "任一条件"]
    assert any(c.value.startswith("每行一个条件") for c in at.caption)
    assert at.button(key="ps_cseg_save").label == "保存分群"
    # the users outside the rule: "Everyone else" in the data, 其他客户 where the page shows it
    with i18n.language("zh"):  # AppTest formats the selected options in this thread's language
        at.text_input(key="ps_cseg_name_new").set_value("常客").run()
        assert not at.exception and not at.error
        assert at.selectbox(key="ps_members_custom").options == ["常客", "其他客户"]
        assert "其他客户" in list(at.table[0].value.iloc[:, 0])  # the sizes table's segments
        # and neither word can name a segment
        at.text_input(key="ps_cseg_name_new").set_value("其他客户").run()
    assert not at.exception
    assert [e.value.replace("\\", "") for e in at.error] == [
        "分群名称：'其他客户' 指规则之外的客户；请换一个名称"
    ]
