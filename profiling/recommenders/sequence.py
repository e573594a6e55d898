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
import re
import time
from collections.abc import Callable

import numpy as np
import polars as pl

from profiling.errors import ProfilingError
from profiling.recommenders.base import Recommender
from profiling.recommenders.sequence_data import Sequences, user_sequences
from profiling.vocabulary import fmt, i18n
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

SUMMARY = N_("{epochs} epoch(s), stopped by {why}")
SUMMARY_SCORE = N_(
    "{epochs} epoch(s), stopped by {why}, validation NDCG@10 {score} at epoch {best}"
)
"""How a deep model's training went, in English (saved with a comparison): epochs run, why
training stopped (an English msgid), the best validation score; :func:`summary_text` says it
in the reader's language."""


def summary_text(stored: str) -> str:
    """A saved :meth:`SequenceRecommender.training_summary` in the current language; any
    other text as it is."""
    found = re.fullmatch(
        r"(?P<epochs>\d+) epoch\(s\), stopped by (?P<why>.+?)"
        r"(?:, validation NDCG@10 (?P<score>\S+) at epoch (?P<best>\d+))?",
        stored,
    )
    if found is None:
        return stored
    values = {k: v for k, v in found.groupdict().items() if v is not None}
    values["why"] = _(values["why"])
    return _(SUMMARY_SCORE if "score" in values else SUMMARY).format(**values)


Progress = Callable[[float, str], None]
"""``progress(fraction_done, message)`` called after every epoch."""

EXPLAIN_WINDOW = 10
"""How many of the user's most recent items :meth:`explain` weighs (by occlusion)."""
VALIDATION_K = 10
SMALL_LOG_STEPS = 20_000
"""Below this many steps a model trains on one thread whatever ``n_threads`` says."""


def _torch():
    """torch, imported on first use (with the network module, which sets OMP_WAIT_POLICY)."""
    return _nets().torch


@functools.cache
def _nets():
    """The network module (imports torch)."""
    from profiling.recommenders import sequence_nets

    return sequence_nets


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(start, start + count)`` of every pair, without a loop."""
    counts = np.asarray(counts, dtype=np.int64)
    first = np.cumsum(counts) - counts
    return np.repeat(np.asarray(starts, dtype=np.int64) - first, counts) + np.arange(counts.sum())


def _check_int(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ProfilingError(
            _("{name} must be an integer >= {low}. Got {name}={value} instead.").format(
                name=name, low=low, value=repr(value)
            )
        )
    return int(value)


def _check_positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ProfilingError(
            _("{name} must be a positive number. Got {name}={value} instead.").format(
                name=name, value=repr(value)
            )
        )
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
    epochs : int, default 100
        Upper bound on passes over the training windows.
    batch_size : int, default 64 (SASRec) / 256 (GRU4Rec)
        Windows per gradient step.
    learning_rate : float, default 2e-3 (SASRec) / 5e-3 (GRU4Rec)
        Adam step size. Chosen on the validation steps (carved from training, never the
        test items) with ``bench/sequences_tune.py`` on MovieLens 100K: SASRec with
        max_len 50, batch 64, lr 2e-3 reached validation NDCG@10 0.116 in 16 epochs
        (still rising when the 170 s budget ended) against 0.072 (max_len 200, batch 64,
        lr 2e-3 or batch 32, lr 1e-3), 0.051 (dropout 0.5) and 0.030 (max_len 200, batch
        128, lr 1e-3), all within the same budget on a loaded machine. Small batches make
        many more updates per epoch on a log of a few thousand users.
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
        epochs: int = 100,
        batch_size: int = 64,
        learning_rate: float = 2e-3,
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
        time_budget: float | None = None,
    ) -> SequenceRecommender:
        """As :meth:`Recommender.fit`, plus:

        Parameters
        ----------
        events : pl.DataFrame, optional
            The training events (never events after the evaluation cutoff): the order of
            steps, their event types and sessions. Without them the interactions' latest
            timestamps order each user's items.
        progress : callable, optional
            ``progress(fraction, message)`` with ``fraction`` in [0, 1]: 0.0 when training
            starts, after every epoch (the larger of epochs done / ``epochs`` and seconds
            spent / ``time_budget``, at most 0.99), and 1.0 with :meth:`training_summary`
            when the model is ready. Called on the fitting thread.
        time_budget : float, optional
            Sets :attr:`time_budget` (seconds of training) for this and later fits.
        """
        if time_budget is not None:
            self.time_budget = time_budget
        self._check_params()
        self._events, self._progress = events, progress
        try:
            super().fit(interactions, items=items, user_segments=user_segments)
            self._report(
                1.0,
                _("{model}: {summary}").format(
                    model=self.name, summary=summary_text(self.training_summary())
                ),
            )
            return self
        finally:
            del self._events, self._progress

    def training_summary(self) -> str:
        """One readable line: epochs run, why training stopped, the validation score."""
        self._check_fitted()
        best = next((h for h in self.history_ if h["epoch"] == self.best_epoch_), None)
        if best is not None and not math.isnan(best["validation_ndcg"]):
            return SUMMARY_SCORE.format(
                epochs=len(self.history_),
                why=self.stopped_,
                score=f"{best['validation_ndcg']:.3f}",
                best=self.best_epoch_,
            )
        return SUMMARY.format(epochs=len(self.history_), why=self.stopped_)

    def encode_histories(self, events: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The trained network's representation of every user in ``events``, read from
        their steps in ``events`` only (the weights do not change: this is how a model
        fitted before one date encodes histories up to a later date without learning from
        them).

        Returns
        -------
        (np.ndarray, np.ndarray)
            Sorted user ids (object array) and a users x hidden float32 matrix; a user with
            no step on an item the model knows gets a row of NaN.
        """
        self._check_fitted()
        ids = np.asarray(events[S.USER_ID].drop_nulls().unique().sort().to_list(), dtype=object)
        index = {u: i for i, u in enumerate(ids)}
        seq = user_sequences(events, index, self.item_index_, self.session_gap_minutes)
        if not self.use_event_types:
            seq = Sequences(seq.offsets, seq.items, np.zeros_like(seq.types), seq.new_session)
        out = np.full((len(ids), self.hidden), np.nan, dtype=np.float32)
        has = np.flatnonzero(seq.lengths() > 0)
        if len(has) == 0:
            return ids, out
        torch = _torch()
        threads = torch.get_num_threads()
        torch.set_num_threads(getattr(self, "threads_", self.n_threads))
        try:
            self.net_.eval()
            with torch.no_grad():
                for s in range(0, len(has), 512):
                    out[has[s : s + 512]] = self._encode_last(seq, has[s : s + 512])
        finally:
            torch.set_num_threads(threads)
        return ids, out

    # ---- pickling: the network travels as numpy weights, rebuilt on first use -----------
    @property
    def net_(self):
        """The trained torch network (rebuilt from saved weights after unpickling)."""
        net = self.__dict__.get("_net")
        if net is None and "_net_weights" in self.__dict__:
            torch = _torch()
            with torch.random.fork_rng():  # building a network draws initial weights
                net = self._network(len(self.items_))
            net.load_state_dict({k: torch.from_numpy(v) for k, v in self._net_weights.items()})
            net.eval()
            self.__dict__["_net"] = net
        if net is None:
            raise AttributeError("net_")
        return net

    @net_.setter
    def net_(self, net) -> None:
        self.__dict__["_net"] = net
        self.__dict__.pop("_net_weights", None)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        net = state.pop("_net", None)
        for transient in ("_events", "_progress"):
            state.pop(transient, None)
        if net is not None:
            state["_net_weights"] = {
                k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()
            }
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

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
                _("dropout must be a number in [0, 1). Got dropout={value} instead.").format(
                    value=repr(self.dropout)
                )
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
            self._report(
                0.0,
                _("{model}: training on {steps} steps").format(
                    model=self.name, steps=fmt.count(len(seq.items))
                ),
            )
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
        w, b = self.net_.output_layer()
        return (
            w.detach().numpy().astype(np.float32).copy(),
            b.detach().numpy().astype(np.float32).copy(),
        )

    def _windows(self, seq: Sequences, holdout: np.ndarray):
        """Training windows (inputs, types, sessions, targets), right-padded to max_len:
        each user's steps cut into windows of up to ``max_len`` transitions, the first
        ending at the user's latest step, the next ones further back. The target at every
        position is the next step (-100 = padding). Vectorized over all steps.

        ``holdout`` marks users whose last step is kept out (validation)."""
        L = self.max_len
        a = seq.offsets[:-1]
        m = np.maximum(seq.offsets[1:] - holdout.astype(np.int64) - a, 0)
        trans = np.maximum(m - 1, 0)  # transitions (input, next step) per user
        n_win = (trans + L - 1) // L
        win_start = np.concatenate([[0], np.cumsum(n_win)])
        n = int(win_start[-1])
        xi = np.zeros((n, L), dtype=np.int64)
        xt = np.zeros((n, L), dtype=np.int64)
        xs = np.zeros((n, L), dtype=np.int64)
        y = np.full((n, L), -100, dtype=np.int64)
        if n == 0:
            return xi, xt, xs, y
        user = np.repeat(np.arange(len(a)), trans)
        t = np.arange(int(trans.sum())) - np.repeat(np.cumsum(trans) - trans, trans)
        g = a[user] + t  # global index of the input step
        mu = m[user]
        w = (mu - 2 - t) // L  # window 0 ends at the latest step
        end = mu - w * L
        p = t - np.maximum(0, end - 1 - L)  # position inside the window
        row = win_start[user] + w
        xi[row, p] = seq.items[g] + 1  # 0 is padding
        xt[row, p] = seq.types[g]
        xs[row, p] = seq.new_session[g]
        y[row, p] = seq.items[g + 1]
        return xi, xt, xs, y

    def _last_inputs(self, seq: Sequences, users: np.ndarray, drop_last: bool = False):
        """Right-padded last ``max_len`` steps of each user, and their lengths."""
        L = self.max_len
        users = np.asarray(users, dtype=np.int64)
        start = seq.offsets[users]
        stop = np.maximum(seq.offsets[users + 1] - int(drop_last), start)
        begin = np.maximum(start, stop - L)
        lengths = stop - begin
        pos = np.arange(L)
        valid = pos[None, :] < lengths[:, None]
        idx = np.where(valid, begin[:, None] + pos[None, :], 0)
        if len(seq.items) == 0:
            zero = np.zeros((len(users), L), dtype=np.int64)
            return zero, zero.copy(), zero.copy(), lengths
        xi = np.where(valid, seq.items[idx] + 1, 0)
        xt = np.where(valid, seq.types[idx], 0)
        xs = np.where(valid, seq.new_session[idx], 0)
        return xi, xt, xs, lengths

    def _encode_last(self, seq: Sequences, users: np.ndarray, drop_last: bool = False):
        torch = _torch()
        xi, xt, xs, lengths = self._last_inputs(seq, users, drop_last)
        h = self.net_.encode(torch.from_numpy(xi), torch.from_numpy(xt), torch.from_numpy(xs))
        last = torch.from_numpy(np.maximum(lengths - 1, 0))
        return h[torch.arange(len(users)), last].numpy()

    def _report(self, fraction: float, message: str) -> None:
        if self._progress is not None:
            self._progress(float(min(max(fraction, 0.0), 1.0)), message)

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
        self.history_, self.best_epoch_, self.stopped_ = [], 0, N_("max epochs")
        self.validation_users_ = self.users_[val_users]
        if len(xi) == 0:
            self.stopped_ = N_("no sequence with two steps to learn from")
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
                # drop the all-padding tail of the batch (windows are right-padded)
                width = int(mask.any(dim=0).nonzero().max()) + 1
                target, mask = target[:, :width], mask[:, :width]
                h = self.net_.encode(xi[idx, :width], xt[idx, :width], xs[idx, :width])
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
            elapsed = time.perf_counter() - start
            self.history_.append(
                {
                    "epoch": epoch,
                    "loss": total / max(count, 1),
                    "validation_ndcg": val,
                    "seconds": elapsed,
                }
            )
            if n_val == 0 or val > best:
                best, bad, self.best_epoch_ = (val if n_val else best), 0, epoch
                best_state = copy.deepcopy(self.net_.state_dict())
            else:
                bad += 1
            self._report(
                # the larger of the epoch and time fractions: with early stopping or the
                # budget, training usually ends before epochs run out
                min(0.99, max(epoch / self.epochs, elapsed / self.time_budget)),
                self._epoch_line(epoch, elapsed, total / max(count, 1), val),
            )
            if out_of_time:
                self.stopped_ = N_("time budget")
                break
            if n_val and bad >= self.patience:
                self.stopped_ = N_("early stopping")
                break
        if best_state is not None:
            self.net_.load_state_dict(best_state)

    def _epoch_line(self, epoch: int, elapsed: float, loss: float, score: float) -> str:
        """The progress message after an epoch, in the current language (a job runs in the
        language of the page that started it); ``score`` is NaN without validation users."""
        values = {
            "model": self.name,
            "epoch": epoch,
            "epochs": self.epochs,
            "elapsed": fmt.count(elapsed),
            "budget": fmt.count(self.time_budget),
            "loss": i18n.format_fixed(loss, 3),
        }
        if math.isnan(score):
            return _(
                "{model}: epoch {epoch} of at most {epochs} ({elapsed} s of {budget} s), "
                "loss {loss}"
            ).format(**values)
        return _(
            "{model}: epoch {epoch} of at most {epochs} ({elapsed} s of {budget} s), "
            "loss {loss}, validation NDCG@10 {score}"
        ).format(score=i18n.format_fixed(score, 3), **values)

    def _validate(self, seq: Sequences, users: np.ndarray) -> float:
        """Mean NDCG@10 of each validation user's held-out last step, full catalog, the
        user's earlier items excluded (a target seen earlier scores 0)."""
        torch = _torch()
        self.net_.eval()
        gains = []
        with torch.no_grad():
            for s in range(0, len(users), 512):
                chunk = np.asarray(users[s : s + 512], dtype=np.int64)
                h = torch.from_numpy(self._encode_last(seq, chunk, drop_last=True))
                scores = self.net_.logits(h).numpy().astype(np.float64)
                rows = np.arange(len(chunk))
                target = seq.items[seq.offsets[chunk + 1] - 1]
                target_score = scores[rows, target]
                n_seen = seq.offsets[chunk + 1] - 1 - seq.offsets[chunk]
                seen_rows = np.repeat(rows, n_seen)
                seen_items = seq.items[_ranges(seq.offsets[chunk], n_seen)]
                scores[seen_rows, seen_items] = -np.inf
                repeat = np.isneginf(scores[rows, target])
                rank = 1 + (scores > target_score[:, None]).sum(axis=1)
                gain = np.where(rank <= VALIDATION_K, 1.0 / np.log2(rank + 1.0), 0.0)
                gains.append(np.where(repeat, 0.0, gain))
        return float(np.mean(np.concatenate(gains)))

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
            return _("no history to read")
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
            return _("fits the order of your recent items (latest: {item})").format(
                item=self.item_title(it[-1])
            )
        if len(drivers) == 1:
            return _("comes next after your recent {item} (which raises its score most)").format(
                item=self.item_title(drivers[0])
            )
        return _(
            "comes next after your recent {item} and {other} (which raise its score most)"
        ).format(item=self.item_title(drivers[0]), other=self.item_title(drivers[1]))


class GRU4Rec(SequenceRecommender):
    """GRU4Rec (Hidasi et al. 2016): a recurrent network reads the user's steps and predicts
    the next item; ``cell="lstm"`` swaps the GRU for an LSTM.

    Defaults batch 256 / learning rate 5e-3 (SASRec: 64 / 2e-3): chosen on the validation
    steps of MovieLens 100K (``bench/sequences.py --candidates``, 160 s, load ~10): 0.063
    in 6 epochs against 0.050 in 3 epochs with 64 / 2e-3 (a recurrent step over small
    batches is slow on the CPU).

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
        epochs: int = 100,
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
            raise ProfilingError(
                _("cell must be 'gru' or 'lstm'. Got cell={value} instead.").format(
                    value=repr(self.cell)
                )
            )

    def _network(self, n_items: int):
        return _nets().GRUNet(
            n_items, self.hidden, self.dropout, self.cell, self.layers, self.max_len
        )


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
        epochs: int = 100,
        batch_size: int = 64,
        learning_rate: float = 2e-3,
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
                _(
                    "hidden must be divisible by heads. Got hidden={hidden}, heads={heads} instead."
                ).format(hidden=repr(self.hidden), heads=heads)
            )

    def _network(self, n_items: int):
        return _nets().SASNet(
            n_items, self.hidden, self.dropout, self.heads, self.layers, self.max_len
        )
