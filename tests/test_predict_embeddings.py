"""Sequence-model user embeddings as inputs of the predictive scores: fitted before the
earliest cutoff only, read with frozen weights, never from events on or after a cutoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from profiling import predict as P
from profiling.predict.embeddings import EmbeddingError, SequenceEmbeddings
from profiling.vocabulary import schema as S

START = datetime(2024, 1, 1, tzinfo=UTC)
TINY = {"hidden": 8, "epochs": 2, "validation_users": 0, "max_len": 8}


def store(n_users: int = 120, days: int = 150, seed: int = 5) -> pl.DataFrame:
    """Users buying items of a 12-item catalog on random days; a third stop at day 60."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 0.06, n_users)
    stop = np.where(rng.random(n_users) < 0.33, 60, days)
    buys = (rng.random((n_users, days)) < rate[:, None]) & (
        np.arange(days)[None, :] < stop[:, None]
    )
    u, d = np.nonzero(buys)
    frame = pl.DataFrame(
        {
            S.USER_ID: [f"u{i:03d}" for i in u],
            S.ITEM_ID: [f"i{int(x)}" for x in (u + d) % 12],
            S.EVENT_TYPE: S.PURCHASE,
            S.TIMESTAMP: [START + timedelta(days=int(x), hours=10) for x in d],
            S.AMOUNT: np.round(rng.gamma(2.0, 15.0, u.size), 2),
        }
    ).with_columns(pl.col(S.TIMESTAMP).dt.cast_time_unit("us"))
    others = [pl.lit(None).alias(c) for c in S.EVENT_COLUMNS if c not in frame.columns]
    return frame.with_columns(others).select(S.EVENT_COLUMNS)


def test_embeddings_are_fitted_before_the_date_and_read_nothing_after_a_cutoff():
    events = store()
    before = START + timedelta(days=60)
    # an item that appears only after `before` must not be known to the network
    late = (
        events.filter(pl.col(S.TIMESTAMP) >= before)
        .head(5)
        .with_columns(pl.lit("late-item").alias(S.ITEM_ID))
    )
    events = pl.concat([events, late])
    emb = SequenceEmbeddings("gru4rec", dims=3, model_params=TINY).fit(events, before)
    assert "late-item" not in set(emb.model_.items_)
    assert emb.model_.matrix_.sum() > 0
    assert set(emb.model_.users_) == set(
        events.filter(pl.col(S.TIMESTAMP) < before)[S.USER_ID].unique()
    )
    cutoff = START + timedelta(days=90)
    feats = emb.features(events, cutoff)
    assert feats.columns == [S.USER_ID, "seq_emb_1", "seq_emb_2", "seq_emb_3"]
    # every user with an event before the cutoff, and only them
    assert set(feats[S.USER_ID]) == set(
        events.filter(pl.col(S.TIMESTAMP) < cutoff)[S.USER_ID].unique()
    )
    # changing or dropping events on/after the cutoff changes nothing
    after = pl.col(S.TIMESTAMP) >= cutoff
    scrambled = events.with_columns(
        pl.when(after).then(pl.lit("i0")).otherwise(pl.col(S.ITEM_ID)).alias(S.ITEM_ID)
    )
    assert emb.features(scrambled, cutoff).equals(feats)
    assert emb.features(events.filter(~after), cutoff).equals(feats)
    # a cutoff before the fit date would read a model that learnt from later events
    with pytest.raises(EmbeddingError, match="fitted on events before 2024-03-01"):
        emb.features(events, START + timedelta(days=30))


def test_embedding_features_are_the_centred_vectors_on_the_principal_components():
    events = store(n_users=60)
    before = START + timedelta(days=80)
    emb = SequenceEmbeddings("sasrec", dims=2, model_params=TINY).fit(events, before)
    ids, vectors = emb.model_.encode_histories(events.filter(pl.col(S.TIMESTAMP) < before))
    feats = emb.features(events, before)
    assert feats[S.USER_ID].to_list() == list(ids)
    # z = (v - mean) @ components.T, components orthonormal
    expected = (vectors.astype(np.float64) - emb.mean_) @ emb.components_.T
    assert np.allclose(feats.select("seq_emb_1", "seq_emb_2").to_numpy(), expected)
    assert np.allclose(emb.components_ @ emb.components_.T, np.eye(2), atol=1e-9)
    # on the users it was fitted on, the components are centred
    assert np.allclose(expected.mean(axis=0), 0.0, atol=1e-6)


def test_bad_embedding_requests_are_named():
    with pytest.raises(EmbeddingError, match="user_embeddings must be one of gru4rec, sasrec"):
        SequenceEmbeddings("als")
    with pytest.raises(EmbeddingError, match="dims must be an integer >= 1. Got dims=0"):
        SequenceEmbeddings("gru4rec", dims=0)
    no_items = store(n_users=20).with_columns(pl.lit(None, pl.String).alias(S.ITEM_ID))
    with pytest.raises(EmbeddingError, match="user embeddings need item ids"):
        SequenceEmbeddings("gru4rec").fit(no_items, START + timedelta(days=60))
    with pytest.raises(EmbeddingError, match="need item events before 2023-01-01; found none"):
        SequenceEmbeddings("gru4rec").fit(store(n_users=20), datetime(2023, 1, 1, tzinfo=UTC))


def test_predict_with_user_embeddings_fits_them_before_the_earliest_cutoff():
    events = store()
    result = P.predict(
        events,
        horizon_days=20,
        n_boot=5,
        max_train_cutoffs=2,
        drivers=False,
        user_embeddings="gru4rec",
        embedding_dims=2,
        embedding_params=TINY,
    )
    # the earliest training cutoff of every task: churn's window (the lapse) reaches furthest
    cutoffs = [result.plan.train[0]]
    cutoffs.append(
        P.plan_cutoffs(events, horizon_days=result.lapse.days, max_train_cutoffs=2).train[0]
    )
    if result.value is not None:
        cutoffs.append(result.value.plan.train[0])
    assert result.embeddings_note.startswith(
        f"gru4rec user embeddings (2 principal components), the network trained once on "
        f"events before {min(cutoffs).date()}"
    )
    features = set(result.purchase.importance["feature"])
    assert {"seq_emb_1", "seq_emb_2"} <= features
    assert result.report()["embeddings_note"] == result.embeddings_note
    plain = P.predict(events, horizon_days=20, n_boot=5, max_train_cutoffs=2, drivers=False)
    assert plain.embeddings_note is None
    assert not any(f.startswith("seq_emb") for f in plain.purchase.importance["feature"])


def test_a_refused_embedding_request_is_worded_in_the_language_of_the_run():
    from profiling.vocabulary.i18n import language

    no_items = store(n_users=20).with_columns(pl.lit(None, pl.String).alias(S.ITEM_ID))
    with language("zh"), pytest.raises(EmbeddingError) as raised:
        SequenceEmbeddings("gru4rec").fit(no_items, START + timedelta(days=60))
    assert str(raised.value) == (
        "用户嵌入需要商品 id：事件中没有 item_id 值（只有购买金额的日志，例如 CDNOW，没有商品序列）"
    )
    with language("zh"), pytest.raises(EmbeddingError) as raised:
        SequenceEmbeddings("als")
    assert str(raised.value) == "user_embeddings 必须是 gru4rec, sasrec 之一，实际为 'als'。"
    with pytest.raises(EmbeddingError) as raised:
        SequenceEmbeddings("gru4rec", dims=0)
    assert str(raised.value) == "dims must be an integer >= 1. Got dims=0 instead."
    with language("zh"), pytest.raises(EmbeddingError) as raised:
        SequenceEmbeddings("gru4rec", dims=0)
    assert str(raised.value) == "dims 应为不小于 1 的整数，实际为 dims=0。"
