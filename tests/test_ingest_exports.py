"""Real-world export shapes on tiny hand-made files: native date-time columns under any name,
zoned and localized timestamp strings, attribute tables, headerless logs, date-only logs."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from profiling.data import ingest
from profiling.vocabulary import schema as S

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
        ("10 1, 2019", dt.datetime(2019, 10, 1)),  # month day, year without names
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


# ---------------------------------------------------------------- attribute tables ----
HOUSEHOLDS = (
    "household_key,AGE_DESC,MARITAL_STATUS_CODE,INCOME_DESC,HOMEOWNER_DESC,HH_COMP_DESC,"
    "HOUSEHOLD_SIZE_DESC,KID_CATEGORY_DESC\n"
    "h1,45-54,A,35-49K,Homeowner,2 Adults Kids,3,1\n"
    "h2,65+,B,Under 15K,Renter,Single Female,1,None/Unknown\n"
    "h3,25-34,U,250K+,Unknown,2 Adults No Kids,5+,3+\n"
)


def test_every_users_column_is_kept_as_an_attribute_with_its_kind(tmp_path):
    raw = ingest.read_table(write(tmp_path, "hh_demographic.csv", HOUSEHOLDS))
    mapping = ingest.infer_roles(raw, "users")
    assert mapping.roles["household_key"] == S.USER_ID
    assert mapping.roles["AGE_DESC"] == S.AGE
    assert S.IGNORE not in mapping.roles.values()  # nothing is dropped as "not recognized"
    assert mapping.roles["INCOME_DESC"] == S.ATTRIBUTE
    assert mapping.reasons["INCOME_DESC"] == "content: ordered bands, kept as an attribute"
    assert mapping.reasons["MARITAL_STATUS_CODE"] == "content: categorical, kept as an attribute"
    res = ingest.clean_users(raw, mapping)
    rep = res.report
    assert rep.attributes["MARITAL_STATUS_CODE"] == "categorical (3 values in the sample)"
    # "5+" makes household size a band column: 1 < 3 < 5+
    assert rep.attributes["HOUSEHOLD_SIZE_DESC"] == (
        "ordered bands: 1 < 3 < 5+ (a number for each in HOUSEHOLD_SIZE_DESC_mid)"
    )
    assert rep.attributes["INCOME_DESC"] == (
        "ordered bands: Under 15K < 35-49K < 250K+ (a number for each in INCOME_DESC_mid)"
    )
    assert rep.mapping_reasons["HOMEOWNER_DESC"].startswith("kept as an attribute: categorical")
    f = res.frame.sort(S.USER_ID)
    assert f["HOMEOWNER_DESC"].to_list() == ["Homeowner", "Renter", "Unknown"]
    assert f["INCOME_DESC"].to_list() == ["35-49K", "Under 15K", "250K+"]
    # midpoints: (35+49)/2 K, half of the open bottom bound, the open top band's bound
    assert f["INCOME_DESC_mid"].to_list() == [42_000.0, 7_500.0, 250_000.0]
    assert f["HOUSEHOLD_SIZE_DESC_mid"].to_list() == [3.0, 1.0, 5.0]
    assert rep.count(f"{ingest.BAD_NUMBER}: AGE_DESC") == 0


def test_an_age_column_of_bands_is_kept_not_emptied(tmp_path):
    raw = ingest.read_table(write(tmp_path, "hh.csv", HOUSEHOLDS))
    res = ingest.clean_users(raw)
    f = res.frame.sort(S.USER_ID)
    assert f["age_band"].to_list() == ["45-54", "65+", "25-34"]
    assert f[S.AGE].to_list() == [(45 + 54) / 2, 65.0, (25 + 34) / 2]
    assert res.report.attributes["age_band"].startswith("ordered bands: 25-34 < 45-54 < 65+")
    assert any("age bands" in n for n in res.report.notes)


def test_a_numeric_attribute_is_numeric_and_its_bad_values_are_counted(tmp_path):
    text = (
        "user_id,loyalty_points,store_code\nu1,120,02134\nu2,35.5,00101\nu3,n/a-ish,00601\n"
        + "".join(f"u{i},{i},0{i:04d}\n" for i in range(4, 40))
    )
    res = ingest.clean_users(ingest.read_table(write(tmp_path, "u.csv", text)))
    assert res.report.attributes["loyalty_points"] == "numeric"
    assert res.frame.schema["loyalty_points"] == pl.Float64
    points = dict(zip(res.frame[S.USER_ID], res.frame["loyalty_points"], strict=True))
    assert (points["u1"], points["u2"], points["u3"]) == (120.0, 35.5, None)
    assert res.report.count(f"{ingest.BAD_NUMBER}: loyalty_points") == 1
    # zero-padded codes stay text
    assert res.frame.schema["store_code"] == pl.String
    assert "02134" in res.frame["store_code"].to_list()


def test_the_mapping_editor_can_send_every_role_back_as_overrides(tmp_path):
    # the Data page sends the whole edited mapping: several columns are "attribute"
    raw = ingest.read_table(write(tmp_path, "hh.csv", HOUSEHOLDS))
    edited = ingest.infer_roles(raw, "users").roles
    assert list(edited.values()).count(S.ATTRIBUTE) == 6
    res = ingest.clean_users(raw, ingest.infer_roles(raw, "users", edited))
    assert set(res.report.attributes) >= {"INCOME_DESC", "HOMEOWNER_DESC", "KID_CATEGORY_DESC"}


def test_an_explicit_ignore_still_leaves_a_column_out(tmp_path):
    raw = ingest.read_table(write(tmp_path, "hh.csv", HOUSEHOLDS))
    res = ingest.clean_users(raw, ingest.infer_roles(raw, "users", {"INCOME_DESC": S.IGNORE}))
    assert "INCOME_DESC" not in res.frame.columns
    assert "HOMEOWNER_DESC" in res.frame.columns


def test_item_attributes_become_tokens_of_the_content_model(tmp_path):
    from profiling.recommenders.content import ContentBased

    items = pl.DataFrame(
        {
            S.ITEM_ID: ["a", "b", "c"],
            S.TITLE: ["Shirt", "Shirt", "Shirt"],
            "colour": ["Deep Red", "Deep Red", "Blue"],
        }
    )
    inter = pl.DataFrame(
        {
            S.USER_ID: ["u1", "u2", "u3"],
            S.ITEM_ID: ["a", "b", "c"],
            "weight": [1.0, 1.0, 1.0],
            S.TIMESTAMP: [dt.datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)],
        }
    )
    model = ContentBased(popularity_prior=0).fit(inter, items=items)
    assert "attr_colour_deep_red" in set(model.terms_)
    # u1 bought the red shirt: the other red shirt ranks above the blue one
    recs = model.recommend(["u1"], k=2)
    assert recs[S.ITEM_ID].to_list() == ["b", "c"]


def test_kept_attributes_reach_the_profile_the_header_line_and_segment_highlights(tmp_path):
    from profiling.data.dataset import load_dataset
    from profiling.profiles.features import build_profiles, user_attributes
    from profiling.profiles.segments import attribute_highlights, describe_segments

    events = write(
        tmp_path,
        "tx.csv",
        "household_key,day,sales_value\nh1,2024-01-01,5\nh2,2024-01-02,7\nh3,2024-01-03,9\n",
    )
    users = write(tmp_path, "hh.csv", HOUSEHOLDS)
    profiles = build_profiles(load_dataset(events, users))
    row = profiles.filter(pl.col(S.USER_ID) == "h2").row(0, named=True)
    attrs = user_attributes(row)
    assert attrs["INCOME_DESC"] == "Under 15K" and attrs["MARITAL_STATUS_CODE"] == "B"
    assert attrs["age_band"] == "65+" and attrs[S.AGE] == 65.0
    assert "frequency" not in attrs and "monetary" not in attrs
    # two segments: h1 and h2 together, h3 alone
    seg = profiles.with_columns(
        pl.when(pl.col(S.USER_ID) == "h3").then(pl.lit("B")).otherwise(pl.lit("A")).alias("seg")
    )
    over = attribute_highlights(seg, "seg")
    # h3 is the only renter-less "Unknown" homeowner: 100% of B against 1/3 of everyone
    unknown = next(a for a in over["B"] if a["attribute"] == "HOMEOWNER_DESC")
    assert unknown["value"] == "Unknown"
    assert unknown["share"] == 1.0 and unknown["population_share"] == pytest.approx(1 / 3)
    desc = {d.segment: d for d in describe_segments(seg, "seg", ["monetary"])}
    assert "(all: 33%)" in desc["B"].highlights()
    # and an attribute is a column for custom rules
    from profiling.profiles.segments import Condition, apply_rule

    rule = [Condition("INCOME_DESC", "==", "Under 15K")]
    assert seg.filter(apply_rule(seg, rule))[S.USER_ID].to_list() == ["h2"]


def test_the_attribute_line_shows_every_attribute_as_plain_text():
    from ui.widgets import attribute_line

    row = {
        S.USER_ID: "u1",
        "frequency": 3,
        S.AGE: 27.0,
        "income": "$35-49K",
        "note": "**bold** [link](http://x) :red[hi]",
        "cat_share__Books": 0.5,
        "rfm_segment": "Champions",
        "signup_date": dt.datetime(2023, 11, 26, tzinfo=UTC),
    }
    line = attribute_line(row)
    assert line == (
        r"age: **27** · income: **\$35\-49K** · "
        r"note: **\*\*bold\*\* \[link\]\(http\://x\) \:red\[hi\]** · "
        r"signup\_date: **2023\-11\-26**"
    )


# ------------------------------------------------------------------ headerless logs ----
# user, item, category, behaviour, epoch seconds: the layout of a widely used click log
HEADERLESS = (
    "1,2268318,2520377,pv,1511544070\n"
    "1,2333346,2520771,pv,1511561733\n"
    "1,2268318,2520377,buy,1511572885\n"
    "2,3911125,982926,cart,1511611234\n"
    "2,2333346,2520771,fav,1511612345\n"
    "3,4007730,982926,pv,1511622222\n"
)


def test_a_headerless_five_column_log_maps_user_item_and_category_in_order(tmp_path):
    raw = ingest.read_table(write(tmp_path, "UserBehavior.csv", HEADERLESS))
    assert not raw.info.has_header
    mapping = ingest.infer_roles(raw)
    assert mapping.roles == {
        "column_1": S.USER_ID,
        "column_2": S.ITEM_ID,
        "column_3": S.CATEGORY,
        "column_4": S.EVENT_TYPE,
        "column_5": S.TIMESTAMP,
    }
    # 4 distinct items, 3 distinct categories: fewer, so column_3 is the category
    assert "fewer distinct values (3) than the item column (4)" in mapping.reasons["column_3"]
    (note,) = [n for n in mapping.notes if n.startswith("no header")]
    assert "'column_2' item id" in note and "'column_3' category" in note
    res = ingest.clean_events(raw, mapping)
    assert res.frame[S.ITEM_ID].n_unique() == 4
    assert res.frame[S.EVENT_TYPE].to_list() == [
        "view",
        "view",
        "purchase",
        "cart",
        "wishlist",
        "view",
    ]
    assert res.item_attributes.sort(S.ITEM_ID).row(0) == ("2268318", "2520377")


def test_the_headerless_choice_can_be_overridden(tmp_path):
    raw = ingest.read_table(write(tmp_path, "UserBehavior.csv", HEADERLESS))
    mapping = ingest.infer_roles(raw, "events", {"column_2": S.CATEGORY, "column_3": S.ITEM_ID})
    assert mapping.roles["column_2"] == S.CATEGORY
    assert mapping.roles["column_3"] == S.ITEM_ID
    assert mapping.reasons["column_3"] == "set by you"
    assert ingest.clean_events(raw, mapping).frame[S.ITEM_ID].n_unique() == 3


def test_a_second_id_of_the_same_user_is_not_taken_as_the_item(tmp_path):
    # column_2 names the same customers as column_1, one to one
    text = "7 0001 19970101 1 11.77\n7 0001 19970105 2 20.00\n9 0002 19970112 5 77.00\n"
    mapping = ingest.infer_roles(ingest.read_table(write(tmp_path, "s.txt", text)))
    assert mapping.roles["column_2"] == S.IGNORE
    assert mapping.reasons["column_2"] == "content: a second id of each user ('column_1')"
    assert not any(r == S.ITEM_ID for r in mapping.roles.values())


# ------------------------------------------------------------------ date-only logs ----
DATE_ONLY = (
    "customer,order_date,amount\n"
    "c1,2024-03-04,10\n"  # a Monday
    "c1,2024-03-09,20\n"  # a Saturday
    "c2,2024-03-05,5\n"
)


def test_a_date_only_log_is_detected_and_reported(tmp_path):
    res = clean(write(tmp_path, "d.csv", DATE_ONLY))
    assert res.report.date_only is True
    assert any("date-only log" in n for n in res.report.notes)
    timed = clean(write(tmp_path, "t.csv", DATE_ONLY.replace("-04,", "-04 10:30,")))
    assert timed.report.date_only is False


def test_a_date_only_log_skips_hours_but_keeps_weekdays(tmp_path):
    from profiling.data.dataset import load_dataset
    from profiling.present.viz import rhythm_figure
    from profiling.profiles.features import build_profiles, feature_catalog
    from profiling.profiles.users import rhythm

    ds = load_dataset(write(tmp_path, "d.csv", DATE_ONLY))
    assert "time of day" in feature_catalog(ds).skipped
    p = build_profiles(ds)
    assert "preferred_hour" not in p.columns and "share_night" not in p.columns
    # c1: one of two events on a Saturday
    assert p.filter(pl.col(S.USER_ID) == "c1")["weekend_share"].item() == 1 / 2
    r = rhythm(ds.events, "c1")
    assert r["part"].null_count() == r.height  # nothing is placed at night
    assert sorted(r["weekday"].to_list()) == [1, 6]
    fig = rhythm_figure(r)
    assert fig.data[0].type == "bar"
    assert list(fig.data[0].y) == [1, 0, 0, 0, 0, 1, 0]
    assert "no time of day" in fig.layout.title.text


def test_a_timeline_of_one_day_is_at_least_a_week_wide(tmp_path):
    from profiling.present.viz import timeline_figure

    t = pl.DataFrame(
        {
            S.TIMESTAMP: [dt.datetime(2024, 3, 4, tzinfo=UTC)],
            S.EVENT_TYPE: [S.PURCHASE],
            S.ITEM_ID: ["i1"],
        }
    )
    lo, hi = timeline_figure(t).layout.xaxis.range
    assert (pl.Series([hi]).cast(pl.Datetime) - pl.Series([lo]).cast(pl.Datetime)).item() == (
        dt.timedelta(days=7)
    )
    wide = t.vstack(t.with_columns(pl.lit(dt.datetime(2024, 5, 1, tzinfo=UTC)).alias(S.TIMESTAMP)))
    assert timeline_figure(wide).layout.xaxis.range is None  # two months: plotly's own range


def test_the_context_model_ignores_hours_of_a_date_only_log():
    from profiling.recommenders.content import ContextAware
    from profiling.recommenders.popularity import Popularity

    inter = pl.DataFrame(
        {
            S.USER_ID: ["u1", "u1", "u2"],
            S.ITEM_ID: ["a", "b", "a"],
            "weight": [1.0, 1.0, 1.0],
            S.TIMESTAMP: [dt.datetime(2024, 3, d, tzinfo=UTC) for d in (4, 5, 6)],
        }
    )
    items = pl.DataFrame({S.ITEM_ID: ["a", "b"], S.CATEGORY: ["x", "y"]})
    model = ContextAware(Popularity()).fit(inter, items=items)
    assert model.has_time_ and not model.has_hours_
    assert (model.user_daypart_ == -1).all()


def test_a_mixed_column_whose_sample_cannot_tell_day_from_month_reads_month_first():
    from profiling.data.ingest.timestamps import parse_timestamp

    # the sample holds ISO rows and slash dates whose days are all 12 or less; a later row
    # ("10/13/2019") only reads month first, so month first must be the reading kept
    # (more ISO rows than slash rows, so the best format is not a slash one)
    iso = ["2019-10-01 08:00:00 UTC", "2019-10-03 08:00:00 UTC", "2019-10-04 08:00:00 UTC"]
    sample = pl.Series("ts", [*iso, "10/02/2019 09:00", "10/05/2019 10:00"])
    ts = parse_timestamp("ts", pl.String, sample)
    assert ts.ambiguous
    later = pl.DataFrame({"ts": [*sample.to_list(), "10/13/2019 00:10"]})
    assert later.select(ts.expr).to_series().to_list() == [
        dt.datetime(2019, 10, 1, 8, tzinfo=UTC),
        dt.datetime(2019, 10, 3, 8, tzinfo=UTC),
        dt.datetime(2019, 10, 4, 8, tzinfo=UTC),
        dt.datetime(2019, 10, 2, 9, tzinfo=UTC),
        dt.datetime(2019, 10, 5, 10, tzinfo=UTC),
        dt.datetime(2019, 10, 13, 0, 10, tzinfo=UTC),
    ]


def test_codes_that_look_like_ranges_are_not_bands():
    from profiling.data.ingest.values import attribute_kind

    phones = pl.Series([f"555-{1000 + i}" for i in range(40)])  # 40 distinct "ranges"
    assert attribute_kind(phones) == "categorical"
    assert attribute_kind(pl.Series(["2019-10", "2020-01"])) == "categorical"  # 2019 > 10
    assert attribute_kind(pl.Series(["18-24", "25-34", "65+", None])) == "bands"


def test_a_native_date_column_of_a_users_table_is_the_signup_date_unless_a_birth_date(tmp_path):
    df = pl.DataFrame(
        {
            "member": ["m1", "m2"],
            "birth_date": [dt.date(1980, 1, 2), dt.date(1990, 3, 4)],
            "opened": [dt.datetime(2020, 1, 1, 9), dt.datetime(2021, 6, 1, 9)],
        }
    )
    path = tmp_path / "members.parquet"
    df.write_parquet(path)
    raw = ingest.read_table(str(path))
    mapping = ingest.infer_roles(raw, "users")
    assert mapping.roles["opened"] == S.SIGNUP_DATE
    assert mapping.roles["birth_date"] == S.ATTRIBUTE
    res = ingest.clean_users(raw, mapping)
    assert res.report.attributes["birth_date"] == "date"
    assert res.frame.sort(S.USER_ID)["birth_date"].to_list() == [
        dt.date(1980, 1, 2),
        dt.date(1990, 3, 4),
    ]
