"""The Recommenders page in Chinese and in short words: model and protocol names that fit
their boxes at 1280 px in both languages (what each does is in the help), and no English
outside names of methods on the page a Chinese reader opens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from profiling.errors import ProfilingError
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


def _weights_of_a_hybrid_that_cannot_fit(*, progress):
    """A training job failing as a real one does: the library's error, raised in the job."""
    import polars as pl

    from profiling.recommenders.hybrid import Hybrid

    progress(0.1, i18n.gettext("Comparing models"))
    bought = pl.DataFrame({"user_id": ["u1"], "item_id": ["a"], "weight": [9.0]})
    Hybrid([registry.make("popularity"), registry.make("ease")], weights=[1.0]).fit(bought)


def test_a_failed_comparison_reads_in_chinese_on_the_page(monkeypatch, clear_streamlit_caches):
    """The job runs in the language of the page that started it, so the library's error in
    "The comparison failed: ..." is Chinese on a Chinese page (a thread's default is English)."""
    from profiling.jobs import Lane, Runtime

    rt = Runtime([Lane("thread")])
    try:
        with i18n.language("zh"):
            job = rt.start("thread", "failing", "failing", _weights_of_a_hybrid_that_cannot_fit)
        assert job.future.exception(timeout=60) is not None
        monkeypatch.setattr(R, "comparison_state", lambda settings: R.RunState(job=job))
        at = AppTest.from_file(APP, default_timeout=300)
        at.query_params["lang"] = "zh"
        at.run()
        at.switch_page("app_pages/recommenders.py").run()
    finally:
        rt.shutdown()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "比较失败：weights 有 1 个值，但模型有 2 个；请为每个模型给一个值"
    ]


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


# ---- reasons of the rating-prediction, sequence, Markov and context models ----------------
STARS_ZH = [
    (
        r"predicted interest (?P<value>[\d.]+) of 5 \(estimated from views, carts and purchases\)",
        "预测兴趣 {value} 分（满分 5 分，由浏览、加购和购买估算）",
    ),
    (r"predicted (?P<value>[\d.]+) stars", "预测 {value} 星"),
]
"""The predicted-rating tail of a Surprise reason: English pattern, Chinese worked out."""

SURPRISE_ZH = {
    "no one chose": (r"no one has chosen it yet", "还没有人选择过它"),
    "no one rated": (r"no one has rated it yet", "还没有人给它评过分"),
    "neighbours give": (
        r"(?P<n>\d+) users with tastes like yours give it (?P<value>[\d.]+) of 5 on average",
        "{n} 位与您口味相近的用户给它平均打 {value} 分（满分 5 分）",
    ),
    "neighbours rate": (
        r"(?P<n>\d+) users with tastes like yours rate it (?P<value>[\d.]+) stars on average",
        "{n} 位与您口味相近的用户给它的平均评分为 {value} 星",
    ),
    "everyone gives above": (
        r"everyone gives it (?P<gap>[\d.]+) above average",
        "大家给它的分比平均高 {gap}",
    ),
    "everyone gives below": (
        r"everyone gives it (?P<gap>[\d.]+) below average",
        "大家给它的分比平均低 {gap}",
    ),
    "everyone rates above": (
        r"everyone rates it (?P<gap>[\d.]+) stars above average",
        "大家给它的评分比平均高 {gap} 星",
    ),
    "everyone rates below": (
        r"everyone rates it (?P<gap>[\d.]+) stars below average",
        "大家给它的评分比平均低 {gap} 星",
    ),
    "slope one chose": (
        r"people who chose the (?P<n>\d+) items you chose give this (?P<dev>[-+][\d.]+) "
        r"compared with them",
        "选过您所选 {n} 件商品的人，给这件商品的分与那些商品相差 {dev}",
    ),
    "slope one rated": (
        r"people who rated the (?P<n>\d+) items you rated rate this (?P<dev>[-+][\d.]+) stars "
        r"compared with them",
        "评过您所评 {n} 件商品的人，给这件商品的评分与那些商品相差 {dev} 星",
    ),
    "group gives": (
        r"users in your taste group give items like this (?P<value>[\d.]+) of 5 on average",
        "与您口味同组的用户给这类商品平均打 {value} 分（满分 5 分）",
    ),
    "group rates": (
        r"users in your taste group rate items like this (?P<value>[\d.]+) stars on average",
        "与您口味同组的用户给这类商品的平均评分为 {value} 星",
    ),
    "strong interest": (
        r"users with tastes like yours showed strong interest in it",
        "与您口味相近的用户对它很有兴趣",
    ),
    "interest": (
        r"users with tastes like yours showed interest in it",
        "与您口味相近的用户对它有兴趣",
    ),
    "some interest": (
        r"users with tastes like yours showed some interest in it",
        "与您口味相近的用户对它有些兴趣",
    ),
    "rated highly": (
        r"users with tastes like yours rated it highly",
        "与您口味相近的用户给它的评分很高",
    ),
    "rated well": (
        r"users with tastes like yours rated it well",
        "与您口味相近的用户给它的评分不错",
    ),
    "rated fairly": (
        r"users with tastes like yours rated it fairly",
        "与您口味相近的用户给它的评分尚可",
    ),
    "few similar": (r"few items in your history resemble it", "您的历史中很少有与它相似的商品"),
    "you chose": (
        r"you chose (?P<item>.+), which is similar to this \(similarity (?P<sim>[\d.]+)\)",
        "您选过 {item}，它与这件商品相似（相似度 {sim}）",
    ),
    "you rated": (
        r"you rated (?P<item>.+) (?P<rating>[\d.]+) stars, which is similar to this "
        r"\(similarity (?P<sim>[\d.]+)\)",
        "您给 {item} 评了 {rating} 星，它与这件商品相似（相似度 {sim}）",
    ),
}
"""Every reason of the Surprise adapter (before "; predicted ..."): English pattern, the
Chinese worked out by hand with the same numbers and item titles (data)."""


def surprise_in_chinese(english: str) -> tuple[str, str]:
    """The Chinese a Surprise reason must read as, and which reason it is."""
    head, _sep, tail = english.rpartition("; ")
    stars = next(
        zh.format(**m.groupdict()) for pat, zh in STARS_ZH if (m := re.fullmatch(pat, tail))
    )
    for key, (pat, zh) in SURPRISE_ZH.items():
        if m := re.fullmatch(pat, head):
            return f"{zh.format(**m.groupdict())}；{stars}", key
    raise AssertionError(f"an English reason no test reads: {english!r}")


@pytest.fixture(scope="module")
def tiny():
    from tests.test_recommenders import tiny_store

    return tiny_store()


def test_rating_prediction_reasons_read_in_chinese(tiny):
    import polars as pl

    from profiling.recommenders.surprise_models import SurpriseModel
    from profiling.vocabulary import schema as S

    inter, items, _segments = tiny
    explicit = inter.filter(pl.col(S.RATING).is_not_null())
    seen = set()
    for algorithm in (
        "svd",
        "knn_basic",
        "knn_item",
        "baseline_only",
        "slope_one",
        "co_clustering",
    ):
        for log in (inter, explicit):  # "stars" estimated from behaviour, and real ones
            model = SurpriseModel(algorithm).fit(log, items=items)
            for user in ("U03", "U07"):
                for item in [*model.recommend([user], k=2)[S.ITEM_ID].to_list(), "I20"]:
                    english = model.explain(user, item)
                    with i18n.language("zh"):
                        chinese = model.explain(user, item)
                    expected, key = surprise_in_chinese(english)
                    assert chinese == expected
                    seen.add(key)
    # I20 is in the catalog only; the others are each algorithm's own reason
    assert seen >= {
        "no one chose",
        "no one rated",
        "neighbours give",
        "neighbours rate",
        "everyone gives above",
        "everyone rates above",
        "slope one chose",
        "slope one rated",
        "group gives",
        "group rates",
        "strong interest",
        "interest",
        "rated well",
        "few similar",
        "you chose",
        "you rated",
    }


def test_markov_reasons_read_in_chinese():
    from profiling.recommenders.markov import Markov
    from tests.test_sequence import fitted, markov_log

    log = markov_log()
    model = fitted(Markov(), log)
    with i18n.language("zh"):
        assert model.explain("d", "y") == "用户有 2 次从 x（您的上一件商品）直接转到这件商品"
        assert model.explain("a", "z") == "用户有 1 次从 x（您倒数第 2 件商品）直接转到这件商品"
        assert model.explain("c", "w") == (
            "没有用户从您最近的商品直接转到这件商品：在所有人中都很热门（2 位用户选择了它）"
        )
    assert model.explain("c", "w") == (
        "no user went from your recent items to this one: popular with everyone (2 users chose it)"
    )


def test_sequence_model_reasons_read_in_chinese():
    from profiling.recommenders.sequence import SASRec
    from tests.test_sequence import FAST, chain_log, fitted, last_items

    log = chain_log()
    model = fitted(SASRec(**FAST, random_state=1), log)
    user = next(u for u, item in last_items(log).items() if item == "c4")
    english = model.explain(user, "c5")
    with i18n.language("zh"):
        chinese = model.explain(user, "c5")
    one = re.fullmatch(
        r"comes next after your recent (\S+) \(which raises its score most\)", english
    )
    two = re.fullmatch(
        r"comes next after your recent (\S+) and (\S+) \(which raise its score most\)", english
    )
    if one:
        assert chinese == f"接在您最近的 {one[1]} 之后（它对这件商品的得分提升最多）"
    else:
        assert two, english
        assert chinese == f"接在您最近的 {two[1]} 和 {two[2]} 之后（它们对这件商品的得分提升最多）"
    assert chinese.startswith("接在您最近的 c4")


def test_context_reasons_read_in_chinese(tiny):
    from profiling.recommenders.content import ContextAware
    from profiling.recommenders.hybrid import Hybrid
    from profiling.vocabulary import schema as S

    inter, items, _segments = tiny
    model = ContextAware().fit(inter, items=items)
    with i18n.language("zh"):
        assert model.explain("U02", "I18") == (
            "您常在工作日晚上选购 Garden；Garden 占您近期兴趣的 42%；符合您对 Garden 的兴趣"
            "（您有 5 件此类商品）；您以前选过的品牌（Brand0）；共同的词：garden, hose, 18"
        )
    assert model.explain("U02", "I18").startswith(
        "you often shop Garden in the evening and on weekdays; Garden is 42% of your recent "
        "interest; matches your interest in Garden (5 of your items)"
    )
    # no item text and no category: the content model and the context model fall back
    bare = items.select(S.ITEM_ID)
    model = ContextAware().fit(inter, items=bare)
    fallback = (
        "没有可匹配的商品文字（商品目录没有标题、描述、品类、品牌或标签），所以内容匹配按热门"
        "程度排序（而且没有任何商品有品类）；在所有人中都很热门：10 位用户选择了它"
    )
    with i18n.language("zh"):
        assert model.explain("U01", "I17") == fallback
    hybrid = Hybrid({"context": ContextAware()}, weights={"context": 1.0}).fit(inter, items=bare)
    with i18n.language("zh"):
        assert hybrid.explain("U01", "I17") == fallback
    assert hybrid.explain("U01", "I17").startswith(
        "no item text to match (the catalog has no title, description, category, brand or "
        "tags), so content-based ranks by popularity (and no item has a category); popular "
        "with everyone: 10 users chose it"
    )


def test_a_model_too_big_for_the_machine_is_explained_in_chinese():
    from profiling.recommenders import cost as C

    need = C.estimate("ease", C.Shape(1, 1000, 0))
    assert need.in_words() == need.describe() == "about 22.9 MB (3 dense 1,000² matrices)"
    heavy = {"ease": "ease would need about 22.9 MB (3 dense 1,000² matrices)"}
    assert R.too_big_warning(heavy) == (  # Markdown: the reasons are escaped
        "Not started, too big for this machine: ease would need about 22\\.9 MB \\(3 dense "
        "1,000² matrices\\). The others are compared; item-kNN and ALS grow slowest with the "
        "catalog."
    )
    with i18n.language("zh"):
        assert need.in_words() == "约 22.9 MB（3 个 1,000² 的稠密矩阵）"
        assert C.estimate("knn-user", C.Shape(2000, 1, 0)).in_words() == (
            "约 30.5 MB（一个 2,000² 的稠密相似度矩阵）"
        )
        heavy = {"ease": "EASE 需要约 22.9 MB（3 个 1,000² 的稠密矩阵）"}
        assert R.too_big_warning(heavy) == (
            "未启动，对这台机器来说太大：EASE 需要约 22\\.9 MB（3 个 1,000² 的稠密矩阵）。其余模型"
            "照常比较；商品近邻 kNN 和 ALS 随商品目录增长得最慢。"
        )


def test_a_deep_models_saved_training_summary_reads_in_chinese():
    class Saved:  # lines a comparison saved in English, with the models' training summaries
        trained = {
            "sasrec": "trained in 12.00 s · 7 epoch(s), stopped by early stopping, validation "
            "NDCG@10 0.412 at epoch 4",
            "gru4rec": "trained in 3.50 s · 2 epoch(s), stopped by time budget",
        }

    assert R.trained_lines(Saved()) == [
        "✓ sasrec: trained in 12.00 s · 7 epoch(s), stopped by early stopping, validation "
        "NDCG@10 0.412 at epoch 4",
        "✓ gru4rec: trained in 3.50 s · 2 epoch(s), stopped by time budget",
    ]
    with i18n.language("zh"):
        assert R.trained_lines(Saved()) == [
            "✓ SASRec: 训练用时 12.00 秒 · 7 轮，停止原因：提前停止，第 4 轮验证 NDCG@10 为 0.412",
            "✓ GRU4Rec: 训练用时 3.50 秒 · 2 轮，停止原因：时间预算用完",
        ]


def test_a_deep_models_training_summary_is_english_where_it_is_made():
    from profiling.recommenders.sequence import SASRec
    from tests.test_sequence import FAST, chain_log, fitted

    model = fitted(SASRec(**{**FAST, "epochs": 2}, random_state=1), chain_log(n_users=12))
    assert model.training_summary() == "2 epoch(s), stopped by max epochs"
    with i18n.language("zh"):
        assert model.training_summary() == "2 epoch(s), stopped by max epochs"  # saved as is
        from profiling.recommenders.sequence import summary_text

        assert summary_text(model.training_summary()) == "2 轮，停止原因：达到最大轮数"


def test_a_saved_model_that_cannot_be_read_is_explained_in_chinese():
    class NothingSaved:
        def get(self, *args):
            return None

    said = []
    with i18n.language("zh"), pytest.raises(ProfilingError) as refused:
        R._read_saved(NothingSaved(), "ease", "v1", progress=lambda f, m: said.append(m))
    assert said == ["正在读取已保存的 EASE 模型"]
    assert str(refused.value) == "已保存的 EASE 模型无法读取；请重新训练"
