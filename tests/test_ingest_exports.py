"""Real-world export shapes on tiny hand-made files: native date-time columns under any name,
zoned and localized timestamp strings, attribute tables, headerless logs, date-only logs."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from profiling import ingest
from profiling import schema as S

UTC = dt.UTC


def write(tmp_path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8", newline="")
    return str(path)


def clean(path: str, overrides: dict[str, str] | None = None) -> ingest.CleanResult:
    raw = ingest.read_table(path)
    return ingest.clean_events(raw, ingest.infer_roles(raw, "events", overrides))


# ------------------------------------------------------------------ timestamps ----
def test_a_native_datetime_column_under_an_unknown_name_is_the_timestamp(tmp_path):
    # the layout of a grocery transactions export: no name on the synonym list says "time",
    # and "transaction" must not be read as an event-type column
    df = pl.DataFrame(
        {
            "household_key": ["h1", "h1", "h2"],
            "basket_id": ["b1", "b2", "b3"],
            "product_id": ["p1", "p2", "p1"],
            "sales_value": [2.5, 4.0, 1.0],
            "transaction_timestamp": [
                dt.datetime(2017, 1, 1, 9, 30),
                dt.datetime(2017, 1, 2, 18, 0),
                dt.datetime(2017, 1, 3, 7, 15),
            ],
        }
    )
    path = tmp_path / "transactions.parquet"
    df.write_parquet(path)
    res = clean(str(path))
    assert res.report.mapping["transaction_timestamp"] == S.TIMESTAMP
    assert res.report.mapping_reasons["transaction_timestamp"].startswith("type: native")
    assert res.report.mapping["household_key"] == S.USER_ID
    assert res.report.kind == "transaction log"
    assert res.frame[S.TIMESTAMP].to_list() == [
        dt.datetime(2017, 1, 1, 9, 30, tzinfo=UTC),
        dt.datetime(2017, 1, 2, 18, 0, tzinfo=UTC),
        dt.datetime(2017, 1, 3, 7, 15, tzinfo=UTC),
    ]


def test_several_native_datetime_columns_follow_the_preference_order_and_say_so(tmp_path):
    df = pl.DataFrame(
        {
            "customer": ["c1", "c2"],
            "shipped": [dt.date(2020, 5, 3), dt.date(2020, 5, 4)],
            "delivered_on": [dt.datetime(2020, 5, 5, 12), dt.datetime(2020, 5, 6, 12)],
            "order_placed": [dt.datetime(2020, 5, 1, 8), dt.datetime(2020, 5, 2, 8)],
        }
    )
    path = tmp_path / "orders.parquet"
    df.write_parquet(path)
    raw = ingest.read_table(str(path))
    mapping = ingest.infer_roles(raw)
    # "order" is a when-word; among the rest a date-time beats a date, then left-most
    assert mapping.roles["order_placed"] == S.TIMESTAMP
    assert mapping.reasons["order_placed"] == (
        "type: native date-time column, preferred over delivered_on, shipped"
    )
    assert any("'order_placed' is the timestamp" in n for n in mapping.notes)
    # the override still wins
    mapping = ingest.infer_roles(raw, "events", {"shipped": S.TIMESTAMP})
    assert mapping.roles["shipped"] == S.TIMESTAMP
    assert mapping.roles["order_placed"] == S.IGNORE


def test_a_zoned_native_datetime_is_converted_to_utc_and_reported(tmp_path):
    df = pl.DataFrame({"user_id": ["u1"], "ts": [dt.datetime(2024, 7, 1, 10, 0)]}).with_columns(
        pl.col("ts").dt.replace_time_zone("Europe/Berlin")
    )
    path = tmp_path / "z.parquet"
    df.write_parquet(path)
    res = clean(str(path))
    # Berlin is UTC+2 in July: 10:00 there is 08:00 UTC
    assert res.frame[S.TIMESTAMP][0] == dt.datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
    assert "Europe/Berlin, converted to UTC" in res.report.timestamp_format
    assert any("Europe/Berlin" in n for n in res.report.notes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-10-01 00:00:00 UTC", dt.datetime(2019, 10, 1, 0, 0)),
        ("2019-10-01T08:00:00Z", dt.datetime(2019, 10, 1, 8, 0)),
        ("2019-10-01 08:00:00 GMT", dt.datetime(2019, 10, 1, 8, 0)),
        ("2019-10-01T08:00:00+08:00", dt.datetime(2019, 10, 1, 0, 0)),  # 08:00 - 8 h
        ("2019-10-01 08:00:00 +0800", dt.datetime(2019, 10, 1, 0, 0)),
        ("2019-10-01 08:00:00 -0530", dt.datetime(2019, 10, 1, 13, 30)),  # 08:00 + 5.5 h
        ("2019-10-01T08:00:00.250", dt.datetime(2019, 10, 1, 8, 0, 0, 250_000)),
        ("2019-10-01 08:00:00,250", dt.datetime(2019, 10, 1, 8, 0, 0, 250_000)),
        ("2019/10/01 08:00", dt.datetime(2019, 10, 1, 8, 0)),
        ("01.10.2019 08:00", dt.datetime(2019, 10, 1, 8, 0)),
        ("2019年10月1日 08:00", dt.datetime(2019, 10, 1, 8, 0)),
        ("2019年10月1日 8时30分", dt.datetime(2019, 10, 1, 8, 30)),
        ("Oct 1, 2019 8:00 PM", dt.datetime(2019, 10, 1, 20, 0)),
        ("1 October 2019", dt.datetime(2019, 10, 1)),
        ("Tue, 01 Oct 2019 08:00:00 +0200", dt.datetime(2019, 10, 1, 6, 0)),
    ],
)
def test_timestamp_strings_in_common_export_shapes_parse_to_utc(tmp_path, text, expected):
    # two rows of the same shape so the sample has something to agree on
    body = f'u1,"{text}"\nu2,"{text}"\n'
    res = clean(write(tmp_path, "t.csv", "user,when\n" + body))
    assert res.report.rows_kept == 2
    assert res.frame[S.TIMESTAMP][0] == expected.replace(tzinfo=UTC)


def test_zones_in_strings_are_reported(tmp_path):
    text = "user,when\nu1,2019-10-01 00:00:00 UTC\nu2,2019-10-01 08:00:00 +08:00\n"
    res = clean(write(tmp_path, "t.csv", text))
    assert "time zones seen (UTC, +08:00)" in res.report.timestamp_format
    assert any("converted to UTC" in n for n in res.report.notes)
    assert res.frame[S.TIMESTAMP].to_list() == [dt.datetime(2019, 10, 1, tzinfo=UTC)] * 2


def test_a_column_mixing_formats_parses_per_row_and_counts_the_rest(tmp_path):
    text = (
        "user,when\n"
        "u1,2019-10-01 08:00:00 UTC\n"
        "u2,10/15/2019 09:00\n"
        "u3,2019年10月3日 10:00\n"
        "u4,yesterday\n"
        "u5,2019-10-05T11:00:00Z\n"
    )
    res = clean(write(tmp_path, "mixed.csv", text))
    assert res.frame.sort(S.USER_ID)[S.TIMESTAMP].to_list() == [
        dt.datetime(2019, 10, 1, 8, tzinfo=UTC),
        dt.datetime(2019, 10, 15, 9, tzinfo=UTC),
        dt.datetime(2019, 10, 3, 10, tzinfo=UTC),
        dt.datetime(2019, 10, 5, 11, tzinfo=UTC),
    ]
    assert "and other formats" in res.report.timestamp_format
    assert res.report.count(ingest.BAD_TIMESTAMP) == 1
    (bad,) = next(r for r in res.report.reasons if r.reason == ingest.BAD_TIMESTAMP).examples
    assert bad["when"] == "yesterday" and bad["line"] == 5
