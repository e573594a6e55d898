"""Risk rules on hand-made users, and the anomaly score ranking the odd one out first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from profiling.errors import ProfilingError
from profiling.profiles import risk
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S

T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)


def ev(user, kind, minutes, item=None, qty=None, price=None, order=None):
    return {
        S.USER_ID: user,
        S.EVENT_TYPE: kind,
        S.TIMESTAMP: T0 + timedelta(minutes=minutes),
        S.ITEM_ID: item,
        S.QUANTITY: qty,
        S.PRICE: price,
        S.ORDER_ID: order,
    }


def frame(rows: list[dict]) -> pl.DataFrame:
    f = pl.DataFrame(
        rows,
        schema={
            S.USER_ID: pl.String,
            S.EVENT_TYPE: pl.String,
            S.TIMESTAMP: pl.Datetime("us", "UTC"),
            S.ITEM_ID: pl.String,
            S.QUANTITY: pl.Int64,
            S.PRICE: pl.Float64,
            S.ORDER_ID: pl.String,
        },
    )
    others = [pl.lit(None).alias(c) for c in S.EVENT_COLUMNS if c not in f.columns]
    return f.with_columns(others).select(S.EVENT_COLUMNS)


def normal_user(u: str, day: int) -> list[dict]:
    """Views two items over a day, carts and buys one at the usual price and quantity."""
    m = day * 1440
    return [
        ev(u, S.VIEW, m, "i1"),
        ev(u, S.VIEW, m + 2, "i2"),
        ev(u, S.CART, m + 3, "i1"),
        ev(u, S.PURCHASE, m + 5, "i1", 1, 10.0, f"{u}-o1"),
    ]


@pytest.fixture(scope="module")
def scored() -> pl.DataFrame:
    rows = [r for i in range(40) for r in normal_user(f"n{i:02d}", i % 7)]
    # bot: 250 views within one session (a view every minute), nothing else
    rows += [ev("bot", S.VIEW, 10_000 + k, f"i{k % 9}") for k in range(250)]
    # refunder: 4 purchases on separate days, 3 of them refunded
    for k in range(4):
        rows.append(ev("refunder", S.PURCHASE, 1440 * k, "i1", 1, 10.0, f"r-o{k}"))
    rows += [ev("refunder", S.REFUND, 1440 * k + 60, "i1", -1, 10.0) for k in range(3)]
    # burst: 5 orders in 8 minutes
    rows += [ev("burst", S.PURCHASE, 2 * k, "i2", 1, 10.0, f"b-o{k}") for k in range(5)]
    # bulk: 30 units of i1 (median quantity of i1 is 1) at a price of 60 (median 10)
    rows.append(ev("bulk", S.PURCHASE, 50, "i1", 30, 60.0, "k-o1"))
    return risk.risk_scores(frame(rows))


def flags(scored: pl.DataFrame, user: str) -> list[str]:
    return scored.filter(pl.col(S.USER_ID) == user)["risk_flags"].to_list()[0]


def test_ordinary_users_raise_no_flag(scored):
    normal = scored.filter(pl.col(S.USER_ID).str.starts_with("n"))
    assert normal.height == 40
    assert normal["n_risk_flags"].sum() == 0


def test_hundreds_of_views_in_one_session_without_a_cart_is_bot_like(scored):
    assert flags(scored, "bot") == ["Bot-like browsing"]
    row = scored.filter(pl.col(S.USER_ID) == "bot").row(0, named=True)
    assert row["max_session_views"] == 250
    assert row["risk_reasons"] == (
        f"Bot-like browsing: {risk.RULES_BY_NAME['bot_like_browsing'].text} "
        "(250.0 views, up to 250.0 in one session, 0.0 add-to-carts, 0.0 purchases)"
    )


def test_three_refunds_on_four_purchases_is_refund_abuse(scored):
    # refund share 3 / 4 = 0.75 >= 0.5 and 3 >= 3 refunds
    assert flags(scored, "refunder") == ["Refund abuse"]
    assert scored.filter(pl.col(S.USER_ID) == "refunder")["refund_share"][0] == 0.75


def test_five_orders_within_ten_minutes_is_a_burst(scored):
    assert flags(scored, "burst") == ["Order burst"]
    assert scored.filter(pl.col(S.USER_ID) == "burst")["max_orders_10min"][0] == 5


def test_thirty_units_at_six_times_the_median_price_are_price_and_quantity_outliers(scored):
    # i1 prices: 40 x 10, 4 x 10 (refunder) and 60 -> median 10, ratio 6 >= 5;
    # quantities: median 1, 30 units -> ratio 30 >= 10 and 30 >= 20
    assert flags(scored, "bulk") == ["Price outlier", "Quantity outlier"]


def test_the_most_unusual_users_get_the_highest_anomaly_scores(scored):
    top = scored.sort("anomaly_score", descending=True)[S.USER_ID].head(5).to_list()
    assert set(top) == {"bot", "refunder", "burst", "bulk"} | set(top[4:])
    assert scored["anomaly_score"].is_between(0, 1).all()
    assert scored.filter(pl.col(S.USER_ID) == "bot")["anomaly_pct"][0] > 90


def test_four_orders_in_ten_minutes_is_not_a_burst():
    rows = [ev("u", S.PURCHASE, 2 * k, "i", 1, 1.0, f"o{k}") for k in range(4)]
    rows += [ev("u", S.PURCHASE, 30, "i", 1, 1.0, "o9")]
    out = risk.risk_scores(frame(rows))
    assert out["max_orders_10min"][0] == 4 and out["n_risk_flags"][0] == 0


def test_risk_needs_the_user_and_time_columns():
    with pytest.raises(ProfilingError, match="column 'timestamp' is missing"):
        risk.risk_features(pl.DataFrame({S.USER_ID: ["a"], S.EVENT_TYPE: ["view"]}))


def test_a_missing_column_is_named_in_the_readers_language():
    events = pl.DataFrame({S.USER_ID: ["a"], S.TIMESTAMP: [datetime(2024, 1, 1, tzinfo=UTC)]})
    with pytest.raises(ProfilingError) as raised:
        risk.risk_features(events)
    assert str(raised.value) == (
        "events: column 'event_type' is missing; risk scores need user_id, event_type and "
        "timestamp. Columns found: user_id, timestamp."
    )
    with i18n.language("zh"), pytest.raises(ProfilingError) as raised:
        risk.risk_features(events)
    assert str(raised.value) == (
        "行为数据：缺少列 “event_type”；风险得分需要 user_id、event_type 和 timestamp。"
        "现有的列：user_id, timestamp。"
    )


def test_flag_counts_list_every_rule_with_its_users(scored):
    counts = risk.flag_counts(scored)
    assert counts["flag"].to_list() == [r.label for r in risk.RISK_RULES]
    assert dict(counts.select("flag", "users").rows()) == {
        "Bot-like browsing": 1,
        "Refund abuse": 1,
        "Order burst": 1,
        "Price outlier": 1,
        "Quantity outlier": 1,
    }
    assert risk.n_flagged(scored) == 4  # bulk raises two flags
    assert risk.most_unusual(scored, n=3).height == 3
