"""The glossary: every feature and metric label a marketer reads, in plain words first, with
its unit, a help text that keeps the technical name and definition, and how to format it.

Pages, charts and exports take their labels from here (``label``, ``help_text``,
``header``), so a word is explained once and reads the same everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from profiling.vocabulary import schema as S

CATEGORY_PREFIX = "cat_share__"
SPEND_PREFIX = "spend_share__"

# formatter kinds understood by :mod:`profiling.vocabulary.fmt`
MONEY, DAYS, SHARE, COUNT, NUMBER, SCORE, TEXT, DATE, HOUR, RATING = (
    "money",
    "days",
    "share",
    "count",
    "number",
    "score",
    "text",
    "date",
    "hour",
    "rating",
)
PERCENTILE = "percentile"  # 0-100, shown whole ("97", never "97.00" or "100.00")
KINDS = (MONEY, DAYS, SHARE, COUNT, NUMBER, SCORE, TEXT, DATE, HOUR, RATING, PERCENTILE)


# ---- business words: one definition each --------------------------------------------------
# The library computes these figures (profiles, overview, report, exports, CLI) by exactly
# these rules, and every label and help text that names them quotes these sentences.
CUSTOMERS_RULE = "distinct customer ids with at least one row in the log (any kind of event)"
BUYERS_RULE = "customers with at least one purchase"
ORDERS_RULE = (
    "distinct order ids of purchase rows; a purchase row without an order id (or every row, "
    "when the log has no order ids) counts as one order per customer per day"
)
REVENUE_RULE = "purchase amounts minus refunds (net of refunds)"
AOV_RULE = "revenue net of refunds / orders"
REVENUE_PER_CUSTOMER_RULE = "revenue net of refunds / customers (buyers or not)"
REFUNDED_EVERYTHING = "Refunded everything"
REFUNDED_EVERYTHING_RULE = (
    "net spend of zero or less after refunds: every purchase in the log was cancelled or "
    "refunded (or only refunds are in the log)"
)
DEFINITIONS: dict[str, str] = {
    "customers": CUSTOMERS_RULE,
    "buyers": BUYERS_RULE,
    "orders": ORDERS_RULE,
    "revenue": REVENUE_RULE,
    "average order value": AOV_RULE,
    "revenue per customer": REVENUE_PER_CUSTOMER_RULE,
    "refunded everything": REFUNDED_EVERYTHING_RULE,
}
"""The business words and their one definition, for help texts, the report and exports."""


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    ``label``: plain words shown on screen; ``unit``: what the number counts ("days",
    "currency", "share", "count", ... or "" for text); ``help``: the technical name and its
    definition, for tooltips and the analyst details; ``kind``: the formatter
    (:data:`KINDS`)."""

    name: str
    label: str
    unit: str
    help: str
    kind: str


def _t(name: str, label: str, kind: str, help: str, unit: str | None = None) -> Term:
    units = {
        MONEY: "currency",
        DAYS: "days",
        SHARE: "share",
        COUNT: "count",
        NUMBER: "",
        SCORE: "score",
        TEXT: "",
        DATE: "date",
        HOUR: "hour of day",
        RATING: "rating",
        PERCENTILE: "percentile",
    }
    return Term(name, label, units[kind] if unit is None else unit, help, kind)


_FEATURES = [
    _t("user_id", "customer id", TEXT, "user_id: the customer's id in the data."),
    _t(
        "n_events",
        "rows in the log",
        COUNT,
        "n_events: every row of the log for this "
        "customer (views, carts, purchases, ...); in a transaction log, one per line item.",
    ),
    _t("first_seen", "first seen", DATE, "first_seen: timestamp of the customer's first event."),
    _t("last_seen", "last seen", DATE, "last_seen: timestamp of the customer's latest event."),
    _t(
        "tenure_days",
        "days since first seen",
        DAYS,
        "tenure_days: days from the first event to the profile date.",
    ),
    _t(
        "days_since_seen",
        "days since last visit",
        DAYS,
        "days_since_seen: days from the latest event of any kind to the profile date.",
    ),
    _t(
        "active_days",
        "days with activity",
        COUNT,
        "active_days: distinct calendar days with at least one event.",
    ),
    _t(
        "sessions",
        "visits",
        COUNT,
        "sessions: distinct session ids (or visits inferred from 30-minute gaps).",
    ),
    _t(
        "events_per_session",
        "actions per visit",
        NUMBER,
        "events_per_session: n_events / sessions.",
    ),
    _t(
        "recency_days",
        "days since last order",
        DAYS,
        "recency_days (the R of RFM): days "
        "from the latest purchase to the profile date; empty for customers who never bought.",
    ),
    _t(
        "frequency",
        "orders",
        COUNT,
        f"frequency (the F of RFM): orders, i.e. {ORDERS_RULE}. Always orders: never "
        "repeat purchases.",
    ),
    _t(
        "purchase_days",
        "days with a purchase",
        COUNT,
        "purchase_days: distinct days with a purchase.",
    ),
    _t("last_purchase", "last order", DATE, "last_purchase: timestamp of the latest purchase."),
    _t(
        "monetary",
        "net spend",
        MONEY,
        f"monetary (the M of RFM): {REVENUE_RULE}, over the whole period; zero or less "
        f"means the customer {REFUNDED_EVERYTHING.lower()}.",
    ),
    _t("gross_spend", "spend before refunds", MONEY, "gross_spend: sum of purchase amounts."),
    _t("refunded", "refunded", MONEY, "refunded: sum of refund amounts (negative)."),
    _t(
        "avg_order_value",
        "average order value",
        MONEY,
        f"avg_order_value: net spend / orders ({AOV_RULE}); spend before refunds is shown "
        "separately as such.",
    ),
    _t(
        "avg_unit_price",
        "average price paid",
        MONEY,
        "avg_unit_price: mean unit price of the items bought.",
    ),
    _t("units_bought", "units bought", COUNT, "units_bought: sum of quantities purchased."),
    _t(
        "price_level",
        "price level vs. category (1 = typical)",
        NUMBER,
        "price_level: mean "
        "price paid divided by the median price of the same categories; below 1 is cheaper "
        "than typical, above 1 dearer.",
        unit="ratio",
    ),
    _t("view_to_cart", "views that led to a cart", SHARE, "view_to_cart: carts / views."),
    _t(
        "cart_to_purchase",
        "carts that led to a purchase",
        SHARE,
        "cart_to_purchase: purchases / carts.",
    ),
    _t(
        "view_to_purchase",
        "views that led to a purchase",
        SHARE,
        "view_to_purchase: purchases / views (conversion rate).",
    ),
    _t("refund_rate", "share of purchases refunded", SHARE, "refund_rate: refunds / purchases."),
    _t(
        "weekend_share",
        "share of activity at weekends",
        SHARE,
        "weekend_share: share of events on Saturday or Sunday.",
    ),
    _t(
        "preferred_hour",
        "usual hour of activity",
        HOUR,
        "preferred_hour: the hour of day with most events (0-23, UTC).",
    ),
    _t("n_ratings", "ratings given", COUNT, "n_ratings: number of explicit ratings."),
    _t("rating_mean", "average rating given", RATING, "rating_mean: mean explicit rating."),
    _t(
        "rating_std",
        "spread of ratings given",
        RATING,
        "rating_std: standard deviation of the customer's ratings.",
    ),
    _t("favourite_brand", "favourite brand", TEXT, "favourite_brand: brand with most events."),
    _t("top_category", "favourite category", TEXT, "top_category: category with most events."),
    _t(
        "top_category_share",
        "share of activity in the favourite category",
        SHARE,
        "top_category_share: the favourite category's share of the customer's events.",
    ),
    _t(
        "category_entropy",
        "variety of categories browsed",
        NUMBER,
        "category_entropy: "
        "Shannon entropy (natural log) of the customer's category shares; 0 = one category "
        "only, higher = interest spread over more categories.",
        unit="nats",
    ),
    _t(
        "events_last_30d",
        "actions in the last 30 days",
        COUNT,
        "events_last_30d: events in the 30 days before the profile date.",
    ),
    _t(
        "events_prev_30d",
        "actions in the 30 days before",
        COUNT,
        "events_prev_30d: events 31-60 days before the profile date.",
    ),
    _t(
        "momentum",
        "activity trend (-1 falling, +1 rising)",
        NUMBER,
        "momentum: (last 30 days - previous 30 days) / (their sum), in [-1, 1]; 0 = steady.",
        unit="trend",
    ),
    _t("tags", "tags", TEXT, "tags: readable labels given by the rules listed on the user page."),
    _t(
        "r_score",
        "recency score (5 = most recent)",
        SCORE,
        "r_score: quintile of recency_days among buyers, 1-5, 5 = most recent.",
    ),
    _t(
        "f_score",
        "order-count score (5 = most orders)",
        SCORE,
        "f_score: quintile of frequency among buyers, 1-5.",
    ),
    _t(
        "m_score",
        "spend score (5 = highest spend)",
        SCORE,
        "m_score: quintile of monetary among buyers, 1-5.",
    ),
    _t(
        "rfm_cell",
        "recency and order-count scores",
        TEXT,
        "rfm_cell: R score then F score, e.g. '54'.",
    ),
    _t(
        "rfm_segment",
        "customer segment",
        TEXT,
        "rfm_segment: named RFM segment from the recency and frequency scores.",
    ),
    _t(
        "cluster",
        "group number",
        TEXT,
        "cluster: id of the group found by clustering "
        "(k-means or Gaussian mixture on standardized features).",
    ),
    _t(
        "cluster_name",
        "behaviour group",
        TEXT,
        "cluster_name: readable name of the cluster from its most distinctive features.",
    ),
    _t(
        "churn_risk",
        "chance of not buying again",
        SHARE,
        "churn_risk: predicted probability that a past buyer makes no purchase in the horizon.",
    ),
    _t(
        "purchase_propensity",
        "chance of buying soon",
        SHARE,
        "purchase_propensity: predicted probability of at least one purchase in the horizon.",
    ),
    _t("age", "age", NUMBER, "age: from the users table.", unit="years"),
    _t("age_band", "age band", TEXT, "age_band: age grouped in bands."),
]
_EVENT_WORDS = {
    S.VIEW: "views",
    S.CLICK: "clicks",
    S.CART: "add-to-carts",
    S.WISHLIST: "wishlist adds",
    S.PURCHASE: "purchases (line items)",
    S.REFUND: "refunds",
    S.RATE: "ratings",
    S.SEARCH: "searches",
}
_PARTS = {"night": "0-6 h", "morning": "6-12 h", "afternoon": "12-18 h", "evening": "18-24 h"}
_FEATURES += [
    _t(f"n_{t}", word, COUNT, f"n_{t}: number of '{t}' events.") for t, word in _EVENT_WORDS.items()
]
_FEATURES += [
    _t(
        f"share_{p}",
        f"share of activity in the {p}",
        SHARE,
        f"share_{p}: share of events between {h} (UTC).",
    )
    for p, h in _PARTS.items()
]

_METRICS = [
    # recommenders (at K, the length of each list)
    _t(
        "precision",
        "share of the list the customer later bought",
        SHARE,
        "precision@K: relevant items in the top K / K, averaged over test customers.",
    ),
    _t(
        "recall",
        "share of later purchases the list caught",
        SHARE,
        "recall@K: relevant items in the top K / all relevant items of the customer.",
    ),
    _t("f1", "balance of the two above", SHARE, "F1@K: harmonic mean of precision and recall."),
    _t(
        "ndcg",
        "ranking quality (1 = perfect order)",
        SCORE,
        "NDCG@K: normalized discounted cumulative gain; hits near the top count more; 0-1.",
    ),
    _t("map", "average precision of the list", SCORE, "MAP@K: mean average precision; 0-1."),
    _t(
        "mrr",
        "how high the first good item is",
        SCORE,
        "MRR: mean reciprocal rank of the "
        "first relevant item (1 = first place, 0.5 = second, ...).",
    ),
    _t(
        "hit_rate",
        "customers with at least one good suggestion",
        SHARE,
        "hit_rate@K: share of test customers with at least one relevant item in the top K.",
    ),
    _t(
        "coverage",
        "share of the catalogue recommended",
        SHARE,
        "catalog coverage: distinct items recommended to anyone / items in the catalogue.",
    ),
    _t(
        "novelty",
        "how little-known the suggestions are",
        NUMBER,
        "novelty: mean self-information -log2(popularity) of recommended items, in bits.",
        unit="bits",
    ),
    _t(
        "diversity",
        "variety within a list",
        SCORE,
        "intra-list diversity: mean pairwise dissimilarity of the items in a list; 0-1.",
    ),
    _t(
        "popularity_bias",
        "lean on best sellers",
        NUMBER,
        "popularity bias: mean popularity "
        "of the recommended items relative to the catalogue (lower leans less on best "
        "sellers).",
        unit="ratio",
    ),
    _t(
        "rmse",
        "rating error (typical size)",
        RATING,
        "RMSE: root mean squared error of predicted ratings.",
    ),
    _t(
        "mae",
        "rating error (average size)",
        RATING,
        "MAE: mean absolute error of predicted ratings.",
    ),
    _t(
        "fit_seconds",
        "training time",
        NUMBER,
        "fit_seconds: wall-clock training time.",
        unit="seconds",
    ),
    # predictions
    _t("accuracy", "share of customers called right", SHARE, "accuracy at the chosen threshold."),
    _t(
        "roc_auc",
        "ranks buyers above non-buyers (0.5 = chance)",
        SCORE,
        "ROC-AUC: probability that a random positive scores above a random negative.",
    ),
    _t(
        "pr_auc",
        "precision across all thresholds",
        SCORE,
        "PR-AUC: area under the precision-recall curve (average precision).",
    ),
    _t(
        "brier",
        "probability error (lower is better)",
        SCORE,
        "Brier score: mean squared error of the predicted probabilities.",
    ),
    _t(
        "top_decile_lift",
        "how much richer the top 10% is",
        NUMBER,
        "top-decile lift: share of positives among the 10% highest scores / the base rate.",
        unit="times",
    ),
    # overview
    _t("customers", "customers", COUNT, f"customers: {CUSTOMERS_RULE}."),
    _t("buyers", "buyers", COUNT, f"buyers: {BUYERS_RULE}."),
    _t("orders", "orders", COUNT, f"orders: {ORDERS_RULE}."),
    _t("revenue", "revenue", MONEY, f"revenue: {REVENUE_RULE}."),
    _t("aov", "average order value", MONEY, f"average order value: {AOV_RULE}."),
    _t(
        "repeat_rate",
        "repeat customers",
        SHARE,
        "repeat-purchase rate: customers with 2 or "
        "more orders / customers with at least one order.",
    ),
    _t(
        "revenue_per_customer",
        "revenue per customer",
        MONEY,
        f"revenue per customer: {REVENUE_PER_CUSTOMER_RULE}.",
    ),
    _t(
        "conversion",
        "visitors who bought",
        SHARE,
        "conversion: customers with a purchase / customers with any event.",
    ),
    _t("users", "customers", COUNT, "users: distinct ids in the group."),
    _t("share_of_users", "share of customers", SHARE, "users in the group / all users."),
    _t(
        "share_of_revenue",
        "share of revenue",
        SHARE,
        "net spend of the group (refunds "
        "leaving a customer below zero count as zero) / all net spend.",
    ),
    _t(
        "z",
        "difference from the average customer",
        NUMBER,
        "standardized difference: "
        "(group mean - population mean) / population standard deviation; 0 = average, "
        "+1 = one standard deviation above.",
        unit="std. dev.",
    ),
    _t(
        "revenue_12m",
        "spend in the previous 12 months",
        MONEY,
        "revenue_12m: net spend in the 12 months before the earlier date.",
    ),
    _t(
        "purchase_propensity_pct",
        "chance of buying soon (percentile)",
        PERCENTILE,
        "purchase_propensity_pct: percentile of the score among scored customers (100 = highest).",
    ),
    _t(
        "churn_risk_pct",
        "chance of not buying again (percentile)",
        PERCENTILE,
        "churn_risk_pct: percentile of the score among scored past buyers (100 = highest).",
    ),
    _t(
        "purchase_drivers",
        "what raises or lowers the chance of buying",
        TEXT,
        "purchase_drivers: the three inputs whose change to the typical customer's value "
        "moves this customer's score most.",
    ),
    _t(
        "churn_drivers",
        "what raises or lowers the chance of not buying again",
        TEXT,
        "churn_drivers: the three inputs whose change to the typical customer's value moves "
        "this customer's score most.",
    ),
    _t(
        "p_alive",
        "chance the customer is still active",
        SHARE,
        "P(alive): BG/NBD probability that the customer has not lapsed for good.",
    ),
    _t(
        "anomaly_score",
        "how unusual (0.5 ordinary, 1 very unusual)",
        SCORE,
        "anomaly score: IsolationForest score on standardized behaviour features.",
    ),
    _t(
        "anomaly_pct",
        "how unusual (percentile)",
        PERCENTILE,
        "anomaly_pct: percentile of the anomaly score (100 = most unusual).",
    ),
    _t(
        "risk_flags",
        "risk flags raised",
        TEXT,
        "risk_flags: names of the transparent risk rules the customer raises.",
    ),
    _t("risk_reasons", "why", TEXT, "risk_reasons: each raised rule with the customer's values."),
    _t("n_risk_flags", "risk flags", COUNT, "n_risk_flags: number of risk rules raised."),
    _t("from_segment", "earlier segment", TEXT, "from_segment: the segment at the earlier date."),
    _t("to_segment", "later segment", TEXT, "to_segment: the segment at the later date."),
    _t(
        "share_of_from",
        "share of the earlier segment",
        SHARE,
        "share_of_from: customers of the flow / customers of the earlier segment.",
    ),
    _t(
        "became_inactive",
        "became inactive",
        TEXT,
        "became_inactive: active in the 90 days before the earlier date, no event since.",
    ),
]

_TERMS: dict[str, Term] = {t.name: t for t in _FEATURES + _METRICS}

# technical words that appear in explanations, in plain words (the analyst details list them)
JARGON: dict[str, str] = {
    "std. diff.": "how different from the average customer (in standard deviations)",
    "silhouette": "how well separated the groups are (higher is better)",
    "k-means": "a method that sorts customers into groups of similar behaviour",
    "K": "the length of each recommendation list",
    "bootstrap interval": "the range the true value most likely lies in (95%)",
    "sign-flip test": "a check that one model's lead is not luck",
    "†": "clearly worse than the best model (not luck)",
    "is_fallback": "no personal history: shown the most popular items instead",
    "cold users": "customers with no history before the test period",
    "ALS user factors": "taste profile learned by a recommender",
    "fingerprint": "a digest of the data content, identifying this exact version",
}


def term(name: str) -> Term:
    """The glossary entry of a feature, metric or figure name. Category columns
    (``cat_share__Books``) and unknown columns (user attributes) get a generated entry."""
    if name in _TERMS:
        return _TERMS[name]
    if name.startswith(CATEGORY_PREFIX):
        cat = name[len(CATEGORY_PREFIX) :]
        return _t(
            name,
            f"share of activity in {cat}",
            SHARE,
            f"{name}: the category's share of the customer's item events.",
        )
    if name.startswith(SPEND_PREFIX):
        cat = name[len(SPEND_PREFIX) :]
        return _t(
            name,
            f"share of spend in {cat}",
            SHARE,
            f"{name}: the category's share of the customer's spend.",
        )
    if name.endswith("_attr"):
        base = name[: -len("_attr")]
        return _t(
            name,
            f"{base.replace('_', ' ')} (from the customer table)",
            TEXT,
            f"{name}: the users table's own '{base}' column.",
        )
    return _t(name, name.replace("_", " "), TEXT, f"{name}: a column of the data.")


def known(name: str) -> bool:
    """Whether ``name`` has an entry (fixed or by its category prefix)."""
    return name in _TERMS or name.startswith((CATEGORY_PREFIX, SPEND_PREFIX))


def label(name: str) -> str:
    """Plain label of a feature or metric, e.g. "days since last order"."""
    return term(name).label


def short_label(name: str) -> str:
    """The plain label without its bracketed explanation ("activity trend (-1 falling, +1
    rising)" -> "activity trend"), for chart axes where the help or hover carries it."""
    return re.sub(r"\s*\([^)]*\)$", "", label(name))


def help_text(name: str) -> str:
    """Technical name and definition, for a tooltip."""
    return term(name).help


def kind(name: str) -> str:
    """Formatter kind (:data:`KINDS`)."""
    return term(name).kind


def unit_text(name: str, currency: str | None = None) -> str:
    """The unit for a header: the currency code for money (empty when unknown), "days",
    "share 0-1" for shares, empty for counts and text."""
    t = term(name)
    if t.kind == MONEY:
        return currency or ""
    if t.kind == SHARE:
        return "share 0-1"
    if t.kind in (COUNT, TEXT, DATE):
        return ""
    return t.unit


def header(name: str, currency: str | None = None) -> str:
    """Export header with the unit: "days since last order (days)", "net spend (GBP)"."""
    u = unit_text(name, currency)
    return f"{label(name)} ({u})" if u else label(name)


def labels(names: list[str]) -> str:
    """Readable comma-separated labels."""
    return ", ".join(label(n) for n in names)


SHORT: dict[str, str] = {
    "ndcg": "ranking quality",
    "precision": "hits in the list",
    "recall": "purchases caught",
    "f1": "hits and catches balanced",
    "map": "average precision",
    "mrr": "rank of first hit",
    "hit_rate": "customers with a hit",
    "coverage": "catalogue covered",
    "novelty": "novelty",
    "diversity": "variety",
    "popularity_bias": "lean on best sellers",
    "rmse": "rating error",
    "mae": "average rating error",
}
"""Short plain names of recommender metrics, for table headers."""

_TECH = {
    "ndcg": "NDCG",
    "map": "MAP",
    "mrr": "MRR",
    "hit_rate": "hit rate",
    "f1": "F1",
    "rmse": "RMSE",
    "mae": "MAE",
    "coverage": "coverage",
    "popularity_bias": "popularity bias",
    "diversity": "diversity",
}
_AT_K = ("ndcg", "precision", "recall", "map", "hit_rate", "f1")


def technical(metric: str, k: int | None = None) -> str:
    """The technical name of a recommender metric, with its cut-off: "NDCG@10"."""
    at = f"@{k}" if k and metric in _AT_K else ""
    return f"{_TECH.get(metric, metric)}{at}"


def metric_header(metric: str, k: int | None = None) -> str:
    """A short table header: plain words, then the technical name: "ranking quality
    (NDCG@10)"."""
    plain, tech = SHORT.get(metric, label(metric)), technical(metric, k)
    return plain if plain == tech else f"{plain} ({tech})"


def metric_label(metric: str, k: int | None = None) -> str:
    """A recommender metric for a chart title: plain words, then the technical name
    ("ranking quality (1 = perfect order) · NDCG@10")."""
    return f"{label(metric)} · {technical(metric, k)}"


# ---- predictions (profiling.predict): models, inputs, scores and the sentences about them ----
PREDICT_MODEL_LABELS: dict[str, str] = {
    "learned": "Learned model (all signals)",
    "recency": "Days since last purchase alone",
    "frequency": "Number of purchase days alone",
    "rfm": "RFM score (recency, frequency and spend ranks added up)",
    "bgnbd": "Buying-pattern model (BG/NBD chance of buying again)",
}
"""The learned model and each baseline of a prediction task, by model name."""

PREDICT_FEATURE_LABELS: dict[str, str] = {
    "recency_days": "days since last purchase",
    "frequency": "purchase days",
    "monetary": "spend (net of refunds)",
    "avg_order_value": "spend per purchase day",
    "purchase_days_30d": "purchase days, last 30 days",
    "purchase_days_90d": "purchase days, last 90 days",
    "mean_gap_days": "average days between purchases",
    "refund_share": "share of purchases refunded",
    "tenure_days": "days since first visit",
    "days_since_seen": "days since last visit",
    "active_days": "active days",
    "n_events": "recorded actions (views, carts, purchases)",
    "events_30d": "recorded actions, last 30 days",
    "n_view": "views",
    "n_cart": "add-to-carts",
    "views_30d": "views, last 30 days",
    "carts_30d": "add-to-carts, last 30 days",
    "rfm_score": "RFM score (3-15)",
    "bgnbd_p": "chance of buying again (buying-pattern model)",
    # optional inputs (profiling.predict.embeddings)
    **{f"seq_emb_{k}": f"browsing-sequence trait {k}" for k in range(1, 33)},
}
"""The inputs of the prediction models (drivers, importance), by feature column."""

PREDICT_SCORE_LABELS: dict[str, str] = {
    "purchase_propensity": "Purchase propensity",
    "churn_risk": "Churn risk",
    "p_alive": "P(alive)",
    "expected_purchases_90d": "Expected purchases, 90 days",
    "expected_purchases_365d": "Expected purchases, 365 days",
    "expected_value_90d": "Expected value, 90 days",
    "expected_value_365d": "Expected value, 365 days",
    "anomaly_score": "Anomaly score",
    "n_risk_flags": "Risk flags",
}
"""Today's score columns of a user, by column."""

PREDICT_PROTOCOL = (
    "Training cutoffs {train}; {validation}; held-out window **{start} → {end}** (end "
    "excluded). Today's scores: the chosen model refitted on every cutoff up to the held-out one."
)
"""The rolling protocol in one paragraph (Markdown); ``validation`` is one of the two below."""
PREDICT_VALIDATION_WINDOW = "validation window from {day}"
PREDICT_VALIDATION_QUARTER = "validation on a quarter of the training users"

PREDICT_VERDICT_LEARNED_BEST = "On the held-out window, {best} has the best ROC-AUC ({auc:.3f})."
PREDICT_VERDICT_BASELINE_BEST = (
    "On the held-out window, {best} has the best ROC-AUC ({auc:.3f}; learned model "
    "{learned:.3f}). A simple baseline measured better than the learned model."
)
PREDICT_VERDICT_USED = (
    " Scores shown use {chosen}, the best on the validation window (chosen before the "
    "held-out window was looked at)."
)
"""The verdict of a prediction task: which model measured best on the held-out window
(learned or a baseline), then which model's scores are shown."""
