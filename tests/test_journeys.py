"""Journeys that hold (issue 24): a real retail export split into a workspace and a batch,
walked through every page; each defect found there has a test here on a tiny hand-made log."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.data.dataset import load_dataset
from profiling.present import report as R
from profiling.vocabulary import i18n

APP = str(Path(__file__).resolve().parent.parent / "app.py")

BATCH_1 = """user,item,when,qty,price
u1,i1,2024-01-01 10:00,1,5
u1,i2,2024-01-02 10:00,2,3
u2,i1,2024-01-03 11:00,1,5
"""
# u3 is new in the second file; u1 buys again
BATCH_2 = """user,item,when,qty,price
u3,i2,2024-02-01 09:00,1,3
u1,i1,2024-02-02 09:00,1,5
"""


@pytest.fixture(scope="module")
def report_ds(tmp_path_factory):
    path = tmp_path_factory.mktemp("journeys") / "log.csv"
    path.write_text(BATCH_1)
    return load_dataset(path, name="Shop")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def two_snapshots(home, tmp_path):
    b1, b2 = tmp_path / "b1.csv", tmp_path / "b2.csv"
    b1.write_text(BATCH_1)
    b2.write_text(BATCH_2)
    ws = W.create("Two files", b1)
    ws.add(b2)
    return ws


def test_what_changed_compares_two_snapshots(clear_streamlit_caches, two_snapshots):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = two_snapshots.slug
    at.run()
    at.switch_page("app_pages/changes.py").run()
    assert not at.exception
    at.segmented_control(key="ps_chg_mode").set_value("Two snapshots").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    # snapshot 1: u1, u2; snapshot 2: u1, u2, u3 -> 3 compared, u3 new
    assert metrics["Customers compared"] == "3"
    assert metrics["New customers"] == "1"
    flows = at.dataframe[0].value
    # every one of the three customers changed segment; revenue in the 12 months before
    # snapshot 1: u1 1 x 5 + 2 x 3 = 11, u2 5, u3 nothing (new)
    assert list(flows["users"]) == [1, 1, 1]
    assert list(flows["revenue_12m"]) == [11.0, 5.0, 0.0]
    assert list(flows["share_of_from"]) == [1.0, 1.0, 1.0]
    assert flows["from_segment"].iloc[2] == "New customers"


# ---- the stakeholder report: the saved model comparison, and sections that cannot be built
def _run(metrics):
    from types import SimpleNamespace

    from ui.recommenders import Run

    split = SimpleNamespace(description="global temporal split", cutoff=datetime(2024, 2, 15))
    comp = SimpleNamespace(metrics=metrics, split=split)
    return Run(comp, pl.DataFrame(), None, None, {}, [], {}, {}, ())


def _info(saved_at="2024-03-02T10:00:00+00:00"):
    from profiling.workspace.results import SavedInfo

    return SavedInfo("comparison", "v1", "2024-03-01T00:00:00+00:00", 5, saved_at)


METRICS = pl.DataFrame(
    {
        "model": ["popularity", "buy_again"],
        "metric": ["hit_rate", "hit_rate"],
        "k": [10, 10],
        "value": [0.20, 0.45],
    }
)


def test_the_report_reads_the_comparison_the_recommenders_page_saves():
    from ui.stakeholder import comparison_section

    saved = comparison_section(_info(), _run(METRICS), "v1")
    assert isinstance(saved, R.SavedComparison)
    assert saved.metrics["value"].to_list() == [0.20, 0.45]
    assert saved.split == "global temporal split" and saved.cutoff == datetime(2024, 2, 15)


def test_an_unreadable_saved_comparison_is_a_missing_section_saying_why(report_ds):
    from ui.stakeholder import comparison_section

    old = (None, None, None, None, None)  # the tuple an older version of the app saved
    gap = comparison_section(_info(), old, "v1")
    assert isinstance(gap, R.MissingSection)
    assert "older version of the app" in gap.reason and "2024-03-02" in gap.reason
    rep = R.build_report(report_ds, [], charts=False, missing=[gap])
    assert rep.missing == [gap]
    assert (
        "<h2>Product suggestions: which model works best</h2>\n"
        '<p class="missing">This section could not be built: the comparison saved on '
        "2024-03-02 was made by an older version of the app"
    ) in rep.html
    assert gap.sentence().startswith(
        "Product suggestions: which model works best: this section could not be built ("
    )


# ---- percentile sentences with ties
def test_percentile_sentences_say_ties_instead_of_counting_them_as_below():
    from profiling.profiles.users import percentiles

    # 10 customers: orders 0 x2, 1 x7, 3 x1 (like a retail log where most order once)
    prof = pl.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(10)],
            "frequency": [0, 0, 1, 1, 1, 1, 1, 1, 1, 3],
            "recency_days": [None, None, 5.0, 5.0, 5.0, 9.0, 9.0, 9.0, 9.0, 1.0],
        }
    )
    zero = percentiles(prof, "u0", ("frequency",)).row(0, named=True)
    # nobody has fewer than 0 orders: not "higher than 20%"
    assert (zero["below"], zero["tied"]) == (0.0, 20.0)
    assert zero["sentence"] == "more than 0% of customers; the same as 20%"
    one = percentiles(prof, "u2", ("frequency",)).row(0, named=True)
    assert one["sentence"] == "more than 20% of customers; the same as 70%"
    top = percentiles(prof, "u9", ("frequency",)).row(0, named=True)
    assert top["sentence"] == "more than 90% of customers; the same as 10%"
    # recency: 4 bought 9 days ago and 2 never bought -> 60% bought longer ago or never
    rec = percentiles(prof, "u2", ("recency_days",)).row(0, named=True)
    assert rec["sentence"] == "more recent than 60% of customers; the same as 30%"


def test_a_tiny_share_is_not_rounded_to_none_and_everyone_tied_is_said_so():
    from profiling.profiles.users import percentile_sentence

    assert percentile_sentence("frequency", 0.8, 34.2) == (
        "more than 0.8% of customers; the same as 34%"
    )
    assert percentile_sentence("frequency", 0.0, 100.0) == "the same as every customer"
    assert percentile_sentence("frequency", None, None) == ""


# ---- one definition per business word: a customer who cancelled everything
# c1 orders 2 units at 10 (invoice 1) and cancels both (C1, negative quantity): net 0;
# c2 orders twice (5 and 15): net 20; c3 has only a cancellation (of an order before the
# log): net -4; 3 customers, 2 buyers (c1, c2), 3 orders (1, 2, 3)
CANCELLED = """Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID,Country
1,A,2,2010-01-04 10:00,10,c1,United Kingdom
C1,A,-2,2010-01-05 10:00,10,c1,United Kingdom
2,B,1,2010-01-04 11:00,5,c2,United Kingdom
3,B,3,2010-02-01 11:00,5,c2,United Kingdom
C9,B,-1,2010-02-02 11:00,4,c3,United Kingdom
"""


@pytest.fixture(scope="module")
def cancelled(tmp_path_factory):
    path = tmp_path_factory.mktemp("journeys") / "cancelled.csv"
    path.write_text(CANCELLED)
    return load_dataset(path, name="Cancelled")


def test_average_order_value_is_net_of_refunds_for_a_customer_who_cancelled_everything(
    cancelled,
):
    from profiling.profiles.features import build_profiles

    p = {r["user_id"]: r for r in build_profiles(cancelled).iter_rows(named=True)}
    assert p["c1"]["monetary"] == pytest.approx(0.0)
    assert p["c1"]["avg_order_value"] == pytest.approx(0.0)  # not 20, the gross
    assert p["c2"]["avg_order_value"] == pytest.approx((5 + 15) / 2)


def test_a_customer_whose_net_spend_is_zero_or_less_refunded_everything(cancelled):
    from profiling.profiles.features import build_profiles
    from profiling.profiles.segments import rfm_segments

    rfm = rfm_segments(build_profiles(cancelled))
    seg = dict(zip(rfm["user_id"], rfm["rfm_segment"], strict=True))
    assert seg["c1"] == seg["c3"] == "Refunded everything"
    assert seg["c2"] != "No purchase yet"
    # not scored among buyers
    assert rfm.filter(pl.col("user_id") == "c1")["r_score"].to_list() == [None]


def test_the_overview_and_the_report_use_one_definition_of_each_word(cancelled):
    from profiling.profiles import overview as O
    from profiling.vocabulary import glossary as G

    h = R.headline(cancelled)
    s = cancelled.summary()
    k = O.kpis(cancelled.events, s["start"], s["end"] + (s["end"] - s["start"]))
    revenue = 20 - 20 + 20 - 4  # net of refunds: 16
    assert (h["customers"], h["buyers"], h["orders"]) == (3, 2, 3)
    assert (k.customers, k.buyers, k.orders) == (3, 2, 3)
    assert h["revenue"] == pytest.approx(revenue) == k.revenue
    assert h["average_order_value"] == pytest.approx(revenue / 3) == k.aov
    # per customer: divided by the customers shown beside it (3), not by buyers (2)
    assert h["revenue_per_customer"] == pytest.approx(revenue / 3) == k.revenue_per_customer
    assert G.help_text("aov") == f"average order value: {G.AOV_RULE}."
    assert "net of refunds" in G.AOV_RULE
    page = R.build_report(cancelled, [], charts=False).html
    assert "Average order value (after refunds)" in page


def test_orders_without_order_ids_are_one_per_customer_per_day_everywhere():
    from profiling.profiles import overview as O
    from profiling.vocabulary import schema as S

    ts = [datetime(2024, 1, 1, 9), datetime(2024, 1, 1, 17), datetime(2024, 1, 2, 9)]
    ev = pl.DataFrame(
        {
            S.USER_ID: ["a", "a", "a"],
            S.EVENT_TYPE: [S.PURCHASE] * 3,
            S.TIMESTAMP: pl.Series(ts).dt.replace_time_zone("UTC"),
            S.AMOUNT: [1.0, 2.0, 3.0],
        }
    )
    # two moments on 1 January make one order (as the profiles' frequency counts them)
    assert O.orders(ev)["amount"].to_list() == [3.0, 3.0]


# ---- leave-last on an event log: "already seen" means already bought
def _views_then_buys() -> pl.DataFrame:
    from profiling.vocabulary import schema as S

    rows = []
    for i, u in enumerate(["u1", "u2", "u3", "u4"]):
        day = datetime(2024, 1, 1 + i)
        rows += [
            (u, "X", S.PURCHASE, day.replace(hour=9)),
            (u, "A", S.VIEW, day.replace(hour=10)),
            (u, "A", S.PURCHASE, day.replace(hour=11)),  # held out: follows its view
        ]
    rows.append(("u5", "A", S.VIEW, datetime(2024, 1, 9)))
    rows.append(("u5", "B", S.PURCHASE, datetime(2024, 1, 9, 1)))
    return pl.DataFrame(
        rows, schema=[S.USER_ID, S.ITEM_ID, S.EVENT_TYPE, S.TIMESTAMP], orient="row"
    ).with_columns(pl.col(S.TIMESTAMP).dt.replace_time_zone("UTC"))


def test_leave_last_on_an_event_log_does_not_hide_items_only_viewed():
    from profiling.evaluation import compare
    from profiling.evaluation.splits import leave_last_n
    from profiling.recommenders import registry

    split = leave_last_n(_views_then_buys())
    comp = compare({"popularity": registry.make("popularity")}, split, k=1, n_boot=10)
    hit = comp.metrics.filter(pl.col("metric") == "hit_rate")["value"][0]
    # A is the most popular item in train (5 views): u1-u4 only viewed it, so it is still
    # suggested and their held-out purchases of A are hits; u5's held-out B is a miss;
    # X, bought, is left out. Before: A hidden as "seen" from u1-u4, hit rate 0
    assert hit == pytest.approx(4 / 5)
    recs = comp.recommendations.filter(pl.col("rank") == 1)
    assert set(recs["item_id"]) == {"A"}
    assert comp.relevance.seen_rule == (
        "not suggested again: items the customer already bought before the test period "
        "(items only viewed or carted may be suggested)"
    )


def test_on_a_transaction_log_already_seen_is_already_bought():
    from profiling.evaluation.relevance import relevance_for
    from profiling.vocabulary import schema as S

    buys = _views_then_buys().filter(pl.col(S.EVENT_TYPE) == S.PURCHASE)
    rule = relevance_for(buys)
    assert rule.had_is_seen(buys)  # the models' own "seen" is already "bought": no detour
    assert rule.seen_rule == (
        "not suggested again: items the customer already bought before the test period"
    )
    assert rule.already_had(buys).height == 4 * 2 + 1  # u1-u4: X and A; u5: B


# ---- a headerless MovieLens-like u.data is a rating log
def _u_data(path: Path) -> Path:
    # user, item, rating 1-5, epoch seconds; tab-separated, no header (like MovieLens 100K)
    lines = [
        f"{1 + i % 6}\t{100 + (i * 7) % 31}\t{1 + (i * 3) % 5}\t{881250949 + 3600 * i}"
        for i in range(40)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_headerless_file_with_a_rating_scale_column_is_a_rating_log(tmp_path):
    from profiling.vocabulary import schema as S

    ds = load_dataset(_u_data(tmp_path / "u.data"), name="u.data")
    rep = ds.report.events
    assert rep.kind == "rating log"
    roles = {r: c for c, r in rep.mapping.items()}
    assert roles[S.RATING] == list(rep.mapping)[2]  # the third column
    assert S.QUANTITY not in roles
    assert sorted(ds.events[S.RATING].unique()) == [1.0, 2.0, 3.0, 4.0, 5.0]
    note = " ".join(rep.notes)
    assert "read as a rating log" in note and "map" in note and "'quantity'" in note


def test_a_headerless_file_with_a_money_column_stays_a_transaction_log(tmp_path):
    # user, item, quantity 1-5, epoch, unit price with cents: quantities, not ratings
    lines = [
        f"{1 + i % 6}\t{100 + (i * 7) % 31}\t{1 + (i * 3) % 5}\t{881250949 + 3600 * i}\t"
        f"{2.49 + i % 3}"
        for i in range(40)
    ]
    path = tmp_path / "sales.tsv"
    path.write_text("\n".join(lines) + "\n")
    rep = load_dataset(path, name="sales").report.events
    assert rep.kind == "transaction log"
    assert "rating" not in rep.mapping.values()


# ---- buy-again in the default comparison; the ratings note names only what happened
def test_buy_again_is_a_default_model_where_people_buy_again():
    from profiling.recommenders import registry
    from profiling.vocabulary import schema as S

    buys = _views_then_buys().filter(pl.col(S.EVENT_TYPE) == S.PURCHASE)
    assert "buy-again" not in registry.default_models(buys)  # nobody bought twice
    again = pl.concat([buys, buys.head(1).with_columns(pl.col(S.TIMESTAMP) + pl.duration(days=3))])
    # u1 bought X on two days: 1 of 9 (customer, item) pairs
    assert registry.repeat_purchase_share(again) == pytest.approx(1 / 9)
    assert registry.default_models(again)[-1] == "buy-again"
    ratings = again.with_columns(pl.lit(S.RATE).alias(S.EVENT_TYPE))
    assert "buy-again" not in registry.default_models(ratings)


def test_the_ratings_note_never_describes_a_conversion_that_did_not_happen():
    from profiling.recommenders import registry

    only_buys = registry.implicit_ratings_note(["purchase"], ["svd"])
    assert "view" not in only_buys and "cart" not in only_buys
    assert only_buys == (
        "No explicit ratings for these rating-prediction models, so purchases were turned "
        "into ratings (an item bought more often rates higher): svd."
    )
    # said in words, strongest first (weights: purchase 5 > cart 3 > view 1), not as "a < b"
    assert registry.implicit_ratings_note(["view", "purchase", "cart"], ["svd"]) == (
        "No explicit ratings for these rating-prediction models, so events were turned into "
        "ratings: a purchase weighs most, then an add to cart, then a view: svd."
    )
    both = registry.implicit_ratings_note(["view", "click", "purchase"], ["svd", "nmf"])
    assert "a purchase weighs most, then a view or a click: svd, nmf." in both  # view = click
    with i18n.language("zh"):
        zh = registry.implicit_ratings_note(["view", "purchase", "cart"], ["svd"])
    assert "<" not in zh and "view" not in zh and "purchase" not in zh


# ---- a currency suggested from the country column, for the user to confirm
def test_a_dominant_country_or_locale_suggests_a_currency():
    from profiling.vocabulary import fmt

    uk = pl.Series(["United Kingdom"] * 8 + ["France", "EIRE"])
    hint = fmt.suggest_currency({"Country": uk})
    assert hint.sentence() == "GBP, suggested from Country = United Kingdom"
    assert hint.share == pytest.approx(0.8)
    mixed = pl.Series(["United Kingdom"] * 7 + ["France"] * 3)  # 70%: no suggestion
    assert fmt.suggest_currency({"Country": mixed}) is None
    assert fmt.suggest_currency({"locale": pl.Series(["de_DE"] * 5)}).code == "EUR"
    assert fmt.suggest_currency({"Country": pl.Series(["Atlantis"] * 5)}) is None


def test_the_overview_shows_money_in_the_suggested_currency_until_confirmed(
    clear_streamlit_caches, home, tmp_path
):
    src = tmp_path / "retail.csv"
    src.write_text(CANCELLED)
    ws = W.create("UK retail", src)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = ws.slug
    at.run()
    assert not at.exception
    info = re.sub(r"\\(.)", r"\1", " ".join(i.value for i in at.info))  # Markdown escapes
    assert "GBP, suggested from Country = United Kingdom" in info
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Revenue"].startswith("£")
    at.button(key="ps_currency_confirm").click().run()
    assert not at.exception
    assert ws.meta().get("currency") == "GBP"
    assert "suggested from" not in " ".join(i.value for i in at.info)


# ---- Segments: each member opens their profile in the same workspace
def test_each_segment_member_links_to_their_profile_keeping_the_workspace(
    clear_streamlit_caches, two_snapshots
):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = two_snapshots.slug
    at.run()
    at.switch_page("app_pages/segments.py").run()
    assert not at.exception
    members = next(d.value for d in at.dataframe if "profile" in d.value.columns)
    links = dict(zip(members["user_id"], members["profile"], strict=True))
    assert links
    for user, link in links.items():
        assert link == f"user?ws={two_snapshots.slug}&user={user}"


# ---- presentation: no raw lists, float noise, raw JSON, "1 days", "100.00" or partial weeks
def test_tables_show_text_not_lists_float_noise_or_iso_offsets():
    from ui.labels import lists_as_text, table_text

    frame = pl.DataFrame(
        {
            "price": [15.299999999999999, 2.0],
            "flags": [[], ["Bot-like browsing", "Refunds"]],
            "when": pl.Series([datetime(2024, 1, 7, 14, 5), None]).dt.replace_time_zone("UTC"),
        }
    )
    text = table_text(frame)
    assert text["price"].to_list() == ["15\\.3", "2\\.0"]  # Markdown-escaped dots
    assert text["flags"].to_list() == ["", "Bot\\-like browsing, Refunds"]  # Markdown-escaped
    assert text["when"].to_list() == ["07 Jan 2024 14\\:05", ""]  # no "+00:00"
    assert lists_as_text(frame)["flags"].to_list() == ["", "Bot-like browsing, Refunds"]


def test_batches_name_their_files_instead_of_showing_stored_json():
    from ui.data import _files_text

    stored = '{"events": {"name": "part1.xlsx", "digest": "ab"}, "users": {"name": "u.csv"}}'
    # the table names as the tabs of the Data page name them ("Events", "Users")
    assert _files_text(stored) == "Events: part1.xlsx · Users: u.csv"


def test_days_and_percentiles_read_naturally():
    from profiling.vocabulary import fmt
    from profiling.vocabulary import glossary as G

    assert fmt.column_format(G.DAYS) == "%,.0f"  # the header says "days": no "1 days"
    assert G.kind("anomaly_pct") == G.PERCENTILE
    assert fmt.column_format(G.PERCENTILE) == "%.0f"
    assert fmt.feature(100.0, "churn_risk_pct") == "100"
    assert fmt.date_text(datetime(2024, 1, 7)) == "07 Jan 2024"


def test_partial_first_and_last_weeks_are_marked():
    from profiling.profiles import overview as O
    from profiling.vocabulary import schema as S

    days = [datetime(2024, 1, d, 12) for d in (3, 10, 17)]  # Wed 3 Jan .. Wed 17 Jan
    ev = pl.DataFrame(
        {
            S.USER_ID: ["a", "b", "c"],
            S.EVENT_TYPE: [S.PURCHASE] * 3,
            S.TIMESTAMP: pl.Series(days).dt.replace_time_zone("UTC"),
            S.AMOUNT: [1.0, 1.0, 1.0],
        }
    )
    start = datetime(2024, 1, 3, tzinfo=UTC)  # a Wednesday
    end = datetime(2024, 1, 18, tzinfo=UTC)
    t = O.over_time(ev, start, end, every="1w")
    # weeks start on Mondays: 1 Jan (from Wed 3: partial), 8 Jan (whole), 15 Jan (to Thu 18)
    assert t["partial"].to_list() == [True, False, True]
