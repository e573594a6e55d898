"""Learned user embeddings as optional inputs of the predictive scores
(:func:`profiling.predict.predict` with ``user_embeddings="gru4rec"`` or ``"sasrec"``).

A sequential recommender (:mod:`profiling.recommenders.sequence`) is trained ONCE, on the
events strictly before a date ``before`` that :func:`profiling.predict.predict` sets to the
earliest training cutoff. At every cutoff (training, validation, held-out, today) the same
frozen network then reads each user's steps before that cutoff and returns its
representation, projected on the ``dims`` principal components of the representations of
the users it was trained on. So:

- no weight, no component and no item vocabulary comes from on or after any cutoff a row is
  made at (:meth:`SequenceEmbeddings.features` refuses a cutoff earlier than ``before``);
- every row lives in the same coordinates (separate fits per cutoff would give each cutoff
  its own, meaningless-to-compare axes);
- items first seen after ``before`` are unknown to the network and skipped; a user with no
  step on a known item gets null embedding features (the gradient boosting handles them).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from profiling.errors import ProfilingError
from profiling.predict.protocol import Progress, Stage
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

EMBEDDING_MODELS = ("gru4rec", "sasrec")
PREFIX = "seq_emb_"


class EmbeddingError(ProfilingError, ValueError):
    """The log cannot give sequence embeddings (no item ids, nothing before the date)."""


def embedding_columns(dims: int) -> list[str]:
    return [f"{PREFIX}{k}" for k in range(1, dims + 1)]


class SequenceEmbeddings:
    """A sequence model fitted before one date, reading users' histories at later cutoffs.

    Parameters
    ----------
    model : {"gru4rec", "sasrec"}, default "gru4rec"
    dims : int, default 8
        Principal components of the user representation kept as features.
    time_budget : float, default 60
        Training seconds of the sequence model.
    model_params : dict, optional
        Other parameters of the sequence model (e.g. ``hidden``, ``epochs``).
    random_state : int, default 0
    """

    def __init__(
        self,
        model: str = "gru4rec",
        *,
        dims: int = 8,
        time_budget: float = 60.0,
        model_params: dict | None = None,
        random_state: int = S.RANDOM_STATE,
    ) -> None:
        if model not in EMBEDDING_MODELS:
            raise EmbeddingError(
                _("user_embeddings must be one of {models}. Got {model} instead.").format(
                    models=", ".join(EMBEDDING_MODELS), model=repr(model)
                )
            )
        if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
            raise EmbeddingError(
                _("dims must be an integer >= 1. Got dims={dims} instead.").format(dims=repr(dims))
            )
        self.model = model
        self.dims = dims
        self.time_budget = time_budget
        self.model_params = dict(model_params or {})
        self.random_state = random_state

    def fit(self, events: pl.DataFrame, before: datetime) -> SequenceEmbeddings:
        """Train the sequence model on the events strictly before ``before``.

        Raises
        ------
        EmbeddingError
            When the events have no item ids or no item event before ``before``.
        """
        from profiling.data.interactions import interactions_from
        from profiling.recommenders.registry import make

        if S.ITEM_ID not in events.columns or events[S.ITEM_ID].is_null().all():
            raise EmbeddingError(
                _(
                    "user embeddings need item ids: the events have no item_id values "
                    "(a log of purchase totals only, such as CDNOW, has no item sequence)"
                )
            )
        past = events.filter(pl.col(S.TIMESTAMP) < before)
        train = interactions_from(past)
        if train.height == 0:
            raise EmbeddingError(
                _("user embeddings need item events before {day}; found none").format(
                    day=before.date()
                )
            )
        net = make(self.model, random_state=self.random_state)
        net.set_params(**self.model_params, time_budget=self.time_budget)
        self.model_ = net.fit(train, events=past)
        ids, vectors = self.model_.encode_histories(past)
        known = vectors[~np.isnan(vectors).any(axis=1)].astype(np.float64)
        self.mean_ = known.mean(axis=0)
        vt = np.linalg.svd(known - self.mean_, full_matrices=False)[2]
        k = min(self.dims, vt.shape[0])
        # fix each component's sign (largest loading positive) so runs are comparable
        comps = vt[:k]
        signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
        self.components_ = comps * np.where(signs == 0, 1.0, signs)[:, None]
        self.before_ = before
        self.users_ = len(ids)
        return self

    @property
    def columns(self) -> list[str]:
        return embedding_columns(self.components_.shape[0])

    def features(self, events: pl.DataFrame, cutoff: datetime) -> pl.DataFrame:
        """One row per user with an event before ``cutoff``: user_id and the embedding
        columns (``seq_emb_1`` ...; null when none of the user's steps is on a known item),
        read from the events strictly before ``cutoff`` only.

        Raises
        ------
        EmbeddingError
            When ``cutoff`` is earlier than the date the model was fitted before (the model
            would have learnt from events on or after the cutoff).
        """
        if cutoff < self.before_:
            raise EmbeddingError(
                _(
                    "the sequence model was fitted on events before {before}; features at the "
                    "earlier cutoff {cutoff} would use later events"
                ).format(before=self.before_, cutoff=cutoff)
            )
        past = events.filter(pl.col(S.TIMESTAMP) < cutoff)
        ids, vectors = self.model_.encode_histories(past)
        z = (vectors.astype(np.float64) - self.mean_) @ self.components_.T
        frame = pl.DataFrame({S.USER_ID: pl.Series(ids.tolist(), dtype=pl.String)})
        frame = frame.with_columns(
            pl.Series(name, z[:, j]).fill_nan(None) for j, name in enumerate(self.columns)
        )
        return frame

    def describe(self) -> str:
        return (
            f"{self.model} user embeddings ({len(self.columns)} principal components), the "
            f"network trained once on events before {self.before_.date()} "
            f"({self.model_.training_summary()})"
        )


def fit_before_cutoffs(
    events: pl.DataFrame,
    earliest: datetime,
    kind: str | None,
    dims: int,
    budget: float,
    params: dict | None,
    random_state: int,
    progress: Progress,
):
    """The user embeddings of a prediction run: (:class:`SequenceEmbeddings` of ``kind``
    fitted before ``earliest``, the earliest training cutoff, or None without a ``kind``;
    its note)."""
    if kind is None:
        return None, None
    progress(
        Stage(
            N_("user embeddings: training {kind} before {day}"), kind=kind, day=str(earliest.date())
        ),
        0.0,
    )
    embeddings = SequenceEmbeddings(
        kind,
        dims=dims,
        time_budget=budget,
        model_params=params,
        random_state=random_state,
    ).fit(events, before=earliest)
    return embeddings, embeddings.describe()
