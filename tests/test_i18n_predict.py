"""The Predictions page's library sentences and the behaviour-group names in Chinese: each
is written in the reader's language when it is read, and stays as it was in English."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import polars as pl
import pytest

from profiling import predict as P
from profiling.predict.protocol import CutoffPlan, LapseWindow
from profiling.profiles import risk
from profiling.profiles.segments import cluster_label, segment_label, segment_name
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import language
from tests.test_risk import scored  # noqa: F401 - the hand-made risky users, a fixture


def task(auc: dict[str, float], best: str, chosen: str) -> P.TaskResult:
    """A task result holding only what the verdict reads: the held-out ROC-AUC per model."""
    metrics = pl.DataFrame(
        {"model": list(auc), "metric": ["roc_auc"] * len(auc), "value": list(auc.values())}
    )
    empty = pl.DataFrame()
    return P.TaskResult(
        "purchase", metrics, empty, empty, {}, chosen, best, empty, empty, empty, {}
    )


BASELINE_WINS = task({"learned": 0.7, "recency": 0.75}, best="recency", chosen="recency")


def test_the_verdict_reads_as_before_in_english():
    assert P.verdict(BASELINE_WINS) == (
        "On the held-out window, Days since last purchase alone has the best ROC-AUC (0.750; "
        "learned model 0.700). A simple baseline measured better than the learned model. "
        "Scores shown use Days since last purchase alone, the best on the validation window "
        "(chosen before the held-out window was looked at)."
    )


def test_the_verdict_in_chinese_names_the_models_in_chinese():
    with language("zh"):
        text = P.verdict(BASELINE_WINS)
    assert text == (
        "在留出期上，仅看距上次购买天数的 ROC-AUC 最高（0.750；学习模型为 0.700）。"
        "一个简单基线的实测结果优于学习模型。"
        "展示的得分来自仅看距上次购买天数，它在验证期上最好（在查看留出期之前选定）。"
    )


def test_the_protocol_line_names_its_dates_in_the_readers_language():
    day = lambda d: datetime(2026, 1, d, tzinfo=UTC)  # noqa: E731 - a short date maker
    plan = CutoffPlan(7, day(1), day(29), day(22), (day(8), day(15)))
    with language("zh"):
        text = plan.describe()
    # the window ends 7 days after the test cutoff (22 + 7 = 29); the list separator is "、"
    assert text.startswith(
        "训练截止日 2026年1月8日、2026年1月15日；验证期从 2026年1月15日 开始；"
        "留出期 **2026年1月22日 → 2026年1月29日**（不含结束日）。"
    )
    assert plan.describe().startswith(
        "Training cutoffs 08 Jan 2026, 15 Jan 2026; validation window from 15 Jan 2026; "
        "held-out window **22 Jan 2026 → 29 Jan 2026**"
    )


def test_the_lapse_window_reads_in_chinese_and_as_before_in_english():
    lapse = LapseWindow(
        days=60, quantile=0.8, gap_days=41.6, n_gaps=10, horizon_days=30, reason="floor"
    )
    assert lapse.describe() == (
        "no purchase in the next 60 days (at least twice the 30-day purchase horizon; 80% of "
        "the gaps between this store's repeat purchases are at most 42 days)"
    )
    with language("zh"):
        assert lapse.describe() == (
            "未来 60 天内没有购买（至少为 30 天购买预测期的两倍；本店 80% 的复购间隔不超过 42 天）"
        )


def test_a_progress_stage_is_english_where_it_is_made_and_read_again_in_chinese():
    stage = P.Stage("{task}: training on {n} cutoffs", task=P.TASKS["churn"], n=3)
    assert stage == "churn risk: training on 3 cutoffs"
    # a worker process sends it through a queue; these are our own bytes of the line before
    again = pickle.loads(pickle.dumps(stage))  # noqa: S301 - bytes made just above
    with language("zh"):
        assert P.stage_text(again) == "流失风险：在 3 个截止日上训练"
        assert P.stage_text("done") == "完成"
        assert P.stage_text("a message nobody marked") == "a message nobody marked"


def test_drivers_are_written_again_with_the_inputs_named_in_chinese():
    drivers = pl.DataFrame(
        {
            "user_id": ["a", "a", "b"],
            "rank": [1, 2, 1],
            "feature": ["recency_days", "seq_emb_3", "purchase_days"],
            "label": ["days since last purchase", "browsing-sequence trait 3", "purchase days"],
            "value": [12.0, None, 2.0],
            "typical": [30.0, 0.5, 1.0],
            "effect": [0.08, -0.011, 0.2],
        }
    )
    with language("zh"):
        text = P.drivers_in_language(drivers, ["a"])
    assert text.rows() == [("a", "距上次购买天数 12.0 (+0.08); 浏览序列特征 3 无 (−0.011)")]


def test_the_top_scores_keep_the_saved_english_drivers_in_english():
    scores = pl.DataFrame(
        {
            "user_id": ["a", "b"],
            "purchase_propensity": [0.9, 0.1],
            "purchase_propensity_pct": [100.0, 50.0],
            "purchase_drivers": ["purchase days 2.0 (+0.2)", "x"],
        }
    )
    drivers = pl.DataFrame(
        {
            "user_id": ["a"],
            "rank": [1],
            "feature": ["purchase_days"],
            "label": ["purchase days"],
            "value": [2.0],
            "typical": [1.0],
            "effect": [0.2],
        }
    )
    assert P.top_scores(scores, "purchase", n=1, drivers=drivers)["purchase_drivers"].to_list() == [
        "purchase days 2.0 (+0.2)"
    ]
    with language("zh"):
        top = P.top_scores(scores, "purchase", n=1, drivers=drivers)
    assert top.columns == scores.columns
    assert top["purchase_drivers"].to_list() == ["购买天数 2.0 (+0.2)"]


def test_risk_flags_and_reasons_are_written_again_in_chinese(scored):  # noqa: F811 - the fixture
    refunder = scored.filter(pl.col("user_id") == "refunder")
    with language("zh"):
        again = risk.in_language(refunder).row(0, named=True)
        counts = risk.flag_counts(scored)
    assert again["risk_flags"] == ["滥用退款"]
    # 4 purchases, 3 refunds: the numbers are the user's, the rule's thresholds 3 and 50%
    assert again["risk_reasons"] == (
        "滥用退款：至少 3 次退款，且退款占购买的 50% 及以上（4.0 次购买中有 3.0 次退款）"
    )
    # the saved flags are English: counted under the Chinese label all the same
    assert dict(counts.select("flag", "users").rows()) == {
        "疑似机器人浏览": 1,
        "滥用退款": 1,
        "订单突增": 1,
        "价格异常": 1,
        "数量异常": 1,
    }


def test_the_most_unusual_users_show_their_reasons_in_the_readers_language(scored):  # noqa: F811
    with language("zh"):
        top = risk.most_unusual(scored, n=200)
    bot = top.filter(pl.col("user_id") == "bot").row(0, named=True)
    assert bot["risk_flags"] == ["疑似机器人浏览"]
    assert bot["risk_reasons"].endswith(
        "（浏览 250.0 次，单次访问最多 250.0 次，加购 0.0 次，购买 0.0 次）"
    )


@pytest.mark.parametrize(
    ("top", "english", "chinese"),
    [
        (
            [("share_evening", 1.2), ("cat_share__Electronics", 2.0), ("monetary", 1.5)],
            "Evening Electronics big spenders",
            "晚间高消费客户（Electronics）",
        ),
        (
            [("n_events", 2.0), ("frequency", 1.0)],
            "Very active frequent buyers",
            "非常活跃常购客户",
        ),
        ([("cat_share__Books", 1.0)], "Books shoppers", "购物者（Books）"),
        ([("weekend_share", -1.0), ("monetary", -0.8)], "Weekday low spenders", "工作日低消费客户"),
        ([], "Average users", "普通用户"),
    ],
)
def test_behaviour_group_names_are_composed_in_chinese_from_their_words(top, english, chinese):
    assert segment_name(top) == english  # the name kept in the data stays English
    assert segment_label(english) == english
    with language("zh"):
        assert segment_label(english) == chinese
        assert cluster_label(english + " (2)") == chinese + "（2）"  # a duplicate's number


def test_a_name_that_is_not_a_behaviour_group_stays_as_it_is_in_chinese():
    with language("zh"):
        assert cluster_label("My VIP list") == "My VIP list"


def test_every_prediction_input_has_a_chinese_name():
    with language("zh"):
        for name in G.PREDICT_FEATURE_LABELS:
            shown = G.predict_feature_label(name)
            assert shown != G.PREDICT_FEATURE_LABELS[name], name
