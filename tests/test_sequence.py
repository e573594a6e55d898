"""Sequential recommenders: the sequence builder, the Markov baseline and the deep models
(GRU4Rec, SASRec) on tiny hand-made sequences whose next item is forced."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import numpy as np
import polars as pl
import pytest

from profiling.errors import ProfilingError
from profiling.evaluation import interactions_from, leave_last_n
from profiling.profiles.embeddings import factor_matrix
from profiling.recommenders.markov import BACKOFF, Markov
from profiling.recommenders.sequence import GRU4Rec, SASRec
from profiling.recommenders.sequence_data import TYPE_CODES, user_sequences
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
CHAIN = [f"c{j}" for j in range(8)]
# small, fast settings: a 8-item catalog is learnt in a few dozen single-batch epochs
FAST = dict(hidden=16, max_len=8, epochs=40, learning_rate=0.02, validation_users=0)


def events(rows) -> pl.DataFrame:
    """rows: (user, item, event_type, minutes after T0[, session])."""
    with_session = len(rows[0]) == 5
    data = {
        S.USER_ID: [r[0] for r in rows],
        S.ITEM_ID: [r[1] for r in rows],
        S.EVENT_TYPE: [r[2] for r in rows],
        S.TIMESTAMP: [T0 + dt.timedelta(minutes=r[3]) for r in rows],
    }
    if with_session:
        data[S.SESSION_ID] = [r[4] for r in rows]
    return pl.DataFrame(data)


def chain_log(n_users: int = 40, steps: int = 4, seed: int = 0) -> pl.DataFrame:
    """Every user walks ``steps`` consecutive items of CHAIN from a random start (0..4),
    buying each; after c_k always comes c_(k+1)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        start = int(rng.integers(0, len(CHAIN) - steps + 1))
        for k, item in enumerate(CHAIN[start : start + steps]):
            rows.append((f"u{u:02d}", item, S.PURCHASE, u * 1000 + k))
    return events(rows)


def fitted(model, log):
    return model.fit(interactions_from(log), events=log)


def last_items(log: pl.DataFrame) -> dict[str, str]:
    last = log.sort(S.TIMESTAMP).group_by(S.USER_ID).agg(pl.col(S.ITEM_ID).last())
    return dict(zip(last[S.USER_ID], last[S.ITEM_ID], strict=True))


# ---- the sequence builder -------------------------------------------------------------------
def test_sequences_follow_time_collapse_repeats_drop_searches_and_mark_sessions():
    log = events(
        [
            ("a", "x", S.VIEW, 0, "s1"),
            ("a", "x", S.CART, 1, "s1"),  # same item again: one step, the last (cart)
            ("a", "y", S.SEARCH, 2, "s1"),  # searches are not steps
            ("a", "y", S.PURCHASE, 3, "s1"),
            ("a", "z", S.VIEW, 3 + 31, "s1"),  # 31 minutes later: a new session
            ("a", "x", S.VIEW, 35, "s2"),  # another session id: a new session
            ("b", "z", S.VIEW, 5, None),
        ]
    )
    users, items = {"a": 0, "b": 1}, {"x": 0, "y": 1, "z": 2}
    seq = user_sequences(log.sample(fraction=1.0, shuffle=True, seed=3), users, items)
    it, ty, se = seq.of(0)
    assert it.tolist() == [0, 1, 2, 0]
    assert ty.tolist() == [
        TYPE_CODES[S.CART],
        TYPE_CODES[S.PURCHASE],
        TYPE_CODES[S.VIEW],
        TYPE_CODES[S.VIEW],
    ]
    assert se.tolist() == [1, 0, 1, 1]
    assert seq.of(1)[0].tolist() == [2] and seq.lengths().tolist() == [4, 1]


def test_sequences_from_interactions_follow_the_latest_timestamp_without_types():
    log = events([("a", "x", S.VIEW, 9), ("a", "y", S.VIEW, 1), ("a", "x", S.VIEW, 0)])
    seq = user_sequences(interactions_from(log), {"a": 0}, {"x": 0, "y": 1})
    # x's latest interaction (minute 9) comes after y's (minute 1)
    assert seq.of(0)[0].tolist() == [1, 0]
    assert seq.of(0)[1].tolist() == [0, 0]


def test_sequence_builder_rejects_a_bad_gap_and_missing_columns():
    log = events([("a", "x", S.VIEW, 0)])
    with pytest.raises(ProfilingError, match="session_gap_minutes must be positive"):
        user_sequences(log, {"a": 0}, {"x": 0}, session_gap_minutes=0)
    with pytest.raises(ProfilingError, match=r"missing \['item_id'\]"):
        user_sequences(log.drop(S.ITEM_ID), {"a": 0}, {"x": 0})


# ---- Markov ----------------------------------------------------------------------------------
def markov_log() -> pl.DataFrame:
    """Five users' two views each: x -> y twice, x -> z once, w -> x once, y -> w once."""
    return events(
        [
            ("a", "x", S.VIEW, 0),
            ("a", "y", S.VIEW, 1),
            ("b", "x", S.VIEW, 0),
            ("b", "y", S.VIEW, 1),
            ("c", "x", S.VIEW, 0),
            ("c", "z", S.VIEW, 1),
            ("d", "w", S.VIEW, 0),
            ("d", "x", S.VIEW, 1),
            ("e", "y", S.VIEW, 0),
            ("e", "w", S.VIEW, 1),
        ]
    )


def test_markov_scores_count_successors_of_the_last_item_then_back_off():
    log = markov_log()
    model = fitted(Markov(), log)
    # d's last item is x; x -> y twice, x -> z once; the item before (w) -> x once
    scores = model._score(np.array([model.user_index_["d"]]))[0]
    col = model.item_index_
    pop_max = 4  # x is chosen by a, b, c and d
    assert scores[col["y"]] == pytest.approx(2 + 3 / pop_max * 1e-9)
    assert scores[col["z"]] == pytest.approx(1 + 1 / pop_max * 1e-9)
    assert scores[col["x"]] == pytest.approx(BACKOFF * 1 + 4 / 4 * 1e-9, rel=1e-6)
    recs = model.recommend(["d"], k=2, exclude_seen=True)
    assert recs[S.ITEM_ID].to_list() == ["y", "z"]
    assert model.explain("d", "y") == (
        "2 time(s) users went straight from x (your last item) to this one"
    )
    # a's last item y never led to z, the item before it (x) did once
    assert model.explain("a", "z") == (
        "1 time(s) users went straight from x (your item 2 steps back) to this one"
    )
    assert model.explain("c", "w").startswith("no user went from your recent items")


# ---- deep models: forced next item, determinism, explanations -------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: GRU4Rec(**FAST, random_state=1),
        lambda: GRU4Rec(cell="lstm", **FAST, random_state=1),
        lambda: SASRec(**FAST, random_state=1),
        lambda: Markov(),
    ],
    ids=["gru4rec", "gru4rec-lstm", "sasrec", "markov"],
)
def test_every_sequential_model_learns_a_forced_next_item(make):
    log = chain_log()
    model = fitted(make(), log)
    last = last_items(log)
    users = sorted(u for u, item in last.items() if item != CHAIN[-1])
    top = model.recommend(users, k=1)
    expected = [CHAIN[CHAIN.index(last[u]) + 1] for u in users]
    assert top[S.ITEM_ID].to_list() == expected
    assert not top["is_fallback"].any()


def test_deep_models_are_deterministic_for_a_seed_and_differ_across_seeds():
    log = chain_log(n_users=20)
    for cls in (GRU4Rec, SASRec):
        a = fitted(cls(**{**FAST, "epochs": 5}, random_state=3), log).user_vectors_
        b = fitted(cls(**{**FAST, "epochs": 5}, random_state=3), log).user_vectors_
        c = fitted(cls(**{**FAST, "epochs": 5}, random_state=4), log).user_vectors_
        assert np.array_equal(a, b)
        assert not np.array_equal(a, c)


def test_event_types_are_an_input_the_model_uses():
    # after viewing "a" comes "v"; after buying "a" comes "p": only the type tells them apart
    rows = []
    for u in range(40):
        kind, nxt = (S.VIEW, "v") if u % 2 else (S.PURCHASE, "p")
        rows += [
            (f"u{u}", "start", S.VIEW, u * 100),
            (f"u{u}", "a", kind, u * 100 + 1),
            (f"u{u}", nxt, S.VIEW, u * 100 + 2),
        ]
    log = events(rows)
    # the users to predict for stop right after "a"
    probe = events(
        [
            ("pv", "start", S.VIEW, 9000),
            ("pv", "a", S.VIEW, 9001),
            ("pp", "start", S.VIEW, 9000),
            ("pp", "a", S.PURCHASE, 9001),
        ]
    )
    full = pl.concat([log, probe])
    model = fitted(GRU4Rec(**FAST, random_state=1), full)
    top = model.recommend(["pv", "pp"], k=1)
    assert top[S.ITEM_ID].to_list() == ["v", "p"]


def test_explain_names_the_recent_item_that_drives_the_prediction():
    log = chain_log()
    model = fitted(SASRec(**FAST, random_state=1), log)
    user = next(u for u, item in last_items(log).items() if item == "c4")
    reason = model.explain(user, "c5")
    assert reason.startswith("comes next after your recent c4")
    assert model.explain("stranger", "c5").startswith("new to the model")


def test_user_vectors_are_the_user_factors_of_the_map():
    log = chain_log(n_users=12)
    model = fitted(GRU4Rec(**{**FAST, "epochs": 3}), log)
    ids, factors = model.user_factors()
    assert list(ids) == sorted(log[S.USER_ID].unique().to_list())
    assert factors.shape == (12, FAST["hidden"])
    map_ids, x, names = factor_matrix(model)
    assert x.shape == (12, 16) and names[0] == "factor_1"
    assert np.allclose(x.mean(axis=0), 0.0, atol=1e-6)


def test_early_stopping_and_the_time_budget_stop_training():
    log = chain_log(n_users=30, steps=5)
    stopped = fitted(GRU4Rec(**{**FAST, "validation_users": 30, "patience": 2, "epochs": 200}), log)
    assert stopped.stopped_ == "early stopping"
    # patience 2: the last two epochs were no better than the best one
    assert len(stopped.history_) == stopped.best_epoch_ + 2
    assert "early stopping" in stopped.training_summary()
    rushed = fitted(SASRec(**{**FAST, "time_budget": 1e-6}), log)
    assert rushed.stopped_ == "time budget" and len(rushed.history_) == 1


# ---- no leakage -------------------------------------------------------------------------------
def test_the_held_out_last_item_never_reaches_training_or_early_stopping():
    log = chain_log(n_users=30, steps=5)
    # every user's last purchase is an item nobody else has: it only exists in test
    finals = events([(f"u{u:02d}", f"only{u}", S.PURCHASE, u * 1000 + 50) for u in range(30)])
    split = leave_last_n(pl.concat([log, finals]), n=1, relevant_types=(S.PURCHASE,))
    assert sorted(split.test[S.ITEM_ID]) == sorted(f"only{u}" for u in range(30))
    gru = GRU4Rec(**{**FAST, "validation_users": 10, "epochs": 3})
    for model in (gru, Markov()):
        model.fit(interactions_from(split.train), events=split.train)
        assert not any(i.startswith("only") for i in model.items_)
        assert {model.items_[i] for i in model.sequences_.items} <= set(CHAIN)
    # early stopping scores each validation user's last TRAINING step, not the test item
    train_last = last_items(split.train)
    assert len(gru.validation_users_) == 10
    for u in gru.validation_users_:
        held = gru.items_[gru.sequences_.of(gru.user_index_[u])[0][-1]]
        assert held == train_last[u]


# ---- parameters and the lazy import ------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "message"),
    [
        (GRU4Rec(hidden=0), r"hidden must be an integer >= 1\. Got hidden=0"),
        (GRU4Rec(cell="rnn"), r"cell must be 'gru' or 'lstm'\. Got cell='rnn'"),
        (SASRec(hidden=10, heads=3), r"hidden must be divisible by heads\. Got hidden=10"),
        (SASRec(dropout=1.0), r"dropout must be a number in \[0, 1\)\. Got dropout=1\.0"),
        (GRU4Rec(time_budget=-1), r"time_budget must be a positive number\. Got time_budget=-1"),
    ],
)
def test_bad_parameters_are_named_in_the_error(model, message):
    with pytest.raises(ProfilingError, match=message):
        fitted(model, chain_log(n_users=4))


@pytest.mark.parametrize(
    ("model", "english", "chinese"),
    [
        (
            GRU4Rec(hidden=0),
            "hidden must be an integer >= 1. Got hidden=0 instead.",
            "hidden 必须是 >= 1 的整数，收到的是 hidden=0。",
        ),
        (
            GRU4Rec(cell="rnn"),
            "cell must be 'gru' or 'lstm'. Got cell='rnn' instead.",
            "cell 必须是 'gru' 或 'lstm'，收到的是 cell='rnn'。",
        ),
        (
            SASRec(hidden=10, heads=3),
            "hidden must be divisible by heads. Got hidden=10, heads=3 instead.",
            "hidden 必须能被 heads 整除，收到的是 hidden=10、heads=3。",
        ),
        (
            SASRec(dropout=1.0),
            "dropout must be a number in [0, 1). Got dropout=1.0 instead.",
            "dropout 必须是 [0, 1) 内的数，收到的是 dropout=1.0。",
        ),
        (
            GRU4Rec(time_budget=-1),
            "time_budget must be a positive number. Got time_budget=-1 instead.",
            "time_budget 必须是正数，收到的是 time_budget=-1。",
        ),
    ],
)
def test_bad_parameters_read_in_english_and_in_chinese(model, english, chinese):
    """The parameter names and values stay as written (code), the words around them are
    translated: a failed training reads in the page's language."""
    with pytest.raises(ProfilingError) as raised:
        fitted(model, chain_log(n_users=4))
    assert str(raised.value) == english
    with i18n.language("zh"), pytest.raises(ProfilingError) as raised:
        fitted(model, chain_log(n_users=4))
    assert str(raised.value) == chinese


def test_importing_the_registry_does_not_import_torch():
    code = "import sys, profiling.recommenders.registry; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- training windows, progress, pickling ----------------------------------------------------
def test_training_windows_predict_the_next_step_at_every_position():
    # one user, steps x0..x4 (inner items 0..4), max_len 2: 4 transitions in 2 windows, the
    # first ending at the latest step: inputs (x2, x3) -> targets (x3, x4); then (x0, x1) ->
    # (x1, x2). A second user with one step has no transition; a third has (x4) -> (x0).
    from profiling.recommenders.sequence_data import Sequences

    seq = Sequences(
        offsets=np.array([0, 5, 6, 8]),
        items=np.array([0, 1, 2, 3, 4, 2, 4, 0]),
        types=np.array([1, 1, 1, 1, 2, 1, 1, 1]),
        new_session=np.array([1, 0, 0, 0, 0, 1, 1, 0]),
    )
    model = SASRec(max_len=2)
    xi, xt, xs, y = model._windows(seq, holdout=np.zeros(3, dtype=bool))
    assert xi.tolist() == [[3, 4], [1, 2], [5, 0]]  # item + 1, 0 = padding
    assert y.tolist() == [[3, 4], [1, 2], [0, -100]]
    assert xt.tolist() == [[1, 1], [1, 1], [1, 0]]
    assert xs.tolist() == [[0, 0], [1, 0], [1, 0]]
    # holding out the first user's last step: 3 transitions, windows (x1, x2) and (x0)
    xi, _, _, y = model._windows(seq, holdout=np.array([True, False, False]))
    assert xi.tolist() == [[2, 3], [1, 0], [5, 0]]
    assert y.tolist() == [[2, 3], [1, -100], [0, -100]]


def test_progress_reports_start_every_epoch_and_the_end_and_fit_sets_the_budget():
    calls = []
    model = GRU4Rec(**{**FAST, "epochs": 3}, random_state=1)
    fitted_model = model.fit(
        interactions_from(chain_log(n_users=10)),
        events=chain_log(n_users=10),
        progress=lambda fraction, message: calls.append((fraction, message)),
    )
    assert fitted_model is model
    fractions = [f for f, _ in calls]
    # start, one call per epoch (epoch / epochs, capped at 0.99), then 1.0 with the summary
    assert fractions == [0.0, pytest.approx(1 / 3), pytest.approx(2 / 3), 0.99, 1.0]
    assert calls[0][1] == "gru4rec: training on 40 steps"
    assert calls[1][1].startswith("gru4rec: epoch 1 of at most 3 (")
    assert calls[-1][1] == "gru4rec: 3 epoch(s), stopped by max epochs"
    rushed = GRU4Rec(**FAST).fit(
        interactions_from(chain_log(n_users=10)), events=chain_log(n_users=10), time_budget=1e-6
    )
    assert rushed.time_budget == 1e-6 and rushed.stopped_ == "time budget"


def test_the_training_progress_reads_in_the_language_of_the_page():
    """The job runs in the page's language, so each epoch's line is worded in it; what is
    saved (the summary) stays English: :func:`summary_text` reads it in Chinese."""
    log = chain_log(n_users=10)  # 10 users of 4 steps: 40 steps, every user can validate

    def lines(lang: str) -> list[str]:
        calls = []
        with i18n.language(lang):
            model = GRU4Rec(**{**FAST, "epochs": 2, "validation_users": 4}, random_state=1)
            model.fit(interactions_from(log), events=log, progress=lambda f, m: calls.append(m))
        assert model.training_summary().startswith("2 epoch(s), stopped by max epochs, ")
        return calls

    english, chinese = lines("en"), lines("zh")
    assert english[0] == "gru4rec: training on 40 steps"
    assert chinese[0] == "gru4rec：在 40 个序列步上训练"
    for epoch in (1, 2):
        assert re.fullmatch(
            rf"gru4rec: epoch {epoch} of at most 2 \(\d+ s of 150 s\), loss \d+\.\d{{3}}, "
            r"validation NDCG@10 [01]\.\d{3}",
            english[epoch],
        )
        assert re.fullmatch(
            rf"gru4rec：第 {epoch} 轮，最多 2 轮（已用 \d+ 秒，共 150 秒），损失 \d+\.\d{{3}}，"
            r"验证 NDCG@10 为 [01]\.\d{3}",
            chinese[epoch],
        )
    assert re.fullmatch(
        r"gru4rec: 2 epoch\(s\), stopped by max epochs, validation NDCG@10 [01]\.\d{3} at "
        r"epoch [12]",
        english[-1],
    )
    assert re.fullmatch(
        r"gru4rec：2 轮，停止原因：达到最大轮数，第 [12] 轮验证 NDCG@10 为 [01]\.\d{3}", chinese[-1]
    )
    assert len(english) == len(chinese) == 4


@pytest.mark.parametrize("cls", [GRU4Rec, SASRec])
def test_a_pickled_model_recommends_and_explains_exactly_as_before(cls, tmp_path):
    import pickle

    from profiling.workspace.results import ResultStore

    log = chain_log()
    model = fitted(cls(**FAST, random_state=1), log)
    users = sorted(last_items(log))
    store = ResultStore(tmp_path / "results")
    (tmp_path / "results").mkdir()
    store.put("model", {"name": cls.name}, "v1", model, data_end=T0, events=log.height)
    assert store.has("model", {"name": cls.name}, "v1")
    loaded = store.get("model", {"name": cls.name}, "v1")
    assert "_net" not in loaded.__dict__  # the network is rebuilt from weights on first use
    assert loaded.recommend(users, k=3).equals(model.recommend(users, k=3))
    assert loaded.explain(users[0], "c5") == model.explain(users[0], "c5")
    again = pickle.loads(pickle.dumps(loaded))  # noqa: S301 - reads a pickle this project wrote into its own private folder
    a = model.encode_histories(log)[1]
    assert np.array_equal(again.encode_histories(log)[1], a)
    # the histories read by encode_histories are the training ones: the same user vectors
    assert np.allclose(a, model.user_vectors_, atol=1e-6)
