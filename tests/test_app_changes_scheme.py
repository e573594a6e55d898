"""AppTest: What changed names segments in the workspace's scheme (the 8 tiers when the
workspace says ``tiers8``) and in the reader's language."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from profiling.profiles.segments import NO_PURCHASE, REFUNDED_ALL, TIER_ORDER
from profiling.vocabulary import i18n
from profiling.workspace.migration import GONE, NEW
from tests._apptest import wait_for_background
from ui import profiles, state

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _flows(lang: str):
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params[state.LANG_PARAM] = lang
    at.session_state[profiles.SCHEME_KEY] = {state.SAMPLE_KEY: "tiers8"}
    at.run()
    at.switch_page("app_pages/changes.py").run()
    at = wait_for_background(at)  # profiles rebuilt as of both dates
    assert not at.exception and not at.error
    return at, at.dataframe[0].value


def test_the_flows_name_the_eight_tiers_in_english_and_in_chinese(clear_streamlit_caches):
    at, flows = _flows("en")
    names = set(flows["from_segment"]) | set(flows["to_segment"])
    tiers = set(TIER_ORDER) | {NEW, GONE}
    assert names <= tiers and names & {"Important value", "General win-back"}
    assert not names & {"Champions", "Hibernating"}  # no 11-segment name left
    at, flows = _flows("zh")
    names = set(flows["from_segment"]) | set(flows["to_segment"])
    with i18n.language("zh"):
        chinese = {i18n.gettext(n) for n in tiers}
    assert names <= chinese and "重要价值客户" in names
    assert at.subheader[0].value == "分群之间的迁移"
    assert {NO_PURCHASE, REFUNDED_ALL}.isdisjoint(names)  # English names are translated
