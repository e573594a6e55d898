"""Browser: a user's profile follows their events live, without a reload (issue 27)."""

from __future__ import annotations

import contextlib
import random
import re
import shutil
from datetime import datetime, timedelta

import pytest

from profiling import workspace as W
from profiling.errors import WorkspaceError
from profiling.workspace import collector as C
from profiling.workspace import live, store
from tests.test_app_live import BASE, MORE
from tests.test_e2e import wait_idle

pytestmark = pytest.mark.e2e


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_a_users_profile_shows_their_new_events_without_a_reload(browser, app_url, tmp_path):
    (tmp_path / "base.csv").write_text(BASE + "\n")
    (tmp_path / "more.csv").write_text(MORE)
    with contextlib.suppress(WorkspaceError):
        W.delete("e2e-live-shop")
    ws = W.create("E2E live shop", str(tmp_path / "base.csv"))
    C.create_write_key(ws, "e2e")  # the workspace has a feed
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        page.goto(f"{app_url}/user?ws={ws.slug}&user=u1")
        wait_idle(page, timeout=180_000)
        page.get_by_role("heading", name="User u1").wait_for()
        # u1 bought once: item i1 for 2 on 2 January
        assert _metric(page, "Orders") == "1"
        assert _metric(page, "Net spend") == "2.00"
        page.evaluate("window.__not_reloaded = true")
        # u1 buys twice more on 28 January: 5 x 1 and 3 x 2 (one day, so one more order)
        live.add(ws, str(tmp_path / "more.csv"))
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid=stMetric]')]
                .some(m => m.innerText.includes('Net spend') && m.innerText.includes('13.00'))""",
            timeout=60_000,
        )
        assert _metric(page, "Orders") == "2"  # orders on 2 and 28 January
        assert _metric(page, "Net spend") == "13.00"  # 2 + 5 x 1 + 3 x 2
        assert page.evaluate("window.__not_reloaded === true")  # the same page, not reloaded
        assert "Traceback" not in page.content()
    finally:
        page.close()
        shutil.rmtree(ws.path, ignore_errors=True)
        store._META.clear()


def _shop_of_200_days(path) -> None:
    """120 customers buying 1 to 8 times over 200 days (seeded): enough history for the
    30-day predictions, small enough to train in seconds."""
    rng = random.Random(1)
    start = datetime(2024, 1, 1)
    rows = ["user,item,when,qty,price"]
    for u in range(120):
        for _ in range(rng.randint(1, 8)):
            when = start + timedelta(days=rng.randint(0, 199), hours=rng.randint(0, 23))
            rows.append(f"u{u},i{rng.randint(0, 9)},{when:%Y-%m-%d %H:00},1,{rng.randint(1, 50)}")
    path.write_text("\n".join(rows) + "\n")


def test_predicted_scores_appear_on_the_user_page_when_they_finish_without_a_reload(
    browser, app_url, tmp_path
):
    _shop_of_200_days(tmp_path / "shop.csv")
    with contextlib.suppress(WorkspaceError):
        W.delete("e2e-live-scores")
    ws = W.create("E2E live scores", str(tmp_path / "shop.csv"))
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        page.goto(f"{app_url}/user?ws={ws.slug}&user=u1")
        wait_idle(page, timeout=180_000)
        page.get_by_text("Predicted scores are not computed yet").wait_for()
        page.evaluate("window.__not_reloaded = true")
        page.get_by_role("button", name="Compute in the background").click()
        # before the fix the block stayed on "being computed" until a manual reload
        page.locator('[data-testid="stMetric"]', has_text="Chance to buy").wait_for(timeout=180_000)
        assert re.fullmatch(r"\d+\.\d%", _metric(page, "Chance to buy"))
        assert page.evaluate("window.__not_reloaded === true")
        assert "Traceback" not in page.content()
    finally:
        page.close()
        shutil.rmtree(ws.path, ignore_errors=True)
        store._META.clear()
