"""Predictions: cutoffs, features and labels by hand, no leak past a cutoff, metrics equal to
scikit-learn's, and the whole protocol on a small simulated store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm

from profiling import predict as P
from profiling.vocabulary import schema as S


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def make_events(rows: list[tuple[str, str, datetime, float | None]]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            S.USER_ID: [r[0] for r in rows],
            S.EVENT_TYPE: [r[1] for r in rows],
            S.TIMESTAMP: [r[2] for r in rows],
            S.AMOUNT: [r[3] for r in rows],
        },
        schema={
            S.USER_ID: pl.String,
            S.EVENT_TYPE: pl.String,
            S.TIMESTAMP: pl.Datetime("us", "UTC"),
            S.AMOUNT: pl.Float64,
        },
    )
    others = [pl.lit(None).alias(c) for c in S.EVENT_COLUMNS if c not in frame.columns]
    return frame.with_columns(others).select(S.EVENT_COLUMNS)


@pytest.fixture
def tiny() -> pl.DataFrame:
    """Jan 1 .. Apr 9 2024. a buys Jan 5 (10) and Jan 20 (30), views Feb 1, buys Feb 12 and
    Mar 20; b views Jan 1 and buys Mar 12; c buys Jan 10 and refunds Jan 15; d views Apr 9."""
    return make_events(
        [
            ("a", S.PURCHASE, at("2024-01-05"), 10.0),
            ("a", S.PURCHASE, at("2024-01-20"), 30.0),
            ("a", S.VIEW, at("2024-02-01"), None),
            ("a", S.PURCHASE, at("2024-02-12"), 5.0),
            ("a", S.PURCHASE, at("2024-03-20"), 5.0),
            ("b", S.VIEW, at("2024-01-01", 8), None),
            ("b", S.PURCHASE, at("2024-03-12"), 7.0),
            ("c", S.PURCHASE, at("2024-01-10"), 20.0),
            ("c", S.REFUND, at("2024-01-15"), -20.0),
            ("d", S.VIEW, at("2024-04-09"), None),
        ]
    )


# ---- cutoffs -----------------------------------------------------------------------------
def test_cutoffs_step_back_one_horizon_from_the_held_out_window(tiny):
    plan = P.plan_cutoffs(tiny, horizon_days=30)
    # last event Apr 9 -> today = Apr 10 00:00; test = Apr 10 - 30 days = Mar 11;
    # Feb 10 keeps 40 >= 30 days of history after Jan 1; Jan 11 would keep only 10
    assert plan.today == datetime(2024, 4, 10, tzinfo=UTC)
    assert plan.test == datetime(2024, 3, 11, tzinfo=UTC)
    assert plan.train == (datetime(2024, 2, 10, tzinfo=UTC),)
    assert plan.validation is None


def test_every_training_label_window_ends_before_the_held_out_window(tiny):
    plan = P.plan_cutoffs(tiny, horizon_days=10, max_train_cutoffs=4)
    h = timedelta(days=10)
    assert len(plan.train) == 4
    assert all(c + h <= plan.test for c in plan.train)
    assert list(plan.train) == sorted(plan.train)
    assert plan.validation == plan.train[-1]
    assert plan.test + h == plan.today


def test_calibration_end_puts_the_held_out_window_right_after_it(tiny):
    plan = P.plan_cutoffs(tiny, horizon_days=20, calibration_end="2024-03-01")
    assert plan.test == datetime(2024, 3, 2, tzinfo=UTC)
    assert plan.train[-1] == datetime(2024, 2, 11, tzinfo=UTC)


def test_a_log_too_short_for_the_horizon_is_refused_with_the_longest_usable_horizon(tiny):
    # 100 days (Jan 1 .. Apr 9) < 3 x 40
    with pytest.raises(P.PredictionError, match=r"spans 100 days.*at most 33 days"):
        P.plan_cutoffs(tiny, horizon_days=40)


def test_a_calibration_end_without_a_full_window_after_it_is_refused(tiny):
    with pytest.raises(P.PredictionError, match="leaves 9 days of events after it"):
        P.plan_cutoffs(tiny, horizon_days=30, calibration_end="2024-03-31")


def test_a_run_settings_refusal_reads_in_the_readers_language(tiny):
    from profiling.predict.labels import examples_for
    from profiling.vocabulary.i18n import language

    # Jan 1 .. Apr 9: a held-out window from Apr 1 has 9 days of events, not 30
    with pytest.raises(P.PredictionError) as raised:
        P.plan_cutoffs(tiny, horizon_days=30, calibration_end="2024-03-31")
    assert str(raised.value) == (
        "calibration_end=2024-03-31 leaves 9 days of events after it (the log ends on "
        "2024-04-09); a held-out window of horizon=30 days needs an earlier calibration_end or a "
        "shorter horizon."
    )
    with language("zh"):
        assert P.stage_text(P.error_stage(raised.value)) == (
            "calibration_end=2024-03-31 之后只剩 9 天的事件（日志结束于 2024-04-09）；"
            "horizon=30 天的留出期需要更早的 calibration_end 或更短的预测期。"
        )
    with pytest.raises(P.PredictionError) as raised:
        P.predict(tiny, unit="M")
    assert str(raised.value) == "unit must be 'D' (days) or 'W' (weeks). Got unit='M'."
    with language("zh"):
        assert P.stage_text(P.error_stage(raised.value)) == (
            "unit 必须是 'D'（天）或 'W'（周），实际为 unit='M'。"
        )
    with pytest.raises(P.PredictionError) as raised:
        examples_for(pl.DataFrame(), (), "value")
    assert str(raised.value) == "task must be one of purchase, churn. Got task='value'."
    with language("zh"):
        assert P.stage_text(P.error_stage(raised.value)) == (
            "task 必须是 purchase, churn 之一，实际为 task='value'。"
        )


@pytest.mark.parametrize("horizon", [0, -3, 2.5, True])
def test_the_horizon_must_be_a_positive_whole_number_of_days(tiny, horizon):
    with pytest.raises(P.PredictionError, match="horizon must be a positive whole number"):
        P.plan_cutoffs(tiny, horizon_days=horizon)


def test_a_log_without_purchases_is_refused_naming_the_event_types_found(tiny):
    views = tiny.filter(pl.col(S.EVENT_TYPE) == S.VIEW)
    with pytest.raises(P.PredictionError, match="has no purchase.*Found only: view"):
        P.plan_cutoffs(views, horizon_days=10)


# ---- features and labels -------------------------------------------------------------------
def test_features_at_a_cutoff_are_computed_by_hand(tiny):
    f = P.cutoff_features(tiny, datetime(2024, 2, 10, tzinfo=UTC))
    assert f[S.USER_ID].to_list() == ["a", "b", "c"]  # d has no event before Feb 10
    a = f.row(0, named=True)
    assert a["purchase_days"] == 2
    assert a["recency_days"] == pytest.approx(20.5)  # Jan 20 noon -> Feb 10 00:00
    assert a["tenure_days"] == pytest.approx(35.5)  # Jan 5 noon
    assert a["days_since_seen"] == pytest.approx(8.5)  # the Feb 1 view
    assert a["monetary"] == 40.0
    assert a["avg_spend_per_purchase_day"] == 20.0
    assert a["mean_gap_days"] == pytest.approx(15.0)  # (Jan 20 - Jan 5) / (2 - 1)
    assert a["n_view"] == 1 and a["events_last_30d"] == 2  # Jan 20 purchase and Feb 1 view
    b = f.row(1, named=True)
    assert (
        b["purchase_days"] == 0
        and b["recency_days"] is None
        and b["avg_spend_per_purchase_day"] is None
    )
    c = f.row(2, named=True)
    assert c["monetary"] == 0.0  # 20 bought, 20 refunded
    assert c["refund_rate"] == 1.0


def test_no_event_on_or_after_the_cutoff_reaches_the_features(tiny):
    cutoff = datetime(2024, 2, 10, tzinfo=UTC)
    before = P.cutoff_features(tiny, cutoff)
    late = make_events(
        [
            ("a", S.PURCHASE, cutoff, 1000.0),  # exactly at the cutoff: already the future
            ("b", S.PURCHASE, cutoff + timedelta(days=1), 500.0),
            ("e", S.VIEW, cutoff + timedelta(hours=1), None),
        ]
    )
    after = P.cutoff_features(pl.concat([tiny, late]), cutoff)
    assert after.equals(before)
    # the same purchase a microsecond earlier does change them: the test can fail
    early = late.head(1).with_columns(pl.col(S.TIMESTAMP) - timedelta(microseconds=1))
    changed = P.cutoff_features(pl.concat([tiny, early]), cutoff)
    assert changed.row(0, named=True)["monetary"] == 1040.0


def test_labels_count_purchases_from_the_cutoff_up_to_but_not_including_cutoff_plus_h(tiny):
    cutoff = datetime(2024, 2, 12, 12, tzinfo=UTC)  # a's Feb 12 purchase is exactly here
    labels = P.cutoff_labels(tiny, cutoff, 29)  # window ends Mar 12 noon: b's buy excluded
    assert labels.rows() == [("a", 1)]
    assert P.cutoff_labels(tiny, cutoff, 30).rows() == [("a", 1), ("b", 1)]


def test_churn_examples_are_past_buyers_labelled_one_when_they_do_not_buy_again(tiny):
    cutoff = datetime(2024, 3, 1, tzinfo=UTC)
    purchase = P.build_examples(tiny, cutoff, 30, "purchase")
    churn = P.build_examples(tiny, cutoff, 30, "churn")
    # a buys Mar 20, b buys Mar 12, c never again
    assert dict(purchase.frame.select(S.USER_ID, "label").rows()) == {"a": 1, "b": 1, "c": 0}
    assert dict(churn.frame.select(S.USER_ID, "label").rows()) == {"a": 0, "c": 1}


def test_the_rfm_baseline_score_is_zero_for_non_buyers_and_three_to_fifteen_for_buyers(tiny):
    ex = P.build_examples(tiny, datetime(2024, 3, 1, tzinfo=UTC), 30, "purchase")
    scores = dict(ex.frame.select(S.USER_ID, "rfm_score").rows())
    assert scores["b"] == 0
    # 2 buyers: the better one scores 5 on each of R, F and M; the lower group scores 1
    # (the tied group holding the lowest values gets 1, see segments.quantile_scores)
    # a is more recent, more frequent and spent more than c: 5 + 5 + 5 and 1 + 1 + 1
    assert scores["a"] == 15 and scores["c"] == 3


# ---- metrics ------------------------------------------------------------------------------
@pytest.fixture
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    p = np.round(np.clip(0.3 * y + rng.random(300) * 0.7, 0, 1), 2)  # rounded: many ties
    return y, p


def test_metrics_equal_scikit_learns(scored):
    y, p = scored
    got = P.all_metrics(y, p, 0.5)
    pred = (p >= 0.5).astype(int)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert got["pr_auc"] == pytest.approx(skm.average_precision_score(y, p))
    assert got["brier"] == pytest.approx(skm.brier_score_loss(y, p))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred))


def test_top_decile_lift_by_hand():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 1, 0])
    p = np.arange(10, 0, -1) / 10.0
    assert P.top_decile_lift(y, p) == pytest.approx(1 / 0.2)  # top 1 is a buyer; base 2/10
    # all scores tied: the top decile is a random tenth, lift 1
    assert P.top_decile_lift(y, np.full(10, 0.5)) == pytest.approx(1.0)


def test_the_f1_maximizing_threshold_by_hand():
    y = np.array([1, 1, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.1])
    # F1 at >= .9: 2/5, .8: 4/6, .7: 4/7, .6: 6/7 (best), .1: 6/8
    assert P.f1_max_threshold(y, p) == 0.6


def test_the_bootstrap_interval_brackets_the_value_and_is_reproducible(scored):
    y, p = scored
    a = P.bootstrap_metrics(y, p, 0.5, n_boot=50, random_state=1)
    b = P.bootstrap_metrics(y, p, 0.5, n_boot=50, random_state=1)
    assert a.equals(b)
    assert a["metric"].to_list() == list(P.METRICS)
    assert (a["ci_low"] <= a["value"]).all() and (a["value"] <= a["ci_high"]).all()


def test_auc_of_one_class_is_not_a_number():
    assert np.isnan(P.roc_auc(np.ones(4), np.array([0.1, 0.2, 0.3, 0.4])))


# ---- the whole protocol on a simulated store --------------------------------------------------
def simulated_store(n_users: int = 400, days: int = 200, seed: int = 7) -> pl.DataFrame:
    """Users with a personal daily purchase rate and average spend; a fifth of them stop for
    good at a random day (lapsing); everyone views a little more on days they buy."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.6, 0.05, n_users)
    stop = np.where(rng.random(n_users) < 0.2, rng.integers(30, days, n_users), days)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    buys = (rng.random((n_users, days)) < rate[:, None]) & (
        np.arange(days)[None, :] < stop[:, None]
    )
    views = rng.random((n_users, days)) < (rate[:, None] * 3 + 0.01)
    rows = []
    for kind, mask in ((S.PURCHASE, buys), (S.VIEW, views | buys)):
        u, d = np.nonzero(mask)
        rows.append(
            pl.DataFrame(
                {
                    S.USER_ID: [f"u{i:04d}" for i in u],
                    S.EVENT_TYPE: kind,
                    S.TIMESTAMP: [start + timedelta(days=int(x), hours=10) for x in d],
                    # each user has their own average spend (0.5 to 1.5 times the base):
                    # without that, Gamma-Gamma rightly finds no spread to fit (q runs off)
                    S.AMOUNT: np.round(rng.gamma(2.0, 15.0, u.size) * (0.5 + (u % 5) * 0.25), 2)
                    if kind == S.PURCHASE
                    else None,
                },
                schema_overrides={S.AMOUNT: pl.Float64},
            )
        )
    frame = pl.concat(rows).with_columns(pl.col(S.TIMESTAMP).dt.cast_time_unit("us"))
    others = [pl.lit(None).alias(c) for c in S.EVENT_COLUMNS if c not in frame.columns]
    return frame.with_columns(others).select(S.EVENT_COLUMNS)


@pytest.fixture(scope="module")
def result() -> P.Predictions:
    return P.predict(simulated_store(), horizon_days=30, n_boot=30, max_train_cutoffs=3)


def test_the_learned_model_and_every_baseline_are_measured_on_the_held_out_window(result):
    m = result.purchase.metrics
    assert set(m["model"]) == {P.LEARNED, *P.BASELINES}
    assert m.height == 5 * len(P.METRICS)
    auc = dict(m.filter(pl.col("metric") == "roc_auc").select("model", "value").rows())
    assert auc[P.LEARNED] > 0.6  # planted rates are learnable
    assert result.purchase.class_balance["test_users"] > 300


def test_thresholds_and_the_used_model_come_from_validation_not_the_test_window(result):
    t = result.purchase
    assert t.class_balance["validation"].startswith("validation window")
    assert t.chosen == P.best_model(t.validation)
    assert t.thresholds[P.LEARNED] == pytest.approx(
        t.metrics.filter(pl.col("model") == P.LEARNED)["threshold"][0]
    )


def test_every_user_seen_gets_scores_percentiles_and_drivers(result):
    s = result.scores
    assert s[S.USER_ID].n_unique() == s.height
    assert s["purchase_propensity"].is_between(0, 1).all()
    assert s["purchase_propensity_pct"].is_between(0, 100, closed="right").all()
    buyers = s.filter(pl.col("churn_risk").is_not_null())
    assert buyers["p_alive"].null_count() == 0
    assert (buyers["expected_value_365d"] >= 0).all()
    assert s["purchase_drivers"].null_count() < s.height
    d = result.purchase.drivers
    assert d.group_by(S.USER_ID).len()["len"].max() <= 3


def test_the_report_names_cutoffs_balance_threshold_and_model_parameters(result):
    r = result.report()
    assert r["cutoffs"]["test_window"][1] == r["cutoffs"]["today"]
    assert set(r["bgnbd"]) >= {"r", "alpha", "a", "b"}
    assert set(r["gamma_gamma"]) >= {"p", "q", "v"}
    assert 0 < r["purchase"]["threshold"] < 1
    assert r["purchase"]["baseline_wins"] == (r["purchase"]["best_on_held_out_window"] != "learned")


def test_a_held_out_window_with_one_class_only_is_refused(tiny):
    # a buys on Mar 20 in the held-out window [Mar 11, Apr 10); b, c and d buy on Mar 25
    late = make_events([(u, S.PURCHASE, at("2024-03-25"), 1.0) for u in ("b", "c", "d")])
    with pytest.raises(P.PredictionError, match="every one of them bought.*one class only"):
        P.predict(pl.concat([tiny, late]), horizon_days=30, n_boot=5)


def test_the_comparison_table_marks_the_used_model_and_each_metrics_best(result):
    table = P.comparison_table(result.purchase)
    assert table["model"].to_list() == [P.MODEL_LABELS[m] for m in [P.LEARNED, *P.BASELINES]]
    assert table["used"].to_list().count("✓") == 1
    used = table.filter(pl.col("used") == "✓")["model"][0]
    assert used == P.MODEL_LABELS[result.purchase.chosen]
    # exactly one ★ per metric column (brier: the lowest)
    for metric in P.METRICS:
        assert table[metric].str.ends_with("★").sum() >= 1
    brier = result.purchase.metrics.filter(pl.col("metric") == "brier")
    lowest = brier.sort("value")["model"][0]
    starred = table.filter(pl.col("brier").str.ends_with("★"))["model"].to_list()
    assert P.MODEL_LABELS[lowest] in starred


def test_the_turned_comparison_has_a_row_per_measure_and_the_same_cells(result):
    table = P.comparison_table(result.purchase)
    turned = P.comparison_by_measure(result.purchase, {"brier": "calibration error"})
    assert turned["measure"].to_list() == [
        "calibration error" if m == "brier" else m for m in P.METRICS
    ]
    used = P.MODEL_LABELS[result.purchase.chosen]
    assert f"{used} (used)" in turned.columns
    for i, metric in enumerate(P.METRICS):  # every cell is the same text, moved
        assert [turned[c][i] for c in turned.columns[1:]] == table[metric].to_list()


def test_the_verdict_says_when_a_baseline_measured_better(result):
    t = result.purchase
    text = P.verdict(t)
    assert text.startswith(f"On the held-out window, {P.MODEL_LABELS[t.best_on_test]}")
    assert ("A simple baseline measured better" in text) == t.baseline_wins


def test_score_mask_keeps_users_within_every_range_and_drops_missing_scores():
    frame = pl.DataFrame({"churn_risk": [0.7, 0.5, None, 0.9], "n_risk_flags": [0, 1, 2, 1]})
    mask = P.score_mask(frame, {"churn_risk": (0.6, 1.0), "n_risk_flags": (1, 10)})
    assert mask.to_list() == [False, False, False, True]


def test_curves_and_figures_cover_every_model(result):
    from profiling.present import predict_viz as PV

    t = result.purchase
    curves = {m: P.curves(t, m) for m in [P.LEARNED, *P.BASELINES]}
    assert len(PV.roc_figure(curves).data) == 6  # five models and the diagonal
    cal = curves[P.LEARNED]["calibration"]
    assert cal["users"].sum() == t.class_balance["test_users"]
    gain = curves[P.LEARNED]["gain"]
    assert gain["share_captured"][-1] == pytest.approx(1.0)
    curve = P.threshold_curve(t, P.LEARNED)
    assert curve.height == 101 and curve["recall"][0] == 1.0  # threshold 0: everyone is "yes"
    fig = PV.threshold_figure(curve, 0.5, t.thresholds[P.LEARNED])
    assert len(fig.layout.shapes) == 2  # the slider and the F1-max marks
    assert len(PV.holdout_figure(result.holdout, 30).data) == 2


def test_top_scores_lists_the_highest_scores_first_without_missing_ones(result):
    top = P.top_scores(result.scores, "churn", n=10)
    assert top.height == 10
    assert top["churn_risk"].is_sorted(descending=True)
    assert top.columns == ["user_id", "churn_risk", "churn_risk_pct", "churn_drivers"]


@pytest.fixture(scope="module")
def held_out(result) -> P.Examples:
    return P.build_examples(simulated_store(), result.plan.test, 30, "purchase")


def test_the_drivers_of_a_baseline_score_are_that_baselines_input(held_out):
    model = P.make_models("purchase")["purchase_days"].fit(held_out)
    d = P.explain_scores(model, held_out, inputs=P.MODEL_INPUTS["purchase_days"])
    assert set(d["feature"]) == {"purchase_days"}
    # more purchase days than the median user pushes the propensity up, fewer pushes it down
    assert (d.filter(pl.col("value") > pl.col("typical"))["effect"] > 0).all()
    assert (d.filter(pl.col("value") < pl.col("typical"))["effect"] < 0).all()
    assert d.filter(pl.col("value") == pl.col("typical")).height == 0  # no effect, no row


def test_a_learned_driver_is_the_score_change_when_that_feature_is_set_to_the_median(held_out):
    model = P.LearnedModel().fit(held_out)
    d = P.explain_scores(model, held_out)
    first = d.row(0, named=True)
    X = held_out.X()
    i = held_out.frame[S.USER_ID].to_list().index(first[S.USER_ID])
    j = list(held_out.features).index(first["feature"])
    changed = X[i : i + 1].copy()
    changed[0, j] = np.nanmedian(X[:, j])
    by_hand = model.predict_X(X[i : i + 1])[0] - model.predict_X(changed)[0]
    assert first["effect"] == pytest.approx(by_hand)
    assert d.group_by(S.USER_ID).len()["len"].max() <= 3


@pytest.mark.parametrize("chunk", [20_000, 7])
def test_learned_drivers_are_those_of_scoring_every_user_with_each_feature_at_its_median(
    held_out, monkeypatch, chunk
):
    """Only the trees that read a feature are run again, on the users whose value differs
    from the median (``chunk`` users at a time); the drivers are those of scoring every user
    again, one feature at a time, up to float rounding of the sum of the trees."""
    from profiling.predict import drivers

    monkeypatch.setattr(drivers._TreeEffects, "CHUNK", chunk)
    model = P.LearnedModel().fit(held_out)
    X = held_out.X()
    base = model.predict_X(X)
    effects = np.empty_like(X)
    for j in range(X.shape[1]):
        changed = X.copy()
        changed[:, j] = np.nanmedian(X[:, j])
        effects[:, j] = base - model.predict_X(changed)
    ours = P.explain_scores(model, held_out)
    users = held_out.frame[S.USER_ID].to_list()
    rows = [users.index(u) for u in ours[S.USER_ID]]
    cols = [list(held_out.features).index(f) for f in ours["feature"]]
    assert ours[S.USER_ID].n_unique() > 10
    np.testing.assert_allclose(ours["effect"].to_numpy(), effects[rows, cols], rtol=0, atol=1e-12)
    # every effect above 1e-6 in a user's top three is listed: none is skipped
    top = np.sort(np.abs(effects), axis=1)[:, -3:]
    assert ours.height == int((top > 1e-6).sum())


def test_drivers_rescore_every_user_when_the_trees_cannot_be_read(held_out, monkeypatch):
    from profiling.predict import drivers

    model = P.LearnedModel().fit(held_out)
    by_trees = P.explain_scores(model, held_out)
    monkeypatch.setattr(drivers._TreeEffects, "of", classmethod(lambda cls, m, X: None))
    rescored = P.explain_scores(model, held_out)
    assert rescored.drop("effect").equals(by_trees.drop("effect"))
    np.testing.assert_allclose(rescored["effect"], by_trees["effect"], rtol=0, atol=1e-12)


def test_on_more_rows_than_max_rows_the_learned_model_fits_a_seeded_sample_and_says_so(
    held_out,
):
    n = held_out.frame.height
    sampled = P.LearnedModel(max_rows=300).fit(held_out)
    assert sampled.rows_ == (300, n)
    assert f"fitted on a random 300 of {n:,} example rows (fixed seed)" in sampled.describe()
    again = P.LearnedModel(max_rows=300).fit(held_out)
    assert np.array_equal(sampled.predict(held_out), again.predict(held_out))
    whole = P.LearnedModel(max_rows=n).fit(held_out)
    assert whole.rows_ == (n, n) and "random" not in whole.describe()
    assert not np.array_equal(sampled.predict(held_out), whole.predict(held_out))


def test_on_a_large_store_drivers_are_computed_for_the_top_scored_users_against_everyone(
    held_out, monkeypatch
):
    from profiling.predict import scoring

    model = P.LearnedModel().fit(held_out)
    monkeypatch.setattr(scoring, "DRIVER_USERS", 50)
    scores, drivers = scoring.score_today(model, held_out, P.LEARNED, True)
    top = set(scores.sort("score", descending=True, maintain_order=True)[S.USER_ID][:50])
    assert set(scores.filter(pl.col("drivers").is_not_null())[S.USER_ID]) <= top
    assert set(drivers[S.USER_ID]) <= top and len(set(drivers[S.USER_ID])) > 40
    # the same drivers as explaining every user: "typical" is every scored user's median
    everyone = P.explain_scores(model, held_out).filter(pl.col(S.USER_ID).is_in(list(top)))
    assert drivers.sort(S.USER_ID, "rank").equals(everyone.sort(S.USER_ID, "rank"))


# ---- a user without drivers is told why ------------------------------------------------------
def _scores_with_drivers() -> pl.DataFrame:
    # a..d scored 0.9 > 0.8 > 0.7 > 0.6; drivers computed for the top two (a, b) only; e has
    # no purchase score; d is in the top two of nobody
    return pl.DataFrame(
        {
            S.USER_ID: ["a", "b", "c", "d", "e"],
            "purchase_propensity": [0.9, 0.8, 0.7, 0.6, None],
            "purchase_propensity_pct": [100.0, 80.0, 60.0, 40.0, None],
            "purchase_drivers": ["recency 2 (+0.1)", None, None, None, None],
        }
    )


def test_a_user_below_the_driver_cutoff_is_told_how_many_score_higher(monkeypatch):
    from profiling.predict import reading

    monkeypatch.setattr(reading, "DRIVER_USERS", 2)
    scores = _scores_with_drivers()
    assert P.missing_drivers(scores, "c", "purchase") == ("below_top", 2)  # a and b above
    assert P.missing_drivers(scores, "d", "purchase") == ("below_top", 3)
    # b is in the top two but has no driver: no input moves their score
    assert P.missing_drivers(scores, "b", "purchase") == ("typical", 1)
    assert P.missing_drivers(scores, "a", "purchase") is None  # has drivers
    assert P.missing_drivers(scores, "e", "purchase") is None  # no score
    assert P.missing_drivers(scores, "zz", "purchase") is None  # unknown user
    # drivers not asked for at all: nothing to explain
    none = scores.with_columns(pl.lit(None, pl.String).alias("purchase_drivers"))
    assert P.missing_drivers(none, "c", "purchase") is None


class _HalfBlind(P.ScoreModel):
    """Scores 0.2 / 0.6 from ``x`` and cannot score a user whose ``x`` is missing (NaN)."""

    def fit(self, ex):
        return self

    def predict(self, ex):
        x = ex.frame["x"].to_numpy().astype(float)
        return np.where(x > 1.0, 0.6, 0.2) + 0.0 * x  # NaN stays NaN


def test_a_user_the_model_cannot_score_has_no_percentile_and_no_drivers():
    from profiling.predict.scoring import score_today

    frame = pl.DataFrame({S.USER_ID: ["a", "b", "c"], "x": [0.0, 2.0, None]})
    ex = P.Examples(frame, ("x",))
    scores, drivers = score_today(_HalfBlind(), ex, P.LEARNED, drivers=True)
    c = scores.filter(pl.col(S.USER_ID) == "c").row(0, named=True)
    # not "100th percentile" nor "x none (+NaN)": unscored
    assert c["score"] is None and c["percentile"] is None and c["drivers"] is None
    # the two scored users rank among themselves: a at 1 of 2 (50), b at 2 of 2 (100)
    assert scores.sort(S.USER_ID)["percentile"].to_list() == [50.0, 100.0, None]
    assert "c" not in drivers[S.USER_ID].to_list()
    assert not drivers["effect"].is_nan().any()


def test_the_search_tunes_on_a_seeded_sample_only_above_tune_rows_and_says_so(held_out):
    from profiling.predict.models import TUNE_ROWS

    n = held_out.frame.height
    tuning = n - n // 4  # one cutoff: a random quarter of the rows is the validation part
    whole = P.LearnedModel(tune_rows=tuning).fit(held_out)
    assert whole.tuned_on_ == (tuning, tuning) and "tuning rows" not in whole.describe()
    sampled = P.LearnedModel(tune_rows=150).fit(held_out)
    assert sampled.tuned_on_ == (150, tuning)
    note = f"settings chosen on a random 150 of {tuning:,} tuning rows (fixed seed)"
    assert note in sampled.describe()
    again = P.LearnedModel(tune_rows=150).fit(held_out)
    assert [t[0] for t in again.trials_] == [t[0] for t in sampled.trials_]
    assert [t[0] for t in sampled.trials_] != [t[0] for t in whole.trials_]
    # a later fit with the chosen setting says on what rows that setting was chosen
    later = P.LearnedModel(**sampled.tuned()).fit(held_out)
    assert "chosen on the validation window" in later.describe() and note in later.describe()
    assert TUNE_ROWS == 100_000 and P.LearnedModel().tune_rows == TUNE_ROWS


def test_reuse_trial_keeps_the_tuning_fit_only_when_the_search_saw_a_sample(held_out):
    n = held_out.frame.height
    tuning = n - n // 4
    refit = P.LearnedModel(tune_rows=150).fit(held_out)
    kept = P.LearnedModel(tune_rows=150, reuse_trial=True).fit(held_out)
    assert refit.refitted_ and not kept.refitted_
    assert kept.setting_ == refit.setting_ and kept.n_iter_ == refit.n_iter_
    # the kept model is the one fitted on 150 rows, not the refit on all n
    assert not np.array_equal(kept.predict(held_out), refit.predict(held_out))
    # on no more rows than tune_rows, the model is refitted on every row as always
    small = P.LearnedModel(tune_rows=tuning, reuse_trial=True).fit(held_out)
    assert small.refitted_
    whole = P.LearnedModel(tune_rows=tuning).fit(held_out)
    assert np.array_equal(small.predict(held_out), whole.predict(held_out))


def test_a_chosen_setting_is_calibrated_on_given_scores_only_above_tune_rows(held_out):
    n = held_out.frame.height
    tuning = n - n // 4
    chosen = P.LearnedModel(tune_rows=150).fit(held_out).tuned()
    # four users by hand: of the 2 x 2 (positive, negative) pairs, 0.35 < 0.4 is the one
    # ordered wrongly, so the ROC-AUC of these scores is 3 / 4
    given = (np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    model = P.LearnedModel(tune_rows=150, **chosen, calibrate_on=given).fit(held_out)
    assert model.calibrated_on_given_ and model.validation_auc_ == 0.75
    assert model.n_iter_ == chosen["n_iter"] and model.refitted_
    # the calibration is the given scores' (sigmoid below 2,000 rows): higher raw, higher chance
    p = model.calibrate(np.array([0.1, 0.8]))
    assert p[0] < p[1]
    fitted = P.LearnedModel(tune_rows=150, **chosen).fit(held_out)
    assert not fitted.calibrated_on_given_ and fitted.validation_auc_ != 0.75
    # the same raw model either way: only the calibration comes from the given scores
    np.testing.assert_array_equal(model.raw(held_out), fitted.raw(held_out))
    # on no more rows than tune_rows the setting is fitted once more, as always
    small = P.LearnedModel(tune_rows=tuning, **chosen, calibrate_on=given).fit(held_out)
    whole = P.LearnedModel(tune_rows=tuning, **chosen).fit(held_out)
    assert not small.calibrated_on_given_
    np.testing.assert_array_equal(small.predict(held_out), whole.predict(held_out))


def test_predict_on_a_store_above_tune_rows_samples_the_search_and_says_so(monkeypatch):
    from profiling.predict import models

    monkeypatch.setitem(models.LearnedModel.__init__.__kwdefaults__, "tune_rows", 100)
    r = P.predict(simulated_store(), horizon_days=30, n_boot=0, max_train_cutoffs=3, drivers=False)
    assert "settings chosen on a random 100 of" in r.purchase.learned_note
    auc = r.purchase.metrics.filter(
        (pl.col("model") == P.LEARNED) & (pl.col("metric") == "roc_auc")
    )["value"][0]
    assert auc > 0.6  # planted rates are still learned from the sampled search


def test_a_one_column_baseline_fitted_on_counts_per_value_is_the_fit_on_every_row(monkeypatch):
    from sklearn.linear_model import LogisticRegression

    from profiling.predict import models

    rows_fitted = []

    class Spy(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            rows_fitted.append(len(X))
            return super().fit(X, y, sample_weight=sample_weight)

    monkeypatch.setattr(models, "LogisticRegression", Spy)
    rng = np.random.default_rng(3)
    score = rng.integers(3, 16, 5_000).astype(float)  # 13 values over 5,000 users
    label = (rng.random(5_000) < 1 / (1 + np.exp(-(score - 9) / 2))).astype(int)
    ex = P.Examples(pl.DataFrame({"rfm_score": score, "label": label}), ("rfm_score",))
    ours = P.make_models("purchase", learned=False)["rfm"].fit(ex)
    every_row = LogisticRegression().fit(score[:, None], label)
    assert ours.model_.coef_[0, 0] == pytest.approx(every_row.coef_[0, 0], rel=1e-5)
    assert ours.model_.intercept_[0] == pytest.approx(every_row.intercept_[0], rel=1e-5)
    # the rows given to the fit are the 13 values x 2 labels at most, not 5,000
    assert len(np.unique(score)) == 13 and rows_fitted == [26]
    # a column of mostly distinct values is fitted row by row, as before
    spread = P.Examples(
        pl.DataFrame({"rfm_score": score + rng.random(5_000), "label": label}), ("rfm_score",)
    )
    plain = LogisticRegression().fit(spread.frame[["rfm_score"]].to_numpy(), label)
    again = P.make_models("purchase", learned=False)["rfm"].fit(spread)
    assert again.model_.coef_[0, 0] == plain.coef_[0, 0] and rows_fitted[1:] == [5_000]


def test_importance_is_measured_on_a_seeded_sample_only_above_importance_users(
    held_out, monkeypatch
):
    from profiling.predict import scoring

    seen = []
    real = scoring.permutation_importance

    def spy(model, X, y, **kwargs):
        seen.append((X.shape[0], kwargs.get("max_samples", 1.0)))
        return real(model, X, y, **kwargs)

    monkeypatch.setattr(scoring, "permutation_importance", spy)
    model = P.LearnedModel().fit(held_out)
    n = held_out.frame.height
    everyone = scoring.input_importance(model, held_out, 2, 0)
    monkeypatch.setattr(scoring, "IMPORTANCE_USERS", 100)
    sampled = scoring.input_importance(model, held_out, 2, 0)
    again = scoring.input_importance(model, held_out, 2, 0)
    # every user below the limit; above it, 100 users for the unshuffled score too
    assert seen == [(n, 1.0), (100, 1.0), (100, 1.0)] and n > 100
    assert sampled.equals(again) and not sampled.equals(everyone)
