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


def test_a_note_carrying_a_library_error_reads_in_chinese_and_as_before_in_english():
    # a task the log cannot support: the error is raised with a Stage, the note keeps it
    from datetime import timedelta

    from profiling.predict.labels import Examples, check_two_classes
    from profiling.predict.protocol import error_stage, joined_stages

    start = datetime(2024, 1, 1, tzinfo=UTC)
    events = pl.DataFrame(
        {
            "user_id": ["a", "b", "a"],
            "event_type": ["purchase"] * 3,
            "timestamp": [start, start + timedelta(days=20), start + timedelta(days=59)],
        }
    )
    with pytest.raises(P.PredictionError) as raised:
        P.plan_cutoffs(events, horizon_days=30)
    note = error_stage(raised.value)
    assert (
        note
        == str(raised.value)
        == (
            "events, column 'timestamp': the log spans 60 days (2024-01-01 .. 2024-02-29); "
            "predicting 30 days ahead needs at least 90 days before the end of the held-out "
            "window: 30 of history, 30 to learn from and 30 held out. Use a horizon of at most "
            "20 days."
        )
    )
    lapse = P.Stage("lapse window of {days} days: {error}", days=45, error=note)
    assert lapse.startswith("lapse window of 45 days: events, column 'timestamp'")
    again = pickle.loads(pickle.dumps(lapse))  # noqa: S301 - bytes made just above
    with language("zh"):
        assert P.stage_text(again) == (
            "45 天的流失窗口：事件表的 'timestamp' 列：日志跨越 60 天（2024-01-01 至 "
            "2024-02-29）；预测未来 30 天需要在留出期结束前至少有 90 天：30 天历史、30 天用于"
            "学习、30 天留出。请使用不超过 20 天的预测期。"
        )

    # one class only in the held-out window: no model can be measured there
    one_class = Examples(pl.DataFrame({"label": [0] * 1200}), ())
    window = P.Stage("window {start} .. {end}", start="2024-03-01", end="2024-03-31")
    where = P.Stage("held-out {window}", window=window)
    with pytest.raises(P.PredictionError) as raised:
        check_two_classes(one_class, where, "purchase")
    note = error_stage(raised.value)
    assert note == (
        "purchase propensity: in the held-out window 2024-03-01 .. 2024-03-31, none of them "
        "bought (1,200 users), so there is one class only and no model can be learned or "
        "measured there. Use a longer horizon or a longer log."
    )
    with language("zh"):
        assert P.stage_text(note) == (
            "购买倾向：在留出期 2024-03-01 至 2024-03-31中，他们没有一个人购买（1,200 位用户），"
            "因此只有一个类别，无法在此学习或衡量任何模型。请使用更长的预测期或更长的日志。"
        )
    with pytest.raises(P.PredictionError) as raised:
        check_two_classes(
            Examples(pl.DataFrame({"label": []}), ()), "training windows together", "churn"
        )
    with language("zh"):
        assert P.stage_text(error_stage(raised.value)) == (
            "流失风险：全部训练窗口中没有在此之前有购买的用户，无从学习。"
        )

    # the customer-value notes: several joined, the model's own reason as it is
    notes = [
        P.Stage("no amounts in the log: expected value (Gamma-Gamma) is not computed"),
        P.Stage("{period}: could not fit: {reason}", period="whole log", reason="too few"),
    ]
    joined = joined_stages(notes)
    assert joined == (
        "no amounts in the log: expected value (Gamma-Gamma) is not computed; whole log: "
        "could not fit: too few"
    )
    with language("zh"):
        assert P.stage_text(joined) == (
            "日志中没有金额：不计算预期价值（Gamma-Gamma）；整个日志：无法拟合：too few"
        )
    assert joined_stages([]) is None
    assert error_stage(ValueError("plain")) == "plain"


def test_a_log_the_predictions_page_refuses_is_explained_in_chinese():
    # the page's precheck shows the error at once, in the reader's language
    from profiling.predict.protocol import error_stage

    events = pl.DataFrame(
        {
            "user_id": ["a", "b"],
            "event_type": ["view", "view"],
            "timestamp": [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)],
        }
    )
    with pytest.raises(P.PredictionError) as raised:
        P.plan_cutoffs(events, horizon_days=10)
    assert str(raised.value) == (
        "events, column 'event_type': the log has no purchase (event_type == 'purchase'); "
        "purchase propensity, churn and CLV are learned from purchases. Found only: view."
    )
    with language("zh"):
        assert P.stage_text(error_stage(raised.value)) == (
            "事件表的 'event_type' 列：日志中没有购买（event_type == 'purchase'）；购买倾向、"
            "流失和客户终身价值都是从购买中学习的。只找到：浏览。"  # the event type, in words
        )
        assert P.stage_text("") == ""
