"""Browser end-to-end: the Predictions page trains with progress and shows the comparison;
Segments then filters Champions by churn risk and exports them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_e2e import snap, wait_idle

pytestmark = pytest.mark.e2e


def test_predictions_then_champions_likely_to_churn_are_exported(browser, app_url, screenshots):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(f"{app_url}/predictions")
    page.get_by_role("heading", name="Model against baselines").wait_for(timeout=300_000)
    wait_idle(page, timeout=300_000)
    page.locator(".js-plotly-plot").nth(8).wait_for()
    body = page.content()
    assert "On the held-out window" in body and "Traceback" not in body
    assert "Buying-pattern model (BG/NBD chance of buying again)" in body
    snap(page, screenshots / "predictions.png")

    page.get_by_role("link", name="Segments").first.click()
    wait_idle(page)
    page.get_by_role("heading", name="Members").wait_for()
    wait_idle(page)
    members = page.get_by_label("Segment", exact=True)
    members.scroll_into_view_if_needed()
    members.click()
    page.keyboard.type("Champions")  # the dropdown filters as one types
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_text("users in Champions").wait_for(timeout=60_000)
    page.get_by_text("Filter by predicted scores").click()
    churn = (
        page.locator('[data-testid="stSlider"]', has_text="Churn risk").get_by_role("slider").first
    )
    churn.focus()
    for _ in range(12):  # 0.00 -> 0.60 in steps of 0.05
        churn.press("ArrowRight")
    wait_idle(page)
    page.get_by_text("within the chosen score ranges").wait_for(timeout=60_000)
    wait_idle(page)  # each slider step reruns the page; a rerun cancels a download under way
    for attempt in range(2):
        try:
            with page.expect_download() as download:
                page.get_by_role("button", name="customers as CSV").click()
            path = download.value.path()
            break
        except Exception as exc:  # playwright's "Download.path: canceled" by a late rerun
            if attempt or "canceled" not in str(exc):
                raise
            wait_idle(page)
    lines = Path(path).read_text(encoding="utf-8").strip().splitlines()
    header = lines[0].split(",")
    churn_header = "chance of not buying again (share 0-1)"  # churn_risk, in plain words
    assert churn_header in header
    i = header.index(churn_header)
    values = [float(line.split(",")[i]) for line in lines[1:]]
    assert values and min(values) >= 0.6
    snap(page, screenshots / "segments-champions-likely-to-churn.png")
    page.close()
