"""The stakeholder report: sections, escaping, headline numbers, privacy, pictures and PDF."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import polars as pl
import pytest

from profiling.data import privacy as P
from profiling.data.dataset import load_dataset
from profiling.present import report as R
from profiling.profiles.segments import RFM_DEFINITIONS, SegmentDescription
from profiling.vocabulary import i18n
from profiling.workspace.results import ResultStore
from tests.test_i18n_e2e import latin_words

# u1: orders o1 (1 x 10 + 2 x 5 = 20) and o2 (10); u2: o3 (5); u3: o4 (3 x 10 = 30)
LOG = """user,item,when,qty,price,order_id
u1,i1,2024-01-01 10:00,1,10,o1
u1,i2,2024-01-01 10:00,2,5,o1
u1,i1,2024-02-01 10:00,1,10,o2
u2,i2,2024-01-15 09:00,1,5,o3
u3,i1,2024-03-01 12:00,3,10,o4
"""
EVIL = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "log.csv"
    path.write_text(LOG)
    return load_dataset(path, name="<b>Shop</b> & co")


def _seg(name: str, users: int, share_users: float, share_rev: float | None, definition=""):
    return SegmentDescription(
        segment=name,
        name=name,
        users=users,
        share_of_users=share_users,
        revenue=None,
        share_of_revenue=share_rev,
        top_features=[{"feature": "frequency", "z": 1.2}],
        definition=definition,
    )


SEGMENTS = [
    _seg("Loyal", 50, 50 / 87, 0.7, "buy often & recently"),
    _seg(EVIL, 30, 30 / 87, 0.2, "a <i>rule</i>"),
    _seg("Tiny", 4, 4 / 87, 0.06),
    _seg("Tinier", 3, 3 / 87, 0.04),
]

METRICS = pl.DataFrame(
    {
        "model": ["popularity", EVIL, "ease"],
        "metric": ["hit_rate"] * 3,
        "k": [10] * 3,
        "value": [0.20, 0.35, 0.30],
        "ci_low": [0.15, 0.30, 0.25],
        "ci_high": [0.25, 0.40, 0.35],
        "is_best": [False, True, False],
    }
)


def _comparison(stale=False):
    return R.SavedComparison(
        METRICS,
        "global temporal split at 2024-02-15",
        datetime(2024, 3, 1, tzinfo=UTC),
        stale,
        cutoff=datetime(2024, 2, 15, tzinfo=UTC),
    )


def test_headline_numbers_worked_out_by_hand(ds):
    h = R.headline(ds)
    assert (h["customers"], h["buyers"], h["orders"]) == (3, 3, 4)
    assert h["revenue"] == pytest.approx(20 + 10 + 5 + 30)
    assert h["average_order_value"] == pytest.approx(65 / 4)
    assert h["revenue_per_customer"] == pytest.approx(65 / 3)
    assert h["repeat_rate"] == pytest.approx(1 / 3)  # u1 ordered twice
    assert h["orders_counted_as"] == "order numbers"


def test_the_report_has_every_section_and_escapes_every_data_string(ds):
    rep = R.build_report(ds, SEGMENTS, comparison=_comparison(), charts=False)
    page = rep.html
    for section in ('id="overview"', 'id="segments"', 'id="models"'):
        assert section in page
    assert "<script" not in page  # neither the segment nor the model called <script>
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;Shop&lt;/b&gt; &amp; co" in page
    assert "a &lt;i&gt;rule&lt;/i&gt;" in page and "buy often &amp; recently" in page
    # one plain paragraph per section, with the numbers worked out above
    assert "placing 4 orders (counted as order numbers) worth 65.00" in page
    assert "16.25 per order on average" in page and "33% of buyers ordered more than once" in page
    assert "The largest is Loyal with 50 customers (57% of all)" in page  # 50 / 87
    assert "trained on activity before 15 February 2024 and checked against what" in page
    assert (
        "On the share of customers who later bought at least one of their top 10 suggestions, "
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; does best with 35.0%, against 20.0% "
        "for simply suggesting the best-sellers"
    ) in page
    assert 'class="privacy"' not in page  # privacy is off: no privacy note


def test_money_in_the_report_carries_the_workspace_currency(ds):
    page = R.build_report(ds, SEGMENTS[:2], charts=False, currency="GBP").html
    assert "worth £65.00 in total after refunds, £16.25 per order on average" in page
    assert '<div class="value">£21.67</div>' in page  # revenue per buying customer, 65 / 3
    euro = R.build_report(ds, SEGMENTS[:2], charts=False, currency="CHF").html
    assert "worth CHF 65.00 in total" in euro


def test_without_a_saved_comparison_the_models_section_is_left_out(ds):
    page = R.build_report(ds, SEGMENTS[:2], charts=False).html
    assert 'id="models"' not in page


def test_a_winning_baseline_is_said_to_win_and_a_stale_comparison_is_flagged(ds):
    pop_wins = METRICS.with_columns(
        pl.when(pl.col("model") == "popularity").then(0.5).otherwise(pl.col("value")).alias("value")
    )
    saved = R.SavedComparison(pop_wins, "split", datetime(2024, 3, 1, tzinfo=UTC), stale=True)
    page = R.build_report(ds, SEGMENTS[:2], comparison=saved, charts=False).html
    assert "popularity does best with 50.0%: suggesting the best-sellers to everyone" in page
    assert "used the data up to 01 March 2024; the data has changed since" in page


@pytest.mark.skipif(R.chromium_path() is None, reason="no Chromium on this machine")
def test_a_cross_validated_comparison_shows_the_spread_over_folds(ds):
    folded = pl.DataFrame(
        {
            "model": ["popularity", "ease"],
            "metric": ["hit_rate", "hit_rate"],
            "k": [10, 10],
            "value": [0.20, 0.31],
            "std": [0.02, 0.03],
            "folds": [5, 5],
            "is_best": [False, True],
        }
    )
    saved = R.SavedComparison(folded, "random 5-fold split", datetime(2024, 3, 1, tzinfo=UTC))
    page = R.build_report(ds, SEGMENTS[:2], comparison=saved, charts=True).html
    assert "Spread over 5 test folds (standard deviation)" in page
    assert '<td>ease</td><td class="num">31.0%</td><td class="num">± 3.0%</td>' in page
    assert "(random 5-fold split). On the share of customers" in page
    assert page.count("data:image/png;base64,") == 3


def test_small_groups_are_merged_and_sizes_get_noise_with_the_epsilon_stated(ds, monkeypatch):
    def plus_two(frame, column="users", epsilon=1.0):  # deterministic stand-in for OpenDP
        return P.NoisyCounts(frame.with_columns(pl.col(column) + 2), epsilon, column)

    monkeypatch.setattr(P, "dp_counts", plus_two)
    rep = R.build_report(ds, SEGMENTS, min_group=7, epsilon=0.5, charts=False)
    # noise first (+2 each: 52, 32, 6, 5), then the threshold on the noisy counts: Tiny (6)
    # and Tinier (5) are under k = 7, merged into one row of 11
    assert rep.sizes["segment"].to_list() == ["Loyal", EVIL, "fewer than 7 users"]
    assert rep.sizes["users"].to_list() == [52, 32, 11]
    assert rep.sizes["share_of_users"].to_list() == pytest.approx([52 / 95, 32 / 95, 11 / 95])
    assert rep.epsilon == 0.5
    assert "epsilon = 0.5" in rep.html and "fewer than 7 customers are merged" in rep.html
    # neither the small segments nor their true sizes are shown
    assert "<td>Tiny</td>" not in rep.html and "<td>Tinier</td>" not in rep.html
    for true in (4, 3, 6, 5):
        assert f'<td class="num">{true}</td>' not in rep.html
    assert '<td>fewer than 7 users</td><td class="num">11</td>' in rep.html
    # the headline counts: the total of the noisy sizes; buyers and orders left out
    assert "about 95 customers were active" in rep.html
    assert '<div class="label">Customers</div><div class="value">95</div>' in rep.html
    assert '<div class="label">Orders</div><div class="value">—</div>' in rep.html


def test_the_report_shows_the_release_the_pages_show(ds):
    release = {"Loyal": 47, EVIL: 33, "Tiny": 0, "Tinier": 9}
    sizes, notes = R.protected_sizes(SEGMENTS, min_group=5, epsilon=1.0, noisy=release)
    # Tiny's noisy 0 is under k and alone in the merged row, which is still under k: hidden
    assert dict(sizes.select("segment", "users").iter_rows()) == {
        "Loyal": 47,
        EVIL: 33,
        "Tinier": 9,
    }
    assert "epsilon = 1" in notes[0] and "fewer than 5 customers" in notes[1]
    with pytest.raises(P.PrivacyError, match=r"no count for the segments \['Tinier'\]"):
        R.protected_sizes(SEGMENTS, epsilon=1.0, noisy={"Loyal": 1, EVIL: 2, "Tiny": 3})


def test_real_dp_noise_keeps_counts_whole_and_non_negative(ds):
    sizes, notes = R.protected_sizes(SEGMENTS, epsilon=1.0)
    assert sizes["users"].dtype == pl.Int64 and sizes["users"].min() >= 0
    assert sizes["share_of_users"].sum() == pytest.approx(1.0)
    assert "epsilon = 1" in notes[0]


@pytest.mark.skipif(R.chromium_path() is None, reason="no Chromium on this machine")
def test_charts_are_embedded_as_pictures_and_the_pdf_prints(ds):
    rep = R.build_report(ds, SEGMENTS[:2], comparison=_comparison())
    assert rep.html.count('src="data:image/png;base64,iVBORw0KGgo') == 3  # PNG signature
    assert "http://" not in rep.html and "https://" not in rep.html  # self-contained
    pdf = R.html_to_pdf(rep.html)
    assert pdf.startswith(b"%PDF-")


def test_a_pdf_without_a_browser_names_it(tmp_path):
    with pytest.raises(R.ReportError, match="could not print the report"):
        R.html_to_pdf("<p>x</p>", chromium=str(tmp_path / "no-chromium"))


def test_a_refused_report_says_why_in_the_readers_language(monkeypatch):
    monkeypatch.setattr(R, "chromium_path", lambda: None)
    with pytest.raises(R.ReportError) as raised:
        R.html_to_pdf("<p>x</p>")
    assert str(raised.value) == (
        "the PDF needs Chromium: expected it at /usr/bin/chromium or in $BROWSER_PATH; found none"
    )
    with i18n.language("zh"):
        with pytest.raises(R.ReportError) as raised:
            R.html_to_pdf("<p>x</p>")
        assert str(raised.value) == (
            "生成 PDF 需要 Chromium：应位于 /usr/bin/chromium 或由 $BROWSER_PATH 指定，但都没有找到"
        )
        with pytest.raises(P.PrivacyError) as raised:
            R.protected_sizes(SEGMENTS[:1], epsilon=1.0, noisy={"Tiny": 4})
        assert (
            str(raised.value) == "加噪发布的数据中没有分群 ['Loyal'] 的人数；现有的分群：['Tiny']"
        )


def test_the_newest_saved_result_of_a_kind_is_found_whatever_its_parameters(tmp_path):
    store = ResultStore(tmp_path / "results")
    end = datetime(2024, 1, 1, tzinfo=UTC)
    store.put("comparison", {"k": 10}, "v1", "first", data_end=end, events=5)
    store.put("comparison", {"k": 20}, "v1", "second", data_end=end, events=5)
    store.put("model", {"name": "ease"}, "v1", "a model", data_end=end, events=5)
    info, value = store.newest("comparison")
    assert value == "second" and info.kind == "comparison"
    assert store.newest_info("comparison") == info
    assert store.newest("nothing-saved") is None


# ---- the report in Chinese ----------------------------------------------------------------
ZH_SEGMENTS = [
    SegmentDescription(
        segment="Champions",
        name="Champions",
        users=50,
        share_of_users=50 / 87,
        revenue=None,
        share_of_revenue=0.7,
        top_features=[{"feature": "frequency", "z": 1.2}],
        definition=RFM_DEFINITIONS["Champions"],
    ),
    _seg("Tiny", 4, 4 / 87, 0.06),  # merged into "fewer than 5 users"
    _seg("Tinier", 3, 3 / 87, 0.04),
]
ZH_METRICS = METRICS.with_columns(pl.Series("model", ["popularity", "item-knn", "ease"]))


def _visible_text(page: str) -> str:
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_the_report_in_chinese_has_no_english_outside_data_and_allowed_names(ds):
    saved = R.SavedComparison(
        ZH_METRICS,
        "split",
        datetime(2024, 3, 1, tzinfo=UTC),
        stale=True,
        cutoff=datetime(2024, 2, 15, tzinfo=UTC),
    )
    page = R.build_report(
        ds, ZH_SEGMENTS, comparison=saved, charts=False, min_group=5, language="zh", currency="CNY"
    ).html
    text = _visible_text(page)
    # the workspace name is data ("<b>Shop</b> & co"); EASE and kNN are model names
    assert latin_words(text, {"Shop", "co", "EASE", "kNN"}) == []
    assert '<html lang="zh-Hans">' in page
    assert "2024年2月15日" in text  # the cutoff, a Chinese date
    assert "冠军客户" in text  # the RFM segment name, in Chinese
    assert "少于 5 位用户" in text  # the merged small groups, in Chinese
    assert "¥65.00" in text  # 20 + 10 + 5 + 30, by the locale's money format
    assert "33% 的买家下单不止一次" in text  # u1 of u1, u2, u3


def test_the_report_language_is_a_parameter_not_the_callers_language(ds):
    with i18n.language("zh"):
        page = R.build_report(ds, ZH_SEGMENTS[:1], charts=False, language="en").html
    assert "Customer segments" in page and "客户" not in page
    assert i18n.get_language() == "en"  # the call leaves the caller's language as it was
    with pytest.raises(ValueError, match="language: expected one of en, zh, got 'fr'"):
        R.build_report(ds, ZH_SEGMENTS[:1], charts=False, language="fr")


def test_the_report_cache_key_differs_by_language_and_segment_scheme(monkeypatch):
    from ui import persist, stakeholder

    class Ref:
        def key(self) -> str:
            return "ws|v1"

    class Store:
        def newest_info(self, kind):
            return None

    class Privacy:
        min_group, dp_epsilon = 0, None

    monkeypatch.setattr(persist, "store", lambda ref: Store())

    def key(lang: str, scheme: str) -> str:
        return stakeholder.report_key(
            Ref(), ZH_SEGMENTS, "RFM segments", Privacy(), "CNY", lang, scheme
        )

    assert key("en", "rfm11") == key("en", "rfm11")  # the same report: one cache entry
    assert (
        len({key("en", "rfm11"), key("zh", "rfm11"), key("en", "tiers8"), key("zh", "tiers8")}) == 4
    )
