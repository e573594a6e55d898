"""profiling.predict.metrics: scikit-learn's ROC-AUC and average precision give the numbers of
a textbook example worked by hand, and the same numbers (within 1e-12) as the rank and step
formulas the package computed before it used scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from profiling.predict.metrics import average_precision, roc_auc

# six users, with a tie at 0.4 between one buyer and two non-buyers
Y = np.array([0, 0, 1, 1, 0, 1])
P = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.4])


def test_roc_auc_of_a_worked_example_counts_ties_as_one_half():
    # buyers 0.35, 0.8, 0.4 against non-buyers 0.1, 0.4, 0.4: pairs won, tied pairs count 1/2
    by_hand = (1 + 3 + (1 + 0.5 + 0.5)) / (3 * 3)
    assert roc_auc(Y, P) == pytest.approx(by_hand, abs=1e-12)


def test_average_precision_of_a_worked_example_steps_at_each_distinct_score():
    # thresholds 0.8 (1 of 1 is a buyer), 0.4 (2 of 4), 0.35 (3 of 5), 0.1 (recall unchanged)
    by_hand = (1 / 3) * 1 + (1 / 3) * (2 / 4) + (1 / 3) * (3 / 5)
    assert average_precision(Y, P) == pytest.approx(by_hand, abs=1e-12)


def rank_auc(y: np.ndarray, p: np.ndarray) -> float:
    """The Mann-Whitney form the package used before scikit-learn."""
    y = y.astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    return (stats.rankdata(p)[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def step_average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """Sum over distinct thresholds of (R_n - R_n-1) P_n, as the package computed it before."""
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order].astype(float)
    idx = np.r_[np.flatnonzero(np.diff(ps)), ys.size - 1]
    tps = np.cumsum(ys)[idx]
    return float(np.sum(np.diff(np.r_[0.0, tps / tps[-1]]) * tps / (idx + 1)))


@pytest.mark.parametrize("seed", range(20))
def test_scikit_learn_gives_the_numbers_of_the_former_formulas_within_1e_12(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    y = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
    y[:2] = [0, 1]  # both classes
    p = np.round(rng.random(n), int(rng.integers(1, 4)))  # rounding makes ties
    assert abs(roc_auc(y, p) - rank_auc(y, p)) <= 1e-12
    assert abs(average_precision(y, p) - step_average_precision(y, p)) <= 1e-12


def test_one_class_no_buyer_or_a_missing_score_give_nan_not_an_error():
    assert np.isnan(roc_auc(np.zeros(4), np.array([0.1, 0.2, 0.3, 0.4])))
    assert np.isnan(roc_auc(np.ones(4), np.array([0.1, 0.2, 0.3, 0.4])))
    assert np.isnan(average_precision(np.zeros(4), np.array([0.1, 0.2, 0.3, 0.4])))
    assert np.isnan(roc_auc(Y, np.r_[P[:-1], np.nan]))
    assert np.isnan(average_precision(Y, np.r_[P[:-1], np.nan]))
