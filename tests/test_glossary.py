"""The glossary and the number formats: every feature has plain words, numbers read cleanly,
exports carry units and no float noise."""

from __future__ import annotations

import polars as pl
import pytest

from profiling.errors import DataValidationError
from profiling.profiles.features import add_tags, attribute_columns, build_profiles
from profiling.profiles.segments import build_segments, with_assignments
from profiling.vocabulary import fmt, i18n
from profiling.vocabulary import glossary as G
from tests.test_features import ITEMS, STORE, USERS, load


def _feature_columns(profiles: pl.DataFrame) -> list[str]:
    return [c for c in profiles.columns if c not in attribute_columns(profiles.columns)]


def test_every_feature_column_of_a_profile_has_a_glossary_entry(tmp_path):
    ds = load(tmp_path, STORE, USERS, ITEMS)
    prof = add_tags(build_profiles(ds))
    joined = with_assignments(prof, build_segments(prof, k=2))
    missing = [c for c in _feature_columns(joined) if not G.known(c)]
    assert missing == []
    # and the sample store's much wider profile (every event type, time of day, brands)
    from profiling.data.dataset import load_sample

    wide = add_tags(build_profiles(load_sample()))
    assert [c for c in _feature_columns(wide) if not G.known(c)] == []


def test_labels_are_plain_words_and_help_keeps_the_technical_name():
    assert G.label("recency_days") == "days since last order"
    assert G.help_text("recency_days").startswith("recency_days")
    assert G.label("category_entropy") == "variety of categories browsed"
    assert "entropy" in G.help_text("category_entropy")
    assert G.label("cat_share__Books") == "share of activity in Books"
    assert G.label("spend_share__Home") == "share of spend in Home"
    assert G.label("ndcg") == "ranking quality (1 = perfect order)"
    assert "NDCG" in G.help_text("ndcg")
    # no label a marketer reads is a raw column name with underscores
    for name in ("n_events", "momentum", "hit_rate", "map", "mrr", "n_purchase", "share_night"):
        assert G.known(name)
        assert "_" not in G.label(name)


def test_a_user_attribute_column_gets_a_generated_entry():
    assert G.known("income") is False
    assert G.label("income_band") == "income band"
    assert G.label("age_attr") == "age (from the customer table)"


def test_headers_name_the_unit():
    assert G.header("recency_days") == "days since last order (days)"
    assert G.header("monetary", "GBP") == "net spend (GBP)"
    assert G.header("monetary") == "net spend"
    assert G.header("frequency") == "orders"
    assert G.header("weekend_share") == "share of activity at weekends (share 0-1)"


def test_metric_labels_keep_k_after_the_plain_words():
    assert G.metric_label("ndcg", 10) == "ranking quality (1 = perfect order) · NDCG@10"
    assert G.metric_label("mrr", 10) == "how high the first good item is · MRR"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (559.2500000000001, "559.25"),
        (1234.0, "1,234"),
        (0.1, "0.1"),
        (-0.0001, "0"),
        (1_234_567.891, "1,234,567.89"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_numbers_drop_float_noise_and_group_thousands(value, text):
    assert fmt.number(value) == text


def test_money_shows_the_currency_symbol_or_code():
    assert fmt.money(559.2500000000001, "GBP") == "£559.25"
    assert fmt.money(1234.5, "USD") == "$1,234.50"
    assert fmt.money(-12, "EUR") == "-€12.00"
    assert fmt.money(12, "CHF") == "CHF 12.00"
    assert fmt.money(12) == "12.00"
    # 8,310,000 / 1e6 = 8.31
    assert fmt.money(8_310_000, "GBP", compact=True) == "£8.31M"


def test_days_are_whole_and_shares_are_percentages():
    assert fmt.days(97.1958) == "97 days"
    assert fmt.days(0.6) == "1 day"
    assert fmt.days(10.46042824074074) == "10 days"
    assert fmt.percent(0.12345) == "12.3%"
    assert fmt.count(12345) == "12,345"
    assert fmt.feature(97.1958, "recency_days") == "97 days"
    assert fmt.feature(0.5, "weekend_share") == "50.0%"
    assert fmt.feature(49.9, "avg_order_value", "GBP") == "£49.90"


def test_ordinals_have_the_right_suffix():
    assert [fmt.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 52, 100)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "52nd",
        "100th",
    ]


def test_column_formats_follow_the_kind():
    assert fmt.column_format(G.MONEY, "GBP") == "£%,.2f"
    assert fmt.column_format(G.MONEY, "CHF") == "CHF %,.2f"
    assert fmt.column_format(G.MONEY) == "%,.2f"
    assert fmt.column_format(G.DAYS) == "%,.0f"  # the label says days: no "1 days"
    assert fmt.column_format(G.SHARE) == "percent"
    assert fmt.column_format(G.TEXT) is None


def test_currency_is_detected_from_column_names_or_a_currency_column():
    assert fmt.detect_currency(["Price (£)"]) == "GBP"
    assert fmt.detect_currency(["amount_eur"]) == "EUR"
    assert fmt.detect_currency(["dollar_value"]) == "USD"
    assert fmt.detect_currency(["Price", "Quantity"]) is None
    # a word that merely contains a code is not a code
    assert fmt.detect_currency(["eurostat_price"]) is None
    assert fmt.detect_currency([], ["GBP", "EUR", "GBP"]) == "GBP"
    assert fmt.currency_of({"Price": "price", "Invoice": "order_id"}) is None
    assert fmt.currency_of({"amount_gbp": "amount"}) == "GBP"
    assert fmt.currency_of({"amount_gbp": "amount"}, setting="usd") == "USD"


def test_a_currency_setting_must_be_a_known_code():
    assert fmt.normalize_currency(" gbp ") == "GBP"
    assert fmt.normalize_currency("€") == "EUR"
    assert fmt.normalize_currency("") is None
    with pytest.raises(
        DataValidationError, match="currency setting: expected an ISO 4217 code.*'pesos'"
    ):
        fmt.normalize_currency("pesos")
    with i18n.language("zh"), pytest.raises(DataValidationError) as raised:
        fmt.normalize_currency("pesos")
    assert str(raised.value) == (
        "货币设置：应为 ISO 4217 代码，如 GBP、USD 或 EUR（或 £、$、€），实际为 'pesos'"
    )


def test_exports_round_money_to_cents_and_ratios_to_four_decimals_with_units():
    frame = pl.DataFrame(
        {
            "user_id": ["u1"],
            "monetary": [559.2500000000001],
            "recency_days": [10.46042824074074],
            "weekend_share": [1 / 3],
            "frequency": [3],
            "region": ["North"],
        }
    )
    out = fmt.for_export(frame, "GBP")
    assert out.columns == [
        "user_id",
        "net spend (GBP)",
        "days since last order (days)",
        "share of activity at weekends (share 0-1)",
        "orders",
        "region",
    ]
    assert out.row(0) == ("u1", 559.25, 10.46, 0.3333, 3, "North")
    assert "559.2500000000001" not in out.write_csv()


def test_table_text_escapes_data_and_writes_dates_plainly():
    import datetime as dt

    from ui import labels

    frame = pl.DataFrame(
        {"name": ["x*y", None], "when": [dt.datetime(2024, 1, 31, 14, 5), None], "n": [1.5, None]}
    )
    out = labels.table_text(frame)
    assert out["name"].to_list() == ["x\\*y", ""]  # Markdown in data shows as written
    assert out["when"].to_list() == ["31 Jan 2024 14\\:05", ""]  # the one date format
    assert out["n"].to_list() == ["1\\.5", ""]
    # a column name from the data is escaped too (st.table reads Markdown in headers)
    named = labels.table_text(pl.DataFrame({":red[x] **y**": ["a"]}))
    assert named.columns == ["\\:red\\[x\\] \\*\\*y\\*\\*"]


def test_segment_sizes_read_as_plain_numbers_in_a_wrapping_table():
    from ui import labels

    table = pl.DataFrame(
        {
            "segment": ["Can't lose them", "New"],
            "users": [1234, 5],
            "share_of_users": [0.99596, 0.00404],
            "share_of_revenue": [0.5, None],
            "sets it apart": ["orders ↑, days since last order ↑", "activity trend ↑"],
        }
    )
    rows = labels.segment_size_rows(table)
    assert rows.columns[:4] == ["segment", "customers", "% of customers", "% of revenue"]
    assert rows.row(0)[:4] == ("Can\\'t lose them", "1,234", "99\\.6%", "50\\.0%")
    assert rows.row(1)[1:4] == ("5", "0\\.4%", "—")  # no revenue known: a dash, not 0%
