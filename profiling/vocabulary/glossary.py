"""The glossary: every feature and metric label a marketer reads, in plain words first, with
its unit, a help text that keeps the technical name and definition, and how to format it.

Pages, charts and exports take their labels from here (``label``, ``help_text``,
``header``), so a word is explained once and reads the same everywhere. Entries keep their
English words as gettext msgids (marked with ``N_``) and are translated when read, in the
language of the page, report or export that reads them (:mod:`profiling.vocabulary.i18n`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

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
# these rules, and every label and help text that names them quotes these sentences. They
# are msgids: read them through gettext (help texts fill them in translated).
CUSTOMERS_RULE = N_("distinct customer ids with at least one row in the log (any kind of event)")
BUYERS_RULE = N_("customers with at least one purchase")
ORDERS_RULE = N_(
    "distinct order ids of purchase rows; a purchase row without an order id (or every row, "
    "when the log has no order ids) counts as one order per customer per day"
)
REVENUE_RULE = N_("purchase amounts minus refunds (net of refunds)")
AOV_RULE = N_("revenue net of refunds / orders")
REVENUE_PER_CUSTOMER_RULE = N_("revenue net of refunds / customers (buyers or not)")
REFUNDED_EVERYTHING = N_("Refunded everything")
REFUNDED_EVERYTHING_RULE = N_(
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
"""The business words and their one definition (English msgids), for help texts, the
report and exports."""


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    ``label``: plain words shown on screen; ``unit``: what the number counts ("days",
    "currency", "share", "count", ... or "" for text); ``help``: the technical name and its
    definition, for tooltips and the analyst details; ``kind``: the formatter
    (:data:`KINDS`). The three texts are read in the current language; ``msg_*`` hold the
    English msgids, with ``{placeholders}`` filled after translation from ``params`` (data,
    as it is) and ``msg_params`` (msgids such as :data:`ORDERS_RULE`, translated too)."""

    name: str
    msg_label: str
    msg_unit: str
    msg_help: str
    kind: str
    params: tuple[tuple[str, str], ...] = ()
    msg_params: tuple[tuple[str, str], ...] = ()

    def _text(self, msgid: str) -> str:
        text = _(msgid)
        if not (self.params or self.msg_params):
            return text
        values = dict(self.params) | {k: _(v) for k, v in self.msg_params}
        return text.format(**values)

    @property
    def label(self) -> str:
        return self._text(self.msg_label)

    @property
    def unit(self) -> str:
        return self._text(self.msg_unit)

    @property
    def help(self) -> str:
        return self._text(self.msg_help)


_UNITS = {
    MONEY: N_("currency"),
    DAYS: N_("days"),
    SHARE: N_("share"),
    COUNT: N_("count"),
    NUMBER: "",
    SCORE: N_("score"),
    TEXT: "",
    DATE: N_("date"),
    HOUR: N_("hour of day"),
    RATING: N_("rating"),
    PERCENTILE: N_("percentile"),
}


def _t(
    name: str,
    label: str,
    kind: str,
    help: str,
    unit: str | None = None,
    msgs: dict[str, str] | None = None,
    **params: str,
) -> Term:
    unit = _UNITS[kind] if unit is None else unit
    msg_params = tuple(sorted((msgs or {}).items()))
    return Term(name, label, unit, help, kind, tuple(sorted(params.items())), msg_params)


_FEATURES = [
    _t("user_id", N_("customer id"), TEXT, N_("user_id: the customer's id in the data.")),
    _t(
        "n_events",
        N_("rows in the log"),
        COUNT,
        N_(
            "n_events: every row of the log for this "
            "customer (views, carts, purchases, ...); in a transaction log, one per line item."
        ),
    ),
    _t(
        "first_seen",
        N_("first seen"),
        DATE,
        N_("first_seen: timestamp of the customer's first event."),
    ),
    _t(
        "last_seen",
        N_("last seen"),
        DATE,
        N_("last_seen: timestamp of the customer's latest event."),
    ),
    _t(
        "tenure_days",
        N_("days since first seen"),
        DAYS,
        N_("tenure_days: days from the first event to the profile date."),
    ),
    _t(
        "days_since_seen",
        N_("days since last visit"),
        DAYS,
        N_("days_since_seen: days from the latest event of any kind to the profile date."),
    ),
    _t(
        "active_days",
        N_("days with activity"),
        COUNT,
        N_("active_days: distinct calendar days with at least one event."),
    ),
    _t(
        "sessions",
        N_("visits"),
        COUNT,
        N_("sessions: distinct session ids (or visits inferred from 30-minute gaps)."),
    ),
    _t(
        "events_per_session",
        N_("actions per visit"),
        NUMBER,
        N_("events_per_session: n_events / sessions."),
    ),
    _t(
        "recency_days",
        N_("days since last order"),
        DAYS,
        N_(
            "recency_days (the R of RFM): days "
            "from the latest purchase to the profile date; empty for customers who never bought."
        ),
    ),
    _t(
        "frequency",
        N_("orders"),
        COUNT,
        N_(
            "frequency (the F of RFM): orders, i.e. {orders}. Always orders: never repeat purchases."
        ),
        msgs={"orders": ORDERS_RULE},
    ),
    _t(
        "purchase_days",
        N_("days with a purchase"),
        COUNT,
        N_("purchase_days: distinct days with a purchase."),
    ),
    _t(
        "last_purchase",
        N_("last order"),
        DATE,
        N_("last_purchase: timestamp of the latest purchase."),
    ),
    _t(
        "monetary",
        N_("net spend"),
        MONEY,
        N_(
            "monetary (the M of RFM): {revenue}, over the whole period; zero or less means "
            "the customer refunded everything."
        ),
        msgs={"revenue": REVENUE_RULE},
    ),
    _t(
        "gross_spend",
        N_("spend before refunds"),
        MONEY,
        N_("gross_spend: sum of purchase amounts."),
    ),
    _t("refunded", N_("refunded"), MONEY, N_("refunded: sum of refund amounts (negative).")),
    _t(
        "avg_order_value",
        N_("average order value"),
        MONEY,
        N_(
            "avg_order_value: net spend / orders ({aov}); spend before refunds is shown "
            "separately as such."
        ),
        msgs={"aov": AOV_RULE},
    ),
    _t(
        "avg_unit_price",
        N_("average price paid"),
        MONEY,
        N_("avg_unit_price: mean unit price of the items bought."),
    ),
    _t("units_bought", N_("units bought"), COUNT, N_("units_bought: sum of quantities purchased.")),
    _t(
        "price_level",
        N_("price level vs. category (1 = typical)"),
        NUMBER,
        N_(
            "price_level: mean "
            "price paid divided by the median price of the same categories; below 1 is cheaper "
            "than typical, above 1 dearer."
        ),
        unit=N_("ratio"),
    ),
    _t("view_to_cart", N_("views that led to a cart"), SHARE, N_("view_to_cart: carts / views.")),
    _t(
        "cart_to_purchase",
        N_("carts that led to a purchase"),
        SHARE,
        N_("cart_to_purchase: purchases / carts."),
    ),
    _t(
        "view_to_purchase",
        N_("views that led to a purchase"),
        SHARE,
        N_("view_to_purchase: purchases / views (conversion rate)."),
    ),
    _t(
        "refund_rate",
        N_("share of purchases refunded"),
        SHARE,
        N_("refund_rate: refunds / purchases."),
    ),
    _t(
        "weekend_share",
        N_("share of activity at weekends"),
        SHARE,
        N_("weekend_share: share of events on Saturday or Sunday."),
    ),
    _t(
        "preferred_hour",
        N_("usual hour of activity"),
        HOUR,
        N_("preferred_hour: the hour of day with most events (0-23, UTC)."),
    ),
    _t("n_ratings", N_("ratings given"), COUNT, N_("n_ratings: number of explicit ratings.")),
    _t("rating_mean", N_("average rating given"), RATING, N_("rating_mean: mean explicit rating.")),
    _t(
        "rating_std",
        N_("spread of ratings given"),
        RATING,
        N_("rating_std: standard deviation of the customer's ratings."),
    ),
    _t(
        "favourite_brand",
        N_("favourite brand"),
        TEXT,
        N_("favourite_brand: brand with most events."),
    ),
    _t(
        "top_category",
        N_("favourite category"),
        TEXT,
        N_("top_category: category with most events."),
    ),
    _t(
        "top_category_share",
        N_("share of activity in the favourite category"),
        SHARE,
        N_("top_category_share: the favourite category's share of the customer's events."),
    ),
    _t(
        "category_entropy",
        N_("variety of categories browsed"),
        NUMBER,
        N_(
            "category_entropy: "
            "Shannon entropy (natural log) of the customer's category shares; 0 = one category "
            "only, higher = interest spread over more categories."
        ),
        unit=N_("nats"),
    ),
    _t(
        "events_last_30d",
        N_("actions in the last 30 days"),
        COUNT,
        N_("events_last_30d: events in the 30 days before the profile date."),
    ),
    _t(
        "events_prev_30d",
        N_("actions in the 30 days before"),
        COUNT,
        N_("events_prev_30d: events 31-60 days before the profile date."),
    ),
    _t(
        "momentum",
        N_("activity trend (-1 falling, +1 rising)"),
        NUMBER,
        N_("momentum: (last 30 days - previous 30 days) / (their sum), in [-1, 1]; 0 = steady."),
        unit=N_("trend"),
    ),
    _t(
        "tags",
        N_("tags"),
        TEXT,
        N_("tags: readable labels given by the rules listed on the user page."),
    ),
    _t(
        "r_score",
        N_("recency score (5 = most recent)"),
        SCORE,
        N_("r_score: quintile of recency_days among buyers, 1-5, 5 = most recent."),
    ),
    _t(
        "f_score",
        N_("order-count score (5 = most orders)"),
        SCORE,
        N_("f_score: quintile of frequency among buyers, 1-5."),
    ),
    _t(
        "m_score",
        N_("spend score (5 = highest spend)"),
        SCORE,
        N_("m_score: quintile of monetary among buyers, 1-5."),
    ),
    _t(
        "rfm_cell",
        N_("recency and order-count scores"),
        TEXT,
        N_("rfm_cell: R score then F score, e.g. '54'."),
    ),
    _t(
        "rfm_segment",
        N_("customer segment"),
        TEXT,
        N_("rfm_segment: named RFM segment from the recency and frequency scores."),
    ),
    _t(
        "cluster",
        N_("group number"),
        TEXT,
        N_(
            "cluster: id of the group found by clustering "
            "(k-means or Gaussian mixture on standardized features)."
        ),
    ),
    _t(
        "cluster_name",
        N_("behaviour group"),
        TEXT,
        N_("cluster_name: readable name of the cluster from its most distinctive features."),
    ),
    _t(
        "churn_risk",
        N_("chance of not buying again"),
        SHARE,
        N_(
            "churn_risk: predicted probability that a past buyer makes no purchase in the "
            "lapse window (longer than the purchase horizon, set from the gaps between repeat "
            "purchases)."
        ),
    ),
    _t(
        "purchase_propensity",
        N_("chance of buying soon"),
        SHARE,
        N_("purchase_propensity: predicted probability of at least one purchase in the horizon."),
    ),
    _t("age", N_("age"), NUMBER, N_("age: from the users table."), unit=N_("years")),
    _t("age_band", N_("age band"), TEXT, N_("age_band: age grouped in bands.")),
]
_EVENT_WORDS = {
    S.VIEW: N_("views"),
    S.CLICK: N_("clicks"),
    S.CART: N_("add-to-carts"),
    S.WISHLIST: N_("wishlist adds"),
    S.PURCHASE: N_("purchases (line items)"),
    S.REFUND: N_("refunds"),
    S.RATE: N_("ratings"),
    S.SEARCH: N_("searches"),
}
_PARTS = {
    "night": (N_("share of activity in the night"), "0-6 h"),
    "morning": (N_("share of activity in the morning"), "6-12 h"),
    "afternoon": (N_("share of activity in the afternoon"), "12-18 h"),
    "evening": (N_("share of activity in the evening"), "18-24 h"),
}
_FEATURES += [
    _t(f"n_{t}", word, COUNT, N_("{column}: number of '{event}' events."), column=f"n_{t}", event=t)
    for t, word in _EVENT_WORDS.items()
]
_FEATURES += [
    _t(
        f"share_{p}",
        label,
        SHARE,
        N_("{column}: share of events between {hours} (UTC)."),
        column=f"share_{p}",
        hours=h,
    )
    for p, (label, h) in _PARTS.items()
]

_METRICS = [
    # recommenders (at K, the length of each list)
    _t(
        "precision",
        N_("share of the list the customer later bought"),
        SHARE,
        N_("precision@K: relevant items in the top K / K, averaged over test customers."),
    ),
    _t(
        "recall",
        N_("share of later purchases the list caught"),
        SHARE,
        N_("recall@K: relevant items in the top K / all relevant items of the customer."),
    ),
    _t(
        "f1",
        N_("balance of the two above"),
        SHARE,
        N_("F1@K: harmonic mean of precision and recall."),
    ),
    _t(
        "ndcg",
        N_("ranking quality (1 = perfect order)"),
        SCORE,
        N_("NDCG@K: normalized discounted cumulative gain; hits near the top count more; 0-1."),
    ),
    _t(
        "map", N_("average precision of the list"), SCORE, N_("MAP@K: mean average precision; 0-1.")
    ),
    _t(
        "mrr",
        N_("how high the first good item is"),
        SCORE,
        N_(
            "MRR: mean reciprocal rank of the "
            "first relevant item (1 = first place, 0.5 = second, ...)."
        ),
    ),
    _t(
        "hit_rate",
        N_("customers with at least one good suggestion"),
        SHARE,
        N_("hit_rate@K: share of test customers with at least one relevant item in the top K."),
    ),
    _t(
        "coverage",
        N_("share of the catalogue recommended"),
        SHARE,
        N_("catalog coverage: distinct items recommended to anyone / items in the catalogue."),
    ),
    _t(
        "novelty",
        N_("how little-known the suggestions are"),
        NUMBER,
        N_("novelty: mean self-information -log2(popularity) of recommended items, in bits."),
        unit=N_("bits"),
    ),
    _t(
        "diversity",
        N_("variety within a list"),
        SCORE,
        N_("intra-list diversity: mean pairwise dissimilarity of the items in a list; 0-1."),
    ),
    _t(
        "popularity_bias",
        N_("lean on best sellers"),
        NUMBER,
        N_(
            "popularity bias: mean popularity "
            "of the recommended items relative to the catalogue (lower leans less on best "
            "sellers)."
        ),
        unit=N_("ratio"),
    ),
    _t(
        "rmse",
        N_("rating error (typical size)"),
        RATING,
        N_("RMSE: root mean squared error of predicted ratings."),
    ),
    _t(
        "mae",
        N_("rating error (average size)"),
        RATING,
        N_("MAE: mean absolute error of predicted ratings."),
    ),
    _t(
        "fit_seconds",
        N_("training time"),
        NUMBER,
        N_("fit_seconds: wall-clock training time."),
        unit=N_("seconds"),
    ),
    # predictions
    _t(
        "accuracy",
        N_("share of customers called right"),
        SHARE,
        N_("accuracy at the chosen threshold."),
    ),
    _t(
        "roc_auc",
        N_("ranks buyers above non-buyers (0.5 = chance)"),
        SCORE,
        N_("ROC-AUC: probability that a random positive scores above a random negative."),
    ),
    _t(
        "pr_auc",
        N_("precision across all thresholds"),
        SCORE,
        N_("PR-AUC: area under the precision-recall curve (average precision)."),
    ),
    _t(
        "brier",
        N_("probability error (lower is better)"),
        SCORE,
        N_("Brier score: mean squared error of the predicted probabilities."),
    ),
    _t(
        "gini",
        N_("how well it orders spenders (1 perfect, 0 random)"),
        NUMBER,
        N_(
            "normalized Gini: Gini of actual spend ordered by the prediction / Gini of the perfect "
            "order; ties in the prediction share their spend."
        ),
    ),
    _t(
        "spearman",
        N_("rank agreement with actual spend"),
        NUMBER,
        N_("Spearman correlation between predicted and actual spend (-1 .. 1)."),
    ),
    _t(
        "value_mae",
        N_("average error in money"),
        MONEY,
        N_("MAE: mean absolute difference between predicted and actual spend."),
    ),
    _t(
        "top_decile_share",
        N_("share of spend from the predicted top 10%"),
        SHARE,
        N_(
            "Share of the held-out window's total spend made by the 10% of customers with the "
            "highest predicted spend (ties at the boundary counted in proportion)."
        ),
    ),
    _t(
        "top_decile_lift",
        N_("how much richer the top 10% is"),
        NUMBER,
        N_("top-decile lift: share of positives among the 10% highest scores / the base rate."),
        unit=N_("times"),
    ),
    # overview
    _t(
        "customers", N_("customers"), COUNT, N_("customers: {rule}."), msgs={"rule": CUSTOMERS_RULE}
    ),
    _t("buyers", N_("buyers"), COUNT, N_("buyers: {rule}."), msgs={"rule": BUYERS_RULE}),
    _t("orders", N_("orders"), COUNT, N_("orders: {rule}."), msgs={"rule": ORDERS_RULE}),
    _t("revenue", N_("revenue"), MONEY, N_("revenue: {rule}."), msgs={"rule": REVENUE_RULE}),
    _t(
        "aov",
        N_("average order value"),
        MONEY,
        N_("average order value: {rule}."),
        msgs={"rule": AOV_RULE},
    ),
    _t(
        "repeat_rate",
        N_("repeat customers"),
        SHARE,
        N_(
            "repeat-purchase rate: customers with 2 or "
            "more orders / customers with at least one order."
        ),
    ),
    _t(
        "revenue_per_customer",
        N_("revenue per customer"),
        MONEY,
        N_("revenue per customer: {rule}."),
        msgs={"rule": REVENUE_PER_CUSTOMER_RULE},
    ),
    _t("ratings", N_("ratings"), COUNT, N_("ratings: rating rows in the period.")),
    _t("items_rated", N_("items rated"), COUNT, N_("items rated: distinct items with a rating.")),
    _t(
        "average_rating",
        N_("average rating"),
        RATING,
        N_("average rating: mean of the ratings given in the period."),
    ),
    _t(
        "ratings_per_customer",
        N_("ratings per customer"),
        NUMBER,
        N_("ratings per customer: ratings / customers."),
    ),
    _t(
        "returning_customers",
        N_("returning customers"),
        SHARE,
        N_("returning customers: customers active on 2 or more days / customers."),
    ),
    _t(
        "conversion",
        N_("visitors who bought"),
        SHARE,
        N_("conversion: customers with a purchase / customers with any event."),
    ),
    _t("users", N_("customers"), COUNT, N_("users: distinct ids in the group.")),
    _t("share_of_users", N_("share of customers"), SHARE, N_("users in the group / all users.")),
    _t(
        "share_of_revenue",
        N_("share of revenue"),
        SHARE,
        N_(
            "net spend of the group (refunds "
            "leaving a customer below zero count as zero) / all net spend."
        ),
    ),
    _t(
        "z",
        N_("difference from the average customer"),
        NUMBER,
        N_(
            "standardized difference: "
            "(group mean - population mean) / population standard deviation; 0 = average, "
            "+1 = one standard deviation above."
        ),
        unit=N_("std. dev."),
    ),
    _t(
        "revenue_12m",
        N_("spend in the previous 12 months"),
        MONEY,
        N_("revenue_12m: net spend in the 12 months before the earlier date."),
    ),
    _t(
        "purchase_propensity_pct",
        N_("chance of buying soon (percentile)"),
        PERCENTILE,
        N_(
            "purchase_propensity_pct: percentile of the score among scored customers (100 = highest)."
        ),
    ),
    _t(
        "churn_risk_pct",
        N_("chance of not buying again (percentile)"),
        PERCENTILE,
        N_("churn_risk_pct: percentile of the score among scored past buyers (100 = highest)."),
    ),
    _t(
        "purchase_drivers",
        N_("what raises or lowers the chance of buying"),
        TEXT,
        N_(
            "purchase_drivers: the three inputs whose change to the typical customer's value "
            "moves this customer's score most."
        ),
    ),
    _t(
        "churn_drivers",
        N_("what raises or lowers the chance of not buying again"),
        TEXT,
        N_(
            "churn_drivers: the three inputs whose change to the typical customer's value moves "
            "this customer's score most."
        ),
    ),
    _t(
        "p_alive",
        N_("chance the customer is still active"),
        SHARE,
        N_("P(alive): BG/NBD probability that the customer has not lapsed for good."),
    ),
    _t(
        "predicted_spend",
        N_("predicted spend, value horizon"),
        MONEY,
        N_(
            "predicted_spend: the customer's predicted spend over the value horizon (default 180 "
            "days), from the model that ordered spenders best on validation."
        ),
    ),
    _t(
        "anomaly_score",
        N_("how unusual (0.5 ordinary, 1 very unusual)"),
        SCORE,
        N_("anomaly score: IsolationForest score on standardized behaviour features."),
    ),
    _t(
        "anomaly_pct",
        N_("how unusual (percentile)"),
        PERCENTILE,
        N_("anomaly_pct: percentile of the anomaly score (100 = most unusual)."),
    ),
    _t(
        "risk_flags",
        N_("risk flags raised"),
        TEXT,
        N_("risk_flags: names of the transparent risk rules the customer raises."),
    ),
    _t(
        "risk_reasons",
        N_("why"),
        TEXT,
        N_("risk_reasons: each raised rule with the customer's values."),
    ),
    _t("n_risk_flags", N_("risk flags"), COUNT, N_("n_risk_flags: number of risk rules raised.")),
    _t(
        "from_segment",
        N_("earlier segment"),
        TEXT,
        N_("from_segment: the segment at the earlier date."),
    ),
    _t("to_segment", N_("later segment"), TEXT, N_("to_segment: the segment at the later date.")),
    _t(
        "share_of_from",
        N_("share of the earlier segment"),
        SHARE,
        N_("share_of_from: customers of the flow / customers of the earlier segment."),
    ),
    _t(
        "became_inactive",
        N_("became inactive"),
        TEXT,
        N_("became_inactive: active in the 90 days before the earlier date, no event since."),
    ),
]

_TERMS: dict[str, Term] = {t.name: t for t in _FEATURES + _METRICS}

# technical words that appear in explanations, in plain words (the analyst details list them)
JARGON: dict[str, str] = {
    "std. diff.": N_("how different from the average customer (in standard deviations)"),
    "silhouette": N_("how well separated the groups are (higher is better)"),
    "k-means": N_("a method that sorts customers into groups of similar behaviour"),
    "K": N_("the length of each recommendation list"),
    "bootstrap interval": N_("the range the true value most likely lies in (95%)"),
    "sign-flip test": N_("a check that one model's lead is not luck"),
    "†": N_("clearly worse than the best model (not luck)"),
    "is_fallback": N_("no personal history: shown the most popular items instead"),
    "cold users": N_("customers with no history before the test period"),
    "ALS user factors": N_("taste profile learned by a recommender"),
    "fingerprint": N_("a digest of the data content, identifying this exact version"),
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
            N_("share of activity in {category}"),
            SHARE,
            N_("{column}: the category's share of the customer's item events."),
            category=cat,
            column=name,
        )
    if name.startswith(SPEND_PREFIX):
        cat = name[len(SPEND_PREFIX) :]
        return _t(
            name,
            N_("share of spend in {category}"),
            SHARE,
            N_("{column}: the category's share of the customer's spend."),
            category=cat,
            column=name,
        )
    if name.endswith("_attr"):
        base = name[: -len("_attr")]
        return _t(
            name,
            N_("{attribute} (from the customer table)"),
            TEXT,
            N_("{column}: the users table's own '{attribute}' column."),
            attribute=base.replace("_", " "),
            column=name,
        )
    return _t(
        name,
        "{column}",
        TEXT,
        N_("{raw}: a column of the data."),
        column=name.replace("_", " "),
        raw=name,
    )


def names() -> list[str]:
    """Every fixed entry's name (generated entries such as ``cat_share__Books`` aside)."""
    return list(_TERMS)


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
        return _("share 0-1")
    if t.kind in (COUNT, TEXT, DATE):
        return ""
    return t.unit


def header(name: str, currency: str | None = None) -> str:
    """Export header with the unit: "days since last order (days)", "net spend (GBP)"."""
    u = unit_text(name, currency)
    return _("{label} ({unit})").format(label=label(name), unit=u) if u else label(name)


def labels(names: list[str]) -> str:
    """Readable comma-separated labels."""
    return _(", ").join(label(n) for n in names)


SHORT: dict[str, str] = {
    "ndcg": N_("ranking quality"),
    "precision": N_("hits in the list"),
    "recall": N_("purchases caught"),
    "f1": N_("hits and catches balanced"),
    "map": N_("average precision"),
    "mrr": N_("rank of first hit"),
    "hit_rate": N_("customers with a hit"),
    "coverage": N_("catalogue covered"),
    "novelty": N_("novelty"),
    "diversity": N_("variety"),
    "popularity_bias": N_("lean on best sellers"),
    "rmse": N_("rating error"),
    "mae": N_("average rating error"),
}
"""Short plain names of recommender metrics, for table headers (English msgids: read them
through :func:`short`)."""


def short(metric: str) -> str:
    """The short plain name of a recommender metric in the current language ("ranking
    quality"); its label when it has no short name."""
    return _(SHORT[metric]) if metric in SHORT else label(metric)


MODEL_LABELS: dict[str, str] = {
    "popularity": N_("best sellers"),
    "segment-popularity": N_("best sellers of the segment"),
    "buy-again": N_("buy again"),
    "item-knn": N_("item-kNN"),
    "als": "ALS",
    "bpr": "BPR",
    "ease": "EASE",
    "content": N_("content match"),
    "context": N_("content match by context"),
    "hybrid": N_("hybrid blend"),
    "svd": "SVD",
    "svdpp": "SVD++",
    "nmf": "NMF",
    "knn-user": N_("user-kNN"),
    "knn-item": N_("item-kNN (ratings)"),
    "knn-means": N_("user-kNN centred"),
    "knn-baseline": N_("user-kNN on a baseline"),
    "baseline-only": N_("baseline only"),
    "slope-one": N_("slope one"),
    "co-clustering": N_("co-clustering"),
    "markov": N_("next item (Markov)"),
    "gru4rec": "GRU4Rec",
    "sasrec": "SASRec",
    "spark-als": "Spark ALS",
}
"""Recommender registry name -> its name for people in Chinese (English msgids; English
pages keep the registry name itself, which CLI users type). Technical names (ALS, EASE,
SVD) stay as they are in both languages."""


def model_label(name: str) -> str:
    """A recommender's name as shown: the registry name in English ("popularity"), its
    translation in other languages ("热销商品"); a name the registry does not know (a
    model named in a saved file) as it is."""
    if name not in MODEL_LABELS or i18n.get_language() == i18n.DEFAULT:
        return name
    return _(MODEL_LABELS[name])


_TECH = {
    "precision": N_("precision"),
    "recall": N_("recall"),
    "ndcg": "NDCG",
    "map": "MAP",
    "mrr": "MRR",
    "hit_rate": N_("hit rate"),
    "f1": "F1",
    "rmse": "RMSE",
    "mae": "MAE",
    "coverage": N_("coverage"),
    "popularity_bias": N_("popularity bias"),
    "diversity": N_("diversity"),
}
_AT_K = ("ndcg", "precision", "recall", "map", "hit_rate", "f1")


def technical(metric: str, k: int | None = None) -> str:
    """The technical name of a recommender metric, with its cut-off: "NDCG@10"."""
    at = f"@{k}" if k and metric in _AT_K else ""
    return f"{_(_TECH.get(metric, metric))}{at}"


def metric_header(metric: str, k: int | None = None) -> str:
    """A short table header: plain words, then the technical name: "ranking quality
    (NDCG@10)"."""
    plain, tech = short(metric), technical(metric, k)
    return plain if plain == tech else _("{label} ({unit})").format(label=plain, unit=tech)


def metric_label(metric: str, k: int | None = None) -> str:
    """A recommender metric for a chart title: plain words, then the technical name
    ("ranking quality (1 = perfect order) · NDCG@10")."""
    return f"{label(metric)} · {technical(metric, k)}"


# ---- predictions (profiling.predict): models, inputs, scores and the sentences about them ----
PREDICT_MODEL_LABELS: dict[str, str] = {
    "learned": N_("Learned model (all signals)"),
    "recency": N_("Days since last purchase alone"),
    "purchase_days": N_("Purchase days alone"),
    "rfm": N_("RFM score (recency, frequency and spend ranks added up)"),
    "bgnbd": N_("Buying-pattern model (MBG/NBD chance of buying again)"),
    "p_alive": N_("Buying-pattern model's chance of having lapsed (1 − P(alive))"),
    "bgnbd_gg": N_("Buying-pattern model × spend per purchase (MBG/NBD + Gamma-Gamma)"),
    "last_spend": N_("Last period's spend"),
}
"""The learned model and each baseline of a prediction task, by model name (English
msgids: translated where shown, e.g. :func:`predict_model_label`)."""


def predict_model_label(name: str) -> str:
    """A prediction model's label in the current language; an unknown name as it is."""
    return _(PREDICT_MODEL_LABELS[name]) if name in PREDICT_MODEL_LABELS else name


PREDICT_FEATURE_LABELS: dict[str, str] = {
    "recency_days": N_("days since last purchase"),
    "purchase_days": N_("purchase days"),
    "monetary": N_("spend (net of refunds)"),
    "avg_spend_per_purchase_day": N_("spend per purchase day"),
    "purchase_days_30d": N_("purchase days, last 30 days"),
    "purchase_days_90d": N_("purchase days, last 90 days"),
    "mean_gap_days": N_("average days between purchases"),
    "refund_rate": N_("share of purchases refunded"),
    "tenure_days": N_("days since first visit"),
    "days_since_seen": N_("days since last visit"),
    "active_days": N_("active days"),
    "n_events": N_("recorded actions (views, carts, purchases)"),
    "events_last_30d": N_("recorded actions, last 30 days"),
    "n_view": N_("views"),
    "n_cart": N_("add-to-carts"),
    "views_30d": N_("views, last 30 days"),
    "carts_30d": N_("add-to-carts, last 30 days"),
    "rfm_score": N_("RFM score (3-15)"),
    "bgnbd_p": N_("chance of buying again (buying-pattern model)"),
    "bgnbd_alive": N_("chance of still being a customer (buying-pattern model's P(alive))"),
    "gap_regularity": N_("irregularity of the gaps between purchases (spread / average gap)"),
    "gap_ratio": N_("days since last purchase against the average gap between purchases"),
    "gap_z": N_("how unusual the current silence is for this customer (gaps' spread)"),
    "purchase_rate": N_("purchase days per day since the first visit"),
    "recency_share": N_("share of the history silent since the last purchase"),
    "purchase_trend": N_("purchase days, last 30 days against the 60 before"),
    "spend_90d": N_("spend, last 90 days"),
    "items_bought": N_("distinct items bought (breadth)"),
    "bgnbd_gg": N_("expected spend (buying-pattern and spend-per-purchase models)"),
    "last_spend": N_("spend in the last value window"),
    # optional inputs (profiling.predict.embeddings)
    **{f"seq_emb_{k}": N_("browsing-sequence trait {k}").format(k=k) for k in range(1, 33)},
}
"""The inputs of the prediction models (drivers, importance), by feature column."""

PREDICT_SCORE_LABELS: dict[str, str] = {
    "purchase_propensity": N_("Purchase propensity"),
    "churn_risk": N_("Churn risk"),
    "p_alive": N_("P(alive)"),
    "expected_purchases_90d": N_("Expected purchases, 90 days"),
    "expected_purchases_365d": N_("Expected purchases, 365 days"),
    "expected_value_90d": N_("Expected value, 90 days"),
    "expected_value_365d": N_("Expected value, 365 days"),
    "predicted_spend": N_("Predicted spend"),
    "anomaly_score": N_("Anomaly score"),
    "n_risk_flags": N_("Risk flags"),
}
"""Today's score columns of a user, by column."""

PREDICT_PROTOCOL = N_(
    "Training cutoffs {train}; {validation}; held-out window **{start} → {end}** (end "
    "excluded). Today's scores: the chosen model refitted on every cutoff up to the held-out one."
)
"""The rolling protocol in one paragraph (Markdown); ``validation`` is one of the two below."""
PREDICT_VALIDATION_WINDOW = N_("validation window from {day}")
PREDICT_VALIDATION_QUARTER = N_("validation on a quarter of the training users")

PREDICT_VERDICT_LEARNED_BEST = N_("On the held-out window, {best} has the best ROC-AUC ({auc}).")
PREDICT_VERDICT_BASELINE_BEST = N_(
    "On the held-out window, {best} has the best ROC-AUC ({auc}; learned model "
    "{learned}). A simple baseline measured better than the learned model."
)
PREDICT_VERDICT_USED = N_(
    " Scores shown use {chosen}, the best on the validation window (chosen before the "
    "held-out window was looked at)."
)
PREDICT_READING_WHAT = {
    "purchase": N_("Chance that a customer buys at least once in the next {days} days."),
    "churn": N_("Chance that a past buyer makes {lapse}."),
    "value": N_("What a customer is predicted to spend in the next {days} days."),
}
PREDICT_READING_QUALITY = {
    "better": N_(
        "Ranks {noun} better than '{rule}': {score} against {base} ({measure} on the last "
        "{days} days of the log, which no model saw)."
    ),
    "no better": N_(
        "Ranks {noun} no better than '{rule}': {score} against {base} ({measure} on the last "
        "{days} days of the log, which no model saw)."
    ),
    "worse": N_(
        "Ranks {noun} worse than '{rule}': {score} against {base} ({measure} on the last "
        "{days} days of the log, which no model saw)."
    ),
}
PREDICT_READING_USE = {
    "purchase": N_("Use: send the top of the list below an offer now; download it as an audience."),
    "churn": N_(
        "Use: a win-back message to the top of the list below before they lapse; download "
        "it as an audience."
    ),
    "value": N_(
        "Use: look after the top of the list (service, early access); download it as an audience."
    ),
}
"""What each score predicts, how good it is against the simplest rule, and what to do with
it: three plain sentences per score (:func:`profiling.predict.reading.plain_reading`)."""

PREDICT_VERDICT_BASELINES_ONLY = N_(
    "Baselines only, while the learned model trains: on the held-out window {best} has the "
    "best ROC-AUC ({auc})."
)
"""The verdict of a prediction task: which model measured best on the held-out window
(learned or a baseline), then which model's scores are shown. English msgids: read them
through :func:`_` where shown; numbers are put in formatted (:func:`score_text`)."""


def predict_feature_label(name: str) -> str:
    """A prediction model's input (a feature column) in the current language: "days since
    last purchase"; "browsing-sequence trait 3"; an unknown name as it is."""
    if name.startswith("seq_emb_") and name[len("seq_emb_") :].isdigit():
        return _("browsing-sequence trait {k}").format(k=name[len("seq_emb_") :])
    return _(PREDICT_FEATURE_LABELS[name]) if name in PREDICT_FEATURE_LABELS else name


def predict_score_label(name: str) -> str:
    """A score column of today's scores in the current language; an unknown name as it is."""
    return _(PREDICT_SCORE_LABELS[name]) if name in PREDICT_SCORE_LABELS else name


def score_text(value: float, decimals: int = 3) -> str:
    """A measure such as ROC-AUC with fixed decimals in the current language: "0.734"."""
    return i18n.format_fixed(float(value), decimals)
