"""Scoring with a fitted model: today's scores with percentiles and drivers, and the
permutation importance of the learned model's inputs on the held-out window."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.inspection import permutation_importance
from threadpoolctl import threadpool_limits

from profiling.predict.drivers import (
    DRIVER_SCHEMA,
    DRIVER_USERS,
    driver_text,
    explain_scores,
    typical_values,
)
from profiling.predict.labels import (
    Examples,
)
from profiling.predict.models import MODEL_INPUTS, LearnedModel, ScoreModel
from profiling.vocabulary import schema as S
from profiling.vocabulary.glossary import PREDICT_FEATURE_LABELS as FEATURE_LABELS


def _percentile(score: pl.Expr) -> pl.Expr:
    return score.rank("max") / score.count() * 100.0


IMPORTANCE_USERS = 20_000
"""Held-out users permutation importance is measured on at most (a seeded sample beyond)."""


def input_importance(
    learned: LearnedModel, test: Examples, repeats: int, random_state: int
) -> pl.DataFrame:
    """One row per feature: feature, label, importance, std (drop of held-out ROC-AUC when
    the feature is shuffled; on a seeded sample of :data:`IMPORTANCE_USERS` held-out users
    when there are more, which ranks the features as well at a fraction of the cost on a
    large store)."""
    names = [f for f, keep in zip(test.features, learned.keep_, strict=True) if keep]
    X, y = test.X()[:, learned.keep_], test.y()
    if X.shape[0] > IMPORTANCE_USERS:
        # one seeded sample, also for the unshuffled score: scikit-learn's max_samples
        # scores every held-out user once for it (500,000 at 10 million events)
        rows = np.sort(
            np.random.default_rng(random_state).choice(X.shape[0], IMPORTANCE_USERS, replace=False)
        )
        X, y = X[rows], y[rows]
    with threadpool_limits(learned.n_threads):
        imp = permutation_importance(
            learned.model_,
            X,
            y,
            scoring="roc_auc",
            n_repeats=repeats,
            random_state=random_state,
        )
    return pl.DataFrame(
        {
            "feature": names,
            "label": [FEATURE_LABELS.get(f, f) for f in names],
            "importance": imp.importances_mean,
            "std": imp.importances_std,
        }
    ).sort("importance", descending=True)


def score_today(
    final: ScoreModel, today: Examples, chosen: str, drivers: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(today's scores: user_id, score, percentile, drivers; the drivers frame). Drivers are
    computed for the :data:`DRIVER_USERS` highest-scored users (null for the others). A user
    the model cannot score (NaN) gets null score, percentile and drivers."""
    p_today = final.predict(today)
    # a model that cannot score a user (NaN) leaves them unscored: polars ranks NaN above
    # every number, which read as "100th percentile" on the User profile
    scores = today.frame.select(S.USER_ID).with_columns(
        pl.Series("score", p_today, dtype=pl.Float64).fill_nan(None)
    )
    scores = scores.with_columns(_percentile(pl.col("score")).alias("percentile"))
    driver_frame = pl.DataFrame(schema=DRIVER_SCHEMA)
    if drivers and today.frame.height:
        inputs = MODEL_INPUTS[chosen]
        typical = typical_values(today, list(today.features if inputs is None else inputs))
        shown = today
        if today.frame.height > DRIVER_USERS:
            top = np.sort(np.argsort(-p_today, kind="stable")[:DRIVER_USERS])
            shown = Examples(today.frame[top], today.features)
        driver_frame = explain_scores(final, shown, inputs=inputs, typical=typical)
        scores = scores.join(driver_text(driver_frame), on=S.USER_ID, how="left").with_columns(
            pl.when(pl.col("score").is_not_null()).then(pl.col("drivers")).alias("drivers")
        )
    else:
        scores = scores.with_columns(pl.lit(None, pl.String).alias("drivers"))
    return scores, driver_frame
