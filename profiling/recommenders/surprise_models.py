"""Rating-prediction algorithms of `Surprise <https://surpriselib.com>`_ behind the
recommender contract.

One adapter, :class:`SurpriseModel`, wraps SVD, SVD++, NMF, the kNN family, BaselineOnly,
SlopeOne and CoClustering. Surprise predicts one (user, item) pair at a time in Python;
ranking a catalog that way is far too slow, so every algorithm's scores for a batch of users
are computed with numpy from the state Surprise learned, reproducing ``algo.predict(u, i,
clip=False).est`` (including its fallbacks for items it never saw):

* SVD, NMF: ``mu + b_u + b_i + p_u . q_i`` (biased) or ``p_u . q_i`` (unbiased).
* SVD++: ``mu + b_u + b_i + q_i . (p_u + |I_u|^-1/2 sum_{j in I_u} y_j)``.
* BaselineOnly: ``mu + b_u + b_i``.
* kNN (KNNBasic user / item based, KNNWithMeans, KNNBaseline): from ``algo.sim``, looping
  over the "other side" (items for user-based, users for item-based) instead of over
  (user, item) pairs; for each it keeps the ``k`` most similar neighbours per target with a
  stable sort, which breaks ties exactly like Surprise's ``heapq.nlargest``.
* SlopeOne: ``mu_u + mean_{j in R_i(u)} dev[i, j]`` as two matrix products with the
  ``dev`` / ``freq`` matrices.
* CoClustering: co-cluster, user-cluster and item-cluster means indexed by the learned
  cluster assignments.

Floating-point sums are ordered differently from Surprise's, so scores agree to ~1e-12,
not bit for bit. A popularity term below 1e-9 is added to order otherwise tied scores.

Ratings: the interactions' ``rating`` column is used where present; every other pair gets a
rating derived from its implicit weight (see :class:`SurpriseModel`), and the model sets
``implicit_ratings_`` so that a page can say the "stars" are estimated from behaviour.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from profiling.errors import NotFittedError, ProfilingError
from profiling.recommenders.base import Recommender
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

ALGORITHMS: dict[str, str] = {
    "svd": "SVD: matrix factorization with user and item biases (Funk / Koren)",
    "svdpp": "SVD++: SVD plus the implicit signal of which items a user rated",
    "nmf": "NMF: non-negative matrix factorization",
    "knn_basic": "user-based kNN: weighted ratings of the most similar users",
    "knn_item": "item-based kNN: your ratings of the most similar items",
    "knn_means": "user-based kNN on ratings centred by each user's mean",
    "knn_baseline": "user-based kNN on ratings centred by a baseline (pearson_baseline)",
    "baseline_only": "baseline: global mean + user bias + item bias",
    "slope_one": "Slope One: average rating differences between item pairs",
    "co_clustering": "co-clustering: averages of user and item clusters",
}
"""Supported ``algorithm`` values and what they do."""

DEFAULT_RATING_WEIGHTS: dict[float, float] = {
    S.IMPLICIT_WEIGHTS[S.VIEW]: 1.0,
    S.IMPLICIT_WEIGHTS[S.CART]: 3.0,
    S.IMPLICIT_WEIGHTS[S.PURCHASE]: 5.0,
}
"""Implicit weight -> stars knots: view (1) = 1 star, cart (3) = 3, purchase (5) = 5."""

_KNN = ("knn_basic", "knn_item", "knn_means", "knn_baseline")
_SEEDED = ("svd", "svdpp", "nmf", "co_clustering")
_IMPLICIT_SCALE = (1.0, 5.0)


def algorithm_class(algorithm: str):
    import surprise

    return {
        "svd": surprise.SVD,
        "svdpp": surprise.SVDpp,
        "nmf": surprise.NMF,
        "knn_basic": surprise.KNNBasic,
        "knn_item": surprise.KNNBasic,
        "knn_means": surprise.KNNWithMeans,
        "knn_baseline": surprise.KNNBaseline,
        "baseline_only": surprise.BaselineOnly,
        "slope_one": surprise.SlopeOne,
        "co_clustering": surprise.CoClustering,
    }[algorithm]


def default_sim_options(algorithm: str) -> dict:
    if algorithm == "knn_item":
        return {"name": "msd", "user_based": False}
    if algorithm == "knn_baseline":
        return {"name": "pearson_baseline", "user_based": True}
    return {"name": "msd", "user_based": True}


def _top_k_mask(values: np.ndarray, k: int) -> np.ndarray:
    """Mask of the ``k`` largest values of each row, ties going to the leftmost: the set
    ``heapq.nlargest(k, row)`` picks (a stable descending sort)."""
    kth = -np.partition(-values, k - 1, axis=1)[:, k - 1 : k]
    mask = values > kth
    tied = values == kth
    room = k - mask.sum(axis=1, keepdims=True)
    crowded = tied.sum(axis=1, keepdims=True) > room  # more ties than free places
    mask |= tied & ~crowded
    rows = np.flatnonzero(crowded)
    if rows.size:
        first = np.cumsum(tied[rows], axis=1, dtype=np.int32) <= room[rows]
        mask[rows] |= tied[rows] & first
    return mask


class SurpriseModel(Recommender):
    """A Surprise rating-prediction algorithm as a top-k recommender.

    Items are ranked by predicted rating (computed for the whole catalog with numpy; see
    the module notes).

    Parameters
    ----------
    algorithm : str, default "svd"
        One of :data:`ALGORITHMS`: svd, svdpp, nmf, knn_basic (user-based KNNBasic),
        knn_item (item-based KNNBasic), knn_means (KNNWithMeans), knn_baseline
        (KNNBaseline, pearson_baseline similarity), baseline_only, slope_one,
        co_clustering.
    random_state : int
        Seed of SVD, SVD++, NMF and CoClustering (the others are deterministic).
    rating_weights : dict of float to float, optional
        How a pair without an explicit rating becomes one: knots (implicit weight ->
        stars) of a piecewise-linear map, flat beyond the first and last knot, rounded to
        whole stars (Surprise's SlopeOne and CoClustering treat ratings as integers).
        Default :data:`DEFAULT_RATING_WEIGHTS`: with the default implicit weights,
        view (weight 1) = 1 star < cart (3) = 3 stars < purchase (5 or more) = 5 stars, and
        sums in between (2 views = 2 stars, view + cart = 4 stars).
    **algo_params
        Passed to the Surprise algorithm (e.g. ``n_factors=50``, ``k=20``,
        ``sim_options={"name": "cosine"}``; ``sim_options`` is merged into the default of
        the chosen algorithm). ``verbose`` is forced off.

    Attributes
    ----------
    algo_ : surprise.AlgoBase
        The fitted Surprise algorithm (raw ids = our user_id / item_id strings).
    trainset_ : surprise.Trainset
    implicit_ratings_ : bool
        True when at least one training rating was derived from implicit weights.
    explicit_share_ : float
        Share of training pairs with an explicit rating.
    rating_scale_ : tuple of float
        (lowest, highest) rating: 1-5, widened to the explicit ratings' range.
    inner_user_, inner_item_ : np.ndarray
        Surprise inner id of each of our user / item indices (-1: item unknown to Surprise,
        i.e. in the catalog but never interacted with).
    """

    name = "surprise"
    family = "rating prediction"

    def __init__(
        self,
        algorithm: str = "svd",
        random_state: int = S.RANDOM_STATE,
        rating_weights: dict[float, float] | None = None,
        **algo_params,
    ) -> None:
        super().__init__(random_state=random_state)
        self.algorithm = algorithm
        self.rating_weights = rating_weights
        self.algo_params = algo_params

    def get_params(self) -> dict:
        """Constructor parameters, the Surprise ones (``algo_params``) flattened in."""
        return {
            "algorithm": self.algorithm,
            "random_state": self.random_state,
            "rating_weights": self.rating_weights,
            **self.algo_params,
        }

    def set_params(self, **params) -> SurpriseModel:
        """Set adapter parameters; any other name is a Surprise parameter (``n_factors``,
        ``k``, ...)."""
        for key, value in params.items():
            if key in ("algorithm", "random_state", "rating_weights"):
                setattr(self, key, value)
            else:
                self.algo_params = {**self.algo_params, key: value}
        return self

    @property
    def label(self) -> str:
        """Display name, e.g. ``surprise-svd``."""
        return f"surprise-{self.algorithm}"

    # ---- ratings ------------------------------------------------------------------------
    def implicit_to_stars(self, weight: np.ndarray) -> np.ndarray:
        """Stars (whole numbers, 1-5 by default) for implicit weights (see ``rating_weights``)."""
        knots = dict(sorted((self.rating_weights or DEFAULT_RATING_WEIGHTS).items()))
        if not knots:
            raise ProfilingError(_("rating_weights needs at least one (weight -> stars) pair"))
        xs = np.asarray(list(knots), dtype=np.float64)
        ys = np.asarray(list(knots.values()), dtype=np.float64)
        return np.round(np.interp(np.asarray(weight, dtype=np.float64), xs, ys))

    def rating_targets(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (user_id, item_id, weight and/or rating) with ``target``: the rating
        this model learns from, i.e. the explicit rating where present, else the stars
        derived from ``weight``. Use it to score implicit-rating models with RMSE/MAE."""
        n = frame.height
        rating = (
            frame[S.RATING].cast(pl.Float64).to_numpy()
            if S.RATING in frame.columns
            else np.full(n, np.nan)
        )
        weight = (
            frame["weight"].cast(pl.Float64).fill_null(0.0).to_numpy()
            if "weight" in frame.columns
            else np.zeros(n)
        )
        target = np.where(np.isnan(rating), self.implicit_to_stars(weight), rating)
        return frame.with_columns(pl.Series("target", target, dtype=pl.Float64))

    # ---- fit ----------------------------------------------------------------------------
    def _make_algo(self):
        if self.algorithm not in ALGORITHMS:
            raise ProfilingError(
                _("algorithm must be one of {allowed}. Got {value} instead.").format(
                    allowed=sorted(ALGORITHMS), value=repr(self.algorithm)
                )
            )
        params = dict(self.algo_params)
        if self.algorithm in _KNN:
            params["sim_options"] = {
                **default_sim_options(self.algorithm),
                **params.get("sim_options", {}),
            }
        if self.algorithm in _SEEDED:
            params["random_state"] = self.random_state
        if self.algorithm != "slope_one":
            params["verbose"] = False
        return algorithm_class(self.algorithm)(**params)

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        import pandas as pd
        from surprise import Dataset, Reader

        rating = (
            data[S.RATING].cast(pl.Float64)
            if S.RATING in data.columns
            else pl.Series(S.RATING, [None] * data.height, dtype=pl.Float64)
        )
        pairs = (
            pl.DataFrame({"u": codes[0], "i": codes[1], "w": data["weight"], "r": rating})
            .group_by("u", "i")
            .agg(pl.col("w").sum(), pl.col("r").drop_nulls().last())
            .sort("u", "i")
        )
        u, i = pairs["u"].to_numpy(), pairs["i"].to_numpy()
        explicit = pairs["r"].is_not_null().to_numpy()
        stars = np.where(
            explicit,
            pairs["r"].fill_null(0.0).to_numpy(),
            self.implicit_to_stars(pairs["w"].to_numpy()),
        )
        self.implicit_ratings_ = bool((~explicit).any())
        self.explicit_share_ = float(explicit.mean())
        lo, hi = _IMPLICIT_SCALE if self.implicit_ratings_ else (np.inf, -np.inf)
        if explicit.any():
            lo, hi = min(lo, float(stars[explicit].min())), max(hi, float(stars[explicit].max()))
        if lo >= hi:
            hi = lo + 1.0
        self.rating_scale_ = (lo, hi)
        self.explicit_ = sp.csr_matrix(
            (explicit.astype(np.float32), (u, i)), shape=self.matrix_.shape
        )
        self.explicit_.eliminate_zeros()

        frame = pd.DataFrame({"user": self.users_[u], "item": self.items_[i], "rating": stars})
        self.trainset_ = Dataset.load_from_df(
            frame, Reader(rating_scale=self.rating_scale_)
        ).build_full_trainset()
        self.algo_ = self._make_algo()
        self.algo_.fit(self.trainset_)

        ts = self.trainset_
        self.inner_user_ = np.array([ts.to_inner_uid(x) for x in self.users_], dtype=np.int64)
        self.inner_item_ = np.full(len(self.items_), -1, dtype=np.int64)
        for inner in ts.all_items():
            self.inner_item_[self.item_index_[ts.to_raw_iid(inner)]] = inner
        rows, cols, vals = [], [], []
        for uu, ii, r in ts.all_ratings():
            rows.append(uu)
            cols.append(ii)
            vals.append(r)
        shape = (ts.n_users, ts.n_items)
        self.ratings_ = sp.csr_matrix(
            (np.asarray(vals, dtype=np.float64), (rows, cols)), shape=shape
        )
        self.rated_ = sp.csr_matrix((np.ones(len(vals)), (rows, cols)), shape=shape)
        self._prepare()

    def _prepare(self) -> None:
        """Cache the numpy state the vectorized scoring needs."""
        algo = self.algo_
        if self.algorithm in _KNN:
            # algo.yr[y]: (x2, r) of every x2 that rated y, in Surprise's order (ties!)
            lengths = [len(algo.yr[y]) for y in range(algo.n_y)]
            self.yr_indptr_ = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            flat = [pair for y in range(algo.n_y) for pair in algo.yr[y]]
            self.yr_x_ = np.array([x for x, _ in flat], dtype=np.int64)
            self.yr_r_ = np.array([r for _, r in flat], dtype=np.float64)
            self.sim_ = np.asarray(algo.sim, dtype=np.float64)
        elif self.algorithm == "slope_one":
            freq = np.asarray(algo.freq)
            self.slope_has_ = (freq > 0).astype(np.float64)
            self.slope_dev_ = np.where(freq > 0, np.asarray(algo.dev), 0.0)
            self.slope_user_mean_ = np.asarray(algo.user_mean, dtype=np.float64)

    # ---- scoring ------------------------------------------------------------------------
    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        pop = self.popularity_
        return self.estimate(user_idx) + 1e-9 * pop / max(float(pop.max()), 1.0)

    def estimate(self, user_idx: np.ndarray) -> np.ndarray:
        """Unclipped predicted ratings (len(user_idx) x n_items) of inner users ``user_idx``:
        what ``algo_.predict(u, i, clip=False).est`` gives, for the whole catalog."""
        self._check_fitted()
        ui = self.inner_user_[np.asarray(user_idx, dtype=np.int64)]
        known = self.inner_item_ >= 0
        est_inner = self._estimate_inner(ui)
        out = np.empty((len(ui), len(self.items_)))
        out[:, known] = est_inner[:, self.inner_item_[known]]
        if (~known).any():
            out[:, ~known] = self._unknown_item_estimate(ui)[:, None]
        return out

    def _user_factors(self) -> np.ndarray | None:
        pu = getattr(self.algo_, "pu", None)  # SVD, SVD++ and NMF learn user vectors
        return None if pu is None else np.asarray(pu, dtype=np.float64)[self.inner_user_]

    def _unknown_item_estimate(self, ui: np.ndarray) -> np.ndarray:
        """Surprise's estimate for an item it never saw (user known)."""
        algo, mu = self.algo_, self.trainset_.global_mean
        with_bias = self.algorithm in ("svdpp", "baseline_only", "knn_baseline") or (
            self.algorithm in ("svd", "nmf") and algo.biased
        )
        if with_bias:
            return mu + np.asarray(algo.bu)[ui]
        return np.full(len(ui), mu)  # PredictionImpossible -> default_prediction()

    def _estimate_inner(self, ui: np.ndarray) -> np.ndarray:
        algo, mu = self.algo_, self.trainset_.global_mean
        a = self.algorithm
        if a in ("svd", "nmf"):
            est = np.asarray(algo.pu)[ui] @ np.asarray(algo.qi).T
            if algo.biased:
                est += mu + np.asarray(algo.bu)[ui][:, None] + np.asarray(algo.bi)[None, :]
            return est
        if a == "svdpp":
            rated = self.rated_[ui]
            n_rated = np.asarray(rated.sum(axis=1)).ravel()
            implicit = (rated @ np.asarray(algo.yj)) / np.sqrt(np.maximum(n_rated, 1))[:, None]
            est = (np.asarray(algo.pu)[ui] + implicit) @ np.asarray(algo.qi).T
            return est + mu + np.asarray(algo.bu)[ui][:, None] + np.asarray(algo.bi)[None, :]
        if a == "baseline_only":
            return mu + np.asarray(algo.bu)[ui][:, None] + np.asarray(algo.bi)[None, :]
        if a == "slope_one":
            rated = self.rated_[ui]
            count = np.asarray(rated @ self.slope_has_.T)
            total = np.asarray(rated @ self.slope_dev_.T)
            mean_dev = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
            return self.slope_user_mean_[ui][:, None] + mean_dev
        if a == "co_clustering":
            cu, ci = np.asarray(algo.cltr_u)[ui], np.asarray(algo.cltr_i)
            return (
                np.asarray(algo.avg_cocltr)[np.ix_(cu, ci)]
                + (np.asarray(algo.user_mean)[ui] - np.asarray(algo.avg_cltr_u)[cu])[:, None]
                + (np.asarray(algo.item_mean) - np.asarray(algo.avg_cltr_i)[ci])[None, :]
            )
        return self._knn_inner(ui)

    def _knn_inner(self, ui: np.ndarray) -> np.ndarray:
        algo = self.algo_
        user_based = algo.sim_options["user_based"]
        n_items = self.trainset_.n_items
        est = np.empty((len(ui), n_items))
        if user_based:  # x = user (targets: the batch), y = item (loop over the catalog)
            targets, ys = ui, range(n_items)
        else:  # x = item (targets: every item), y = user (loop over the batch)
            targets, ys = np.arange(n_items), ui
        sim_rows = np.ascontiguousarray(self.sim_[targets])
        for pos, y in enumerate(ys):
            value = self._knn_column(sim_rows, targets, int(y))
            if user_based:
                est[:, y] = value
            else:
                est[pos] = value
        return est

    def _knn_column(self, sim_rows: np.ndarray, targets: np.ndarray, y: int) -> np.ndarray:
        """Surprise's ``estimate`` of (x, y) for every target x and one y."""
        algo, mu = self.algo_, self.trainset_.global_mean
        lo, hi = self.yr_indptr_[y], self.yr_indptr_[y + 1]
        nb, r = self.yr_x_[lo:hi], self.yr_r_[lo:hi]
        a = self.algorithm
        if a == "knn_means":
            values, base = r - algo.means[nb], algo.means[targets]
        elif a == "knn_baseline":
            bx, by = np.asarray(algo.bx), np.asarray(algo.by)
            values, base = r - (mu + bx[nb] + by[y]), mu + bx[targets] + by[y]
        else:
            values, base = r, None
        sims = sim_rows[:, nb]  # targets x neighbours (in Surprise's yr order)
        keep = sims > 0
        if len(nb) > algo.k:
            keep &= _top_k_mask(sims, algo.k)
        w = np.where(keep, sims, 0.0)
        sum_sim = w.sum(axis=1)
        num = w @ values
        enough = (keep.sum(axis=1) >= algo.min_k) & (sum_sim > 0)
        ratio = np.divide(num, sum_sim, out=np.zeros_like(num), where=enough)
        if base is None:  # KNNBasic: PredictionImpossible -> the global mean
            return np.where(enough, ratio, mu)
        return base + ratio

    # ---- rating prediction ------------------------------------------------------------
    def predict_ratings(self, frame: pl.DataFrame, clip: bool = True) -> pl.DataFrame:
        """Predicted rating of every (user_id, item_id) row of ``frame``.

        Uses Surprise's own ``algo.predict`` (unknown users / items get its default
        prediction, the global mean). Returns ``frame`` with ``prediction`` (Float64),
        clipped to ``rating_scale_`` unless ``clip=False``; feed it with the test ratings to
        :func:`profiling.evaluation.metrics.rmse` / ``mae``.
        """
        self._check_fitted()
        missing = {S.USER_ID, S.ITEM_ID} - set(frame.columns)
        if missing:
            raise ProfilingError(
                _("frame needs columns user_id, item_id; missing {missing}").format(
                    missing=sorted(missing)
                )
            )
        users = frame[S.USER_ID].cast(pl.String).to_list()
        items = frame[S.ITEM_ID].cast(pl.String).to_list()
        pred = [self.algo_.predict(u, i, clip=clip).est for u, i in zip(users, items, strict=True)]
        return frame.with_columns(pl.Series("prediction", pred, dtype=pl.Float64))

    # ---- explanations -----------------------------------------------------------------
    def _stars(self, value: float) -> str:
        if self.implicit_ratings_:
            return _(
                "predicted interest {value} of 5 (estimated from views, carts and purchases)"
            ).format(value=f"{value:.1f}")
        return _("predicted {value} stars").format(value=f"{value:.1f}")

    def _explain(self, u: int, i: int) -> str:
        est = float(self.algo_.predict(self.users_[u], self.items_[i], clip=True).est)
        stars = self._stars(est)
        implicit = self.implicit_ratings_
        ii = int(self.inner_item_[i])
        if ii < 0:
            if implicit:
                return _("no one has chosen it yet; {stars}").format(stars=stars)
            return _("no one has rated it yet; {stars}").format(stars=stars)
        a = self.algorithm
        ui = int(self.inner_user_[u])
        if a == "knn_item":
            return self._explain_item_knn(u, ui, ii, stars)
        if a in _KNN and self.algo_.sim_options["user_based"]:
            lo, hi = self.yr_indptr_[ii], self.yr_indptr_[ii + 1]
            nb, r = self.yr_x_[lo:hi], self.yr_r_[lo:hi]
            keep = nb != ui
            nb, r = nb[keep], r[keep]
            sims = self.sim_[ui, nb]
            top = np.argsort(-sims, kind="stable")[: self.algo_.k]
            top = top[sims[top] > 0]
            if top.size:
                said = (
                    _("{n} users with tastes like yours give it {value} of 5 on average; {stars}")
                    if implicit
                    else _(
                        "{n} users with tastes like yours rate it {value} stars on average; {stars}"
                    )
                )
                return said.format(n=top.size, value=f"{r[top].mean():.1f}", stars=stars)
        if a == "baseline_only":
            bi = float(np.asarray(self.algo_.bi)[ii])
            if implicit:
                said = (
                    _("everyone gives it {gap} above average; {stars}")
                    if bi >= 0
                    else _("everyone gives it {gap} below average; {stars}")
                )
            else:
                said = (
                    _("everyone rates it {gap} stars above average; {stars}")
                    if bi >= 0
                    else _("everyone rates it {gap} stars below average; {stars}")
                )
            return said.format(gap=f"{abs(bi):.1f}", stars=stars)
        if a == "slope_one":
            rated = self.rated_[ui]
            n = int((rated @ self.slope_has_[ii])[0])
            if n:
                dev = float((rated @ self.slope_dev_[ii])[0]) / n
                said = (
                    _(
                        "people who chose the {n} items you chose give this {dev} compared "
                        "with them; {stars}"
                    )
                    if implicit
                    else _(
                        "people who rated the {n} items you rated rate this {dev} stars "
                        "compared with them; {stars}"
                    )
                )
                return said.format(n=n, dev=f"{dev:+.1f}", stars=stars)
        if a == "co_clustering":
            cu, ci = int(self.algo_.cltr_u[ui]), int(self.algo_.cltr_i[ii])
            avg = float(self.algo_.avg_cocltr[cu, ci])
            said = (
                _("users in your taste group give items like this {value} of 5 on average; {stars}")
                if implicit
                else _(
                    "users in your taste group rate items like this {value} stars on average; "
                    "{stars}"
                )
            )
            return said.format(value=f"{avg:.1f}", stars=stars)
        lo, hi = self.rating_scale_
        level = 0 if est >= lo + 0.75 * (hi - lo) else 1 if est >= self.trainset_.global_mean else 2
        if implicit:
            how = (
                _("users with tastes like yours showed strong interest in it; {stars}"),
                _("users with tastes like yours showed interest in it; {stars}"),
                _("users with tastes like yours showed some interest in it; {stars}"),
            )
        else:
            how = (
                _("users with tastes like yours rated it highly; {stars}"),
                _("users with tastes like yours rated it well; {stars}"),
                _("users with tastes like yours rated it fairly; {stars}"),
            )
        return how[level].format(stars=stars)

    def _explain_item_knn(self, u: int, ui: int, ii: int, stars: str) -> str:
        lo, hi = self.yr_indptr_[ui], self.yr_indptr_[ui + 1]
        nb, r = self.yr_x_[lo:hi], self.yr_r_[lo:hi]
        keep = nb != ii
        nb, r = nb[keep], r[keep]
        sims = self.sim_[ii, nb]
        if sims.size == 0 or sims.max() <= 0:
            return _("few items in your history resemble it; {stars}").format(stars=stars)
        best = int(np.argmax(sims))
        raw = self.trainset_.to_raw_iid(int(nb[best]))
        j = self.item_index_[raw]
        similarity = f"{sims[best]:.2f}"
        if self.explicit_[u, j]:
            return _(
                "you rated {item} {rating} stars, which is similar to this "
                "(similarity {similarity}); {stars}"
            ).format(
                item=self.item_title(j), rating=f"{r[best]:g}", similarity=similarity, stars=stars
            )
        return _(
            "you chose {item}, which is similar to this (similarity {similarity}); {stars}"
        ).format(item=self.item_title(j), similarity=similarity, stars=stars)

    def _check_fitted(self) -> None:
        if not hasattr(self, "algo_"):
            raise NotFittedError(
                _("{model} is not fitted yet; call fit(interactions) first").format(
                    model=type(self).__name__
                )
            )
