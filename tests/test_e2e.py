"""Browser end-to-end: the real app in headless Chromium, every page, an upload, screenshots."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

SMALL_CSV = (
    "Customer ID,StockCode,InvoiceDate,Quantity,Price\n"
    "c1,A,2024-01-01 10:00,2,5.00\n"
    "c1,B,2024-01-03 11:00,1,3.50\n"
    ",A,2024-01-04 12:00,1,5.00\n"
    "c2,A,not a date,1,5.00\n"
    "c2,B,2024-01-05 09:00,-1,3.50\n"
)


def wait_idle(page, timeout: float = 90_000) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout
    )
    page.wait_for_timeout(400)
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout
    )


def snap(page, path) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its main area, so grow the
    viewport to the content's height first."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], section')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)"
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(600)
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(url)
    wait_idle(page)
    return page


def test_every_page_renders_and_an_uploaded_csv_shows_its_cleaning_report(
    browser, app_url, screenshots
):
    page = open_page(browser, app_url)
    page.get_by_role("heading", name="Overview").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    assert (
        page.locator('[data-testid="stMetric"]').count() == 6
    )  # customers, orders, revenue, AOV, conversion, per customer
    assert "Data quality" in page.content()
    snap(page, screenshots / "overview.png")

    page.get_by_role("link", name="Segments").first.click()
    wait_idle(page)
    page.get_by_role("heading", name="Segments", exact=True).wait_for()
    page.locator(".js-plotly-plot").nth(2).wait_for()
    assert "Champions" in page.content()
    snap(page, screenshots / "segments-rfm.png")
    page.get_by_text("Behaviour groups", exact=True).click()
    wait_idle(page)
    page.get_by_text("How many groups: how well separated they are").wait_for()
    snap(page, screenshots / "segments-clusters.png")

    page.get_by_role("link", name="Recommenders").first.click()
    wait_idle(page)
    page.get_by_role("button", name="Train and compare").click()
    # trained in the background: the page polls and shows the comparison when it is ready
    page.get_by_role("heading", name="Comparison").wait_for(timeout=240_000)
    wait_idle(page, timeout=180_000)
    page.locator(".js-plotly-plot").nth(4).wait_for()
    snap(page, screenshots / "recommenders.png")

    page.get_by_role("link", name="Data").first.click()
    wait_idle(page)
    page.get_by_role("heading", name="Cleaning report · Sample store").wait_for()
    snap(page, screenshots / "data-sample.png")

    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        files=[{"name": "small.csv", "mimeType": "text/csv", "buffer": SMALL_CSV.encode()}]
    )
    wait_idle(page)
    page.get_by_text("Review the role of each column").wait_for()
    snap(page, screenshots / "data-mapping.png")
    name = page.get_by_label("Workspace name", exact=True)
    assert name.input_value() == "small"  # the default comes from the file name
    name.fill("E2E small shop")
    name.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Save as workspace").click()
    wait_idle(page, timeout=120_000)
    page.get_by_text("Saved workspace E2E small shop").wait_for()
    page.get_by_role("heading", name="Cleaning report · E2E small shop").wait_for()
    assert "ws=e2e-small-shop" in page.url
    picker = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
    assert "E2E small shop" in picker.inner_html()  # the sidebar follows the new workspace
    for reason in ("missing user id", "unparseable timestamp", "refund: negative quantity"):
        page.get_by_text(f"Example rows: {reason}").first.wait_for()
    snap(page, screenshots / "data-upload-report.png")

    # a reload keeps the workspace, and so does a page change
    page.reload()
    wait_idle(page)
    page.get_by_role("heading", name="Cleaning report · E2E small shop").wait_for()
    page.get_by_role("link", name="Overview").first.click()
    wait_idle(page)
    assert "ws=e2e-small-shop" in page.url
    page.locator('[data-testid="stCaptionContainer"]', has_text="E2E small shop").first.wait_for()
    assert page.locator('[data-testid="stMetric"]').first.inner_text().endswith("2")
    snap(page, screenshots / "overview-upload.png")
    assert "Traceback" not in page.content()
    page.close()

    # a fresh browser (no cookies, no session) opens a user of the saved workspace by link
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    fresh = context.new_page()
    fresh.goto(f"{app_url}/user?ws=e2e-small-shop&user=c1")
    wait_idle(fresh, timeout=180_000)
    fresh.get_by_role("heading", name="User c1").wait_for()
    assert "E2E small shop" in fresh.content()
    snap(fresh, screenshots / "user-deep-link-workspace.png")
    # a link to a user who is not there says so, and shows nobody else
    fresh.goto(f"{app_url}/user?ws=e2e-small-shop&user=c999")
    wait_idle(fresh, timeout=120_000)
    fresh.get_by_text("is not in workspace").wait_for()
    assert fresh.get_by_role("heading", name="User c1").count() == 0
    snap(fresh, screenshots / "user-missing.png")
    fresh.goto(f"{app_url}/?ws=no-such-workspace")
    wait_idle(fresh)
    fresh.get_by_text("could not be opened").wait_for()
    assert fresh.locator('[data-testid="stMetric"]').count() == 0
    context.close()


def test_what_changed_draws_the_migration_between_two_dates(browser, app_url, screenshots):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(f"{app_url}/changes?ws=sample")
    page.get_by_role("heading", name="What changed").wait_for()
    page.locator(".js-plotly-plot").first.wait_for(timeout=300_000)
    wait_idle(page, timeout=300_000)
    assert page.locator(".sankey").count() >= 1
    assert "Flows between segments" in page.content()
    snap(page, screenshots / "what-changed-rfm.png")
    page.get_by_text("Behaviour groups", exact=True).click()
    page.get_by_text("Rebuilding profiles and segments").first.wait_for()  # in the background
    page.locator(".sankey").first.wait_for(timeout=300_000)
    wait_idle(page, timeout=300_000)
    snap(page, screenshots / "what-changed-clusters.png")
    assert "Traceback" not in page.content()
    page.close()


def test_a_profile_link_opens_the_user_with_recommendations_and_reasons(
    browser, app_url, screenshots
):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(f"{app_url}/user?ws=sample&user=U000042")
    wait_idle(page, timeout=180_000)
    page.get_by_role("heading", name="User U000042").wait_for()
    page.get_by_role("heading", name="Recommendations").wait_for()
    page.locator(".js-plotly-plot").nth(3).wait_for()
    # the lists appear when the worker process has trained the models (the page polls)
    reasons = re.compile("often choose this too|users with tastes like yours|matches your interest")
    page.get_by_text(reasons).first.wait_for(timeout=240_000)
    wait_idle(page, timeout=180_000)
    assert "Traceback" not in page.content()
    snap(page, screenshots / "user-profile.png")
    page.close()


# The page coordinates and user id of the most isolated point of the first 2-D map: only
# visible traces, away from the plot area's edges and the mode bar, so a click hits exactly it.
ISOLATED_POINT_JS = """() => {
    const gd = document.querySelectorAll('.js-plotly-plot')[0];
    const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const pts = [];
    gd._fullData.forEach((trace, t) => {  // decoded arrays (numbers travel base64-encoded)
        if (trace.visible !== true) return;
        Array.from(trace.x).forEach((x, i) => pts.push({
            px: box.left + xa.d2p(x), py: box.top + ya.d2p(trace.y[i]),
            id: String(trace.customdata[i][0]),
        }));
    });
    let best = null, bestGap = -1;
    for (const p of pts) {
        const inside = p.px > box.left + 30 && p.px < box.right - 30
            && p.py > box.top + 50 && p.py < box.bottom - 30;
        if (!inside) continue;
        let gap = Infinity;
        for (const q of pts) {
            if (q !== p) gap = Math.min(gap, Math.hypot(p.px - q.px, p.py - q.py));
        }
        if (gap > bestGap) { best = p; bestGap = gap; }
    }
    return {...best, gap: bestGap, n: pts.length};
}"""


def test_clicking_a_point_of_the_profile_map_opens_that_user(browser, app_url, screenshots):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(f"{app_url}/map")
    page.locator(".gtitle", has_text="UMAP map of").wait_for(timeout=180_000)
    wait_idle(page, timeout=180_000)
    assert "UMAP map of 3,000 users" in page.locator(".gtitle").first.text_content()
    assert "Traceback" not in page.content()
    snap(page, screenshots / "profile-map.png")

    chart = page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    point = page.evaluate(ISOLATED_POINT_JS)
    assert point["n"] > 100 and point["gap"] >= 12, point
    page.mouse.move(point["px"], point["py"])
    page.locator(".hoverlayer .hovertext", has_text=point["id"]).wait_for(timeout=10_000)
    page.mouse.click(point["px"], point["py"])
    page.get_by_role("heading", name=f"User {point['id']}").wait_for(timeout=120_000)
    wait_idle(page, timeout=180_000)
    assert "Traceback" not in page.content()
    page.mouse.move(0, 0)  # no hover label or mode bar left over the user's charts
    snap(page, screenshots / "profile-map-opened-user.png")
    page.close()


def test_a_link_to_the_segments_page_opens_the_grouping_it_names(browser, app_url):
    # ?view= fills the grouping switch through the session state: it must not also carry a
    # default (Streamlit logs a warning, which the app_url fixture fails on at its end)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{app_url}/segments?ws=sample&view=Clusters")
    wait_idle(page, timeout=180_000)
    group = page.locator(".st-key-ps_seg_kind")
    assert group.locator('[aria-checked="true"]').inner_text() == "Behaviour groups"
    page.close()
