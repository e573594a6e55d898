"""Languages: the current language, gettext catalogs compiled with Babel, per-language
numbers, money and dates, the glossary in Chinese, and every catalog complete."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from profiling.vocabulary import fmt, i18n
from profiling.vocabulary import glossary as G

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


@pytest.fixture(autouse=True)
def _catalog_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_LOCALE_CACHE", str(tmp_path / "mo"))
    i18n.reload()
    yield
    i18n.reload()


def test_the_language_is_english_unless_set_and_a_block_restores_it():
    assert i18n.get_language() == "en"
    with i18n.language("zh-CN"):
        assert i18n.get_language() == "zh"
        assert i18n.gettext("orders") == "订单数"
    assert i18n.get_language() == "en"
    assert i18n.gettext("orders") == "orders"


def test_another_thread_keeps_its_own_language():
    seen = []
    with i18n.language("zh"):
        t = threading.Thread(target=lambda: seen.append(i18n.get_language()))
        t.start()
        t.join()
    assert seen == ["en"]  # a new thread starts from the default, not from this context


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh", "zh"),
        ("zh-CN", "zh"),
        ("zh_Hans_CN", "zh"),
        ("EN-gb", "en"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_browser_and_url_codes_map_to_a_supported_language(code, expected):
    assert i18n.normalize(code) == expected


def test_an_unknown_language_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"language: expected one of en, zh, got 'fr'"):
        i18n.set_language("fr")


def test_english_formats_are_unchanged():
    assert fmt.number(1234.5) == "1,234.5"
    assert fmt.money(1234.5, "USD") == "$1,234.50"
    assert fmt.money(8_310_000, "GBP", compact=True) == "£8.31M"
    assert fmt.days(97.2) == "97 days"
    assert fmt.days(1) == "1 day"
    assert fmt.date_text(dt.date(2026, 12, 7)) == "07 Dec 2026"
    assert fmt.ordinal(52) == "52nd"


def test_chinese_formats_numbers_money_and_dates_the_chinese_way():
    with i18n.language("zh"):
        assert fmt.number(1234.5) == "1,234.5"
        assert fmt.percent(0.1234) == "12.3%"
        assert fmt.money(1234.5, "CNY") == "¥1,234.50"
        assert fmt.money(1234.5, "GBP") == "£1,234.50"
        assert fmt.money(8_310_000, "CNY", compact=True) == "¥831万"  # 831 x 10,000
        assert fmt.days(97.2) == "97天"
        assert fmt.date_text(dt.datetime(2026, 12, 7, 15, 30)) == "2026年12月7日"
        assert fmt.ordinal(52) == "第52"


def test_glossary_labels_follow_the_language_they_are_read_in():
    with i18n.language("zh"):
        assert G.label("recency_days") == "距上次下单天数"
        assert G.header("monetary", "CNY") == "净消费额（CNY）"
        assert G.label("cat_share__Books") == "Books 行为占比"  # the category is data
        assert G.metric_header("ndcg", 10) == "排序质量（NDCG@10）"
    assert G.label("recency_days") == "days since last order"
    assert G.header("monetary", "GBP") == "net spend (GBP)"


def test_every_glossary_label_and_help_text_reads_in_chinese():
    names = [*G.names(), "cat_share__X", "spend_share__X", "income_attr"]
    with i18n.language("zh"):
        left = [n for n in names if not (CJK.search(G.label(n)) and CJK.search(G.help_text(n)))]
    assert left == []


def test_a_catalog_is_recompiled_when_its_po_file_changes_whatever_the_times(tmp_path, monkeypatch):
    # two checkouts sharing one cache: a .po changed to an older time than the compiled
    # file still gets its own words (the cache is keyed by the .po's bytes, not its time)
    po = tmp_path / "locale" / "zh_CN" / "LC_MESSAGES" / "persona.po"
    po.parent.mkdir(parents=True)
    entry = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\nmsgid "orders"\n'
    po.write_text(entry + 'msgstr "订单"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    with i18n.language("zh"):
        assert i18n.gettext("orders") == "订单"
        compiled = list((tmp_path / "mo" / "zh_CN" / "LC_MESSAGES").glob("persona-*.mo"))
        assert len(compiled) == 1
        po.write_text(entry + 'msgstr "订单数"\n', encoding="utf-8")
        earlier = compiled[0].stat().st_mtime - 10
        os.utime(po, (earlier, earlier))
        i18n.reload()
        assert i18n.gettext("orders") == "订单数"


def _extracted() -> dict[str, str | tuple]:
    """Every msgid the code marks, as ``pybabel extract -F babel.cfg -k N_`` finds it."""
    method_map = [
        ("profiling/**.py", "python"),
        ("ui/**.py", "python"),
        ("app_pages/**.py", "python"),
        ("app.py", "python"),
    ]
    out = {}
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, keywords=KEYWORDS
    ):
        key = message if isinstance(message, str) else message[0]
        out[key] = message
    return out


def test_babel_cfg_lists_the_folders_the_completeness_check_extracts():
    cfg = (ROOT / "babel.cfg").read_text()
    for section in ("profiling/**.py", "ui/**.py", "app_pages/**.py", "app.py"):
        assert f"[python: {section}]" in cfg


def test_the_chinese_catalog_translates_every_message_the_code_marks():
    with (ROOT / "locale/zh_CN/LC_MESSAGES/persona.po").open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0]): m
        for m in catalog
        if m.id and "fuzzy" not in m.flags
    }
    extracted = _extracted()
    assert len(extracted) > 300
    missing = sorted(k for k in extracted if k not in translated)
    empty = sorted(
        k
        for k in extracted
        if k in translated
        and not all(
            translated[k].string
            if not isinstance(translated[k].string, str)
            else [translated[k].string]
        )
    )
    placeholders = sorted(
        k
        for k in extracted
        if k in translated
        and set(re.findall(r"\{\w+\}", k))
        != set(
            re.findall(
                r"\{\w+\}",
                "".join(translated[k].string)
                if not isinstance(translated[k].string, str)
                else translated[k].string,
            )
        )
    )
    assert (missing, empty, placeholders) == ([], [], [])


def test_a_comparison_names_its_new_test_users_in_the_readers_language():
    # the per-segment chart of a comparison labelled them in English on a Chinese page
    import importlib

    from profiling.profiles.segments import segment_label

    compare = importlib.import_module("profiling.evaluation.compare")
    assert compare.NO_SEGMENT == "no segment (new since the cutoff)"
    with i18n.language("zh"):
        assert segment_label(compare.NO_SEGMENT) == "无分群（截止日之后的新客户）"


def test_the_mapping_reasons_are_stored_in_english_and_read_in_chinese(tmp_path):
    # the mapping editor's "inferred from" column and the report's "how": the reasons are
    # kept in English with the mapping, and said in the reader's language where shown
    import polars as pl

    from profiling.data import ingest
    from tests.test_ingest_exports import HEADERLESS

    path = tmp_path / "UserBehavior.csv"
    path.write_text(HEADERLESS, encoding="utf-8")
    mapping = ingest.infer_roles(ingest.read_table(str(path)))
    assert mapping.reasons["column_1"] == "content: left-most id-like column"
    with i18n.language("zh"):
        said = {c: ingest.reason_text(r) for c, r in mapping.reasons.items()}
    assert said == {
        "column_1": "内容：最左边的类似 ID 的列",
        "column_2": "内容：用户 ID 之后的类似 ID 的列（文件没有表头）",
        "column_3": "内容：商品列之后的类似 ID 的列，不同取值（3 个）少于商品列（4 个）",
        "column_4": "内容：行为名称",
        "column_5": "内容：Unix 时间戳（秒）",  # the timestamp format, translated too
    }
    # a text date format is stored in English and said piece by piece
    path = tmp_path / "dates.csv"
    path.write_text(
        "1,2268318,13/01/2020 10:00\n1,2333346,14/02/2020 11:30\n2,2268318,01/03/2020 09:15\n"
        "2,3911125,02/03/2020 09:20\n3,2333346,03/03/2020 10:00\n",
        encoding="utf-8",
    )
    mapping = ingest.infer_roles(ingest.read_table(str(path)))
    assert mapping.reasons["column_3"] == "content: day/month/year time (day first)"
    with i18n.language("zh"):
        assert ingest.reason_text(mapping.reasons["column_3"]) == "内容：日/月/年 时间（日在前）"
    frame = pl.DataFrame(
        {
            "customer": ["c1", "c2"],
            "shipped": [dt.date(2020, 5, 3), dt.date(2020, 5, 4)],
            "order_placed": [dt.datetime(2020, 5, 1, 8), dt.datetime(2020, 5, 2, 8)],
        }
    )
    frame.write_parquet(tmp_path / "orders.parquet")
    raw = ingest.read_table(str(tmp_path / "orders.parquet"))
    mapping = ingest.infer_roles(raw, "events", {"shipped": "ignore"})
    with i18n.language("zh"):
        said = {c: ingest.reason_text(r) for c, r in mapping.reasons.items()}
    assert said == {
        "customer": "列名",
        "shipped": "由您设定",
        "order_placed": "类型：原生日期时间列",
    }
    mapping = ingest.infer_roles(raw)
    assert (
        mapping.reasons["order_placed"] == "type: native date-time column, preferred over shipped"
    )
    with i18n.language("zh"):
        assert ingest.reason_text(mapping.reasons["order_placed"]) == (
            "类型：原生日期时间列，优先于 shipped"  # a column name is data
        )
    # the cleaning report's reasons of attributes; English reads as stored
    stored = {
        "kept as an attribute: categorical (12 values in the sample)": (
            "作为属性保留：类别型（样本中有 12 个取值）"
        ),
        "kept as an attribute: ordered bands: 18-24 < 25-34 (a number for each in age_mid)": (
            "作为属性保留：有序区间：18-24 < 25-34（每个区间在 age_mid 中对应一个数值）"
        ),
        "kept as an attribute: numeric": "作为属性保留：数值型",
        "name; given as bands": "列名；以区间给出",
        "content: values on a 0.5-5 rating scale in half steps (headerless)": (
            "内容：取值在 0.5-5 的评分范围内，以 0.5 为步长（文件没有表头）"
        ),
        # text date formats: the date words, time, order and what the sample showed
        "content: month/day/year (month first); every sampled day is 12 or less, so the "
        "day/month order is assumed": (
            "内容：月/日/年（月在前）；样本中每个“日”都不超过 12，因此日/月顺序是推定的"
        ),
        "content: year-month-day time am/pm and other formats; time zones seen (UTC, +08:00), "
        "all converted to UTC": (
            "内容：年-月-日 时间（上午/下午）及其他格式；发现时区（UTC, +08:00），均已转换为 UTC"
        ),
        "content: day-Mon-year time": "内容：日-英文月份缩写-年 时间",
        "a reason of another shape": "a reason of another shape",
        "": "",
    }
    with i18n.language("zh"):
        assert {k: ingest.reason_text(k) for k in stored} == stored
    assert {k: ingest.reason_text(k) for k in stored} == {k: k for k in stored}
