"""Risk scores per user: an IsolationForest anomaly score on standardized behaviour features
and transparent rules (bot-like browsing, refund abuse, order bursts, price or quantity
outliers), each flag carrying the rule that raised it and the user's own numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler

from profiling.errors import ProfilingError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

BOT_SESSION_VIEWS = 200
BOT_TOTAL_VIEWS = 300
REFUND_MIN_COUNT = 3
REFUND_SHARE = 0.5
BURST_ORDERS = 5
BURST_MINUTES = 10
PRICE_FACTOR = 5.0
PRICE_MIN_PURCHASES = 3
QUANTITY_FACTOR = 10.0
QUANTITY_MIN = 20


@dataclass(frozen=True)
class RiskRule:
    """A named rule: ``text`` is what the app shows next to a flag (English; ``label`` and
    ``template`` are the catalog's msgids, read in the current language through
    :meth:`shown_label` and :meth:`shown_text`)."""

    name: str
    label: str
    template: str
    values: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The rule in English, with its thresholds."""
        return self.template.format(**self.values)

    def shown_label(self) -> str:
        """The flag's name in the current language."""
        return _(self.label)

    def shown_text(self) -> str:
        """The rule in the current language, with its thresholds."""
        return _(self.template).format(**self.values)


RISK_RULES: tuple[RiskRule, ...] = (
    RiskRule(
        "bot_like_browsing",
        N_("Bot-like browsing"),
        N_(
            "{session} or more views in one session, or {total} or more views with no "
            "add-to-cart and no purchase"
        ),
        {"session": BOT_SESSION_VIEWS, "total": BOT_TOTAL_VIEWS},
    ),
    RiskRule(
        "refund_abuse",
        N_("Refund abuse"),
        N_("at least {count} refunds and refunds on {share} or more of purchases"),
        {"count": REFUND_MIN_COUNT, "share": f"{REFUND_SHARE:.0%}"},
    ),
    RiskRule(
        "order_burst",
        N_("Order burst"),
        N_("{orders} or more orders within {minutes} minutes"),
        {"orders": BURST_ORDERS, "minutes": BURST_MINUTES},
    ),
    RiskRule(
        "price_outlier",
        N_("Price outlier"),
        N_(
            "paid {factor} times or more, or a {factor}th or less, of an item's median price "
            "(items bought at least {purchases} times)"
        ),
        {"factor": f"{PRICE_FACTOR:g}", "purchases": PRICE_MIN_PURCHASES},
    ),
    RiskRule(
        "quantity_outlier",
        N_("Quantity outlier"),
        N_(
            "bought {units} or more units of an item in one row, and {factor} times or more "
            "that item's median quantity"
        ),
        {"units": QUANTITY_MIN, "factor": f"{QUANTITY_FACTOR:g}"},
    ),
)
RULES_BY_NAME = {r.name: r for r in RISK_RULES}
ANOMALY_FEATURES = (
    "n_events",
    "n_view",
    "n_cart",
    "n_purchase",
    "n_refund",
    "max_session_views",
    "refund_share",
    "max_orders_10min",
    "max_price_ratio",
    "max_quantity_ratio",
    "events_per_active_day",
)


def _sessions(events: pl.DataFrame) -> pl.Expr:
    """A per-user session number: the session id when present, else a new session after a
    gap of more than :data:`profiling.vocabulary.schema.SESSION_GAP_MINUTES` minutes."""
    ts = pl.col(S.TIMESTAMP)
    if S.SESSION_ID in events.columns and events[S.SESSION_ID].is_not_null().any():
        return pl.col(S.SESSION_ID).cast(pl.String).fill_null("")
    gap = (ts - ts.shift(1)).over(S.USER_ID).dt.total_minutes()
    return (
        (gap.fill_null(S.SESSION_GAP_MINUTES + 1) > S.SESSION_GAP_MINUTES)
        .cast(pl.Int64)
        .cum_sum()
        .over(S.USER_ID)
        .cast(pl.String)
    )


def risk_features(events: pl.DataFrame) -> pl.DataFrame:
    """Behaviour features the risk rules and the anomaly score read.

    Returns
    -------
    pl.DataFrame
        One row per user, sorted by user_id: user_id and the float columns of
        :data:`ANOMALY_FEATURES`: event counts by type, ``max_session_views``,
        ``refund_share`` (refund rows per purchase row), ``max_orders_10min`` (most orders
        within any :data:`BURST_MINUTES`-minute span), ``max_price_ratio`` (largest of
        price / item median and item median / price over the user's purchases of items
        bought at least :data:`PRICE_MIN_PURCHASES` times), ``max_quantity_ratio`` (largest
        quantity / item median quantity), ``max_quantity``, ``events_per_active_day``.
    """
    for column in (S.USER_ID, S.EVENT_TYPE, S.TIMESTAMP):
        if column not in events.columns:
            raise ProfilingError(
                _(
                    "events: column '{column}' is missing; risk scores need user_id, event_type "
                    "and timestamp. Columns found: {found}."
                ).format(column=column, found=", ".join(events.columns))
            )
    et, ts = pl.col(S.EVENT_TYPE), pl.col(S.TIMESTAMP)
    ev = events.sort(S.USER_ID, S.TIMESTAMP).with_columns(_sessions(events).alias("_session"))
    counts = ev.group_by(S.USER_ID).agg(
        pl.len().cast(pl.Float64).alias("n_events"),
        *[
            (et == t).sum().cast(pl.Float64).alias(f"n_{t}")
            for t in (S.VIEW, S.CART, S.PURCHASE, S.REFUND)
        ],
        ts.dt.truncate("1d").n_unique().alias("_days"),
    )
    session_views = (
        ev.filter(et == S.VIEW)
        .group_by(S.USER_ID, "_session")
        .len()
        .group_by(S.USER_ID)
        .agg(pl.col("len").max().cast(pl.Float64).alias("max_session_views"))
    )
    buys = ev.filter(et == S.PURCHASE)
    has_orders = S.ORDER_ID in ev.columns and ev[S.ORDER_ID].is_not_null().any()
    order_key = pl.col(S.ORDER_ID).cast(pl.String) if has_orders else ts.cast(pl.String)
    orders = (
        buys.group_by(S.USER_ID, order_key.alias("_order"))
        .agg(ts.min().alias("_t"))
        .sort(S.USER_ID, "_t")
    )
    # orders in the window (t - BURST_MINUTES, t] ending at each order; the user's maximum
    bursts = (
        orders.rolling(index_column="_t", period=f"{BURST_MINUTES}m", group_by=S.USER_ID)
        .agg(pl.len().alias("_n"))
        .group_by(S.USER_ID)
        .agg(pl.col("_n").max().cast(pl.Float64).alias("max_orders_10min"))
    )
    ratios = []
    if S.ITEM_ID in buys.columns and buys[S.ITEM_ID].is_not_null().any():
        item = pl.col(S.ITEM_ID)
        with_item = buys.filter(item.is_not_null())
        if S.PRICE in with_item.columns and with_item[S.PRICE].is_not_null().any():
            price = pl.col(S.PRICE)
            med = price.median().over(S.ITEM_ID)
            ratio = pl.max_horizontal(price / med, med / price)
            ratios.append(
                with_item.filter(price > 0)
                .with_columns(ratio.alias("_r"), pl.len().over(S.ITEM_ID).alias("_n"))
                .filter(pl.col("_n") >= PRICE_MIN_PURCHASES)
                .group_by(S.USER_ID)
                .agg(pl.col("_r").max().alias("max_price_ratio"))
            )
        if S.QUANTITY in with_item.columns and with_item[S.QUANTITY].is_not_null().any():
            q = pl.col(S.QUANTITY).cast(pl.Float64)
            ratios.append(
                with_item.filter(q > 0)
                .with_columns((q / q.median().over(S.ITEM_ID)).alias("_qr"))
                .group_by(S.USER_ID)
                .agg(pl.col("_qr").max().alias("max_quantity_ratio"), q.max().alias("max_quantity"))
            )
    out = counts
    for f in [session_views, bursts, *ratios]:
        out = out.join(f, on=S.USER_ID, how="left")
    for name in ("max_price_ratio", "max_quantity_ratio", "max_quantity"):
        if name not in out.columns:
            out = out.with_columns(pl.lit(None, pl.Float64).alias(name))
    return (
        out.with_columns(
            pl.col("max_session_views", "max_orders_10min").fill_null(0.0),
            pl.when(pl.col("n_purchase") > 0)
            .then(pl.col("n_refund") / pl.col("n_purchase"))
            .alias("refund_share"),
            (pl.col("n_events") / pl.col("_days")).alias("events_per_active_day"),
        )
        .select(S.USER_ID, *ANOMALY_FEATURES, "max_quantity")
        .sort(S.USER_ID)
    )


def _text(template: str, **parts: pl.Expr) -> pl.Expr:
    """``template`` ("{refunds} refunds on {purchases} purchases", translated) filled with
    column expressions by name, so a translation may put them in any order."""
    pieces = re.split(r"\{(\w+)\}", template)
    return pl.concat_str(
        [parts[p] if i % 2 else pl.lit(p) for i, p in enumerate(pieces) if i % 2 or p]
    )


def _rule_exprs() -> dict[str, tuple[pl.Expr, pl.Expr]]:
    """Rule name -> (condition, the user's numbers as text in the current language)."""
    num = lambda c: pl.col(c).round(1).cast(pl.String)  # noqa: E731 - a one-line helper read beside its use
    return {
        "bot_like_browsing": (
            (pl.col("max_session_views") >= BOT_SESSION_VIEWS)
            | (
                (pl.col("n_view") >= BOT_TOTAL_VIEWS)
                & (pl.col("n_cart") == 0)
                & (pl.col("n_purchase") == 0)
            ),
            _text(
                _(
                    "{views} views, up to {session} in one session, {carts} add-to-carts, "
                    "{purchases} purchases"
                ),
                views=num("n_view"),
                session=num("max_session_views"),
                carts=num("n_cart"),
                purchases=num("n_purchase"),
            ),
        ),
        "refund_abuse": (
            (pl.col("n_refund") >= REFUND_MIN_COUNT) & (pl.col("refund_share") >= REFUND_SHARE),
            _text(
                _("{refunds} refunds on {purchases} purchases"),
                refunds=num("n_refund"),
                purchases=num("n_purchase"),
            ),
        ),
        "order_burst": (
            pl.col("max_orders_10min") >= BURST_ORDERS,
            _text(
                _("{orders} orders within {minutes} minutes"),
                orders=num("max_orders_10min"),
                minutes=pl.lit(str(BURST_MINUTES)),
            ),
        ),
        "price_outlier": (
            pl.col("max_price_ratio") >= PRICE_FACTOR,
            _text(_("a price {ratio} times off the item's median"), ratio=num("max_price_ratio")),
        ),
        "quantity_outlier": (
            (pl.col("max_quantity_ratio") >= QUANTITY_FACTOR)
            & (pl.col("max_quantity") >= QUANTITY_MIN),
            _text(
                _("{units} units in one row, {ratio} times the item's median"),
                units=num("max_quantity"),
                ratio=num("max_quantity_ratio"),
            ),
        ),
    }


def _flags_and_reasons() -> tuple[pl.Expr, pl.Expr]:
    """risk_flags (list of rule labels) and risk_reasons ("label: rule (the user's
    numbers)" per flag, joined by " | ") from the risk features, in the current language."""
    rules = _rule_exprs()
    flag_cols, reason_cols = [], []
    for rule in RISK_RULES:
        cond, numbers = rules[rule.name]
        cond = cond.fill_null(False)
        flag_cols.append(pl.when(cond).then(pl.lit(rule.shown_label())))
        reason_cols.append(
            pl.when(cond).then(
                _text(
                    _("{flag}: {rule} ({numbers})"),
                    flag=pl.lit(rule.shown_label()),
                    rule=pl.lit(rule.shown_text()),
                    numbers=numbers,
                )
            )
        )
    return (
        pl.concat_list(flag_cols).list.drop_nulls().alias("risk_flags"),
        pl.concat_list(reason_cols).list.drop_nulls().list.join(" | ").alias("risk_reasons"),
    )


def in_language(scores: pl.DataFrame) -> pl.DataFrame:
    """``scores`` (rows of :func:`risk_scores`) with risk_flags and risk_reasons written
    again in the current language (saved scores hold them in the language they were
    computed in); as it is when the risk features are not among its columns."""
    if not set(ANOMALY_FEATURES + ("max_quantity",)) <= set(scores.columns):
        return scores
    return scores.with_columns(*_flags_and_reasons())


def risk_scores(
    events: pl.DataFrame, *, n_estimators: int = 100, random_state: int = 0
) -> pl.DataFrame:
    """Anomaly score and rule flags for every user of a cleaned event log.

    The anomaly score is IsolationForest's: features of :data:`ANOMALY_FEATURES` are
    log-transformed (counts and ratios are heavy-tailed), standardized, missing values set to
    the mean, and ``anomaly_score`` = 2^(-mean path length / c(n)) from Liu, Ting and Zhou
    (2008): about 0.5 for an ordinary user, near 1 for one that is isolated in a few cuts.
    It says "unusual", not "fraudulent"; the rules say why.

    Returns
    -------
    pl.DataFrame
        One row per user, sorted by user_id: user_id, anomaly_score (0..1),
        anomaly_pct (0..100), risk_flags (list of rule labels), risk_reasons (one string:
        "label: rule; the user's numbers" per flag, joined by " | "), n_risk_flags, and the
        features of :func:`risk_features`.
    """
    feats = risk_features(events)
    X = feats.select(ANOMALY_FEATURES).to_numpy().astype(float)
    X = np.log1p(np.clip(np.nan_to_num(X, nan=0.0), 0, None))
    if feats.height >= 2:
        Z = StandardScaler().fit_transform(X)
        forest = IsolationForest(n_estimators=n_estimators, random_state=random_state).fit(Z)
        score = -forest.score_samples(Z)
    else:
        score = np.full(feats.height, 0.5)
    out = feats.with_columns(pl.Series("anomaly_score", score)).with_columns(
        (pl.col("anomaly_score").rank("max") / pl.len() * 100).alias("anomaly_pct"),
        *_flags_and_reasons(),
    )
    out = out.with_columns(pl.col("risk_flags").list.len().alias("n_risk_flags"))
    lead = [S.USER_ID, "anomaly_score", "anomaly_pct", "risk_flags", "risk_reasons", "n_risk_flags"]
    return out.select(lead + [c for c in out.columns if c not in lead])


def flag_counts(scores: pl.DataFrame) -> pl.DataFrame:
    """One row per rule: flag (label), rule (text), users raising it (0 included)."""
    raised = scores.select(pl.col("risk_flags").explode().alias("flag")).drop_nulls()
    counts = dict(raised.group_by("flag").len().rows())
    # saved flags hold the English label or the label in the language they were computed in
    users = [int(counts.get(r.label, 0) or counts.get(r.shown_label(), 0)) for r in RISK_RULES]
    return pl.DataFrame(
        {
            "flag": [r.shown_label() for r in RISK_RULES],
            "rule": [r.shown_text() for r in RISK_RULES],
            "users": users,
        }
    )


def most_unusual(scores: pl.DataFrame, n: int = 200) -> pl.DataFrame:
    """The ``n`` users with the highest anomaly score: user_id, anomaly_score, anomaly_pct,
    risk_flags, risk_reasons; and how many users raise at least one flag (``.height`` of
    the flagged ones is in :func:`n_flagged`)."""
    cols = [S.USER_ID, "anomaly_score", "anomaly_pct", "risk_flags", "risk_reasons"]
    return in_language(scores.sort("anomaly_score", descending=True).head(n)).select(cols)


def n_flagged(scores: pl.DataFrame) -> int:
    """Number of users raising at least one risk flag."""
    return int((scores["n_risk_flags"] > 0).sum())
