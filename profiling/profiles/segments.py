"""Segments: RFM scores and named RFM segments, ML clusters with automatic k, descriptions
and readable names, and custom rule segments built from structured conditions."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from profiling.errors import ProfilingError
from profiling.profiles.features import CATEGORY_PREFIX, PARTS_OF_DAY, attribute_columns
from profiling.vocabulary import glossary as G
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

NO_PURCHASE = N_("No purchase yet")
NO_SEGMENT = N_("no segment (new since the cutoff)")
EVERYONE_ELSE = N_("Everyone else")
"""The users outside a custom rule segment (``workspace.custom_segments.OUTSIDE``): stored in
English in the segment column, said in the reader's language by :func:`segment_label`."""
"""An evaluation's test user without a training-period segment (new since its cutoff)."""
REFUNDED_ALL = G.REFUNDED_EVERYTHING  # net spend <= 0 after refunds: not a visitor, not scored

# (name, rule on R and F scores, plain-language definition), checked in order.
RFM_SEGMENTS: tuple[tuple[str, str, str], ...] = (
    (N_("Champions"), r"^5[45]$", N_("ordered very recently and order very often")),
    (N_("Loyal"), r"^[345][45]$", N_("order often, and not long ago")),
    (N_("Potential loyalist"), r"^[45][23]$", N_("ordered recently, a few times so far")),
    (N_("New"), r"^51$", N_("first order, very recently")),
    (N_("Promising"), r"^41$", N_("ordered recently, once so far")),
    (N_("Need attention"), r"^33$", N_("middling: neither recent nor frequent")),
    (N_("About to sleep"), r"^3[12]$", N_("slipping away after one or two orders")),
    (N_("Can't lose them"), r"^[12]5$", N_("used to order most often, but not for a long time")),
    (N_("At risk"), r"^[12][34]$", N_("ordered often, but not for a long time")),
    (N_("Lost"), r"^11$", N_("one order, long ago")),
    (N_("Hibernating"), r"^[12][12]$", N_("a few orders, long ago")),
)
#: what the customers without a purchase did, in the words of each kind of log: nobody
#: "visits" in a transaction log (there, only refund rows can leave a customer unbought)
NO_PURCHASE_BY_KIND: dict[str, str] = {
    "event log": N_("has visited but not bought yet"),
    "transaction log": N_("has rows in the log but no purchase"),
    "rating log": N_("has rated or reviewed but not bought"),
}
RFM_DEFINITIONS: dict[str, str] = {name: text for name, _rx, text in RFM_SEGMENTS} | {
    REFUNDED_ALL: G.REFUNDED_EVERYTHING_RULE,
    NO_PURCHASE: N_("no purchase in the log"),
}


def rfm_definitions(kind: str | None = None) -> dict[str, str]:
    """:data:`RFM_DEFINITIONS` with the no-purchase definition in the words of the log's
    kind ("event log", "transaction log", "rating log"; neutral words when None)."""
    return RFM_DEFINITIONS | (
        {NO_PURCHASE: NO_PURCHASE_BY_KIND[kind]} if kind in NO_PURCHASE_BY_KIND else {}
    )


RFM_RULES: dict[str, str] = {
    "Champions": "R 5, F 4-5",
    "Loyal": "R 3-5, F 4-5",
    "Potential loyalist": "R 4-5, F 2-3",
    "New": "R 5, F 1",
    "Promising": "R 4, F 1",
    "Need attention": "R 3, F 3",
    "About to sleep": "R 3, F 1-2",
    "Can't lose them": "R 1-2, F 5",
    "At risk": "R 1-2, F 3-4",
    "Lost": "R 1, F 1",
    "Hibernating": "R 1-2, F 1-2",
    REFUNDED_ALL: N_("net spend 0 or less (not scored)"),
    NO_PURCHASE: N_("no purchase"),
}
"""The score rule of each RFM segment (R = recency score, F = order-count score, 1-5 by
quintile of buyers), for the analyst details."""


RFM_ORDER: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "Can't lose them",
    "At risk",
    "Hibernating",
    "Lost",
    REFUNDED_ALL,
    NO_PURCHASE,
)
"""RFM segments from best to lost: the one order of every list, chart and legend."""

# ---- the 8-tier high/low scheme (重要价值客户 ... 一般挽留客户) --------------------------------
SCHEME_11, SCHEME_8 = "rfm11", "tiers8"
SCHEMES: dict[str, str] = {
    SCHEME_11: N_("11 RFM segments (Champions ... Lost)"),
    SCHEME_8: N_("8 RFM tiers (high/low recency, frequency, spend)"),
}
"""Ways to name RFM segments, picked per workspace (setting ``segment_scheme``)."""

TIER_RULE = N_(
    "Each of R (recency), F (order count) and M (spend) is high when the customer's score "
    "(1-5, by quintile of buyers) is above the median of that score among all buyers, and "
    "low when it is equal to or below it; without spend data M counts as low."
)
"""How high and low are decided in the 8-tier scheme."""

# (name, (R high, F high, M high), plain-language definition), best to least engaged
RFM_TIERS: tuple[tuple[str, tuple[bool, bool, bool], str], ...] = (
    (
        N_("Important value"),
        (True, True, True),
        N_("ordered recently, orders often and spends a lot: the best customers"),
    ),
    (
        N_("Important development"),
        (True, False, True),
        N_("ordered recently and spends a lot, but few orders: grow the habit"),
    ),
    (
        N_("Important retention"),
        (False, True, True),
        N_("orders often and spends a lot, but not recently: keep them before they go"),
    ),
    (
        N_("Important win-back"),
        (False, False, True),
        N_("spent a lot, but few orders and not recently: worth winning back"),
    ),
    (
        N_("General value"),
        (True, True, False),
        N_("ordered recently and orders often, with lower spend"),
    ),
    (
        N_("General development"),
        (True, False, False),
        N_("ordered recently, few orders and lower spend: new or occasional"),
    ),
    (
        N_("General retention"),
        (False, True, False),
        N_("orders often, but not recently, with lower spend"),
    ),
    (
        N_("General win-back"),
        (False, False, False),
        N_("not recent, few orders and lower spend: the least engaged"),
    ),
)
TIER_DEFINITIONS: dict[str, str] = {name: text for name, _hl, text in RFM_TIERS} | {
    REFUNDED_ALL: RFM_DEFINITIONS[REFUNDED_ALL],
    NO_PURCHASE: RFM_DEFINITIONS[NO_PURCHASE],
}
TIER_RULES: dict[str, str] = {
    "Important value": N_("R high, F high, M high"),
    "Important development": N_("R high, F low, M high"),
    "Important retention": N_("R low, F high, M high"),
    "Important win-back": N_("R low, F low, M high"),
    "General value": N_("R high, F high, M low"),
    "General development": N_("R high, F low, M low"),
    "General retention": N_("R low, F high, M low"),
    "General win-back": N_("R low, F low, M low"),
    REFUNDED_ALL: RFM_RULES[REFUNDED_ALL],
    NO_PURCHASE: RFM_RULES[NO_PURCHASE],
}
"""The score rule of each tier ("R high, F low, M high"; high/low as in :data:`TIER_RULE`)."""
TIER_ORDER: tuple[str, ...] = tuple(name for name, _hl, _t in RFM_TIERS) + (
    REFUNDED_ALL,
    NO_PURCHASE,
)


def definitions(scheme: str = SCHEME_11) -> dict[str, str]:
    """Segment name -> plain definition (English msgids) of a scheme.

    Raises ProfilingError naming the scheme when it is not one of :data:`SCHEMES`."""
    check_scheme(scheme)
    return dict(TIER_DEFINITIONS if scheme == SCHEME_8 else RFM_DEFINITIONS)


def check_scheme(scheme: str) -> str:
    """``scheme`` when it is one of :data:`SCHEMES`, else a ProfilingError naming it."""
    if scheme not in SCHEMES:
        raise ProfilingError(
            _("segment scheme: expected one of {names}, got {scheme!r}").format(
                names=", ".join(SCHEMES), scheme=scheme
            )
        )
    return scheme


def segment_label(name: str) -> str:
    """A segment name in the current language (RFM segment and tier names are msgids;
    behaviour-group names composed from their words, :func:`cluster_label`; custom
    segments are shown as they are, the users outside one, :data:`EVERYONE_ELSE`, translated)."""
    return _(name) if name in _KNOWN_NAMES else cluster_label(name)


def segment_order(names: list[str]) -> list[str]:
    """``names`` with RFM segments first in :data:`RFM_ORDER` or :data:`TIER_ORDER` (best
    to lost), any other name after them in the order given."""
    order = RFM_ORDER + tuple(n for n in TIER_ORDER if n not in RFM_ORDER)
    known = [n for n in order if n in set(names)]
    return known + [n for n in names if n not in set(order)]


def rfm_tier_names(scores: pl.DataFrame) -> pl.Series:
    """The 8-tier name of each row of ``scores`` (columns r_score, f_score, m_score; null
    r_score = no purchase), by :data:`TIER_RULE`: a score is high when above the median of
    that score over the rows with an r_score. One value per row, named ``rfm_segment``."""
    buyers = scores.filter(pl.col("r_score").is_not_null())
    high = []
    for col in ("r_score", "f_score", "m_score"):
        median = buyers[col].median() if buyers.height else None
        if median is None:  # no buyer, or no spend data: everyone is low
            high.append(pl.lit(False))
        else:
            high.append((pl.col(col).cast(pl.Float64) > median).fill_null(False))
    key = (
        pl.when(high[0]).then(pl.lit("1")).otherwise(pl.lit("0"))
        + pl.when(high[1]).then(pl.lit("1")).otherwise(pl.lit("0"))
        + pl.when(high[2]).then(pl.lit("1")).otherwise(pl.lit("0"))
    )
    names = {"".join("1" if h else "0" for h in hl): name for name, hl, _t in RFM_TIERS}
    name = (
        pl.when(pl.col("r_score").is_null())
        .then(pl.lit(NO_PURCHASE))
        .otherwise(key.replace_strict(names, return_dtype=pl.String))
    )
    return scores.select(name.alias("rfm_segment")).to_series()


def quantile_scores(
    values: pl.Series, *, higher_is_better: bool = True, bins: int = 5
) -> pl.Series:
    """Scores 1..``bins`` by quantile of ``values``, robust to ties and few distinct values.

    Each value's score comes from its average rank, so tied values always share a score and a
    column with few distinct values never has equal values split across scores; the tied
    group holding the lowest values always scores 1 (when half the buyers bought once,
    their average rank alone would give them 2, and nobody would be scored 1). Ties can
    leave some scores empty: see :func:`empty_scores`. Nulls get null. With
    ``higher_is_better=False`` (recency in days) small values score high, and the group
    with the largest values scores 1.
    """
    ranks = values.rank("average", descending=not higher_is_better)
    n = values.drop_nulls().len()
    if n == 0:
        return pl.Series(values.name, [None] * values.len(), dtype=pl.Int8)
    # ceil(rank / n * bins) in integers: average ranks are multiples of 1/2, and float
    # division puts exact bin edges (rank 6 of 10) one score too high
    r2 = (ranks * 2).round(0).cast(pl.Int64)
    score = ((r2 * bins + 2 * n - 1) // (2 * n)).clip(1, bins)
    worst = values.min() if higher_is_better else values.max()
    score = pl.select(pl.when(values == worst).then(1).otherwise(score)).to_series()
    return score.cast(pl.Int8).alias(values.name)


SCORE_NAMES = {"r_score": "R", "f_score": "F", "m_score": "M"}


def empty_scores(assignments: pl.DataFrame, bins: int = 5) -> dict[str, list[int]]:
    """Scores 1..``bins`` no buyer has, per score column present (r_score, f_score,
    m_score): a quintile that ties left empty."""
    out = {}
    for col in SCORE_NAMES:
        if col not in assignments.columns or assignments[col].null_count() == assignments.height:
            continue
        used = set(assignments[col].drop_nulls().to_list())
        out[col] = [s for s in range(1, bins + 1) if s not in used]
    return out


def empty_score_notes(assignments: pl.DataFrame) -> list[str]:
    """One plain sentence per score column with empty scores, e.g. "No buyer has F score 2
    or 3: tied values share one score, and 6 of 10 buyers tie on one frequency (F 1)."."""
    words = {"r_score": "recency", "f_score": "frequency", "m_score": "spend"}
    buyers = assignments.filter(pl.col("r_score").is_not_null())
    notes = []
    for col, empty in empty_scores(buyers).items():
        if not empty:
            continue
        letter = SCORE_NAMES[col]
        listed = ", ".join(str(s) for s in empty[:-1]) + (" or " if len(empty) > 1 else "")
        score, n = buyers.group_by(col).len().sort(["len", col], descending=[True, False]).row(0)
        notes.append(
            f"No buyer has {letter} score {listed}{empty[-1]}: tied values share one score, "
            f"and {n:,} of {buyers.height:,} buyers tie on one {words[col]} ({letter} {score})."
        )
    return notes


def rfm_segment_name(cell: str) -> str:
    """Name of an RFM cell such as "54" (R score then F score): the first matching rule of
    :data:`RFM_SEGMENTS`."""
    return next((seg for seg, rx, _t in RFM_SEGMENTS if re.match(rx, cell)), NO_PURCHASE)


def rfm_segments(profiles: pl.DataFrame, scheme: str = SCHEME_11) -> pl.DataFrame:
    """RFM scores and named segment per user.

    Parameters
    ----------
    profiles : pl.DataFrame
        From :func:`profiling.profiles.features.build_profiles`: needs ``recency_days``,
        ``frequency`` and ``monetary`` (``monetary`` may be absent: M is then null).
    scheme : str
        :data:`SCHEME_11` (names from the R and F scores, :data:`RFM_SEGMENTS`) or
        :data:`SCHEME_8` (high/low R, F and M, :data:`RFM_TIERS`).

    Returns
    -------
    pl.DataFrame
        One row per user: user_id, r_score, f_score, m_score (1-5, null for users with no
        purchase and for those who refunded everything), rfm_cell ("R F", e.g. "54"),
        rfm_segment (a name of :data:`RFM_SEGMENTS`, :data:`REFUNDED_ALL` for a customer
        whose net spend is zero or less after refunds, or :data:`NO_PURCHASE`). Scores are
        quintiles among buyers whose net spend is positive.
    """
    check_scheme(scheme)
    refunded = _refunded_everything(profiles)
    buyers = profiles.filter((pl.col("frequency") > 0) & ~refunded)
    scored = buyers.select(
        S.USER_ID,
        quantile_scores(buyers["recency_days"], higher_is_better=False).alias("r_score"),
        quantile_scores(buyers["frequency"]).alias("f_score"),
        (
            # rounded to a millionth: float sums differ in the last bits between runs
            quantile_scores(buyers["monetary"].round(6))
            if "monetary" in buyers.columns
            else pl.lit(None, pl.Int8)
        ).alias("m_score"),
    )
    cell = pl.col("r_score").cast(pl.String) + pl.col("f_score").cast(pl.String)
    names = {c: rfm_segment_name(c) for c in (f"{r}{f}" for r in range(1, 6) for f in range(1, 6))}
    name = cell.replace_strict(names, default=NO_PURCHASE, return_dtype=pl.String)
    out = profiles.select(S.USER_ID, refunded.alias("_refunded")).join(
        scored, on=S.USER_ID, how="left"
    )
    name = pl.when(pl.col("_refunded")).then(pl.lit(REFUNDED_ALL)).otherwise(name)
    out = out.with_columns(cell.alias("rfm_cell"), name.alias("rfm_segment")).drop("_refunded")
    return _tiered(out) if scheme == SCHEME_8 else out


def _tiered(assignments: pl.DataFrame) -> pl.DataFrame:
    """``assignments`` with rfm_segment renamed to the 8 tiers; customers who refunded
    everything keep that name (they have no scores to tier)."""
    tiers = rfm_tier_names(assignments)
    return assignments.with_columns(
        pl.when(pl.col("rfm_segment") == REFUNDED_ALL)
        .then(pl.lit(REFUNDED_ALL))
        .otherwise(tiers)
        .alias("rfm_segment")
    )


def _refunded_everything(profiles: pl.DataFrame) -> pl.Expr:
    """Customers whose refunds leave a net spend of zero or less (glossary
    REFUNDED_EVERYTHING_RULE); false without money or refund columns."""
    if "monetary" not in profiles.columns or "refunded" not in profiles.columns:
        return pl.lit(False)
    return ((pl.col("monetary") <= 0) & (pl.col("refunded") < 0)).fill_null(False)


# ---- clustering --------------------------------------------------------------------------
LOG_FEATURES = ("n_events", "frequency", "monetary", "avg_unit_price", "active_days")


def default_cluster_features(profiles: pl.DataFrame) -> list[str]:
    """A sensible feature set: activity and money (logged), price level, category shares,
    time-of-day shares, weekend share and recency of activity."""
    wanted = [
        "n_events",
        "frequency",
        "monetary",
        "avg_unit_price",
        "days_since_seen",
        "view_to_purchase",
        "weekend_share",
        *[f"share_{p}" for p in PARTS_OF_DAY],
    ]
    wanted += [c for c in profiles.columns if c.startswith(CATEGORY_PREFIX)]
    return [
        c for c in wanted if c in profiles.columns and profiles[c].null_count() < profiles.height
    ]


UNKNOWN_CLUSTER_FEATURES = N_("unknown profile features for clustering: {names}")
TOO_FEW_TO_CLUSTER = N_("clustering needs at least 3 users. Got {n} instead.")
NO_TWO_CLUSTERS = N_("no k in the range gives at least two clusters")
CLUSTERS_NOT_ASKED = N_("clusters were not asked for")
CLUSTERING_ERRORS = (
    UNKNOWN_CLUSTER_FEATURES,
    TOO_FEW_TO_CLUSTER,
    NO_TWO_CLUSTERS,
    CLUSTERS_NOT_ASKED,
)
"""Why users of a dataset could not be clustered (a snapshot keeps the reason in English)."""


class ClusteringError(ProfilingError):
    """The users of a dataset cannot be clustered. The message is in the reader's language;
    ``english`` keeps it in English for what is saved (a snapshot's reason for having no
    clusters), said in the reader's language where shown by :func:`clustering_error_text`."""

    def __init__(self, template: str, **values: object) -> None:
        self.template, self.values = template, values
        self.english = template.format(**values)
        super().__init__(_(template).format(**values))

    def __reduce__(self):  # a worker process sends it through a queue: keep the English
        return (_clustering_error, (self.template, self.values))


def _clustering_error(template: str, values: dict) -> ClusteringError:
    return ClusteringError(template, **values)


def clustering_error_text(stored: str) -> str:
    """A reason kept by :class:`ClusteringError` (``english``) in the current language; a
    reason in another shape is returned as stored."""
    for template in CLUSTERING_ERRORS:
        found = i18n.template_pattern(template).fullmatch(stored)
        if found:
            return _(template).format(**found.groupdict())
    return stored


def prepare_matrix(profiles: pl.DataFrame, features: list[str]) -> np.ndarray:
    """Transform features for clustering: log1p of skewed counts and money, median fill of
    missing values, standardization. Returns a float matrix (users x features)."""
    missing = [f for f in features if f not in profiles.columns]
    if missing:
        raise ClusteringError(UNKNOWN_CLUSTER_FEATURES, names=", ".join(missing))
    if not features:
        return np.zeros((profiles.height, 0))
    # one select: polars works out every column (and its median) in parallel
    exprs = []
    for f in features:
        x = pl.col(f).cast(pl.Float64)
        if f in LOG_FEATURES:
            x = x.clip(lower_bound=0).log1p()
        med = x.median().fill_null(0.0)  # an all-missing column: 0 before standardizing
        exprs.append(x.fill_null(med).fill_nan(med).alias(f))
    frame = profiles.select(exprs)
    m = np.column_stack([frame[f].to_numpy() for f in features])
    sd = m.std(axis=0)
    sd[sd == 0] = 1.0
    return (m - m.mean(axis=0)) / sd


@dataclass
class ClusterResult:
    """Cluster labels and how k was chosen."""

    labels: np.ndarray
    k: int
    method: str
    features: list[str]
    k_curve: list[dict] = field(default_factory=list)  # [{"k": 2, "silhouette": 0.31}, ...]


def _fit(x: np.ndarray, k: int, method: str, random_state: int) -> np.ndarray:
    # scikit-learn is imported where it clusters: reading a saved segmentation and assigning
    # users to its clusters (every live add) should not pay its ~1.5 s import
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.mixture import GaussianMixture

    if method == "gmm":
        return (
            GaussianMixture(k, covariance_type="diag", random_state=random_state).fit(x).predict(x)
        )
    if x.shape[0] > 20_000:
        model = MiniBatchKMeans(k, random_state=random_state, n_init=3, batch_size=4096)
    else:
        model = KMeans(k, random_state=random_state, n_init=10)
    return model.fit_predict(x)


def cluster_users(
    profiles: pl.DataFrame,
    *,
    k: int | str = "auto",
    features: list[str] | None = None,
    method: str = "kmeans",
    k_range: tuple[int, int] = (3, 10),
    sample_size: int = 4000,
    random_state: int = S.RANDOM_STATE,
) -> ClusterResult:
    """Cluster users on standardized profile features.

    ``k="auto"`` fits each k in ``k_range`` and keeps the one with the best silhouette score
    on a random sample of ``sample_size`` users; the whole curve is returned for a chart.
    ``method`` is "kmeans" (MiniBatchKMeans above 20,000 users) or "gmm" (a diagonal
    Gaussian mixture).
    """
    if method not in ("kmeans", "gmm"):
        raise ProfilingError(
            _("method must be 'kmeans' or 'gmm'. Got method={method!r} instead.").format(
                method=method
            )
        )
    features = features or default_cluster_features(profiles)
    from sklearn.metrics import silhouette_score

    x = prepare_matrix(profiles, features)
    n = x.shape[0]
    if n < 3:
        raise ClusteringError(TOO_FEW_TO_CLUSTER, n=n)
    rng = np.random.default_rng(random_state)
    idx = rng.choice(n, size=min(sample_size, n), replace=False)
    curve: list[dict] = []
    if k == "auto":
        lo, hi = k_range
        best, best_s = None, -2.0
        for kk in range(max(2, lo), min(hi, n - 1) + 1):
            labels = _fit(x, kk, method, random_state)
            if len(set(labels[idx])) < 2:
                continue
            s = float(silhouette_score(x[idx], labels[idx]))
            curve.append({"k": kk, "silhouette": s})
            if s > best_s:
                best, best_s = (kk, labels), s
        if best is None:
            raise ClusteringError(NO_TWO_CLUSTERS)
        k_chosen, labels = best
    else:
        if not isinstance(k, int) or k < 2 or k >= n:
            raise ProfilingError(
                _("k must be 'auto' or an integer in [2, {top}]. Got k={k!r} instead.").format(
                    top=n - 1, k=k
                )
            )
        k_chosen, labels = k, _fit(x, k, method, random_state)
        curve.append({"k": k, "silhouette": float(silhouette_score(x[idx], labels[idx]))})
    # number clusters by size, biggest first, so labels are stable and readable
    sizes = np.bincount(labels, minlength=k_chosen)
    order = np.argsort(-sizes, kind="stable")
    remap = np.empty_like(order)
    remap[order] = np.arange(k_chosen)
    return ClusterResult(remap[labels], k_chosen, method, features, curve)


# ---- describing segments -------------------------------------------------------------------
def standardized_means(profiles: pl.DataFrame, segment: str, features: list[str]) -> pl.DataFrame:
    """One row per (segment, feature), feature by feature: segment, mean, feature,
    population_mean, z = ``(segment mean - population mean) / population std`` (sample
    standard deviation; 1 when it is 0 or undefined). One pass over the profiles."""
    x = {f: pl.col(f).cast(pl.Float64) for f in features}
    pop = profiles.select(
        *[x[f].mean().alias(f"{i}m") for i, f in enumerate(features)],
        *[x[f].std().alias(f"{i}s") for i, f in enumerate(features)],
    ).row(0)
    n = len(features)
    stats = pl.DataFrame(
        {
            "feature": features,
            "population_mean": pl.Series(pop[:n], dtype=pl.Float64),
            "sd": [s if s is not None and s > 0 else 1.0 for s in pop[n:]],
        }
    )
    return (
        profiles.group_by(segment)
        .agg(*[x[f].mean().alias(f) for f in features])
        .with_columns(pl.col(segment).cast(pl.String))
        .unpivot(index=segment, variable_name="feature", value_name="mean")
        .join(stats, on="feature", how="left", maintain_order="left")
        .select(
            pl.col(segment).alias("segment"),
            "mean",
            "feature",
            "population_mean",
            ((pl.col("mean") - pl.col("population_mean")) / pl.col("sd")).alias("z"),
        )
    )


_PHRASES = {
    "monetary": (N_("big spenders"), N_("low spenders")),
    "frequency": (N_("frequent buyers"), N_("rare buyers")),
    "n_events": (N_("very active"), N_("barely active")),
    "avg_unit_price": (N_("premium"), N_("bargain")),
    "days_since_seen": (N_("lapsing"), N_("recently active")),
    "weekend_share": (N_("weekend"), N_("weekday")),
    "share_night": (N_("night-owl"), None),
    "share_morning": (N_("morning"), None),
    "share_afternoon": (N_("afternoon"), None),
    "share_evening": (N_("evening"), None),
    "view_to_purchase": (N_("decisive"), N_("browsing")),
    "active_days": (N_("regular"), N_("one-off")),
}
"""Words of behaviour-group names (English msgids: :func:`segment_name` writes the name in
English, :func:`cluster_label` reads it again in the current language)."""
SHOPPERS = N_("shoppers")
AVERAGE_USERS = N_("Average users")


def _is_time(feat: str) -> bool:
    return feat.startswith("share_") or feat == "weekend_share"


def _is_noun(word: str) -> bool:
    return word.endswith(("spenders", "buyers"))


def segment_name(top: list[tuple[str, float]]) -> str:
    """A readable name from the most distinctive (feature, z) pairs, e.g. "Evening
    Electronics big spenders" (English; :func:`cluster_label` shows it in the current
    language)."""
    time_word, cat_word, adjectives, noun = None, None, [], None
    for feat, z in top:
        if feat.startswith(CATEGORY_PREFIX):
            if z > 0 and cat_word is None:
                cat_word = feat[len(CATEGORY_PREFIX) :]
            continue
        hi, low = _PHRASES.get(feat, (None, None))
        word = hi if z > 0 else low
        if word is None:
            continue
        if _is_time(feat):
            time_word = time_word or word
        elif _is_noun(word):
            noun = noun or word
        elif word not in adjectives:
            adjectives.append(word)
    parts = [
        time_word,
        *adjectives[:1],
        cat_word,
        noun or (SHOPPERS if cat_word or time_word or adjectives else None),
    ]
    text = " ".join(p for p in parts if p)
    return (text[:1].upper() + text[1:]) if text else AVERAGE_USERS


def _name_parts(name: str) -> dict[str, str] | None:
    """The parts of a name :func:`segment_name` wrote ("Evening Electronics big spenders"
    -> time "evening", category "Electronics", noun "big spenders"), or None when ``name``
    is not one of its names (a custom segment's)."""
    words = [(f, w) for f, pair in _PHRASES.items() for w in pair if w]
    kinds = {
        "time": sorted({w for f, w in words if _is_time(f)}, key=len, reverse=True),
        "adjective": sorted(
            {w for f, w in words if not _is_time(f) and not _is_noun(w)}, key=len, reverse=True
        ),
    }
    nouns = sorted({w for _f, w in words if _is_noun(w)} | {SHOPPERS}, key=len, reverse=True)
    rest, parts, first = name, {"time": "", "adjective": "", "category": "", "noun": ""}, True
    for kind, options in kinds.items():
        for w in options:
            shown = w[:1].upper() + w[1:] if first else w
            if rest.startswith(shown + " "):
                parts[kind], rest, first = w, rest[len(shown) + 1 :], False
                break
    for w in nouns:
        shown = w[:1].upper() + w[1:] if first else w
        if rest == shown or rest.endswith(" " + w):
            parts["noun"], rest = w, rest[: -len(w)].strip()
            break
    else:
        return None
    parts["category"] = rest
    return parts


def cluster_label(name: str) -> str:
    """A behaviour group's name (:func:`segment_name`, with a " (2)" a duplicate got) in the
    current language, composed from its translated words around the category (a data value,
    as it is); any other name as it is."""
    if i18n.get_language() == i18n.DEFAULT:
        return name
    dup = re.fullmatch(r"(.*) \((\d+)\)", name)
    base = dup.group(1) if dup else name
    if base == AVERAGE_USERS:
        text = _(AVERAGE_USERS)
    else:
        parts = _name_parts(base)
        if parts is None:
            return name
        words = {k: _(v) if v and k != "category" else v for k, v in parts.items()}
        template = (
            _("{time} {adjective} {category} {noun}")
            if parts["category"]
            else _("{time} {adjective} {noun}")
        )
        text = re.sub(r"\s+", " ", template.format(**words)).strip()
    return _("{name} ({n})").format(name=text, n=dup.group(2)) if dup else text


@dataclass
class SegmentDescription:
    """A segment's size, revenue share, defining features and name."""

    segment: str
    name: str
    users: int
    share_of_users: float
    revenue: float | None
    share_of_revenue: float | None
    top_features: list[dict]
    definition: str = ""
    attributes: list[dict] = field(default_factory=list)
    """Over-represented user-attribute values: attribute, value, share (in the segment),
    population_share."""

    def to_dict(self) -> dict:
        return asdict(self)

    def highlights(self, n: int = 3) -> str:
        """The ``n`` most distinctive features with arrows, then the most over-represented
        attribute value, e.g. "share: Books ↑, age ↓, income 35-49K: 40% (all: 20%)"."""
        parts = [
            f"{G.short_label(t['feature'])} {'↑' if t['z'] > 0 else '↓'}"
            for t in self.top_features[:n]
        ]
        parts += [
            _("{attribute} {value}: {share} (all: {population})").format(
                # a derived attribute (age_band) by its label; a column of the file as named
                attribute=G.short_label(a["attribute"])
                if G.known(a["attribute"])
                else a["attribute"],
                value=a["value"],
                share=f"{a['share']:.0%}",
                population=f"{a['population_share']:.0%}",
            )
            for a in self.attributes[:1]
        ]
        return _(", ").join(parts)


def describe_segments(
    profiles: pl.DataFrame,
    segment: str,
    features: list[str],
    *,
    top_n: int = 5,
    names: bool = True,
) -> list[SegmentDescription]:
    """Describe each value of column ``segment`` of ``profiles``: size, revenue share, the
    ``top_n`` features with the largest absolute standardized difference from the population,
    and (with ``names``) a generated readable name."""
    z = standardized_means(profiles, segment, features)
    total_users = profiles.height
    has_money = "monetary" in profiles.columns
    total_rev = float(profiles["monetary"].clip(lower_bound=0).sum()) if has_money else None
    sizes = (
        profiles.group_by(segment)
        .agg(
            pl.len().alias("users"),
            (pl.col("monetary").clip(lower_bound=0).sum() if has_money else pl.lit(None)).alias(
                "revenue"
            ),
        )
        .with_columns(pl.col(segment).cast(pl.String))
    )
    over = attribute_highlights(profiles, segment)
    out = []
    for row in sizes.sort("users", descending=True).iter_rows(named=True):
        seg = row[segment]
        zs = z.filter(pl.col("segment") == seg).with_columns(pl.col("z").abs().alias("_a"))
        zs = zs.filter(pl.col("z").is_not_null()).sort("_a", descending=True).head(top_n)
        top = [
            {
                "feature": r["feature"],
                "z": r["z"],
                "mean": r["mean"],
                "population_mean": r["population_mean"],
            }
            for r in zs.iter_rows(named=True)
        ]
        name = segment_name([(t["feature"], t["z"]) for t in top]) if names else seg
        rev = row["revenue"]
        out.append(
            SegmentDescription(
                segment=seg,
                name=name,
                users=row["users"],
                share_of_users=row["users"] / total_users,
                revenue=rev,
                share_of_revenue=(rev / total_rev) if (total_rev and rev is not None) else None,
                top_features=top,
                definition=RFM_DEFINITIONS.get(seg) or TIER_DEFINITIONS.get(seg, ""),
                attributes=over.get(seg, []),
            )
        )
    if names:
        _dedupe_names(out)
    return out


_MAX_ATTRIBUTE_VALUES = 50


def attribute_highlights(
    profiles: pl.DataFrame, segment: str, *, min_share: float = 0.2, min_lift: float = 1.2
) -> dict[str, list[dict]]:
    """Per segment, the categorical user-attribute values it holds clearly more often than
    the population (share at least ``min_share`` and ``min_lift`` times the population's),
    strongest lift first: segment -> [{attribute, value, share, population_share, lift}].
    Attributes with more than 50 distinct values are skipped."""
    columns = [
        c
        for c in attribute_columns(profiles.columns)
        if c != segment
        and profiles.schema[c] == pl.String
        and profiles[c].n_unique() <= _MAX_ATTRIBUTE_VALUES
    ]
    if not columns:
        return {}
    seg = pl.col(segment).cast(pl.String).alias("segment")
    long = pl.concat(
        [
            profiles.select(seg, pl.lit(c).alias("attribute"), pl.col(c).alias("value"))
            for c in columns
        ]
    ).drop_nulls("value")
    population = (
        long.group_by("attribute", "value")
        .agg(pl.len().alias("_n"))
        .with_columns(
            (pl.col("_n") / pl.col("_n").sum().over("attribute")).alias("population_share")
        )
    )
    sizes = profiles.group_by(seg).agg(pl.len().alias("_size"))
    shares = (
        long.group_by("segment", "attribute", "value")
        .agg(pl.len().alias("_k"))
        .join(sizes, on="segment")
        .join(population.drop("_n"), on=["attribute", "value"])
        .with_columns((pl.col("_k") / pl.col("_size")).alias("share"))
        .with_columns((pl.col("share") / pl.col("population_share")).alias("lift"))
        .filter((pl.col("share") >= min_share) & (pl.col("lift") >= min_lift))
        .sort(["segment", "lift", "attribute", "value"], descending=[False, True, False, False])
    )
    out: dict[str, list[dict]] = {}
    for r in shares.select(
        "segment", "attribute", "value", "share", "population_share", "lift"
    ).iter_rows(named=True):
        out.setdefault(r.pop("segment"), []).append(r)
    return out


def _dedupe_names(descs: list[SegmentDescription]) -> None:
    seen: dict[str, int] = {}
    for d in descs:
        seen[d.name] = seen.get(d.name, 0) + 1
        if seen[d.name] > 1:
            d.name = f"{d.name} ({seen[d.name]})"


# ---- custom rule segments -----------------------------------------------------------------
OPERATORS = (">", ">=", "<", "<=", "==", "!=", "contains", "in")


@dataclass(frozen=True)
class Condition:
    """One structured condition: feature, operator, value. Never evaluated as code."""

    feature: str
    op: str
    value: object


def rule_expression(
    profiles: pl.DataFrame, conditions: list[Condition], combine: str = "and"
) -> pl.Expr:
    """Build a polars expression from structured conditions combined with AND or OR.

    Raises
    ------
    ProfilingError
        Unknown feature, operator or combination, or a value of the wrong kind.
    """
    if combine not in ("and", "or"):
        raise ProfilingError(
            _("combine must be 'and' or 'or'. Got combine={combine!r} instead.").format(
                combine=combine
            )
        )
    if not conditions:
        raise ProfilingError(_("a rule needs at least one condition"))
    exprs = []
    for c in conditions:
        if c.feature not in profiles.columns:
            raise ProfilingError(
                _("unknown feature {feature!r} in a rule").format(feature=c.feature)
            )
        if c.op not in OPERATORS:
            raise ProfilingError(
                _("operator must be one of {names}. Got op={op!r} instead.").format(
                    names=", ".join(OPERATORS), op=c.op
                )
            )
        col = pl.col(c.feature)
        dtype = profiles.schema[c.feature]
        if c.op == "contains":
            if dtype == pl.List(pl.String):
                exprs.append(col.list.contains(str(c.value)))
            else:
                exprs.append(
                    col.cast(pl.String).str.contains(re.escape(str(c.value)), literal=False)
                )
            continue
        if c.op == "in":
            values = c.value if isinstance(c.value, list | tuple) else str(c.value).split(",")
            values = [str(v).strip() for v in values]
            if dtype.is_numeric():
                try:
                    numbers = [float(v) for v in values]
                except ValueError as exc:
                    raise ProfilingError(
                        _("feature {feature!r} is numeric; got values {values!r}").format(
                            feature=c.feature, values=values
                        )
                    ) from exc
                exprs.append(col.cast(pl.Float64).is_in(numbers))
            else:
                exprs.append(col.cast(pl.String).is_in(values))
            continue
        value = c.value
        if dtype.is_numeric():
            try:
                value = float(value)
            except (TypeError, ValueError) as exc:
                raise ProfilingError(
                    _("feature {feature!r} is numeric; got value {value!r}").format(
                        feature=c.feature, value=c.value
                    )
                ) from exc
        elif dtype == pl.String:
            value = str(value)
        ops = {
            ">": col.__gt__,
            ">=": col.__ge__,
            "<": col.__lt__,
            "<=": col.__le__,
            "==": col.__eq__,
            "!=": col.__ne__,
        }
        exprs.append(ops[c.op](value))
    expr = exprs[0]
    for e in exprs[1:]:
        expr = (expr & e) if combine == "and" else (expr | e)
    return expr.fill_null(False)


def apply_rule(
    profiles: pl.DataFrame, conditions: list[Condition], combine: str = "and"
) -> pl.Series:
    """Boolean membership of every user in a custom rule segment."""
    return profiles.select(rule_expression(profiles, conditions, combine).alias("in_segment"))[
        "in_segment"
    ]


def rfm_mix(profiles: pl.DataFrame, scheme: str = SCHEME_11) -> list[SegmentDescription]:
    """Named RFM segments (in ``scheme``) with size and revenue share, without clustering
    (cheap)."""
    rfm = rfm_segments(profiles, scheme)
    joined = profiles.join(rfm, on=S.USER_ID, how="left")
    feats = [f for f in ("recency_days", "frequency", "monetary") if f in profiles.columns]
    descs = describe_segments(joined, "rfm_segment", feats, names=False)
    mark_empty_scores(descs, rfm)
    return descs


# ---- one call for the app and the CLI --------------------------------------------------------
@dataclass
class Segmentation:
    """RFM segments and clusters of one profile frame.

    ``assignments``: one row per user: user_id, r_score, f_score, m_score, rfm_cell,
    rfm_segment, cluster (int, 0 = biggest), cluster_name.
    """

    assignments: pl.DataFrame
    rfm: list[SegmentDescription]
    clusters: list[SegmentDescription]
    k_curve: list[dict]
    k: int
    method: str
    features: list[str]
    rfm_notes: list[str] = field(default_factory=list)
    """Plain sentences on RFM scores that ties left empty (see :func:`empty_score_notes`)."""
    scheme: str = SCHEME_11
    """How the RFM segments are named (:data:`SCHEMES`)."""

    def to_dict(self) -> dict:
        return {
            "rfm": {
                "scheme": self.scheme,
                "definitions": definitions(self.scheme),
                "empty_scores": empty_scores(self.assignments.drop_nulls("r_score")),
                "notes": self.rfm_notes,
                "segments": [d.to_dict() for d in self.rfm],
            },
            "clusters": {
                "k": self.k,
                "method": self.method,
                "features": self.features,
                "k_curve": self.k_curve,
                "segments": [d.to_dict() for d in self.clusters],
            },
        }


def build_segments(
    profiles: pl.DataFrame,
    *,
    k: int | str = "auto",
    method: str = "kmeans",
    features: list[str] | None = None,
    random_state: int = S.RANDOM_STATE,
    scheme: str = SCHEME_11,
) -> Segmentation:
    """RFM segments (named in ``scheme``, :data:`SCHEMES`), clusters and their descriptions
    for a profile frame."""
    check_scheme(scheme)
    rfm = rfm_segments(profiles)
    result = cluster_users(
        profiles, k=k, method=method, features=features, random_state=random_state
    )
    with_seg = profiles.join(rfm, on=S.USER_ID, how="left").with_columns(
        pl.Series("cluster", result.labels).cast(pl.String)
    )
    describe_with = describe_features(profiles, result.features)
    cluster_desc = describe_segments(with_seg, "cluster", describe_with)
    rfm_desc = describe_segments(with_seg, "rfm_segment", describe_with, names=False)
    names = {d.segment: d.name for d in cluster_desc}
    assignments = with_seg.select(
        S.USER_ID,
        "r_score",
        "f_score",
        "m_score",
        "rfm_cell",
        "rfm_segment",
        pl.col("cluster").cast(pl.Int32),
        pl.col("cluster").replace_strict(names, return_dtype=pl.String).alias("cluster_name"),
    )
    mark_empty_scores(rfm_desc, assignments)
    seg = Segmentation(
        assignments,
        rfm_desc,
        cluster_desc,
        result.k_curve,
        result.k,
        result.method,
        result.features,
        empty_score_notes(assignments),
    )
    return with_scheme(seg, profiles, scheme)


_KNOWN_NAMES = frozenset(RFM_ORDER) | frozenset(TIER_ORDER) | {NO_SEGMENT, EVERYONE_ELSE}


def with_scheme(seg: Segmentation, profiles: pl.DataFrame, scheme: str) -> Segmentation:
    """``seg`` with its RFM segments named in ``scheme`` (:data:`SCHEMES`): the
    ``rfm_segment`` of every user and the RFM descriptions are redone from the stored
    scores (no clustering); a copy, ``seg`` is not changed. ``profiles``: the frame
    ``seg`` was built from."""
    from dataclasses import replace

    if check_scheme(scheme) == SCHEME_11:
        return seg
    a = _tiered(seg.assignments)
    joined = profiles.join(a.select(S.USER_ID, "rfm_segment"), on=S.USER_ID, how="left")
    feats = describe_features(profiles, seg.features)
    rfm = describe_segments(joined, "rfm_segment", feats, names=False)
    for d in rfm:
        d.definition = TIER_DEFINITIONS.get(d.segment, d.definition)
    return replace(seg, assignments=a, rfm=rfm, scheme=scheme)


def mark_empty_scores(descs: list[SegmentDescription], assignments: pl.DataFrame) -> None:
    """Add to the definition of each RFM segment whose rule names a score that ties left
    empty on this data which scores cannot occur, e.g. "(here no buyer has F 2 or 3)"."""
    empty = empty_scores(assignments.filter(pl.col("r_score").is_not_null()))
    empty_r, empty_f = set(empty.get("r_score", [])), set(empty.get("f_score", []))
    rules = {name: rx for name, rx, _t in RFM_SEGMENTS}
    for d in descs:
        rx = rules.get(d.segment)
        if rx is None:
            continue
        cells = [(r, f) for r in range(1, 6) for f in range(1, 6) if re.match(rx, f"{r}{f}")]
        missing = [f"recency score {r}" for r in sorted({r for r, _f in cells} & empty_r)]
        missing += [f"order-count score {f}" for f in sorted({f for _r, f in cells} & empty_f)]
        if missing:
            d.definition = (d.definition or RFM_DEFINITIONS[d.segment]) + (
                f" (here no buyer has {' or '.join(missing)}: tied values share one score)"
            )


def current_definitions(seg: Segmentation) -> Segmentation:
    """``seg`` with its RFM definitions in today's wording (a snapshot saved by an older
    version keeps the words of its day); a copy, ``seg`` is not changed."""
    from dataclasses import replace

    rfm = [replace(d, definition=RFM_DEFINITIONS.get(d.segment, d.definition)) for d in seg.rfm]
    mark_empty_scores(rfm, seg.assignments)
    return replace(seg, rfm=rfm)


def describe_features(profiles: pl.DataFrame, cluster_features: list[str]) -> list[str]:
    """Features used to describe segments: the clustering features plus key figures."""
    extra = [
        "recency_days",
        "avg_order_value",
        "price_level",
        "category_entropy",
        "view_to_cart",
        "cart_to_purchase",
        "momentum",
        "age",
    ]
    out = list(cluster_features)
    out += [f for f in extra if f in profiles.columns and f not in out]
    return [
        f
        for f in out
        if profiles.schema[f].is_numeric() and profiles[f].null_count() < profiles.height
    ]


def rfm_grid(profiles: pl.DataFrame, assignments: pl.DataFrame) -> pl.DataFrame:
    """One row per (r_score, f_score) with users and mean monetary, buyers only."""
    j = assignments.filter(pl.col("r_score").is_not_null()).join(
        profiles.select(S.USER_ID, "monetary")
        if "monetary" in profiles.columns
        else profiles.select(S.USER_ID, pl.lit(None, pl.Float64).alias("monetary")),
        on=S.USER_ID,
    )
    return (
        j.group_by("r_score", "f_score")
        .agg(pl.len().alias("users"), pl.col("monetary").mean())
        .sort("r_score", "f_score")
    )


def compare_segments(
    profiles: pl.DataFrame,
    column: str,
    a: str,
    b: str,
    features: list[str],
    top_n: int = 8,
    z: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The features that differ most between segments ``a`` and ``b`` of ``column``.

    One row per feature: feature, mean_a, mean_b, z_a, z_b (standardized differences from
    the population) and gap = z_a - z_b, sorted by |gap|, the ``top_n`` first. ``z``: the
    :func:`standardized_means` of these profiles when already computed.
    """
    z = standardized_means(profiles, column, features) if z is None else z
    za = z.filter(pl.col("segment") == a).select(
        "feature", pl.col("mean").alias("mean_a"), pl.col("z").alias("z_a")
    )
    zb = z.filter(pl.col("segment") == b).select(
        "feature", pl.col("mean").alias("mean_b"), pl.col("z").alias("z_b")
    )
    both = za.join(zb, on="feature").with_columns((pl.col("z_a") - pl.col("z_b")).alias("gap"))
    return (
        both.sort(pl.col("gap").abs(), descending=True, nulls_last=True)
        .head(top_n)
        .select("feature", "mean_a", "mean_b", "z_a", "z_b", "gap")
    )


def members(profiles: pl.DataFrame, mask: pl.Series, features: list[str]) -> pl.DataFrame:
    """Members of a segment: user_id plus the chosen features."""
    cols = [S.USER_ID] + [f for f in features if f in profiles.columns and f != S.USER_ID]
    return profiles.filter(mask).select(cols)


def with_assignments(profiles: pl.DataFrame, seg: Segmentation) -> pl.DataFrame:
    """Profiles with the RFM and cluster columns of ``seg`` (cluster as a string label)."""
    return profiles.join(seg.assignments, on=S.USER_ID, how="left").with_columns(
        pl.col("cluster").cast(pl.String)
    )


def comparison_table(
    diff: pl.DataFrame,
    features: list[str],
    name_a: str,
    name_b: str,
    currency: str | None = None,
) -> pl.DataFrame:
    """:func:`compare_segments` output for display, one row per feature: feature (its plain
    label), "A: average" and "B: average" (each mean formatted by the feature's kind: money
    with its currency, whole days, percentages), "A vs everyone" and "B vs everyone" (how far
    each segment's mean is from the average customer, in standard deviations). The headers
    stay short so that long segment names cannot push them out of view; the page names A
    and B above the table."""
    from profiling.vocabulary import fmt
    from profiling.vocabulary import glossary as G

    rows = diff.to_dicts()
    return pl.DataFrame(
        {
            "feature": [G.short_label(r["feature"]) for r in rows],
            "A: average": [fmt.feature(r["mean_a"], r["feature"], currency) for r in rows],
            "B: average": [fmt.feature(r["mean_b"], r["feature"], currency) for r in rows],
            "A vs everyone": [r["z_a"] for r in rows],
            "B vs everyone": [r["z_b"] for r in rows],
        },
        schema={
            "feature": pl.String,
            "A: average": pl.String,
            "B: average": pl.String,
            "A vs everyone": pl.Float64,
            "B vs everyone": pl.Float64,
        },
    )
