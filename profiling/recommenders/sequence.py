"""Deep sequential recommenders on the CPU: GRU4Rec (recurrent, GRU or LSTM) and SASRec
(causal self-attention), trained with PyTorch to predict each user's next item.

Both read the time-ordered steps of every user (:mod:`profiling.recommenders.sequence_data`:
from the training events when ``fit`` gets them, so event types and session starts are
inputs; else from interactions ordered by time). Training windows hold up to ``max_len``
steps; at every step the model predicts the next item with a softmax over the whole catalog
(cross-entropy). Early stopping: the last step of a random sample of users (at most
``validation_users``, only users with at least 3 steps) is held out of training and scored
after every epoch (NDCG@10 over the full catalog, the user's earlier items excluded as in
evaluation); the best epoch's weights are kept. Training also stops when ``time_budget``
seconds have passed. Nothing here sees data beyond what ``fit`` is given: the validation
steps are carved from the training data.

The user's representation (the network's output after their whole training history) is the
model's user factor: scores are its dot products with the item output vectors, computed in
numpy, and :meth:`~profiling.recommenders.base.Recommender.user_factors` returns it for maps.

PyTorch is imported inside ``fit`` and ``explain`` only, so importing this module (and
starting the app) stays fast. Training is seeded from ``random_state`` and runs with
``torch.use_deterministic_algorithms(True)`` on ``n_threads`` threads (both restored after):
the same data and seed give the same model, except when ``time_budget`` ends training (how
far it got then depends on the machine's speed).
"""

from __future__ import annotations

import copy
import functools
import math
import os
import time
from collections.abc import Callable

import numpy as np
import polars as pl

from profiling import schema as S
from profiling.errors import ProfilingError
from profiling.recommenders.base import Recommender
from profiling.recommenders.sequence_data import N_TYPE_CODES, Sequences, user_sequences

Progress = Callable[[float, str], None]
"""``progress(fraction_done, message)`` called after every epoch."""

EXPLAIN_WINDOW = 10
"""How many of the user's most recent items :meth:`explain` weighs (by occlusion)."""
VALIDATION_K = 10
SMALL_LOG_STEPS = 20_000
"""Below this many steps a model trains on one thread whatever ``n_threads`` says."""


@functools.cache
def _torch():
    # idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning
    # made a training step ~10x slower (measured: 3.4 s against 0.3 s per SASRec batch)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    return torch


@functools.cache
def _networks():
    """The two network classes (defined lazily: they subclass torch.nn.Module)."""
    torch = _torch()
    nn = torch.nn

    class _Inputs(nn.Module):
        def __init__(self, n_items: int, hidden: int, dropout: float) -> None:
            super().__init__()
            self.item = nn.Embedding(n_items + 1, hidden, padding_idx=0)
            self.kind = nn.Embedding(N_TYPE_CODES, hidden, padding_idx=0)
            self.session = nn.Embedding(2, hidden)
            self.drop = nn.Dropout(dropout)

        def embed(self, items, kinds, sessions):
            return self.item(items) + self.kind(kinds) + self.session(sessions)

    class GRUNet(_Inputs):
        """Item (+ event type + session start) embedding -> GRU/LSTM -> item logits."""

        def __init__(self, n_items, hidden, dropout, cell, layers, max_len) -> None:
            super().__init__(n_items, hidden, dropout)
            rnn = nn.GRU if cell == "gru" else nn.LSTM
            self.rnn = rnn(hidden, hidden, num_layers=layers, batch_first=True)
            self.out = nn.Linear(hidden, n_items)

        def encode(self, items, kinds, sessions):
            h, _ = self.rnn(self.drop(self.embed(items, kinds, sessions)))
            return self.drop(h)

        def logits(self, h):
            return self.out(h)

    class SASNet(_Inputs):
        """Kang & McAuley (2018): embeddings + learned positions -> causal pre-norm
        self-attention blocks -> dot product with the (shared) item embeddings."""

        def __init__(self, n_items, hidden, dropout, heads, layers, max_len) -> None:
            super().__init__(n_items, hidden, dropout)
            self.position = nn.Embedding(max_len, hidden)
            block = nn.TransformerEncoderLayer(
                hidden, heads, dim_feedforward=hidden, dropout=dropout,
                batch_first=True, norm_first=True,
            )  # fmt: skip
            self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(hidden)
            self.bias = nn.Parameter(torch.zeros(n_items))
            self.scale = math.sqrt(hidden)
            # item vectors of norm ~1: scaled by sqrt(hidden) on the way in they match the
            # positions, and as output weights they start with logits of unit spread
            # (torch's default N(0, 1) gave logits of spread ~sqrt(hidden) and a stalled start)
            with torch.no_grad():
                self.item.weight.normal_(0.0, hidden**-0.5)
                self.item.weight[0].zero_()

        def encode(self, items, kinds, sessions):
            length = items.shape[1]
            pos = torch.arange(length, device=items.device)
            x = self.item(items) * self.scale + self.kind(kinds) + self.session(sessions)
            x = self.drop(x + self.position(pos)[None])
            # right padding + a causal mask: a real step never attends to padding
            causal = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
            return self.norm(self.blocks(x, mask=causal, is_causal=True))

        def logits(self, h):
            return h @ self.item.weight[1:].T + self.bias

    return GRUNet, SASNet


def _check_int(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ProfilingError(f"{name} must be an integer >= {low}. Got {name}={value!r} instead.")
    return int(value)


def _check_positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ProfilingError(f"{name} must be a positive number. Got {name}={value!r} instead.")
    return float(value)


class SequenceRecommender(Recommender):
    """Shared training loop of the deep sequential models (see the module docstring).

    Parameters
    ----------
    hidden : int, default 64
        Size of item embeddings and of the user representation.
    max_len : int, default 50
        Steps per training window and of history read at prediction time.
    layers : int, default 1 (GRU4Rec) / 2 (SASRec)
        Recurrent layers or self-attention blocks.
    epochs : int, default 60
        Upper bound on passes over the training windows.
    batch_size : int, default 256
        Windows per gradient step.
    learning_rate : float, default 5e-3
        Adam step size. With 256 and 5e-3 GRU4Rec reached validation NDCG@10 0.060 in 90 s
        on MovieLens 100K against 0.038 in 150 s with 128 and 1e-3 (the validation steps
        carved from training, never the test items).
    dropout : float, default 0.2
    patience : int, default 5
        Epochs without a better validation NDCG@10 before stopping.
    validation_users : int, default 1000
        Users whose last training step is held out for early stopping (0 = no early
        stopping: train ``epochs`` epochs or until the time budget).
    time_budget : float, default 150
        Seconds of training after which the best model so far is kept.
    session_gap_minutes : float, default 30
        A longer pause between two steps starts a new session (an input feature).
    use_event_types : bool, default True
        Feed each step's event type (view, cart, purchase, ...) to the network.
    n_threads : int, default 2
        Torch threads while training (one below ``SMALL_LOG_STEPS`` steps).

    Attributes (after ``fit``)
    --------------------------
    user_vectors_ : np.ndarray
        users x hidden representation after each user's whole history.
    history_ : list of dict
        One entry per epoch: epoch, loss, validation_ndcg, seconds.
    best_epoch_ : int
    stopped_ : str
        Why training stopped ("early stopping", "time budget", "max epochs").
    """

    family = "sequential"
    uses_events = True

    def __init__(
        self,
        *,
        hidden: int = 64,
        max_len: int = 50,
        layers: int = 1,
        epochs: int = 60,
        batch_size: int = 256,
        learning_rate: float = 5e-3,
        dropout: float = 0.2,
        patience: int = 5,
        validation_users: int = 1000,
        time_budget: float = 150.0,
        session_gap_minutes: float = 30.0,
        use_event_types: bool = True,
        n_threads: int = 2,
        random_state: int = S.RANDOM_STATE,
    ) -> None:
        super().__init__(random_state=random_state)
        self.hidden = hidden
        self.max_len = max_len
        self.layers = layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.patience = patience
        self.validation_users = validation_users
        self.time_budget = time_budget
        self.session_gap_minutes = session_gap_minutes
        self.use_event_types = use_event_types
        self.n_threads = n_threads

    # ---- public API -----------------------------------------------------------------------
    def fit(
        self,
        interactions: pl.DataFrame,
        *,
        items: pl.DataFrame | None = None,
        user_segments: pl.DataFrame | None = None,
        events: pl.DataFrame | None = None,
        progress: Progress | None = None,
    ) -> SequenceRecommender:
        """As :meth:`Recommender.fit`, plus:

        Parameters
        ----------
        events : pl.DataFrame, optional
            The training events (never events after the evaluation cutoff): the order of
            steps, their event types and sessions. Without them the interactions' latest
            timestamps order each user's items.
        progress : callable, optional
            ``progress(fraction, message)`` after every epoch.
        """
        self._check_params()
        self._events, self._progress = events, progress
        try:
            return super().fit(interactions, items=items, user_segments=user_segments)
        finally:
            del self._events, self._progress

    def training_summary(self) -> str:
        """One readable line: epochs run, why training stopped, the validation score."""
        self._check_fitted()
        best = next((h for h in self.history_ if h["epoch"] == self.best_epoch_), None)
        score = (
            f", validation NDCG@10 {best['validation_ndcg']:.3f} at epoch {self.best_epoch_}"
            if best is not None and not math.isnan(best["validation_ndcg"])
            else ""
        )
        return f"{len(self.history_)} epoch(s), stopped by {self.stopped_}{score}"

    # ---- for subclasses -------------------------------------------------------------------
    def _network(self, n_items: int):
        raise NotImplementedError

    # ---- training -------------------------------------------------------------------------
    def _check_params(self) -> None:
        _check_int(self.hidden, "hidden", 1)
        _check_int(self.max_len, "max_len", 2)
        _check_int(self.layers, "layers", 1)
        _check_int(self.epochs, "epochs", 1)
        _check_int(self.batch_size, "batch_size", 1)
        _check_positive(self.learning_rate, "learning_rate")
        _check_int(self.patience, "patience", 1)
        _check_int(self.validation_users, "validation_users", 0)
        _check_positive(self.time_budget, "time_budget")
        _check_positive(self.session_gap_minutes, "session_gap_minutes")
        _check_int(self.n_threads, "n_threads", 1)
        if (
            isinstance(self.dropout, bool)
            or not isinstance(self.dropout, int | float)
            or not (0 <= self.dropout < 1)
        ):
            raise ProfilingError(
                f"dropout must be a number in [0, 1). Got dropout={self.dropout!r} instead."
            )

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        source = self._events if self._events is not None else data
        seq = user_sequences(source, self.user_index_, self.item_index_, self.session_gap_minutes)
        if not self.use_event_types:
            seq = Sequences(seq.offsets, seq.items, np.zeros_like(seq.types), seq.new_session)
        self.sequences_ = seq
        torch = _torch()
        threads, deterministic = (
            torch.get_num_threads(),
            torch.are_deterministic_algorithms_enabled(),
        )
        # a small log trains faster on one thread: waking a second one for every tiny
        # operation costs more than it saves (and much more on a busy machine)
        small = len(seq.items) < SMALL_LOG_STEPS
        self.threads_ = 1 if small else self.n_threads
        torch.set_num_threads(self.threads_)
        torch.use_deterministic_algorithms(True)
        try:
            torch.manual_seed(self.random_state)
            self.net_ = self._network(len(self.items_))
            self._train(seq)
            self.net_.eval()
            with torch.no_grad():
                users = np.arange(len(self.users_))
                vectors = [
                    self._encode_last(seq, users[s : s + 512]) for s in range(0, len(users), 512)
                ]
                self.user_vectors_ = np.concatenate(vectors).astype(np.float32)
                w, b = self._output_layer()
                self.item_vectors_, self.item_bias_ = w, b
        finally:
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(deterministic)

    def _output_layer(self) -> tuple[np.ndarray, np.ndarray]:
        net = self.net_
        if hasattr(net, "out"):
            return (
                net.out.weight.detach().numpy().astype(np.float32).copy(),
                net.out.bias.detach().numpy().astype(np.float32).copy(),
            )
        return (
            net.item.weight[1:].detach().numpy().astype(np.float32).copy(),
            net.bias.detach().numpy().astype(np.float32).copy(),
        )

    def _windows(self, seq: Sequences, holdout: np.ndarray):
        """Training windows (inputs, types, sessions, targets), right-padded to max_len.

        ``holdout`` marks users whose last step is kept out (validation)."""
        L = self.max_len
        rows_i, rows_t, rows_s, rows_y = [], [], [], []
        for u in range(len(seq.offsets) - 1):
            it, ty, se = seq.of(u)
            if holdout[u]:
                it, ty, se = it[:-1], ty[:-1], se[:-1]
            m = len(it)
            if m < 2:
                continue
            # windows of L transitions ending at the latest step, then further back
            for end in range(m, 1, -L):
                lo = max(0, end - 1 - L)
                rows_i.append(it[lo : end - 1])
                rows_t.append(ty[lo : end - 1])
                rows_s.append(se[lo : end - 1])
                rows_y.append(it[lo + 1 : end])
        n = len(rows_i)
        xi = np.zeros((n, L), dtype=np.int64)
        xt = np.zeros((n, L), dtype=np.int64)
        xs = np.zeros((n, L), dtype=np.int64)
        y = np.full((n, L), -100, dtype=np.int64)
        for r in range(n):
            k = len(rows_i[r])
            xi[r, :k] = rows_i[r] + 1  # 0 is padding
            xt[r, :k] = rows_t[r]
            xs[r, :k] = rows_s[r]
            y[r, :k] = rows_y[r]
        return xi, xt, xs, y

    def _last_inputs(self, seq: Sequences, users: np.ndarray, drop_last: bool = False):
        """Right-padded last ``max_len`` steps of each user, and their lengths."""
        L = self.max_len
        xi = np.zeros((len(users), L), dtype=np.int64)
        xt = np.zeros_like(xi)
        xs = np.zeros_like(xi)
        lengths = np.zeros(len(users), dtype=np.int64)
        for r, u in enumerate(users):
            it, ty, se = seq.of(int(u))
            if drop_last:
                it, ty, se = it[:-1], ty[:-1], se[:-1]
            it, ty, se = it[-L:], ty[-L:], se[-L:]
            k = len(it)
            xi[r, :k], xt[r, :k], xs[r, :k] = it + 1, ty, se
            lengths[r] = k
        return xi, xt, xs, lengths

    def _encode_last(self, seq: Sequences, users: np.ndarray, drop_last: bool = False):
        torch = _torch()
        xi, xt, xs, lengths = self._last_inputs(seq, users, drop_last)
        h = self.net_.encode(torch.from_numpy(xi), torch.from_numpy(xt), torch.from_numpy(xs))
        last = torch.from_numpy(np.maximum(lengths - 1, 0))
        return h[torch.arange(len(users)), last].numpy()

    def _train(self, seq: Sequences) -> None:
        torch = _torch()
        F = torch.nn.functional
        rng = np.random.default_rng(self.random_state)
        lengths = seq.lengths()
        eligible = np.flatnonzero(lengths >= 3)
        n_val = min(self.validation_users, len(eligible))
        val_users = (
            np.sort(rng.choice(eligible, size=n_val, replace=False)) if n_val else eligible[:0]
        )
        holdout = np.zeros(len(lengths), dtype=bool)
        holdout[val_users] = True
        xi, xt, xs, y = (torch.from_numpy(a) for a in self._windows(seq, holdout))
        self.history_, self.best_epoch_, self.stopped_ = [], 0, "max epochs"
        self.validation_users_ = self.users_[val_users]
        if len(xi) == 0:
            self.stopped_ = "no sequence with two steps to learn from"
            return
        optimizer = torch.optim.Adam(self.net_.parameters(), lr=self.learning_rate)
        start = time.perf_counter()
        best, best_state, bad = -np.inf, None, 0
        out_of_time = False
        for epoch in range(1, self.epochs + 1):
            self.net_.train()
            order = torch.from_numpy(rng.permutation(len(xi)))
            total, count = 0.0, 0
            for b in range(0, len(order), self.batch_size):
                idx = order[b : b + self.batch_size]
                target = y[idx]
                mask = target >= 0
                h = self.net_.encode(xi[idx], xt[idx], xs[idx])
                loss = F.cross_entropy(self.net_.logits(h[mask]), target[mask])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * int(mask.sum())
                count += int(mask.sum())
                if time.perf_counter() - start > self.time_budget:
                    out_of_time = True
                    break
            val = self._validate(seq, val_users) if n_val else float("nan")
            self.history_.append(
                {
                    "epoch": epoch,
                    "loss": total / max(count, 1),
                    "validation_ndcg": val,
                    "seconds": time.perf_counter() - start,
                }
            )
            if n_val == 0 or val > best:
                best, bad, self.best_epoch_ = (val if n_val else best), 0, epoch
                best_state = copy.deepcopy(self.net_.state_dict())
            else:
                bad += 1
            if self._progress is not None:
                self._progress(
                    epoch / self.epochs,
                    f"{self.name}: epoch {epoch}, loss {total / max(count, 1):.3f}"
                    + ("" if math.isnan(val) else f", validation NDCG@10 {val:.3f}"),
                )
            if out_of_time:
                self.stopped_ = "time budget"
                break
            if n_val and bad >= self.patience:
                self.stopped_ = "early stopping"
                break
        if best_state is not None:
            self.net_.load_state_dict(best_state)

    def _validate(self, seq: Sequences, users: np.ndarray) -> float:
        """Mean NDCG@10 of each validation user's held-out last step, full catalog, the
        user's earlier items excluded."""
        torch = _torch()
        self.net_.eval()
        gains = []
        with torch.no_grad():
            for s in range(0, len(users), 512):
                chunk = users[s : s + 512]
                h = torch.from_numpy(self._encode_last(seq, chunk, drop_last=True))
                scores = self.net_.logits(h).numpy().astype(np.float64)
                for r, u in enumerate(chunk):
                    it = seq.of(int(u))[0]
                    target, seen = it[-1], it[:-1]
                    target_score = scores[r, target]
                    row = scores[r].copy()
                    row[seen] = -np.inf
                    if target in seen:
                        gains.append(0.0)
                        continue
                    rank = 1 + int((row > target_score).sum())
                    gains.append(1.0 / math.log2(rank + 1) if rank <= VALIDATION_K else 0.0)
        return float(np.mean(gains))

    # ---- scoring and explanations ---------------------------------------------------------
    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        return self.user_vectors_[user_idx] @ self.item_vectors_.T + self.item_bias_

    def _user_factors(self) -> np.ndarray:
        return self.user_vectors_

    def _explain(self, u: int, i: int) -> str:
        """Occlusion: remove each of the last EXPLAIN_WINDOW steps in turn and name the
        ones whose removal lowers this item's score most."""
        torch = _torch()
        seq = self.sequences_
        it, ty, se = seq.of(u)
        it, ty, se = it[-self.max_len :], ty[-self.max_len :], se[-self.max_len :]
        k = len(it)
        recent = list(range(max(0, k - EXPLAIN_WINDOW), k))
        rows = [np.arange(k)] + [np.delete(np.arange(k), p) for p in recent]
        L = self.max_len
        xi = np.zeros((len(rows), L), dtype=np.int64)
        xt, xs = np.zeros_like(xi), np.zeros_like(xi)
        lengths = np.zeros(len(rows), dtype=np.int64)
        for r, keep in enumerate(rows):
            xi[r, : len(keep)], xt[r, : len(keep)] = it[keep] + 1, ty[keep]
            xs[r, : len(keep)], lengths[r] = se[keep], len(keep)
        if k == 0:
            return "no history to read"
        threads = torch.get_num_threads()
        torch.set_num_threads(self.threads_)
        try:
            with torch.no_grad():
                self.net_.eval()
                h = self.net_.encode(
                    torch.from_numpy(xi), torch.from_numpy(xt), torch.from_numpy(xs)
                )
                last = torch.from_numpy(np.maximum(lengths - 1, 0))
                scores = self.net_.logits(h[torch.arange(len(rows)), last])[:, i].numpy()
        finally:
            torch.set_num_threads(threads)
        drops = scores[0] - scores[1:]
        order = np.argsort(-drops, kind="stable")
        drivers = [it[recent[j]] for j in order[:2] if drops[j] > 0]
        if not drivers:
            return f"fits the order of your recent items (latest: {self.item_title(it[-1])})"
        names = " and ".join(self.item_title(d) for d in drivers)
        verb = "raises" if len(drivers) == 1 else "raise"
        return f"comes next after your recent {names} (which {verb} its score most)"


class GRU4Rec(SequenceRecommender):
    """GRU4Rec (Hidasi et al. 2016): a recurrent network reads the user's steps and predicts
    the next item; ``cell="lstm"`` swaps the GRU for an LSTM.

    Differences from the paper: windows of each user's whole history (with session starts
    as an input) rather than session-parallel mini-batches of separate sessions, and a full
    softmax cross-entropy (Hidasi & Karatzoglou 2018 found it as good as their ranking
    losses on small catalogs) instead of sampled negatives.
    """

    name = "gru4rec"

    def __init__(
        self,
        *,
        cell: str = "gru",
        hidden: int = 64,
        max_len: int = 50,
        layers: int = 1,
        epochs: int = 60,
        batch_size: int = 256,
        learning_rate: float = 5e-3,
        dropout: float = 0.2,
        patience: int = 5,
        validation_users: int = 1000,
        time_budget: float = 150.0,
        session_gap_minutes: float = 30.0,
        use_event_types: bool = True,
        n_threads: int = 2,
        random_state: int = S.RANDOM_STATE,
    ) -> None:
        super().__init__(
            hidden=hidden,
            max_len=max_len,
            layers=layers,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            dropout=dropout,
            patience=patience,
            validation_users=validation_users,
            time_budget=time_budget,
            session_gap_minutes=session_gap_minutes,
            use_event_types=use_event_types,
            n_threads=n_threads,
            random_state=random_state,
        )
        self.cell = cell

    def _check_params(self) -> None:
        super()._check_params()
        if self.cell not in ("gru", "lstm"):
            raise ProfilingError(f"cell must be 'gru' or 'lstm'. Got cell={self.cell!r} instead.")

    def _network(self, n_items: int):
        GRUNet, _ = _networks()
        return GRUNet(n_items, self.hidden, self.dropout, self.cell, self.layers, self.max_len)


class SASRec(SequenceRecommender):
    """SASRec (Kang & McAuley 2018): causal self-attention over the last ``max_len`` steps
    with learned positions; the output at the latest step, dotted with the shared item
    embeddings, scores the next item.

    Differences from the paper: full softmax cross-entropy instead of one sampled negative
    per step (better on small catalogs, as later SASRec replications report) and event
    types and session starts added to the inputs.

    Parameters
    ----------
    heads : int, default 1
        Attention heads (``hidden`` must be divisible by it).
    """

    name = "sasrec"

    def __init__(
        self,
        *,
        heads: int = 1,
        hidden: int = 64,
        max_len: int = 50,
        layers: int = 2,
        epochs: int = 60,
        batch_size: int = 256,
        learning_rate: float = 5e-3,
        dropout: float = 0.2,
        patience: int = 5,
        validation_users: int = 1000,
        time_budget: float = 150.0,
        session_gap_minutes: float = 30.0,
        use_event_types: bool = True,
        n_threads: int = 2,
        random_state: int = S.RANDOM_STATE,
    ) -> None:
        super().__init__(
            hidden=hidden,
            max_len=max_len,
            layers=layers,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            dropout=dropout,
            patience=patience,
            validation_users=validation_users,
            time_budget=time_budget,
            session_gap_minutes=session_gap_minutes,
            use_event_types=use_event_types,
            n_threads=n_threads,
            random_state=random_state,
        )
        self.heads = heads

    def _check_params(self) -> None:
        super()._check_params()
        heads = _check_int(self.heads, "heads", 1)
        if self.hidden % heads:
            raise ProfilingError(
                f"hidden must be divisible by heads. Got hidden={self.hidden!r}, "
                f"heads={heads} instead."
            )

    def _network(self, n_items: int):
        _, SASNet = _networks()
        return SASNet(n_items, self.hidden, self.dropout, self.heads, self.layers, self.max_len)
