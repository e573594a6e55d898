"""`python -m profiling validate` prints the mapping and report, and fails clearly."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from profiling.cli import main
from profiling.cli.common import load_input
from profiling.errors import ProfilingError
from profiling.vocabulary import i18n

ROOT = Path(__file__).resolve().parent.parent
EVENTS = "Customer ID,StockCode,InvoiceDate,Quantity,Price\nc1,A,2024-01-01 10:00,2,5.00\n,A,2024-01-02 10:00,1,5.00\n"


def test_validate_prints_the_mapping_and_the_report(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(EVENTS)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Customer ID -> user_id" in out
    assert "rows read 2, kept 1, dropped 1" in out
    assert "missing user id" in out


def test_validate_json_has_the_counts(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(EVENTS)
    assert main(["validate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["report"]["events"]["rows_read"] == 2
    assert out["report"]["events"]["rows_kept"] == 1
    assert out["summary"]["revenue"] == 10.0


def test_validate_applies_map_overrides(tmp_path, capsys):
    path = tmp_path / "odd.csv"
    path.write_text("a,b\nx1,2024-01-01\nx2,2024-01-02\n")
    assert main(["validate", str(path), "--map", "a=user_id", "--map", "b=timestamp"]) == 0
    assert "a -> user_id      (set by you)" in capsys.readouterr().out


def test_validate_exits_non_zero_with_a_clear_message_on_unusable_input(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "profiling", "validate", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: empty.csv: the file is empty (0 bytes); expected a table"
    assert "Traceback" not in proc.stderr


def test_build_writes_profiles_segments_and_report(tmp_path, capsys):
    rows = ["user,item,when,price,qty"]
    for u in range(12):
        for d in range(1 + u % 4):
            rows.append(
                f"u{u},i{(u + d) % 5},2024-01-{1 + d * 3 + u % 3:02d} 1{u % 10}:00,{5 + u},1"
            )
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    assert main(["build", str(path), "--k", "3", "--out", str(out)]) == 0
    import polars as pl

    profiles = pl.read_parquet(out / "profiles.parquet")
    assert profiles.height == 12
    assert {"recency_days", "frequency", "monetary", "rfm_segment", "cluster", "tags"} <= set(
        profiles.columns
    )
    segments = json.loads((out / "segments.json").read_text())
    assert segments["clusters"]["k"] == 3
    assert "Champions" in segments["rfm"]["definitions"]
    report = json.loads((out / "report.json").read_text())
    assert report["cleaning"]["events"]["rows_kept"] == (1 + 2 + 3 + 4) * 3  # 1..4 rows, 12 users
    assert "category affinity" in report["features"]["skipped"]


def test_build_refuses_a_bad_k(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(EVENTS)
    assert main(["build", str(path), "--k", "many", "--out", str(tmp_path / "o")]) == 2
    assert "--k must be 'auto' or an integer. Got --k='many' instead." in capsys.readouterr().err


def test_input_errors_read_in_english_here_and_in_chinese_where_a_page_meets_them(tmp_path, capsys):
    assert main(["build", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == "error: give an events file, or --workspace NAME\n"
    with i18n.language("zh"):
        with pytest.raises(ProfilingError) as raised:
            load_input(argparse.Namespace(workspace="shop", events="orders.csv"))
        assert str(raised.value) == "请提供行为数据文件或 --workspace 之一，不要同时提供"
        with pytest.raises(ProfilingError) as raised:
            load_input(argparse.Namespace(workspace=None, events=None))
        assert str(raised.value) == "请提供行为数据文件，或 --workspace NAME"


def test_evaluate_writes_metrics_per_user_values_and_a_report(tmp_path, capsys):
    out = tmp_path / "eval"
    code = main(
        [
            "evaluate",
            str(ROOT / "sample_data" / "events.parquet"),
            "--items",
            str(ROOT / "sample_data" / "items.csv"),
            "--models",
            "popularity,item-knn",
            "--protocol",
            "temporal",
            "--k",
            "5",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    import polars as pl

    metrics = pl.read_csv(out / "metrics.csv")
    assert metrics.columns[:6] == ["model", "metric", "k", "value", "ci_low", "ci_high"]
    assert set(metrics["model"]) == {"popularity", "item-knn"}
    ndcg = dict(metrics.filter(pl.col("metric") == "ndcg").select("model", "value").iter_rows())
    assert ndcg["item-knn"] > ndcg["popularity"]
    assert pl.read_parquet(out / "per_user.parquet").height > 0
    report = json.loads((out / "report.json").read_text())
    assert report["split"]["protocol"] == "temporal" and report["k"] == 5


def test_evaluate_refuses_an_unknown_model(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(EVENTS)
    assert (
        main(["evaluate", str(path), "--models", "popularity,magic", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "unknown model 'magic'" in capsys.readouterr().err


def _udata(path: Path) -> None:
    """A MovieLens u.data-like rating log: user, item, rating 1-5, unix seconds."""
    import numpy as np

    rng = np.random.default_rng(0)
    lines = ["user_id\titem_id\trating\ttimestamp"]
    for u in range(1, 31):
        for i in rng.choice(np.arange(1, 40), size=12, replace=False):
            lines.append(f"{u}\t{i}\t{int(rng.integers(1, 6))}\t{881250949 + u * 1000 + int(i)}")
    path.write_text("\n".join(lines) + "\n")


def test_evaluate_a_rating_log_with_kfold_reports_rmse_mae_on_every_fold(tmp_path, capsys):
    import polars as pl

    path = tmp_path / "u.data"
    _udata(path)
    out = tmp_path / "eval"
    code = main(
        [
            "evaluate",
            str(path),
            "--models",
            "svd,popularity",
            "--protocol",
            "kfold",
            "--k",
            "5",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "relevant: every rating in the test part (rating log)" in captured.out
    metrics = pl.read_csv(out / "metrics.csv")
    rmse = metrics.filter(pl.col("metric") == "rmse").row(0, named=True)
    assert rmse["model"] == "svd" and rmse["folds"] == 5 and rmse["std"] > 0
    assert {"rmse", "mae", "f1", "ndcg"} <= set(metrics["metric"])
    report = json.loads((out / "report.json").read_text())
    assert report["relevance"]["kind"] == "rating log"
    folds = [r for r in report["per_fold"] if r["metric"] == "rmse"]
    assert [r["fold"] for r in folds] == [0, 1, 2, 3, 4]
    mean = sum(r["value"] for r in folds) / 5
    assert rmse["value"] == pytest.approx(mean)
    assert len(report["split"]["folds"]) == 5


def test_evaluate_with_a_threshold_counts_only_high_ratings(tmp_path, capsys):
    path = tmp_path / "u.data"
    _udata(path)
    code = main(
        [
            "evaluate",
            str(path),
            "--models",
            "popularity",
            "--rating-threshold",
            "4",
            "--protocol",
            "stratified",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 0
    assert "relevant: ratings >= 4 in the test part (rating log)" in capsys.readouterr().out


def test_evaluate_tune_saves_the_chosen_settings(tmp_path, capsys):
    out = tmp_path / "eval"
    code = main(
        [
            "evaluate",
            str(ROOT / "sample_data" / "events.parquet"),
            "--models",
            "popularity,ease",
            "--tune",
            "--tune-budget",
            "5",
            "--k",
            "5",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert list(report["tuned"]) == ["ease"]
    entry = report["tuned"]["ease"]
    assert set(entry["params"]) == {"l2", "weighting"}
    assert entry["validation_ndcg"] >= entry["default_validation_ndcg"]
    assert "of the training part" in entry["validation"]


def test_evaluate_kfold_with_tune_tunes_inside_every_fold(tmp_path, capsys):
    path = tmp_path / "u.data"
    _udata(path)
    out = tmp_path / "eval"
    code = main(
        [
            "evaluate",
            str(path),
            "--models",
            "ease",
            "--protocol",
            "kfold",
            "--k",
            "5",
            "--tune",
            "--tune-budget",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    per_fold = report["tuned"]["per_fold"]
    assert len(per_fold) == 5  # one tuning per fold, on that fold's training part
    assert all("of the training part" in fold["ease"]["validation"] for fold in per_fold)
