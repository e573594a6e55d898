"""Exported CSV cannot smuggle spreadsheet formulas."""

import csv
import io

import polars as pl

from profiling.present.export import escape_formulas, safe_filename, to_safe_csv


def test_formula_like_text_is_escaped_and_plain_numbers_stay_numbers():
    frame = pl.DataFrame(
        {
            "user_id": [
                '=HYPERLINK("x")',
                "+1+1",
                "-2+3",
                "@SUM(A1)",
                "\tcmd",
                "\rcmd",
                "-12.5",
                "+7",
                "ok",
            ],
            "monetary": [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        }
    )
    out = escape_formulas(frame)
    assert out["user_id"].to_list() == [
        '\'=HYPERLINK("x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tcmd",
        "'\rcmd",
        "-12.5",
        "+7",
        "ok",
    ]
    assert out["monetary"].to_list() == frame["monetary"].to_list()  # numbers untouched
    csv = to_safe_csv(frame)
    assert "\n-1.0\n" not in csv and ",-1.0\n" in csv  # a negative number is written as a number


def test_list_columns_are_joined_and_escaped():
    frame = pl.DataFrame({"tags": [["=cmd()", "new"], ["night owl"]]})
    assert escape_formulas(frame)["tags"].to_list() == ["'=cmd(); new", "night owl"]


def test_segment_names_become_safe_file_names():
    assert safe_filename("Can't lose them / VIP") == "can-t-lose-them-vip"
    assert safe_filename("***") == "segment"


def test_categorical_enum_array_struct_and_numeric_lists_are_escaped_as_text():
    frame = pl.DataFrame(
        {
            "cat": pl.Series(['=HYPERLINK("http://x","y")', "ok"]).cast(pl.Categorical),
            "enum": pl.Series(["+1+1", "a"]).cast(pl.Enum(["+1+1", "a"])),
            "ints": [[1, 2], [3]],  # a List of numbers used to raise in list.join
            "arr": pl.Series([["@x", "y"], ["z", "w"]], dtype=pl.Array(pl.String, 2)),
            "st": [{"a": "=x"}, {"a": "y"}],
        }
    )
    out = escape_formulas(frame)
    assert out["cat"].to_list() == ['\'=HYPERLINK("http://x","y")', "ok"]
    assert out["enum"].to_list() == ["'+1+1", "a"]
    assert out["ints"].to_list() == ["1; 2", "3"]
    assert out["arr"].to_list() == ["'@x; y", "z; w"]
    assert out["st"].to_list() == ['{"a":"=x"}', '{"a":"y"}']  # starts with "{": harmless
    csv = to_safe_csv(frame)
    assert csv.splitlines()[1].startswith("\"'=HYPERLINK(")  # quoted, then escaped


def test_formula_like_header_cells_get_an_apostrophe():
    frame = pl.DataFrame(
        {
            '=HYPERLINK("http://x","y")': ["a"],
            "+plus": ["b"],
            "-minus": ["c"],
            "@at": ["d"],
            "\ttab": ["e"],
            "\rcr": ["f"],
            "user_id": ["g"],
        }
    )
    header = next(csv.reader(io.StringIO(to_safe_csv(frame), newline="")))
    assert header == [
        '\'=HYPERLINK("http://x","y")',
        "'+plus",
        "'-minus",
        "'@at",
        "'\ttab",
        "'\rcr",
        "user_id",
    ]


def test_an_escaped_header_never_collides_with_an_existing_one():
    frame = pl.DataFrame({"=x": [1], "'=x": [2]})
    header = next(csv.reader(io.StringIO(to_safe_csv(frame), newline="")))
    assert header == ["'=x (escaped)", "'=x"]


def test_an_export_in_chinese_names_headers_segments_and_models_and_leaves_ids_alone():
    from profiling.vocabulary import i18n
    from ui.labels import export_frame

    members = pl.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u4"],
            # 11-segment and 8-tier names (the workspace's scheme), a cluster name (data) and
            # the privacy row of merged small groups
            "rfm_segment": [
                "Champions",
                "Important value",
                "Bargain hunters",
                "fewer than 10 users",
            ],
            "recency_days": [3.0, 40.0, 7.0, 1.0],
            "model": ["popularity", "ease", "popularity", "my-model"],
        }
    )
    with i18n.language("zh"):
        out = export_frame(members)
    assert out.columns == ["user_id", "客户分群", "距上次下单天数（天）", "模型"]
    assert out["user_id"].to_list() == ["u1", "u2", "u3", "u4"]  # ids untouched
    assert out["客户分群"].to_list() == [
        "冠军客户",
        "重要价值客户",
        "Bargain hunters",
        "少于 10 位用户",
    ]
    assert out["模型"].to_list() == ["热销商品", "EASE", "热销商品", "my-model"]
    # English: the glossary's header, names as the registry and the scheme give them
    english = export_frame(members)
    assert english.columns == [
        "user_id",
        "customer segment",
        "days since last order (days)",
        "model",
    ]
    assert english["customer segment"][0] == "Champions"
    assert english["model"].to_list() == members["model"].to_list()
