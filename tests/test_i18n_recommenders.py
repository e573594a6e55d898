"""The Recommenders page in Chinese and in short words: model and protocol names that fit
their boxes at 1280 px in both languages (what each does is in the help), and no English
outside names of methods on the page a Chinese reader opens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from profiling.recommenders import registry
from profiling.vocabulary import i18n
from tests.test_i18n_e2e import latin_words
from ui import recommenders as R

APP = str(Path(__file__).resolve().parent.parent / "app.py")
BOX_CHARS = 30
"""The longest name a chip of the models box or the protocol box shows uncut at 1280 px
(the protocol box is a third of the form: 30 Latin characters; a Chinese character is
about two, so Chinese names are held to half)."""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_model_and_protocol_names_fit_their_boxes_in_both_languages(lang):
    limit = BOX_CHARS if lang == "en" else BOX_CHARS // 2
    with i18n.language(lang):
        names = [R.model_name(n) for n in registry.MODELS]
        names += [R.protocol_name(p) for p in R.PROTOCOLS]
    assert [n for n in names if len(n) > limit] == []
    # the short name in the box, the full description in its help: none is lost
    with i18n.language(lang):
        helps = R.models_help() + R.protocols_help()
    with i18n.language(lang):
        assert all(registry.describe(n) in helps for n in registry.MODELS)


def test_the_recommenders_form_reads_in_chinese(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/recommenders.py").run()
    assert not at.exception
    texts = [e.value for kind in ("title", "caption", "info") for e in at.get(kind)]
    for kind in ("selectbox", "multiselect", "number_input", "toggle", "button"):
        for e in at.get(kind):
            if e.proto.label == "工作区":  # the workspace picker lists workspace names (data)
                continue
            texts += [e.proto.label, e.proto.help, *getattr(e.proto, "options", [])]
    assert "模型检验方式" in texts and "训练并比较" in texts
    # the sample store's workspace name and the item column's examples are data
    text = re.sub(r":material/\w+:", " ", " ".join(texts))  # icons, not words
    assert latin_words(text, {"Sample", "store"}) == []


def test_the_saved_training_lines_read_in_the_page_language():
    class Saved:  # what trained_lines reads of a saved run: its English lines
        trained = {
            "item-knn": "trained in 0.25 s",
            "gru4rec": "trained in 12.00 s · 3 epoch(s)",
            "ease": "could not train",
        }

    assert R.trained_lines(Saved()) == [
        "✓ item-knn: trained in 0.25 s",
        "✓ gru4rec: trained in 12.00 s · 3 epoch(s)",  # English keeps the registry name
        "✓ ease: could not train",  # a line in another shape is shown as saved
    ]
    with i18n.language("zh"):
        assert R.trained_lines(Saved())[:1] == ["✓ 商品近邻 kNN: 训练用时 0.25 秒"]


def test_a_comparison_reads_in_chinese(clear_streamlit_caches):
    import time

    from tests.test_i18n_e2e import data_words

    i18n.set_language("zh")  # AppTest formats the selected options in this thread's language
    try:
        at = AppTest.from_file(APP, default_timeout=300)
        at.query_params["lang"] = "zh"
        at.run()
        at.switch_page("app_pages/recommenders.py").run()
        at.multiselect(key="ps_rec_models").set_value(["popularity", "item-knn"])
        next(b for b in at.button if b.proto.label == "训练并比较").click().run()
        for _ in range(90):  # the comparison runs in the background
            if at.get("table"):
                break
            time.sleep(1)
            at.run()
    finally:
        i18n.set_language("en")
    assert not at.exception and not at.error
    texts = [e.value for kind in ("subheader", "caption", "markdown") for e in at.get(kind)]
    for table in at.get("table"):
        frame = table.value
        texts += [str(c) for c in frame.columns]
        texts += [str(v) for v in frame.to_numpy().ravel()]
    text = re.sub(r":material/\w+:", " ", " ".join(texts))
    assert "★ 最佳" in text and "热销商品" in text  # a verdict and a model's name, in Chinese
    assert latin_words(text, data_words()) == []  # item titles are data
