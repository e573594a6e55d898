"""AppTest: the User profile's "Predicted scores" block for a scored customer, a customer
the models did not score, and a store whose buying-pattern model could not be fitted
(issue 24: no "100th percentile", no "drivers none (+NaN)", no value cut at 1280 px)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _section(user: str, lang: str = "en", fitted: bool = True, note=None) -> AppTest:
    def script(user, lang, fitted, note):
        from types import SimpleNamespace

        import polars as pl
        import streamlit as st

        from profiling.vocabulary import i18n
        from ui import predict as pred_ui
        from ui import state

        i18n.set_language(lang)
        st.session_state[state.LANG] = lang  # as the router keeps it (fragments read it)
        scores = pl.DataFrame(
            {
                "user_id": ["a", "b"],
                "purchase_propensity": [0.25, None],
                "purchase_propensity_pct": [52.0, None],
                "purchase_drivers": ["days since last purchase 12 (+0.08)", None],
                "churn_risk": [0.5, None],
                "churn_risk_pct": [3.0, None],
                "churn_drivers": [None, None],
                "anomaly_score": [0.41, 0.6],
                "anomaly_pct": [11.0, 90.0],
                "risk_flags": [[], []],
                "risk_reasons": ["", ""],
            }
        )
        if fitted:
            scores = scores.with_columns(
                pl.Series("p_alive", [0.9, None]),
                pl.Series("expected_purchases_365d", [1.5, None]),
            )
        pred_ui.ready_scores = lambda: scores
        # without a note: the lapse window and fit note in their default words
        kept = SimpleNamespace(clv_note=note, lapse=None, purchase=None, churn=None)
        saved = SimpleNamespace(predictions=kept, risk=None)
        pred_ui.ready = lambda: None if note is None else saved
        pred_ui.user_section(user)

    at = AppTest.from_function(script, args=(user, lang, fitted, note), default_timeout=60)
    return at.run()


def test_a_scored_customer_shows_ordinal_percentiles_and_drivers():
    at = _section("a")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Chance to buy"] == "25.0%"
    assert metrics["Still active"] == "90.0%"
    captions = [c.value for c in at.caption]
    assert "52nd percentile" in captions and "3rd percentile" in captions
    assert "11th percentile" in captions
    assert any("drivers" in c and "days since last purchase 12" in c for c in captions)


def test_a_customer_the_models_did_not_score_gets_one_plain_sentence():
    at = _section("b")
    assert not at.exception
    assert not at.metric  # no "—" tiles for scores that do not exist
    text = " ".join(c.value for c in at.caption)
    assert "did not score this customer" in text
    assert "percentile" not in text.replace("or percentile to show", "")
    assert "drivers" not in text and "NaN" not in text


def test_an_unfitted_buying_pattern_model_shows_a_dash_and_a_short_note():
    at = _section("a", fitted=False)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Still active"] == "—" and metrics["Value, next year"] == "—"
    assert "could not fit" not in metrics.values()
    assert [c.value for c in at.caption].count("model not fitted") == 2


def test_the_scores_block_reads_in_chinese():
    at = _section("b", lang="zh")
    assert not at.exception
    assert at.subheader[0].value == "预测得分"
    assert all(not any(ch.isascii() and ch.isalpha() for ch in c.value) for c in at.caption)


def test_why_the_buying_pattern_model_was_not_fitted_reads_in_chinese():
    import polars as pl
    import pytest

    from profiling import predict as P
    from profiling.predict import clv

    # a spend model on 3 repeat buyers, refused: the saved note keeps the reason in English
    three = pl.DataFrame({"repeat_purchase_days": [1, 2, 3], "monetary_value": [10.0, 12.0, 30.0]})
    with pytest.raises(clv.ModelFitError) as raised:
        clv.fit_gamma_gamma(three)
    note = P.Stage(
        "{period}: could not fit: {reason}", period="whole log", reason=P.error_stage(raised.value)
    )
    at = _section("a", lang="zh", fitted=False, note=note)
    assert not at.exception
    value = next(m for m in at.metric if m.label == "未来一年价值")
    assert value.help == (
        "预计购买次数和价值需要购买模式模型。整个日志：无法拟合：Gamma-Gamma 无法拟合：它至少需要 "
        "10 位消费为正的复购客户（它只读取复购）；数据中只有 3 位。"
    )
