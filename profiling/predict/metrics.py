"""How well a score separates buyers from non-buyers: scikit-learn's ROC-AUC and average
precision, plus what scikit-learn lacks (top-decile lift with ties shared, the F1-maximizing
threshold, a percentile bootstrap over users).

The threshold metrics (accuracy, precision, recall, F1) and the Brier score are counted here
rather than with ``sklearn.metrics``: :func:`bootstrap_metrics` computes them about a
thousand times per task (200 resamples of five models), where scikit-learn's input checks
would cost more than the counts themselves.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, roc_auc_score

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier", "top_decile_lift")
HIGHER_IS_BETTER = {m: m != "brier" for m in METRICS}


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (min=0, max=1; 0.5 = random), ties counted as one half:
    ``sklearn.metrics.roc_auc_score``, except NaN (not an error) with one class only, so a
    bootstrap resample with one class is left out rather than stopping the run (and NaN
    when a score is not finite, where scikit-learn raises)."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    n1 = int(y.sum())
    if n1 == 0 or n1 == y.size or not np.isfinite(p).all():
        return float("nan")
    return float(roc_auc_score(y, p))


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """PR-AUC as average precision: sum over distinct thresholds of (R_n - R_{n-1}) P_n
    (min=0, max=1): ``sklearn.metrics.average_precision_score``, except NaN without
    positives (scikit-learn warns there) or when a score is not finite (it raises)."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    if y.sum() == 0 or not np.isfinite(p).all():
        return float("nan")
    return float(average_precision_score(y, p))


def top_decile_lift(y: np.ndarray, p: np.ndarray, fraction: float = 0.1) -> float:
    """Positive rate among the top ``fraction`` of scores divided by the overall positive rate
    (1 = no better than random). Users tied at the boundary score count in proportion, so a
    score with many ties is not credited for an arbitrary order."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    base = y.mean()
    if base == 0:
        return float("nan")
    k = max(int(np.ceil(fraction * y.size)), 1)
    boundary = np.sort(p)[::-1][k - 1]
    above = p > boundary
    tied = p == boundary
    n_above = int(above.sum())
    hits = y[above].sum() + (k - n_above) * y[tied].mean()
    return float(hits / k / base)


def threshold_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """accuracy, precision, recall, f1 when ``p >= threshold`` predicts the positive class
    (precision 0 when nothing is predicted positive, as sklearn's zero_division=0)."""
    y = np.asarray(y).astype(bool)
    pred = np.asarray(p) >= threshold
    tp = float((pred & y).sum())
    fp = float((pred & ~y).sum())
    fn = float((~pred & y).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {
        "accuracy": float((pred == y).mean()),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def all_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Every metric of :data:`METRICS` for labels ``y`` and probabilities ``p``."""
    out = threshold_metrics(y, p, threshold)
    out["roc_auc"] = roc_auc(y, p)
    out["pr_auc"] = average_precision(y, p)
    out["brier"] = float(np.mean((np.asarray(p, dtype=float) - np.asarray(y)) ** 2))
    out["top_decile_lift"] = top_decile_lift(y, p)
    return out


def f1_max_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The score threshold (predict positive when ``p >= t``) that maximizes F1 on (y, p);
    the highest such threshold on ties. Pass validation data, never the test window."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.sum() == 0:
        return float(p.max()) + 1e-9
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    idx = np.r_[np.flatnonzero(np.diff(ps)), ys.size - 1]
    tps = np.cumsum(ys)[idx]
    f1 = 2 * tps / (idx + 1 + y.sum())
    return float(ps[idx[int(np.argmax(f1))]])


def bootstrap_metrics(
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    *,
    n_boot: int = 200,
    random_state: int = 0,
) -> pl.DataFrame:
    """Metrics with a percentile bootstrap 95% interval over users (resampled with
    replacement ``n_boot`` times; resamples with one class only are left out of the AUCs).

    Returns
    -------
    pl.DataFrame
        One row per metric: metric, value, ci_low, ci_high.
    """
    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    point = all_metrics(y, p, threshold)
    rng = np.random.default_rng(random_state)
    draws = {m: [] for m in METRICS}
    for _ in range(n_boot):
        idx = rng.integers(0, y.size, y.size)
        for m, v in all_metrics(y[idx], p[idx], threshold).items():
            draws[m].append(v)
    rows = []
    for m in METRICS:
        values = np.asarray(draws[m], dtype=float)
        values = values[np.isfinite(values)]
        lo, hi = np.percentile(values, [2.5, 97.5]) if values.size else (np.nan, np.nan)
        rows.append({"metric": m, "value": point[m], "ci_low": float(lo), "ci_high": float(hi)})
    return pl.DataFrame(rows)
