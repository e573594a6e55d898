"""`python -m profiling predict` writes scores, metrics and a report, and refuses unusable
logs with one line and exit code 2."""

from __future__ import annotations

import json

import polars as pl

from profiling.cli import main
from profiling.vocabulary import schema as S
from tests.test_predict import simulated_store


def write_log(tmp_path, days: int = 200) -> str:
    path = tmp_path / "events.parquet"
    simulated_store(n_users=300, days=days).select(
        S.USER_ID, S.EVENT_TYPE, S.TIMESTAMP, S.AMOUNT
    ).write_parquet(path)
    return str(path)


def test_predict_writes_scores_metrics_and_report(tmp_path, capsys):
    out = tmp_path / "out"
    log = write_log(tmp_path)
    code = main(
        [
            "predict",
            log,
            "--horizon",
            "30",
            "--max-cutoffs",
            "2",
            "--n-boot",
            "20",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    scores = pl.read_parquet(out / "scores.parquet")
    assert (
        scores[S.USER_ID].n_unique() == scores.height == pl.read_parquet(log)[S.USER_ID].n_unique()
    )
    for column in (
        "purchase_propensity",
        "churn_risk",
        "p_alive",
        "expected_value_365d",
        "anomaly_score",
        "risk_flags",
    ):
        assert column in scores.columns
    metrics = pl.read_csv(out / "metrics.csv")
    assert metrics.columns[:5] == ["model", "metric", "value", "ci_low", "ci_high"]
    assert set(metrics["model"]) == {
        "learned",
        "recency",
        "purchase_days",
        "rfm",
        "bgnbd",
        "p_alive",
    }
    assert {"accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier"} <= set(
        metrics["metric"]
    )
    report = json.loads((out / "report.json").read_text())
    assert len(report["cutoffs"]["train_cutoffs"]) == 2
    assert set(report["bgnbd"]) >= {"r", "alpha", "a", "b"}
    assert set(report["gamma_gamma"]) >= {"p", "q", "v"}
    assert 0 < report["threshold"]["purchase"] < 1
    assert report["class_balance"]["purchase"]["test_users"] > 0
    printed = capsys.readouterr().out
    assert "purchase: ROC-AUC" in printed
    # churn's window is printed in words, longer than the 30-day horizon
    assert report["lapse"]["days"] > 30
    assert f"churn window: {report['lapse']['reads']}" in printed


def test_predict_refuses_a_log_too_short_for_the_horizon_with_one_line(tmp_path, capsys):
    code = main(
        ["predict", write_log(tmp_path, days=60), "--horizon", "30", "--out", str(tmp_path / "o")]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: ") and "predicting 30 days ahead needs at least 90 days" in err


def test_predict_refuses_a_log_without_purchases(tmp_path, capsys):
    path = tmp_path / "views.csv"
    path.write_text("user,event,time\nu1,view,2024-01-01\nu2,view,2024-03-01\n")
    assert main(["predict", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "has no purchase" in capsys.readouterr().err
