"""Journeys in a real browser (issue 24): each walks the pages a marketer, a product manager
or an analyst takes, on a small fixture generated here, and checks the figures shown against
a hand computation over the same fixture (plain Python over the CSV rows, never the app's
own library functions).

J1 marketer on a transaction CSV; J2 refresh with a second file; J3 a user deep link in a
fresh browser; J4 analyst comparisons that survive a server restart; J5 a rating log.
Screenshots at 1280 and 1400 px go to test-artifacts/screenshots/journeys/.
"""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
import subprocess
import uuid
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.test_e2e import snap, wait_idle

# about 4-6 minutes of one worker: `make test` runs them among the rest on two workers;
# `make journeys` runs only them
pytestmark = [pytest.mark.e2e, pytest.mark.journeys]

RUN = uuid.uuid4().hex[:6]  # every journey's workspace name carries it: no two runs meet
WIDTHS = (1280, 1400)
LONG = 180_000  # ms: a background job on a fixture of a few hundred rows, with room to spare


# ---- fixtures: a small UK-style retail export ------------------------------------------------
HEADER = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price"]
HEADER += ["Customer ID", "Country"]
PRICES = [0.85, 1.25, 0.42, 2.10, 0.65, 1.65, 0.29, 0.95, 1.45, 0.55, 0.75, 1.95]
ITEMS = [(f"8{i:04d}", f"GIFT ITEM {i}", p) for i, p in enumerate(PRICES, start=1)]
START = datetime(2024, 1, 2, 9, 0)
SPLIT = datetime(2024, 4, 1)  # J2: part one before, part two from this day
REFUNDED_ALL = "1040"  # bought 12 + 6 units on one invoice, cancelled both lines next day
FRANCE = ("1005", "1017")  # everyone else is in the United Kingdom: GBP is suggested
TWINS = ("1041", "1042")  # the same purchases on the same days: each other's closest customer
TWIN_LINES = [(30, "80003", 2), (30, "80008", 1), (75, "80003", 1), (120, "80010", 3)]


def retail_rows(seed: int = 24) -> list[list]:
    """About 300 invoice lines of 40 customers over six months: cancellations ("C" invoices,
    negative quantities), a customer who cancelled everything, three guest lines without a
    customer id and one exact duplicate line."""
    rnd = random.Random(seed)
    rows: list[list] = []
    inv = 536000
    for c in range(1001, 1040):
        cust = str(c)
        country = "France" if cust in FRANCE else "United Kingdom"
        first = rnd.randint(0, 170) if c < 1034 else rnd.randint(95, 170)  # 1034.. from April
        for o in range(rnd.randint(1, 5)):
            day = min(first + o * rnd.randint(5, 30), 178)
            when = START + timedelta(days=day, hours=rnd.randint(0, 8), minutes=rnd.randint(0, 59))
            inv += 1
            lines = rnd.sample(ITEMS, rnd.randint(1, 3))
            for code, desc, price in lines:
                rows.append([str(inv), code, desc, rnd.randint(1, 3), when, price, cust, country])
            if rnd.random() < 0.15:  # the first line cancelled two days later
                code, desc, price = lines[0]
                q = next(r[3] for r in rows if r[0] == str(inv) and r[1] == code)
                later = when + timedelta(days=2)
                rows.append(["C" + str(inv), code, desc, -q, later, price, cust, country])
    when = START + timedelta(days=40, hours=3)
    for sign, inv_no, day in ((1, "536900", when), (-1, "C536900", when + timedelta(days=1))):
        rows.append(
            [inv_no, "80001", "GIFT ITEM 1", 12 * sign, day, 0.85, REFUNDED_ALL, "United Kingdom"]
        )
        rows.append(
            [inv_no, "80004", "GIFT ITEM 4", 6 * sign, day, 2.10, REFUNDED_ALL, "United Kingdom"]
        )
    for day, code, qty in TWIN_LINES:  # twins: the same lines, their own invoices
        for cust in TWINS:
            when = START + timedelta(days=day, hours=2)
            desc, price = next((d, p) for c, d, p in ITEMS if c == code)
            rows.append(
                [f"538{cust[-2:]}{day:03d}", code, desc, qty, when, price, cust, "United Kingdom"]
            )
    for d in (20, 90, 150):  # guests: no customer id
        rows.append(
            [
                f"537{d:03d}",
                "80002",
                "GIFT ITEM 2",
                1,
                START + timedelta(days=d),
                1.25,
                "",
                "United Kingdom",
            ]
        )
    rows.sort(key=lambda r: (r[4], r[0], r[1]))
    rows.insert(11, list(rows[10]))  # one exact duplicate line
    return rows


def to_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    for r in rows:
        w.writerow([r[0], r[1], r[2], r[3], r[4].strftime("%Y-%m-%d %H:%M"), f"{r[5]:.2f}", *r[6:]])
    return out.getvalue().encode()


def hand_figures(rows: list[list]) -> dict:
    """The Overview's figures by the glossary's rules, worked out over the raw lines:
    guest lines and exact duplicates dropped; customers = distinct ids; orders = distinct
    invoices of purchase lines; revenue = quantity x price summed over purchases and
    cancellations (net of refunds); average order value = revenue / orders."""
    kept, seen = [], set()
    for r in rows:
        key = tuple(r)
        if not r[6] or key in seen:
            continue
        seen.add(key)
        kept.append(r)
    per_orders: dict[str, set] = defaultdict(set)
    per_spend: dict[str, float] = defaultdict(float)
    for r in kept:
        if r[3] > 0:
            per_orders[r[6]].add(r[0])
        per_spend[r[6]] += r[3] * r[5]
    orders = sum(len(v) for v in per_orders.values())
    revenue = round(sum(per_spend.values()), 2)
    return {
        "kept": kept,
        "customers": len({r[6] for r in kept}),
        "orders": orders,
        "revenue": revenue,
        "aov": revenue / orders,
        "orders_of": {c: len(v) for c, v in per_orders.items()},
        "spend_of": {c: round(v, 2) for c, v in per_spend.items()},
    }


# ---- browser helpers ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shots(screenshots) -> Path:
    out = screenshots / "journeys"
    out.mkdir(parents=True, exist_ok=True)
    return out


def shoot(page, shots: Path, name: str) -> None:
    """Full-page screenshots of the page as it is, at 1280 and at 1400 px."""
    size = page.viewport_size
    for w in WIDTHS:
        page.set_viewport_size({"width": w, "height": size["height"]})
        wait_idle(page)
        snap(page, shots / f"{name}-{w}.png")
    page.set_viewport_size(size)


def new_page(browser_or_context):
    return browser_or_context.new_page(viewport={"width": 1400, "height": 1000})


def nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).first.click()
    wait_idle(page)
    page.get_by_role("heading", name=title, exact=True).first.wait_for()


def metric_value(page, label: str):
    """The value element of the metric called ``label`` (exactly)."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{label}$"))
    )
    return box.first.locator('[data-testid="stMetricValue"]')


def metric(page, label: str) -> str:
    return metric_value(page, label).inner_text().strip()


def shows(page, label: str, value: str) -> None:
    """The metric ``label`` reads ``value``, once the run under way (if any) has drawn it."""
    expect(metric_value(page, label)).to_have_text(value, timeout=30_000)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label`` (its dropdown filters as one types)."""
    box = page.get_by_label(label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).first.click()
    wait_idle(page)


def download(page, button_name, *, exact: bool = False) -> bytes:
    """The bytes of the file a download button gives (the page must be idle: a rerun
    cancels a download under way)."""
    wait_idle(page)
    with page.expect_download() as d:
        page.get_by_role("button", name=button_name, exact=exact).click()
    return Path(d.value.path()).read_bytes()


def upload(page, content: bytes, name: str, mime: str = "text/csv", index: int = 0) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').nth(index).set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": content}]
    )
    wait_idle(page)
    page.get_by_text("Review the role of each column").first.wait_for()


def save_workspace(page, name: str) -> str:
    """Name and save the files under review; returns the new workspace's slug."""
    box = page.get_by_label("Workspace name", exact=True)
    box.fill(name)
    box.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Save as workspace").click()
    wait_idle(page, timeout=LONG)
    page.get_by_text(f"Saved workspace {name}").wait_for()
    found = re.search(r"[?&]ws=([^&]+)", page.url)
    assert found, page.url
    return found.group(1)


@contextmanager
def soft(failures: list[str], what: str):
    """Check ``what`` and carry on with the journey when it fails: every failure is listed
    at the end of the test (so one run shows every step that is wrong, not only the first)."""
    try:
        yield
    except (AssertionError, PlaywrightError) as exc:
        failures.append(f"{what}: {exc}")


def finish(failures: list[str]) -> None:
    assert not failures, "\n".join(failures)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian's poppler-utils) is missing: the PDF cannot be read")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def no_error(page) -> None:
    body = page.content()
    assert "Traceback" not in body
    assert page.locator('[data-testid="stException"]').count() == 0


def parse_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# ---- J1 -------------------------------------------------------------------------------------
def test_j1_marketer_uploads_a_transaction_csv_and_takes_segments_to_a_report(
    browser, app_url, shots, tmp_path
):
    rows = retail_rows()
    want = hand_figures(rows)
    assert want["customers"] == 42 and want["spend_of"][REFUNDED_ALL] == 0
    failures: list[str] = []
    page = new_page(browser)
    page.goto(f"{app_url}/data")
    wait_idle(page)
    upload(page, to_csv(rows), "retail.csv")
    page.get_by_text("Cleaning report · files under review").wait_for()
    page.get_by_text("Example rows: missing user id").first.wait_for()
    shoot(page, shots, "j1-data-review")
    slug = save_workspace(page, f"J1 retail {RUN}")
    # the currency is suggested from Country (38 of 40 customers in the United Kingdom)
    uk = sum(1 for c in {r[6]: r[7] for r in want["kept"]}.values() if c == "United Kingdom")
    share = f"{100 * uk / want['customers']:.0f}% of customers"  # 40 of 42
    suggestion = page.locator('[data-testid="stAlert"]').filter(
        has_text=re.compile(r"GBP, suggested from Country = United Kingdom")
    )
    with soft(failures, "currency suggestion"):
        assert share in suggestion.first.inner_text()
    shoot(page, shots, "j1-data-saved")

    nav(page, "Overview")
    assert f"ws={slug}" in page.url
    page.get_by_text("Whole log", exact=True).click()
    wait_idle(page)
    with soft(failures, "Overview Customers"):
        shows(page, "Customers", f"{want['customers']:,}")
    with soft(failures, "Overview Orders"):
        shows(page, "Orders", f"{want['orders']:,}")
    assert want["revenue"] < 1000  # shown in full, not shortened to "£0.54k"
    with soft(failures, "Overview Revenue"):
        shows(page, "Revenue", f"£{want['revenue']:,.2f}")
    with soft(failures, "Overview Average order value"):
        shows(page, "Average order value", f"£{want['aov']:,.2f}")
    # revenue per customer divides by the customers shown beside it
    per_customer = want["revenue"] / want["customers"]
    with soft(failures, "Overview Revenue per customer"):
        shows(page, "Revenue per customer", f"£{per_customer:,.2f}")
    no_error(page)
    shoot(page, shots, "j1-overview")

    nav(page, "Segments")
    page.get_by_role("heading", name="Members").wait_for()
    with soft(failures, "the Refunded everything audience"):
        choose(page, "Segment", "Refunded everything")
        page.get_by_text("customers in Refunded everything").wait_for()
        got = parse_csv(download(page, re.compile(r"customers as CSV$")))
        assert [r["user_id"] for r in got] == [REFUNDED_ALL]
        spend_col = next(c for c in got[0] if c.startswith("net spend"))
        assert float(got[0][spend_col]) == 0.0
    spend_col = "net spend (GBP)"
    # a second audience: every member's orders and net spend as worked out by hand
    choose(page, "Segment", "Champions")
    page.get_by_text("customers in Champions").wait_for()
    champions = parse_csv(download(page, re.compile(r"customers as CSV$")))
    assert champions
    orders_col = next(c for c in champions[0] if c.startswith("orders"))
    for r in champions:
        assert int(float(r[orders_col])) == want["orders_of"][r["user_id"]], r
        assert float(r[spend_col]) == pytest.approx(want["spend_of"][r["user_id"]], abs=0.006), r
    shoot(page, shots, "j1-segments")

    # the members table opens a member's profile, in the same workspace
    first = champions[0]["user_id"]
    grid = page.locator(
        "xpath=//button[contains(., 'customers as CSV')]"
        "/preceding::*[@data-testid='stDataFrame'][1]"
    )
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    # the grid is drawn on a canvas: rows and header are 35 px high; "open" is the first
    # column's text (a link opens only when the pointer is over its text)
    x, y = box["x"] + 20, box["y"] + 35 + 17
    page.mouse.move(x, y)
    with page.context.expect_page() as opened:
        page.mouse.click(x, y)
    profile = opened.value
    profile.wait_for_load_state()
    wait_idle(profile, timeout=LONG)
    assert f"ws={slug}" in profile.url and f"user={first}" in profile.url
    profile.get_by_role("heading", name=f"User {first}").wait_for()
    shoot(profile, shots, "j1-member-profile")
    profile.close()

    # the report before any comparison: the segments, and why the models are not in it
    page.get_by_role("button", name="Prepare the report").click()
    wait_idle(page, timeout=LONG)
    html = download(page, "Download (web page)").decode()
    pdf = pdf_text(download(page, "Download (PDF)"), tmp_path)
    for what, text in (("HTML", html), ("PDF", " ".join(pdf.split()))):
        with soft(failures, f"the {what} report's segments"):
            assert "Champions" in text and "Refunded everything" in text
    shoot(page, shots, "j1-report-ready")

    nav(page, "Recommenders")
    page.get_by_role("button", name="Train and compare").click()
    table = comparison_text(page)
    no_error(page)
    with soft(failures, "buy-again in the default comparison of a log of repeat purchases"):
        assert "buy-again" in table
    shoot(page, shots, "j1-recommenders")

    nav(page, "Segments")
    page.get_by_role("button", name="Prepare the report").click()
    wait_idle(page, timeout=LONG)
    html = download(page, "Download (web page)").decode()
    pdf = pdf_text(download(page, "Download (PDF)"), tmp_path)
    for what, text in (("HTML", html), ("PDF", " ".join(pdf.split()))):
        with soft(failures, f"the {what} report's model comparison"):
            assert "Champions" in text
            assert "Product suggestions: which model works best" in text
            assert "item-knn" in text
    page.close()
    finish(failures)


# ---- J2 -------------------------------------------------------------------------------------
def test_j2_a_second_file_is_added_and_what_changed_compares_dates_and_snapshots(
    browser, app_url, shots
):
    rows = retail_rows()
    part1 = [r for r in rows if r[4] < SPLIT]
    overlap = [r for r in part1 if r[6]][-5:]  # sent again: already in the workspace
    part2 = overlap + [r for r in rows if r[4] >= SPLIT]
    guests2 = sum(1 for r in part2 if not r[6])
    assert guests2 == 2
    new_rows = len(part2) - len(overlap) - guests2
    old_ids = {r[6] for r in part1 if r[6]}
    new_ids = {r[6] for r in part2 if r[6]} - old_ids
    want = hand_figures(rows)
    everyone = want["customers"]
    name = f"J2 refresh {RUN}"

    page = new_page(browser)
    page.goto(f"{app_url}/data")
    wait_idle(page)
    upload(page, to_csv(part1), "part-one.csv")
    slug = save_workspace(page, name)
    page.get_by_text(f"Add data to {name}", exact=True).click()
    wait_idle(page)
    upload(page, to_csv(part2), "part-two.csv")
    shoot(page, shots, "j2-add-review")
    page.get_by_role("button", name=f"Add to {name}").click()
    wait_idle(page, timeout=LONG)
    added = page.get_by_text(re.compile(r"^Batch \d+: ")).first
    added.wait_for(timeout=LONG)
    said = re.sub(r"^Batch \d+: ", "", added.inner_text().strip())
    failures: list[str] = []
    with soft(failures, "the batch message"):
        assert said == (
            f"{len(part2)} rows read, {new_rows} new, {len(overlap)} already in the workspace, "
            f"{guests2} dropped ({guests2} missing user id); {len(new_ids)} new customers"
        )
    shoot(page, shots, "j2-added")

    # What changed, two dates: the earlier date defaults to 90 days before the last event
    last = max(r[4] for r in want["kept"])
    earlier = datetime.combine((last - timedelta(days=90)).date(), datetime.max.time())
    first_seen = {}
    for r in want["kept"]:
        first_seen[r[6]] = min(r[4], first_seen.get(r[6], r[4]))
    new_since = sum(1 for t in first_seen.values() if t > earlier)
    nav(page, "What changed")
    assert f"ws={slug}" in page.url

    def figures(compared: int, new: int) -> None:
        page.locator(".sankey").first.wait_for(timeout=LONG)
        shows(page, "Customers compared", f"{compared:,}")
        shows(page, "New customers", f"{new:,}")
        wait_idle(page, timeout=LONG)
        no_error(page)

    figures(everyone, new_since)
    shoot(page, shots, "j2-changes-dates-rfm")
    page.get_by_text("Behaviour groups", exact=True).click()
    page.wait_for_url(re.compile(r"by=cluster_name"))
    figures(everyone, new_since)
    shoot(page, shots, "j2-changes-dates-clusters")

    page.get_by_text("Two snapshots", exact=True).click()
    page.get_by_label("Earlier", exact=True).wait_for()
    figures(everyone, len(new_ids))
    shoot(page, shots, "j2-changes-snapshots-clusters")
    page.get_by_text("Value segments", exact=True).click()
    page.wait_for_url(re.compile(r"by=rfm_segment"))
    figures(everyone, len(new_ids))
    shoot(page, shots, "j2-changes-snapshots-rfm")

    flows = parse_csv(download(page, "Download the flows (CSV)"))
    count = next(c for c in flows[0] if c.split(" (")[0] == "customers")
    # the table lists the customers who moved: changed segment, or new since the earlier date
    moved = int(metric(page, "Changed segment").replace(",", "")) + len(new_ids)
    assert sum(int(r[count]) for r in flows) == moved
    # every customer new in part two is in a flow from "new" in the second snapshot
    first_time = {r["earlier segment"] for r in flows} & {"New customers", "New users"}
    with soft(failures, "one name for the people: 'New customers' in the flows"):
        assert first_time == {"New customers"}
    from_new = [r for r in flows if r["earlier segment"] in first_time]
    assert sum(int(r[count]) for r in from_new) == len(new_ids)
    # export one flow: the one listed first
    button = page.get_by_role("button", name=re.compile(r"^Download [\d,]+ customers \("))
    n = int(re.search(r"Download ([\d,]+) customers", button.inner_text()).group(1))
    audience = parse_csv(download(page, re.compile(r"^Download [\d,]+ customers \(")))
    assert len(audience) == n == int(flows[0][count])
    assert {r["user_id"] for r in audience} <= set(first_seen)

    nav(page, "Segments")
    page.get_by_text("Behaviour groups", exact=True).click()
    wait_idle(page, timeout=LONG)
    page.get_by_text("How many groups: how well separated they are").wait_for(timeout=LONG)
    no_error(page)
    shoot(page, shots, "j2-segments-clusters")
    page.close()
    finish(failures)


# ---- J3 -------------------------------------------------------------------------------------
def percentile_words(share: float) -> str:
    return f"{share:.1f}%" if 0 < share < 1 or 99 < share < 100 else f"{share:.0f}%"


def test_j3_a_product_manager_opens_a_customer_by_link_in_a_fresh_browser(
    browser, app_url, shots, tmp_path
):
    from profiling import workspace as W

    rows = retail_rows()
    want = hand_figures(rows)
    path = tmp_path / "retail.csv"
    path.write_bytes(to_csv(rows))
    slug = W.create(f"J3 links {RUN}", path).slug  # set up as J1 saves it; the journey is the link
    twin, other = TWINS
    bought = {code for _, code, _ in TWIN_LINES}
    failures: list[str] = []

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{app_url}/user?ws={slug}&user={twin}")
    wait_idle(page, timeout=LONG)
    page.get_by_role("heading", name=f"User {twin}").wait_for()
    # the twin, with the same purchases on the same days, is the closest customer
    sim = page.locator('[class*="st-key-ps_sim_"]').first
    sim.wait_for(timeout=LONG)
    assert f"st-key-ps_sim_{other} " in sim.get_attribute("class") + " "
    # the orders percentile says the ties: shares of the 42 customers below and equal
    orders = want["orders_of"]
    mine = orders[twin]
    below = 100 * sum(1 for c in first_ids(want) if orders.get(c, 0) < mine) / want["customers"]
    tied = 100 * sum(1 for c in first_ids(want) if orders.get(c, 0) == mine) / want["customers"]
    sentence = (
        f"more than {percentile_words(below)} of customers; the same as {percentile_words(tied)}"
    )
    column = page.locator('[data-testid="stColumn"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile("^Orders$"))
    )
    assert sentence in column.first.inner_text()

    sim.get_by_role("button").click()
    wait_idle(page, timeout=LONG)
    page.get_by_role("heading", name=f"User {other}").wait_for()
    assert f"user={other}" in page.url and f"ws={slug}" in page.url
    reasons = re.compile("often choose this too|tastes like yours|matches your interest|bought")
    tables = page.locator('[data-testid="stTable"]')
    tables.filter(has_text=reasons).first.wait_for(timeout=LONG)
    # buy again: exactly this customer's own purchases
    again = page.locator(
        "xpath=//*[@data-testid='stMarkdownContainer'][.//strong[text()='Buy again']]"
        "/following::*[@data-testid='stTable'][1]"
    )
    again.wait_for(timeout=LONG)
    titles = {t for c, t, _ in ITEMS if c in bought}
    assert again.locator("tbody tr").count() == len(bought)
    assert all(t in again.inner_text() for t in titles)

    # predicted scores, in plain words
    page.get_by_role("button", name="Compute in the background").click()
    wait_idle(page)
    # the profile does not refresh when they are ready: the Predictions page shows progress
    with soft(failures, "predicted scores"):
        page.goto(f"{app_url}/predictions?ws={slug}")
        done = page.get_by_role("heading", name="Model against baselines")
        done.or_(page.get_by_test_id("stAlertContentError")).first.wait_for(timeout=LONG)
        assert done.count() == 1, page.get_by_test_id("stAlertContentError").all_inner_texts()
        wait_idle(page, timeout=LONG)
        shoot(page, shots, "j3-predictions")
        page.goto(f"{app_url}/user?ws={slug}&user={other}")
        wait_idle(page, timeout=LONG)
        page.locator('[data-testid="stMetricLabel"]', has_text="Chance to buy").wait_for(
            timeout=LONG
        )
        assert re.fullmatch(r"\d+\.\d%", metric(page, "Chance to buy"))
        for words in ("Still active", "Value, next year"):
            page.locator('[data-testid="stMetricLabel"]', has_text=words).first.wait_for()
        no_error(page)
    shoot(page, shots, "j3-user-twin")

    # the customer who cancelled everything: not "still active 100%", no value next year
    page.goto(f"{app_url}/user?ws={slug}&user={REFUNDED_ALL}")
    wait_idle(page, timeout=LONG)
    page.get_by_role("heading", name=f"User {REFUNDED_ALL}").wait_for()
    with soft(failures, "the scores of a customer who cancelled everything"):
        page.locator('[data-testid="stMetricLabel"]', has_text="Still active").wait_for(
            timeout=LONG
        )
        assert metric(page, "Still active") != "100.0%"
        assert metric(page, "Value, next year") in ("£0.00", "—", "could not fit")
        assert "Refunded everything" in page.content()
    shoot(page, shots, "j3-user-refunded-everything")

    page.goto(f"{app_url}/user?ws={slug}&user=nobody-{RUN}")
    wait_idle(page, timeout=LONG)
    page.get_by_text(f"nobody-{RUN} is not in workspace").wait_for()
    assert page.get_by_role("heading", name=re.compile(r"^User (?!profile$)")).count() == 0
    shoot(page, shots, "j3-user-missing")
    page.goto(f"{app_url}/user?ws=no-such-{RUN}&user={twin}")
    wait_idle(page, timeout=LONG)
    page.get_by_text("could not be opened").first.wait_for()
    assert page.locator('[data-testid="stMetric"]').count() == 0
    shoot(page, shots, "j3-workspace-missing")
    context.close()
    finish(failures)


def first_ids(want: dict) -> set[str]:
    return {r[6] for r in want["kept"]}


# ---- J4 -------------------------------------------------------------------------------------
LEAVE_LAST = "each customer's last purchase"  # the protocol's short name in its box
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
TRAINING_SEEN_JS = """() => {
    window.__training = [];
    setInterval(() => {
        const text = document.body ? document.body.innerText : "";
        for (const m of text.matchAll(/Training [^\\n]*in the background|Training runs in the background/g))
            if (!window.__training.includes(m[0])) window.__training.push(m[0]);
    }, 100);
}"""


def small_store(folder: Path) -> tuple[Path, Path]:
    """An event log of the sample store's shape, a few hundred rows: 40 of its customers who
    bought 3 to 5 different items, their purchases, carts and ratings, and the first view of
    each item they carted or bought (a purchase follows a view of the same item); the
    catalog of those items."""
    import polars as pl

    e = pl.read_parquet(SAMPLE / "events.parquet")
    bought = (
        e.filter(pl.col("event_type") == "purchase")
        .group_by("user_id")
        .agg(pl.col("item_id").n_unique().alias("n"))
    )
    users = bought.filter(pl.col("n").is_between(3, 5)).sort("user_id").head(40)["user_id"]
    mine = e.filter(pl.col("user_id").is_in(users.implode()))
    acted = mine.filter(pl.col("event_type") != "view")
    views = (
        mine.filter(pl.col("event_type") == "view")
        .join(acted.select("user_id", "item_id").unique(), on=["user_id", "item_id"])
        .sort("timestamp")
        .unique(["user_id", "item_id"], keep="first")
    )
    log = pl.concat([acted, views]).sort("timestamp", "user_id", "item_id")
    items = pl.read_csv(SAMPLE / "items.csv", infer_schema=False).filter(
        pl.col("item_id").is_in(log["item_id"].unique().implode())
    )
    events_path, items_path = folder / "store-events.csv", folder / "store-items.csv"
    log.write_csv(events_path)
    items.write_csv(items_path)
    return events_path, items_path


def comparison_text(page) -> str:
    """The every-measure table under the Comparison heading."""
    page.get_by_role("heading", name="Comparison").wait_for(timeout=LONG)
    wait_idle(page, timeout=LONG)
    return page.locator(
        "xpath=//h3[.//text()[normalize-space()='Comparison']]/following::*[@data-testid='stTable'][1]"
    ).inner_text()


SPLIT_WORDS = {None: "Split: global temporal split at", LEAVE_LAST: "Split: leave-last-1 "}


def compare_models(page, protocol: str | None, tune: bool) -> None:
    """Submit the Recommenders form with ``protocol`` (None: the default, temporal) and the
    Tune switch; returns once the run that the submission started has drawn its split."""
    if protocol is not None:
        choose(page, "How models are tested", protocol)
    toggle = page.locator(".st-key-ps_rec_tune input[type=checkbox]")
    if toggle.is_checked() != tune:
        page.get_by_text("Tune the settings", exact=True).click()
    page.get_by_role("button", name="Train and compare").click()
    page.get_by_text(SPLIT_WORDS[protocol]).first.wait_for(timeout=LONG)
    wait_idle(page, timeout=LONG)


def ndcg_values(page) -> list[float]:
    """The NDCG@K of every model in the comparison's every-measure table."""
    row = page.locator(
        "xpath=//h3[.//text()[normalize-space()='Comparison']]/following::*[@data-testid='stTable'][1]"
        "//tr[contains(., 'NDCG')]"
    ).first
    cells = row.locator("td").all_inner_texts()
    values = [float(m.group()) for c in cells if (m := re.search(r"\d+\.\d+", c))]
    assert values, f"no NDCG values in the comparison: {cells!r}"
    return values


def test_j4_an_analysts_comparisons_tuned_or_not_and_models_survive_a_restart(
    browser, shots, tmp_path, monkeypatch
):
    from profiling import workspace as W
    from tests.conftest import start_app, stop_app

    home = tmp_path / "home"
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(home))
    events, items = small_store(tmp_path)
    slug = W.create(f"J4 store {RUN}", events, items=items).slug
    some_user = events.read_text().splitlines()[1].split(",")[0]
    env = {"PERSONA_STUDIO_HOME": str(home)}

    url, proc, log = start_app(env)
    try:
        page = new_page(browser)
        page.goto(f"{url}/recommenders?ws={slug}")
        wait_idle(page)
        compare_models(page, None, tune=False)
        temporal = comparison_text(page)
        assert page.get_by_role("heading", name="Tuned settings").count() == 0
        no_error(page)
        shoot(page, shots, "j4-temporal")
        compare_models(page, LEAVE_LAST, tune=True)  # tuned on validation only
        last = comparison_text(page)
        page.get_by_role("heading", name="Tuned settings").wait_for()
        # "already seen" is what they bought: a purchase after a view of it still counts
        assert "already bought" in page.get_by_text(re.compile(r"^Split: ")).first.inner_text()
        assert max(ndcg_values(page)) > 0
        shoot(page, shots, "j4-leave-last-tuned")
        page.goto(f"{url}/user?ws={slug}&user={some_user}")
        wait_idle(page, timeout=LONG)
        page.get_by_text("Their own purchases").wait_for(timeout=LONG)
        training = page.get_by_text(re.compile(r"^Training .* in the background"))
        expect(training).to_have_count(0, timeout=LONG)  # every list is trained and saved
        wait_idle(page, timeout=LONG)
        page.close()
    finally:
        stop_app(proc, log)

    url, proc, log = start_app(env)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(f"({TRAINING_SEEN_JS})()")
        page = context.new_page()
        page.goto(f"{url}/recommenders?ws={slug}")
        wait_idle(page)
        compare_models(page, None, tune=False)
        assert comparison_text(page) == temporal
        page.get_by_text(re.compile(r"^Saved comparison, ")).first.wait_for()
        compare_models(page, LEAVE_LAST, tune=True)
        assert comparison_text(page) == last
        assert page.get_by_text("could not be saved with the workspace").count() == 0
        shoot(page, shots, "j4-after-restart")
        page.goto(f"{url}/user?ws={slug}&user={some_user}")
        wait_idle(page, timeout=LONG)
        page.get_by_text("Their own purchases").wait_for(timeout=LONG)
        wait_idle(page, timeout=LONG)
        no_error(page)
        assert page.evaluate("() => window.__training") == []
        context.close()
    finally:
        stop_app(proc, log)


# ---- J5 -------------------------------------------------------------------------------------
def rating_log(seed: int = 5) -> list[tuple[str, str, int, int]]:
    """MovieLens-like ratings: 36 users in three tastes, 30 films in three genres; each user
    rates ten films, their own genre high. (user, item, rating 1-5, epoch seconds)."""
    rnd = random.Random(seed)
    out = []
    t0 = int(datetime(2024, 1, 1).timestamp())
    for u in range(1, 37):
        taste = u % 3
        films = rnd.sample(range(1, 31), 10)
        for n, f in enumerate(sorted(films)):
            own = (f - 1) // 10 == taste
            stars = rnd.randint(4, 5) if own else rnd.randint(1, 3)
            out.append((str(u), str(100 + f), stars, t0 + u * 3600 + n * 86_400 * 9))
    return out


def test_j5_a_rating_log_gets_rating_defaults_along_the_same_journey(browser, app_url, shots):
    ratings = rating_log()
    udata = "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ratings).encode()
    users = {u for u, *_ in ratings}
    page = new_page(browser)
    page.goto(f"{app_url}/data")
    wait_idle(page)
    upload(page, udata, "u.data", mime="application/octet-stream")
    notes = " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())
    assert "read as a rating log with 'column_3' as the rating" in notes  # says how to change it
    assert "map 'column_3' to 'quantity'" in notes
    shoot(page, shots, "j5-data-review")
    slug = save_workspace(page, f"J5 ratings {RUN}")

    nav(page, "Overview")
    page.get_by_text("Whole log", exact=True).click()
    wait_idle(page)
    page.get_by_text("A rating log").first.wait_for()
    shows(page, "Customers", f"{len(users)}")
    # a rating log's own figures, not orders and a repeat rate shown twice
    shows(page, "Ratings", f"{len(ratings)}")
    shows(page, "Items rated", f"{len({i for _, i, *_ in ratings})}")
    shows(page, "Average rating", f"{sum(r for *_, r, _ in ratings) / len(ratings):.2f}")
    labels = page.locator('[data-testid="stMetricLabel"]')
    assert labels.filter(has_text=re.compile("^(Orders|Repeat customers)$")).count() == 0
    no_error(page)
    shoot(page, shots, "j5-overview")

    nav(page, "Recommenders")
    relevant = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Counts as a hit")
    assert "rating" in relevant.inner_text()
    page.get_by_role("button", name="Train and compare").click()
    table = comparison_text(page)
    assert "RMSE" in table
    no_error(page)
    shoot(page, shots, "j5-recommenders")

    nav(page, "Segments")
    no_error(page)
    page.get_by_role("button", name="Prepare the report").click()
    wait_idle(page, timeout=LONG)
    html = download(page, "Download (web page)").decode()
    assert "Product suggestions: which model works best" in html
    assert "svd" in html  # the rating model of the comparison
    shoot(page, shots, "j5-segments")

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    fresh = context.new_page()
    fresh.goto(f"{app_url}/user?ws={slug}&user=7")
    wait_idle(fresh, timeout=LONG)
    fresh.get_by_role("heading", name="User 7").wait_for()
    reasons = re.compile("often choose this too|tastes like yours|matches your interest")
    fresh.locator('[data-testid="stTable"]').filter(has_text=reasons).first.wait_for(timeout=LONG)
    no_error(fresh)
    shoot(fresh, shots, "j5-user")
    context.close()
    page.close()
