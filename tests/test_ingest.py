"""Reading, role inference and cleaning on tiny hand-made files."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from profiling.data import ingest
from profiling.errors import DataValidationError, MappingError
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S

UTC = dt.UTC


def write(tmp_path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return str(path)


def clean(path: str, overrides: dict[str, str] | None = None) -> ingest.CleanResult:
    raw = ingest.read_table(path)
    return ingest.clean_events(raw, ingest.infer_roles(raw, "events", overrides))


BASIC = (
    "user_id,item_id,event_type,timestamp,quantity,price\n"
    "u1,i1,view,2024-01-01 10:00:00,,9.5\n"
    "u1,i1,purchase,2024-01-01 10:05:00,2,9.5\n"
    "u2,i2,cart,2024-01-02 11:00:00,1,3.0\n"
)


# --------------------------------------------------------------------- formats ----
def test_a_comma_csv_with_header_is_read_into_canonical_columns(tmp_path):
    res = clean(write(tmp_path, "e.csv", BASIC))
    ev = res.frame
    assert ev.columns == list(S.EVENT_COLUMNS)
    assert ev.height == 3
    assert ev.schema[S.TIMESTAMP] == pl.Datetime("us", "UTC")
    first = ev.row(0, named=True)
    assert first[S.USER_ID] == "u1"
    assert first[S.TIMESTAMP] == dt.datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert res.report.read.delimiter == ","
    assert res.report.read.has_header


def test_a_purchase_amount_is_unit_price_times_quantity(tmp_path):
    ev = clean(write(tmp_path, "e.csv", BASIC)).frame
    purchase = ev.filter(pl.col(S.EVENT_TYPE) == "purchase").row(0, named=True)
    assert purchase[S.AMOUNT] == 9.5 * 2
    views = ev.filter(pl.col(S.EVENT_TYPE) == "view")
    assert views[S.AMOUNT].to_list() == [None]  # a view moves no money


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "e.tsv"), (";", "e.csv"), ("|", "e.txt")])
def test_tab_semicolon_and_pipe_delimiters_are_sniffed(tmp_path, delimiter, name):
    text = BASIC.replace(",", delimiter)
    res = clean(write(tmp_path, name, text))
    assert res.report.read.delimiter == delimiter
    assert res.frame.height == 3
    assert sorted(res.frame[S.USER_ID].unique().to_list()) == ["u1", "u2"]


def test_semicolon_files_with_decimal_commas_parse_prices(tmp_path):
    text = "customer;date;qty;unit price\nc1;2024-03-01;2;12,50\nc2;2024-03-02;1;1.234,00\n"
    ev = clean(write(tmp_path, "eu.csv", text)).frame.sort(S.USER_ID)
    assert ev[S.PRICE].to_list() == [12.5, 1234.0]
    assert ev[S.AMOUNT].to_list() == [25.0, 1234.0]


def test_runs_of_whitespace_with_leading_spaces_and_crlf_are_columns(tmp_path):
    text = (
        " customer_id  date number_of_cds  dollar_value\r\n"
        " 00001 19970101  1   11.77\r\n"
        " 00002 19970112  5   77.00\r\n"
    )
    res = clean(write(tmp_path, "cd.txt", text))
    assert res.report.read.delimiter == "whitespace"
    ev = res.frame.sort(S.USER_ID)
    assert ev[S.USER_ID].to_list() == ["00001", "00002"]  # leading zeros survive
    assert ev[S.TIMESTAMP].to_list() == [
        dt.datetime(1997, 1, 1, tzinfo=UTC),
        dt.datetime(1997, 1, 12, tzinfo=UTC),
    ]
    # dollar_value is the row's total, not a unit price: 77.00 for 5 CDs stays 77.00
    assert ev[S.AMOUNT].to_list() == [11.77, 77.0]
    assert ev[S.PRICE].to_list() == [11.77, 77.0 / 5]
    assert ev[S.QUANTITY].to_list() == [1, 5]


def test_a_headerless_file_gets_roles_from_content(tmp_path):
    text = "00001 0001 19970101 1 11.77\n00001 0001 19970105 2 20.00\n00002 0002 19970112 5 77.00\n"
    raw = ingest.read_table(write(tmp_path, "sample.txt", text))
    assert not raw.info.has_header
    mapping = ingest.infer_roles(raw)
    assert mapping.roles == {
        "column_1": S.USER_ID,
        "column_2": S.IGNORE,
        "column_3": S.TIMESTAMP,
        "column_4": S.QUANTITY,
        "column_5": S.AMOUNT,
    }
    assert any("not a unit price" in n for n in mapping.notes)


def test_a_headerless_file_that_cannot_be_inferred_asks_for_a_mapping(tmp_path):
    text = "hello there,2024-01-01\nsee you later,2024-01-02\n"
    raw = ingest.read_table(write(tmp_path, "odd.csv", text))
    with pytest.raises(MappingError, match=r"odd\.csv: no column is mapped to 'user_id'.*--map"):
        ingest.clean_events(raw, ingest.infer_roles(raw))


def test_a_utf8_bom_does_not_stick_to_the_first_column_name(tmp_path):
    path = write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + BASIC.encode())
    res = clean(path)
    assert res.report.read.encoding == "UTF-8 with BOM"
    assert "user_id" in res.report.mapping
    assert res.report.mapping["user_id"] == S.USER_ID


def test_latin1_files_are_detected_and_decoded(tmp_path):
    text = "user;item;date;title\nM\xfcller;i1;2024-01-01;Cr\xe8me br\xfbl\xe9e\n"
    path = write(tmp_path, "latin.csv", text.encode("latin-1"))
    res = clean(path)
    assert res.report.read.encoding == "Latin-1"
    assert res.frame[S.USER_ID].to_list() == ["Müller"]
    assert res.item_attributes[S.TITLE].to_list() == ["Crème brûlée"]


def test_parquet_files_keep_native_types(tmp_path):
    df = pl.DataFrame(
        {
            "userId": [1, 2],
            "itemId": [10, 20],
            "ts": [dt.datetime(2024, 5, 1, 8), dt.datetime(2024, 5, 2, 9)],
            "rating": [4.0, 5.0],
        }
    )
    path = tmp_path / "r.parquet"
    df.write_parquet(path)
    res = clean(str(path))
    assert res.report.kind == "rating log"
    assert res.frame[S.USER_ID].to_list() == ["1", "2"]
    assert res.frame[S.EVENT_TYPE].to_list() == ["rating", "rating"]
    assert res.report.rating_scale.startswith("1-5")


def test_json_lines_are_read(tmp_path):
    text = (
        '{"visitorid": "v1", "itemid": "a", "event": "addtocart", "timestamp": 1700000000000}\n'
        '{"visitorid": "v2", "itemid": "b", "event": "transaction", "timestamp": 1700000360000}\n'
    )
    res = clean(write(tmp_path, "e.jsonl", text))
    assert res.report.timestamp_format == "epoch milliseconds"
    assert res.frame[S.EVENT_TYPE].to_list() == ["cart", "purchase"]
    assert res.frame[S.TIMESTAMP][0] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_excel_workbooks_are_read_with_their_dates(tmp_path):
    df = pl.DataFrame(
        {
            "Customer ID": ["A", "B"],
            "InvoiceDate": [dt.datetime(2020, 1, 1, 10), dt.datetime(2020, 1, 2, 11)],
            "UnitPrice": [1.5, 2.0],
            "Quantity": [2, 3],
        }
    )
    path = tmp_path / "t.xlsx"
    df.write_excel(path)
    res = clean(str(path))
    assert res.report.read.format == "Excel"
    assert res.frame[S.TIMESTAMP].to_list() == [
        dt.datetime(2020, 1, 1, 10, tzinfo=UTC),
        dt.datetime(2020, 1, 2, 11, tzinfo=UTC),
    ]
    assert res.frame[S.AMOUNT].to_list() == [3.0, 6.0]


def test_bytes_uploads_are_read_like_files():
    raw = ingest.read_table(BASIC.encode(), name="upload.csv")
    assert raw.source == "upload.csv"
    assert raw.sample().height == 3


# ------------------------------------------------------------------ role inference ----
@pytest.mark.parametrize(
    ("column", "role"),
    [
        ("CustomerID", S.USER_ID),
        ("Customer ID", S.USER_ID),
        ("customer_id", S.USER_ID),
        ("userId", S.USER_ID),
        ("visitorid", S.USER_ID),
        ("StockCode", S.ITEM_ID),
        ("product_id", S.ITEM_ID),
        ("itemId", S.ITEM_ID),
        ("InvoiceDate", S.TIMESTAMP),
        ("date", S.TIMESTAMP),
        ("ts", S.TIMESTAMP),
        ("Quantity", S.QUANTITY),
        ("qty", S.QUANTITY),
        ("UnitPrice", S.PRICE),
        ("Price", S.PRICE),
        ("revenue", S.AMOUNT),
        ("total", S.AMOUNT),
        ("dollar_value", S.AMOUNT),
        ("event", S.EVENT_TYPE),
        ("action", S.EVENT_TYPE),
        ("rating", S.RATING),
        ("score", S.RATING),
        ("Invoice", S.ORDER_ID),
        ("session", S.SESSION_ID),
    ],
)
def test_common_column_spellings_map_to_canonical_roles(tmp_path, column, role):
    others = {S.USER_ID: "who", S.TIMESTAMP: "when"}
    header = [column] + [v for k, v in others.items() if k != role]
    row = ["x"] * len(header)
    text = ",".join(header) + "\n" + ",".join(row) + "\n"
    raw = ingest.read_table(write(tmp_path, "e.csv", text))
    assert ingest.infer_roles(raw).roles[column] == role


@pytest.mark.parametrize(
    ("values", "expected", "label"),
    [
        (["1704103200", "1704189600"], dt.datetime(2024, 1, 1, 10, tzinfo=UTC), "epoch seconds"),
        (
            ["1704103200000", "1704189600000"],
            dt.datetime(2024, 1, 1, 10, tzinfo=UTC),
            "epoch milliseconds",
        ),
        (
            ["2024-01-01T10:00:00Z", "2024-01-02T10:00:00+02:00"],
            dt.datetime(2024, 1, 1, 10, tzinfo=UTC),
            "ISO 8601 with time zone",
        ),
        (["20240101", "20240102"], dt.datetime(2024, 1, 1, tzinfo=UTC), "YYYYMMDD integers"),
        (
            ["13/01/2024 10:00", "02/01/2024 09:00"],
            dt.datetime(2024, 1, 13, 10, tzinfo=UTC),
            "day/month/year time (day first)",
        ),
        (
            ["01/13/2024 10:00", "01/02/2024 09:00"],
            dt.datetime(2024, 1, 13, 10, tzinfo=UTC),
            "month/day/year time (month first)",
        ),
    ],
)
def test_timestamps_are_recognized_from_their_content(tmp_path, values, expected, label):
    text = "user,when\n" + "".join(f"u{i},{v}\n" for i, v in enumerate(values))
    res = clean(write(tmp_path, "t.csv", text))
    assert res.report.timestamp_format.startswith(label)
    assert res.frame.sort("user_id")[S.TIMESTAMP][0] == expected


def test_a_zoned_iso_timestamp_is_converted_to_utc(tmp_path):
    text = "user,when\nu1,2024-01-02T10:00:00+02:00\n"
    assert clean(write(tmp_path, "t.csv", text)).frame[S.TIMESTAMP][0] == dt.datetime(
        2024, 1, 2, 8, tzinfo=UTC
    )


def test_ambiguous_day_month_order_is_reported(tmp_path):
    text = "user,when\nu1,01/02/2024\nu2,03/04/2024\n"
    res = clean(write(tmp_path, "t.csv", text))
    assert any("day-first or month-first" in n for n in res.report.notes)
    assert res.frame.sort("user_id")[S.TIMESTAMP][0] == dt.datetime(2024, 1, 2, tzinfo=UTC)


def test_the_timestamp_format_is_stored_in_english_and_read_in_chinese(tmp_path):
    text = "user,when\nu1,01/02/2024\nu2,03/04/2024\n"
    res = clean(write(tmp_path, "t.csv", text))
    assert res.report.timestamp_format == (
        "month/day/year (month first); every sampled day is 12 or less, so the day/month "
        "order is assumed"
    )
    with i18n.language("zh"):
        assert ingest.timestamp_text(res.report.timestamp_format) == (
            "月/日/年（月在前）；样本中每个“日”都不超过 12，因此日/月顺序是推定的"
        )
        assert ingest.timestamp_text("native date-times in Asia/Shanghai, converted to UTC") == (
            "原生日期时间（Asia/Shanghai 时区），已转换为 UTC"
        )
        assert ingest.timestamp_text("a format of another shape") == "a format of another shape"
        # the note is worded when the file is read, in the reader's language
        res = clean(write(tmp_path, "t.csv", text))
    assert (
        "“when” 中的时间戳既可能日在前也可能月在前；按 月/日/年（月在前） 读取" in res.report.notes
    )
    assert ingest.timestamp_text(res.report.timestamp_format) == res.report.timestamp_format


def test_every_text_timestamp_format_has_a_chinese_name():
    from profiling.data.ingest.timestamps import FORMAT_NAMES

    assert "day/month/year time (day first)" in FORMAT_NAMES
    assert "year Mon day time am/pm" in FORMAT_NAMES
    with i18n.language("zh"):
        assert (
            ingest.timestamp_text("year Mon day time am/pm")
            == "年 英文月份缩写 日 时间（上午/下午）"
        )
        for name in FORMAT_NAMES:
            latin = set(re.findall(r"[A-Za-z]+", ingest.timestamp_text(name)))
            assert latin <= {"ISO", "YYYYMMDD", "YYYYMMDDhhmmss"}, name


def test_an_unreadable_file_is_named_in_the_readers_language(tmp_path):
    with pytest.raises(DataValidationError) as raised:
        ingest.read_table(str(tmp_path / "nope.csv"))
    assert str(raised.value) == "nope.csv: file not found"
    with i18n.language("zh"):
        with pytest.raises(DataValidationError) as raised:
            ingest.read_table(str(tmp_path / "nope.csv"))
        assert str(raised.value) == "nope.csv：找不到文件"
        with pytest.raises(DataValidationError) as raised:
            ingest.read_table(write(tmp_path, "empty.csv", ""))
        assert str(raised.value) == "empty.csv：文件为空（0 字节）；需要一个表格"
        with pytest.raises(DataValidationError) as raised:
            clean(write(tmp_path, "bad.csv", "user_id,timestamp\nu1,soon\nu2,later\n"))
        assert str(raised.value) == (
            "bad.csv，列 “timestamp”：应为时间戳（ISO 日期、日/月/年、YYYYMMDD、Unix 秒或毫秒），"
            "但无一能解析；发现的值例如 ['soon', 'later']"
        )


def test_user_overrides_win_over_inference(tmp_path):
    text = "a,b,when\nx1,y1,2024-01-01\nx2,y2,2024-01-02\n"
    res = clean(write(tmp_path, "t.csv", text), {"b": S.USER_ID, "a": S.ITEM_ID})
    assert res.frame.sort(S.USER_ID)[S.USER_ID].to_list() == ["y1", "y2"]
    assert res.report.mapping_reasons["b"] == "set by you"


def test_an_override_naming_a_missing_column_is_refused(tmp_path):
    raw = ingest.read_table(write(tmp_path, "e.csv", BASIC))
    with pytest.raises(MappingError, match=r"e\.csv, column 'nope': .*not in the file"):
        ingest.infer_roles(raw, "events", {"nope": S.USER_ID})


def test_an_override_with_an_unknown_role_is_refused(tmp_path):
    raw = ingest.read_table(write(tmp_path, "e.csv", BASIC))
    with pytest.raises(MappingError, match=r"column 'price': unknown role 'cost'"):
        ingest.infer_roles(raw, "events", {"price": "cost"})


def test_cli_style_overrides_are_parsed():
    assert ingest.parse_overrides(["Customer ID=user_id", "a=b=ignore"]) == {
        "Customer ID": "user_id",
        "a=b": "ignore",
    }
    with pytest.raises(MappingError, match="expected raw=canonical"):
        ingest.parse_overrides(["user_id"])


# --------------------------------------------------------------------- event types ----
@pytest.mark.parametrize(
    ("raw_name", "canonical"),
    [
        ("pv", "view"),
        ("page_view", "view"),
        ("detail", "view"),
        ("PageView", "view"),
        ("addtocart", "cart"),
        ("add_to_cart", "cart"),
        ("Add To Cart", "cart"),
        ("buy", "purchase"),
        ("transaction", "purchase"),
        ("order", "purchase"),
        ("fav", "wishlist"),
        ("wishlist", "wishlist"),
        ("refund", "refund"),
    ],
)
def test_event_type_synonyms_are_normalized(tmp_path, raw_name, canonical):
    text = f"user,event,when\nu1,{raw_name},2024-01-01 10:00\n"
    assert clean(write(tmp_path, "e.csv", text)).frame[S.EVENT_TYPE].to_list() == [canonical]


def test_unknown_event_types_become_other_and_are_counted(tmp_path):
    text = "user,event,when\nu1,view,2024-01-01 10:00\nu1,teleport,2024-01-01 10:01\nu2,,2024-01-01 10:02\n"
    res = clean(write(tmp_path, "e.csv", text))
    assert res.frame[S.EVENT_TYPE].to_list() == ["view", "other", "other"]
    assert res.report.count(ingest.UNKNOWN_EVENT) == 1
    assert res.report.count(ingest.MISSING_EVENT) == 1
    (ex,) = next(r for r in res.report.reasons if r.reason == ingest.UNKNOWN_EVENT).examples
    assert ex["event"] == "teleport" and ex["line"] == 3


# ------------------------------------------------------------- refunds and money ----
def test_negative_quantities_and_cancellation_invoices_are_refunds(tmp_path):
    text = (
        "Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID\n"
        "1001,A,3,2024-01-01 10:00,2.0,c1\n"
        "1002,A,-1,2024-01-02 10:00,2.0,c1\n"
        "C1003,B,1,2024-01-03 10:00,5.0,c1\n"
    )
    res = clean(write(tmp_path, "retail.csv", text))
    ev = res.frame
    assert ev[S.EVENT_TYPE].to_list() == ["purchase", "refund", "refund"]
    assert ev[S.QUANTITY].to_list() == [3, 1, 1]
    assert ev[S.AMOUNT].to_list() == [6.0, -2.0, -5.0]
    assert res.report.count(ingest.REFUND) == 2
    assert ev[S.AMOUNT].sum() == 6.0 - 2.0 - 5.0  # net revenue


def test_a_file_without_event_types_is_a_transaction_log(tmp_path):
    text = "customer,date,amount\nc1,2024-01-01,10\nc2,2024-01-02,20\n"
    res = clean(write(tmp_path, "t.csv", text))
    assert res.report.kind == "transaction log"
    assert set(res.frame[S.EVENT_TYPE]) == {"purchase"}
    assert res.frame[S.QUANTITY].to_list() == [1, 1]


# -------------------------------------------------------------- cleaning report ----
DIRTY = (
    "user,item,event,when,price,qty\n"
    "u1,i1,purchase,2024-01-01 10:00:00,5.0,1\n"  # line 2 kept
    ",i1,view,2024-01-01 10:01:00,5.0,\n"  # line 3 missing user
    "u2,i2,view,not a date,5.0,\n"  # line 4 unparseable timestamp
    "u1,i1,purchase,2024-01-01 10:00:00,5.0,1\n"  # line 5 exact duplicate of line 2
    "u3,i3,purchase,2024-01-02 09:00:00,-4.0,1\n"  # line 6 negative price
    "u3,i3,purchase,2024-01-02 09:30:00,0,1\n"  # line 7 zero price: kept
    "u4,i4,purchase,2024-01-03 09:30:00,2.0,\n"  # line 8 missing quantity -> 1
    "u5,i5,view,,2.0,\n"  # line 9 missing timestamp
)


def test_the_cleaning_report_counts_every_reason_with_examples(tmp_path):
    res = clean(write(tmp_path, "dirty.csv", DIRTY))
    rep = res.report
    assert rep.rows_read == 8
    assert rep.rows_kept == 3
    assert rep.count(ingest.MISSING_USER) == 1
    assert rep.count(ingest.BAD_TIMESTAMP) == 1
    assert rep.count(ingest.MISSING_TIMESTAMP) == 1
    assert rep.count(ingest.DUPLICATE) == 1
    assert rep.count(ingest.NEGATIVE_PRICE) == 1
    assert rep.count(ingest.ZERO_PRICE) == 1
    assert rep.count(ingest.QTY_DEFAULT) == 1
    assert rep.rows_read == rep.rows_kept + rep.rows_dropped  # nothing lost silently
    lines = {r.reason: [e["line"] for e in r.examples] for r in rep.reasons}
    assert lines[ingest.MISSING_USER] == [3]
    assert lines[ingest.BAD_TIMESTAMP] == [4]
    assert lines[ingest.DUPLICATE] == [5]
    assert lines[ingest.NEGATIVE_PRICE] == [6]
    bad_ts = next(r for r in rep.reasons if r.reason == ingest.BAD_TIMESTAMP)
    assert bad_ts.examples[0]["when"] == "not a date"
    assert res.frame.filter(pl.col(S.USER_ID) == "u4")[S.AMOUNT].to_list() == [2.0]


def test_identical_rows_without_time_of_day_or_order_id_are_kept_and_counted(tmp_path):
    text = "customer,date,amount\nc1,20240101,10\nc1,20240101,10\n"
    res = clean(write(tmp_path, "t.csv", text))
    assert res.frame.height == 2
    assert res.report.count(ingest.POSSIBLE_DUP) == 1
    assert res.report.count(ingest.DUPLICATE) == 0


def test_float_exported_ids_lose_their_trailing_zero(tmp_path):
    df = pl.DataFrame(
        {"Customer ID": [13085.0, None], "InvoiceDate": ["2024-01-01 10:00", "2024-01-01 11:00"]}
    )
    path = tmp_path / "f.parquet"
    df.write_parquet(path)
    res = clean(str(path))
    assert res.frame[S.USER_ID].to_list() == ["13085"]
    assert res.report.count(ingest.MISSING_USER) == 1


# ---------------------------------------------------------------------- errors ----
def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(DataValidationError, match=r"empty\.csv: the file is empty"):
        ingest.read_table(write(tmp_path, "empty.csv", ""))


def test_a_header_only_file_is_refused_naming_its_columns(tmp_path):
    with pytest.raises(
        DataValidationError,
        match=r"h\.csv: the file has a header \(user_id, timestamp\) but no data rows",
    ):
        ingest.read_table(write(tmp_path, "h.csv", "user_id,timestamp\n"))


def test_binary_junk_is_refused(tmp_path):
    junk = bytes(range(256)) * 40
    with pytest.raises(
        DataValidationError, match=r"junk\.csv: expected a text table .* found binary content"
    ):
        ingest.read_table(write(tmp_path, "junk.csv", junk))


def test_a_file_that_splits_into_one_column_is_refused(tmp_path):
    text = "justonecolumn\nvalue1\nvalue2\n"
    with pytest.raises(
        DataValidationError, match=r"one\.csv: found a single column.*expected at least a user id"
    ):
        ingest.read_table(write(tmp_path, "one.csv", text))


def test_a_file_without_a_user_id_is_refused(tmp_path):
    text = "item,when,price\nhello world,2024-01-01,1.5\nbye now,2024-01-02,2.5\n"
    raw = ingest.read_table(write(tmp_path, "nouser.csv", text))
    with pytest.raises(
        MappingError,
        match=r"nouser\.csv: no column is mapped to 'user_id'.*found columns: item, when, price",
    ):
        ingest.clean_events(raw, ingest.infer_roles(raw))


def test_all_unparseable_timestamps_are_refused_naming_the_column(tmp_path):
    text = "user_id,timestamp\nu1,soon\nu2,later\n"
    with pytest.raises(
        DataValidationError,
        match=r"bad\.csv, column 'timestamp': expected timestamps .* found values such as \['soon', 'later'\]",
    ):
        clean(write(tmp_path, "bad.csv", text))


def test_a_corrupt_xlsx_is_refused(tmp_path):
    with pytest.raises(DataValidationError, match=r"broken\.xlsx: the workbook is corrupt"):
        ingest.read_table(write(tmp_path, "broken.xlsx", b"PK\x03\x04" + b"\x00garbage" * 50))


def test_a_password_protected_xlsx_is_refused(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = tmp_path / "plain.xlsx"
    pl.DataFrame({"user_id": ["a"], "timestamp": ["2024-01-01"]}).write_excel(plain)
    locked = tmp_path / "locked.xlsx"
    with open(plain, "rb") as src, open(locked, "wb") as dst:
        OOXMLFile(src).encrypt("secret", dst)
    with pytest.raises(DataValidationError, match=r"locked\.xlsx: this is a password-protected"):
        ingest.read_table(str(locked))


def test_a_truncated_parquet_file_is_refused(tmp_path):
    path = tmp_path / "full.parquet"
    pl.DataFrame({"user_id": ["a"] * 100, "timestamp": ["2024-01-01"] * 100}).write_parquet(path)
    data = path.read_bytes()
    with pytest.raises(
        DataValidationError, match=r"cut\.parquet: expected a Parquet file .* truncated"
    ):
        ingest.read_table(write(tmp_path, "cut.parquet", data[: len(data) // 2]))


# ------------------------------------------------------------- users and items ----
def test_users_tables_are_cleaned_with_duplicates_and_bad_values_counted(tmp_path):
    text = (
        "Customer ID,Age,Sex,Country,Registered\n"
        "c1,34,F,UK,2023-01-05\n"
        "c1,35,F,UK,2023-01-05\n"
        ",40,M,FR,2023-02-01\n"
        "c2,unknown,M,FR,someday\n"
    )
    raw = ingest.read_table(write(tmp_path, "users.csv", text))
    res = ingest.clean_users(raw)
    assert res.frame.columns[:5] == list(S.USER_ROLES)
    assert res.frame[S.USER_ID].to_list() == ["c1", "c2"]
    assert res.frame[S.AGE].to_list() == [34.0, None]
    assert res.frame[S.SIGNUP_DATE][0] == dt.datetime(2023, 1, 5, tzinfo=UTC)
    rep = res.report
    assert rep.count(ingest.DUP_ID) == 1
    assert rep.count("missing user id") == 1
    assert rep.count(f"{ingest.BAD_NUMBER}: Age") == 1
    assert rep.count(f"{ingest.BAD_DATE}: Registered") == 1
    assert rep.rows_read == rep.rows_kept + rep.rows_dropped


def test_items_tables_keep_extra_attributes(tmp_path):
    text = "sku,name,category,brand,price,color\ni1,Lamp,Home,Lumo,19.90,red\n"
    res = ingest.clean_items(ingest.read_table(write(tmp_path, "items.csv", text)))
    row = res.frame.row(0, named=True)
    assert row[S.ITEM_ID] == "i1" and row[S.TITLE] == "Lamp" and row[S.PRICE] == 19.9
    assert row["color"] == "red"


def test_double_colon_files_like_movielens_1m_are_split_into_columns(tmp_path):
    text = "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n"
    raw = ingest.read_table(write(tmp_path, "ratings.dat", text))
    assert raw.info.delimiter == "::" and not raw.info.has_header
    res = ingest.clean_events(
        raw,
        ingest.infer_roles(
            raw,
            "events",
            {
                "column_1": S.USER_ID,
                "column_2": S.ITEM_ID,
                "column_3": S.RATING,
                "column_4": S.TIMESTAMP,
            },
        ),
    )
    assert res.report.kind == "rating log"
    assert res.frame.sort(S.TIMESTAMP)[S.ITEM_ID].to_list() == ["1193", "1193", "661"]
    assert res.frame[S.TIMESTAMP].min() == dt.datetime(
        2000, 12, 31, 21, 33, 33, tzinfo=UTC
    )  # 978298413 = 2000-12-31 + 77,613 s


def test_blank_lines_before_a_space_aligned_header_do_not_turn_it_into_data(tmp_path):
    text = "\n\n customer_id  date  dollar_value\n 00001 19970101  11.77\n 00002 19970102  5.00\n"
    res = clean(write(tmp_path, "blank.txt", text))
    assert res.report.rows_read == 2
    assert res.frame.sort(S.USER_ID)[S.USER_ID].to_list() == ["00001", "00002"]
