"""Collaborative filtering on implicit feedback: item-item kNN, ALS, BPR and EASE.

All four learn from ``matrix_`` (users x items implicit weights: views, carts, purchases
summed with :data:`profiling.vocabulary.schema.IMPLICIT_WEIGHTS`). Weights are heavy-tailed (one user
viewing an item 200 times), so by default they are damped with ``log1p`` before learning;
``weighting`` chooses ``"log"`` (log(1 + w)), ``"raw"`` (w) or ``"binary"`` (1 per pair).

ALS and BPR wrap the `implicit <https://benfred.github.io/implicit/>`_ library (CPU
implementations, one BLAS thread, no progress bars, seeded), ItemKNN and EASE are
closed-form numpy / scipy code.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from profiling.errors import ProfilingError
from profiling.recommenders import cost
from profiling.recommenders.base import Recommender
from profiling.vocabulary import fmt
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

WEIGHTINGS = ("log", "raw", "binary")


def weighted(matrix: sp.csr_matrix, weighting: str) -> sp.csr_matrix:
    """``matrix`` with its stored values transformed by ``weighting`` (float32 csr).

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        users x items implicit weights (> 0 where stored).
    weighting : {"log", "raw", "binary"}
        ``log``: log(1 + w); ``raw``: w; ``binary``: 1.

    Returns
    -------
    scipy.sparse.csr_matrix
    """
    if weighting not in WEIGHTINGS:
        raise ProfilingError(
            _("weighting must be one of {allowed}. Got {value} instead.").format(
                allowed=WEIGHTINGS, value=repr(weighting)
            )
        )
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    if weighting == "log":
        out.data = np.log1p(out.data).astype(np.float32)
    elif weighting == "binary":
        out.data = np.ones_like(out.data, dtype=np.float32)
    return out


def top_k_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest stored values of every row (ties: lower column first).

    Fully vectorized: one lexsort over the stored entries.
    """
    m = sp.csr_matrix(matrix)
    m.sum_duplicates()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((m.indices, -m.data, rows))
    rank = np.arange(m.nnz) - m.indptr[rows[order]]
    keep = order[rank < k]
    return sp.csr_matrix(
        (m.data[keep], (rows[keep], m.indices[keep])), shape=m.shape, dtype=m.dtype
    )


BLOCK_PAIRS = cost.BLOCK_PAIRS
"""Co-occurrence entries item-kNN computes at once (about 320 MB in COO form)."""


def _pairs_per_item(xt: sp.csr_matrix, xc: sp.csc_matrix) -> np.ndarray:
    """An upper bound of each item's co-occurring items: the sum of its users' history
    lengths (the users x items matrix's row lengths), per item."""
    user_len = np.diff(xc.tocsr().indptr).astype(np.float64)
    item = np.repeat(np.arange(xt.shape[0]), np.diff(xt.indptr))
    return np.bincount(item, weights=user_len[xt.indices], minlength=xt.shape[0])


class ItemKNN(Recommender):
    """Item-item collaborative filtering with cosine similarity.

    ``sim(i, j) = x_i . x_j / (||x_i|| ||x_j|| + shrink)`` over the item columns of the
    (weighted) user-item matrix; every item keeps its ``k_neighbors`` most similar items.
    The score of item ``i`` for user ``u`` is ``sum_j w_uj sim(j, i)`` over the user's
    history ``j``.

    Parameters
    ----------
    k_neighbors : int, default 100
        Neighbours kept per item.
    shrink : float, default 0
        Added to the cosine denominator: damps similarities backed by few users.
    weighting : {"log", "raw", "binary"}, default "log"
        Transform of the implicit weights (module notes).
    random_state : int
        Unused (the model is deterministic); kept for a uniform constructor.

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix
        items x items, row ``j`` holds the kept neighbours of item ``j``.
    """

    name = "item-knn"
    family = "collaborative"

    def __init__(
        self,
        k_neighbors: int = 100,
        shrink: float = 0.0,
        weighting: str = "log",
        random_state: int = S.RANDOM_STATE,
    ) -> None:
        super().__init__(random_state=random_state)
        self.k_neighbors = k_neighbors
        self.shrink = shrink
        self.weighting = weighting

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        if self.k_neighbors < 1:
            raise ProfilingError(
                _("k_neighbors must be >= 1. Got {value} instead.").format(
                    value=repr(self.k_neighbors)
                )
            )
        self.x_ = weighted(self.matrix_, self.weighting)
        xc = self.x_.tocsc()
        xt = xc.T.tocsr()  # items x users
        norms = np.sqrt(np.asarray(xc.multiply(xc).sum(axis=0)).ravel())
        n = xt.shape[0]
        # rows of the items x items co-occurrence in blocks, each cut to its top k at once:
        # the full co-occurrence of a big catalog (hundreds of millions of pairs) is never
        # held, only one block's (about BLOCK_PAIRS entries) and the kept neighbours
        blocks, start = [], 0
        pairs_per_item = _pairs_per_item(xt, xc)
        while start < n:
            stop = start + 1
            budget = pairs_per_item[start]
            while stop < n and budget + pairs_per_item[stop] <= BLOCK_PAIRS:
                budget += pairs_per_item[stop]
                stop += 1
            gram = (xt[start:stop] @ xc).tocoo()
            rows = gram.row + start
            keep = rows != gram.col
            rows, cols = rows[keep], gram.col[keep]
            vals = gram.data[keep] / (norms[rows] * norms[cols] + self.shrink + 1e-12)
            sim = sp.csr_matrix(
                (vals.astype(np.float32), (rows - start, cols)), shape=(stop - start, n)
            )
            sim.eliminate_zeros()
            blocks.append(top_k_per_row(sim, self.k_neighbors))
            start = stop
        self.similarity_ = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, 0))

    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        return (self.x_[user_idx] @ self.similarity_).toarray()

    def _explain(self, u: int, i: int) -> str:
        row = self.x_[u]
        sims = self.similarity_[row.indices][:, [i]].toarray().ravel()
        contrib = row.data * sims
        if contrib.size == 0 or contrib.max() <= 0:
            return super()._explain(u, i)
        best = int(np.argmax(contrib))
        j = int(row.indices[best])
        return _(
            "you chose {item}, and users who choose it often choose this too (similarity "
            "{similarity})"
        ).format(item=self.item_title(j), similarity=f"{sims[best]:.2f}")


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder (Steck, 2019): a closed-form item-item model.

    ``P = (X^T X + l2 I)^-1``, ``B = I - P / diag(P)`` (column-wise, so ``diag(B) = 0``),
    score = ``X_u B``. Needs a dense items x items inverse: fine up to ~20,000 items.

    Parameters
    ----------
    l2 : float, default 500
        Ridge penalty on the item-item weights.
    weighting : {"log", "raw", "binary"}, default "log"
        Transform of the implicit weights that forms ``X``.
    random_state : int
        Unused (closed form); kept for a uniform constructor.

    Attributes
    ----------
    weights_ : np.ndarray
        ``B`` (items x items, float32).
    """

    name = "ease"
    family = "collaborative"

    def __init__(
        self, l2: float = 500.0, weighting: str = "log", random_state: int = S.RANDOM_STATE
    ) -> None:
        super().__init__(random_state=random_state)
        self.l2 = l2
        self.weighting = weighting

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        if self.l2 <= 0:
            raise ProfilingError(
                _("l2 must be > 0. Got {value} instead.").format(value=repr(self.l2))
            )
        self.x_ = weighted(self.matrix_, self.weighting)
        # in place where possible: at 10,000 items each dense matrix is 800 MB, and the
        # gram matrix, its inverse and B no longer exist at once (same numbers, bit for bit)
        gram = (self.x_.T @ self.x_).toarray().astype(np.float64, copy=False)
        gram[np.diag_indices_from(gram)] += self.l2
        p = np.linalg.inv(gram)
        del gram
        p /= np.diag(p).copy()[None, :]
        np.negative(p, out=p)  # B = -P / diag(P)
        p[np.diag_indices_from(p)] = 0.0
        self.weights_ = p.astype(np.float32)

    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        return np.asarray(self.x_[user_idx] @ self.weights_)

    def _explain(self, u: int, i: int) -> str:
        row = self.x_[u]
        contrib = row.data * self.weights_[row.indices, i]
        if contrib.size == 0 or contrib.max() <= 0:
            return super()._explain(u, i)
        j = int(row.indices[int(np.argmax(contrib))])
        return _(
            "you chose {item}; users who choose it tend to choose this too (item weight {weight})"
        ).format(item=self.item_title(j), weight=f"{contrib.max():.2f}")


class FactorModel(Recommender):
    """Shared scoring and explanation of the `implicit` matrix-factorization models."""

    family = "collaborative"

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        from threadpoolctl import threadpool_limits

        self._import_model()  # load implicit (and its BLAS) before limiting the threads
        # one BLAS thread: implicit recommends it (and warns otherwise) and it keeps the
        # floating-point sums, hence the factors, identical from run to run
        with threadpool_limits(1, "blas"):
            model = self._make_model()
            model.fit(self._user_items(), show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)

    def _user_factors(self) -> np.ndarray:
        return self.user_factors_

    def _import_model(self) -> type:  # pragma: no cover - abstract
        raise NotImplementedError

    def _make_model(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _user_items(self) -> sp.csr_matrix:
        raise NotImplementedError  # pragma: no cover

    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        return self.user_factors_[user_idx] @ self.item_factors_.T

    def _explain(self, u: int, i: int) -> str:
        hist = self.matrix_[u].indices
        reason = _("users with tastes like yours chose it ({n} users chose it)").format(
            n=fmt.count(int(self.popularity_[i]))
        )
        if hist.size == 0:
            return reason
        f = self.item_factors_
        norms = np.linalg.norm(f[hist], axis=1) * np.linalg.norm(f[i]) + 1e-12
        cos = (f[hist] @ f[i]) / norms
        j = int(hist[int(np.argmax(cos))])
        return _("{reason}; closest to {item} in your history").format(
            reason=reason, item=self.item_title(j)
        )


class ALS(FactorModel):
    """Implicit-feedback matrix factorization by alternating least squares (Hu, Koren &
    Volinsky, 2008), from the ``implicit`` library.

    Confidence of an observed pair = ``1 + alpha * f(w)`` with ``f`` the ``weighting``
    (log(1 + w) by default: the paper's log-scaled variant); unobserved pairs have
    confidence 1 and preference 0. Score = ``user_factors @ item_factors.T``.

    Parameters
    ----------
    factors : int, default 64
    regularization : float, default 0.05
    iterations : int, default 15
    alpha : float, default 1
        Confidence scaling of observed pairs.
    weighting : {"log", "raw", "binary"}, default "log"
    random_state : int
        Seeds the factor initialisation (fit runs single-threaded BLAS, so it is
        reproducible).

    Attributes
    ----------
    user_factors_, item_factors_ : np.ndarray (float32)
    """

    name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        iterations: int = 15,
        alpha: float = 1.0,
        weighting: str = "log",
        random_state: int = S.RANDOM_STATE,
    ) -> None:
        super().__init__(random_state=random_state)
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.alpha = alpha
        self.weighting = weighting

    def _import_model(self) -> type:
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares

    def _make_model(self):
        return self._import_model()(
            factors=self.factors,
            regularization=self.regularization,
            iterations=self.iterations,
            alpha=1.0,  # the confidence is built in _user_items
            dtype=np.float32,
            random_state=self.random_state,
        )

    def _user_items(self) -> sp.csr_matrix:
        c = weighted(self.matrix_, self.weighting)
        c.data = (1.0 + self.alpha * c.data).astype(np.float32)
        return c


def _bpr_epochs(user_ids, item_ids, indptr, indices, u_f, i_f, i_b, lr, reg, epochs, seed):
    """Cornac's BPR updates (plain SGD over uniformly drawn (user, chosen item, other item)
    triples, one triple per observed pair per epoch, item biases), compiled by numba."""
    np.random.seed(seed)
    n_pairs, n_items, k = user_ids.shape[0], i_f.shape[0], u_f.shape[1]
    for _epoch in range(epochs):
        for _s in range(n_pairs):
            idx = np.random.randint(0, n_pairs)
            u, i = user_ids[idx], item_ids[idx]
            j = np.random.randint(0, n_items)
            seen = False  # skip j the user has: it is not a negative
            lo, hi = indptr[u], indptr[u + 1]
            while lo < hi:
                mid = (lo + hi) // 2
                if indices[mid] == j:
                    seen = True
                    break
                if indices[mid] < j:
                    lo = mid + 1
                else:
                    hi = mid
            if seen:
                continue
            x = i_b[i] - i_b[j]
            for f in range(k):
                x += u_f[u, f] * (i_f[i, f] - i_f[j, f])
            z = 1.0 / (1.0 + np.exp(x))
            for f in range(k):
                uf = u_f[u, f]
                u_f[u, f] += lr * (z * (i_f[i, f] - i_f[j, f]) - reg * uf)
                i_f[i, f] += lr * (z * uf - reg * i_f[i, f])
                i_f[j, f] += lr * (-z * uf - reg * i_f[j, f])
            i_b[i] += lr * (z - reg * i_b[i])
            i_b[j] += lr * (-z - reg * i_b[j])


_BPR_KERNEL = None


def _bpr_kernel():
    """The numba-compiled :func:`_bpr_epochs` (compiled once per process, cached on disk)."""
    global _BPR_KERNEL
    if _BPR_KERNEL is None:
        import numba

        _BPR_KERNEL = numba.njit(cache=True, nogil=True)(_bpr_epochs)
    return _BPR_KERNEL


class BPR(Recommender):
    """Bayesian Personalized Ranking (Rendle et al., 2009), as Cornac implements it.

    Learns user factors ``p_u``, item factors ``q_i`` and item biases ``b_i`` so that an
    item the user chose scores above a random other item: each epoch draws as many
    (user, chosen item i, random item j) triples as there are observed pairs (j must be an
    item the user does not have) and takes one SGD step on ``log sigmoid(x_ui - x_uj)``
    with L2 penalty ``regularization``; ``x_ui = p_u . q_i + b_i``. Factors start uniform in
    (-0.5 / factors, 0.5 / factors), biases at 0. Only the presence of a pair counts.

    Why not ``implicit``'s BPR (used before): on MovieLens 100K, with Cornac's settings it
    scores NDCG@10 0.29 against Cornac's published 0.44 (its updates and sampling differ);
    this is Cornac's algorithm, compiled with numba, single-threaded and seeded, so it is
    reproducible.

    Parameters
    ----------
    factors : int, default 200
    learning_rate : float, default 0.01
    regularization : float, default 0.01
    iterations : int, default 300
        Epochs. The defaults are the setting :func:`profiling.evaluation.tune.tune` chose
        on a validation split of MovieLens 100K's training part (Cornac's notebook uses
        reg 0.001 and 100 epochs; here 100 epochs score NDCG@10 0.400 on the test split).
    random_state : int
        Seeds the initialisation and the sampling.

    Attributes
    ----------
    user_factors_, item_factors_ : np.ndarray
    item_bias_ : np.ndarray
    """

    name = "bpr"
    family = "collaborative"

    def __init__(
        self,
        factors: int = 200,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 300,
        random_state: int = S.RANDOM_STATE,
    ) -> None:
        super().__init__(random_state=random_state)
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        for name in ("factors", "iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ProfilingError(
                    _("{name} must be a positive integer. Got {value} instead.").format(
                        name=name, value=repr(value)
                    )
                )
        binary = weighted(self.matrix_, "binary").tocsr()
        binary.sort_indices()
        coo = binary.tocoo()
        n_users, n_items = binary.shape
        rng = np.random.default_rng(self.random_state)
        k = int(self.factors)
        u_f = (rng.uniform(size=(n_users, k)) - 0.5) / k
        i_f = (rng.uniform(size=(n_items, k)) - 0.5) / k
        i_b = np.zeros(n_items)
        _bpr_kernel()(
            coo.row.astype(np.int64),
            coo.col.astype(np.int64),
            binary.indptr.astype(np.int64),
            binary.indices.astype(np.int64),
            u_f,
            i_f,
            i_b,
            float(self.learning_rate),
            float(self.regularization),
            int(self.iterations),
            int(self.random_state) % (2**32),
        )
        self.user_factors_, self.item_factors_, self.item_bias_ = u_f, i_f, i_b

    def _user_factors(self) -> np.ndarray:
        return self.user_factors_

    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        return self.user_factors_[user_idx] @ self.item_factors_.T + self.item_bias_[None, :]

    _explain = FactorModel._explain
