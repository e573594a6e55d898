"""Browser end-to-end: with DP noise on, no page of the running app shows the exact size of
a small segment in its visible text (Markdown, captions, metrics, tables, labels)."""

from __future__ import annotations

import re

import polars as pl
import pytest

from profiling import workspace as W
from profiling.data.dataset import sample_paths
from profiling.workspace import privacy as WP
from tests.test_e2e import wait_idle

pytestmark = pytest.mark.e2e

PAGES = ["", "map", "segments", "user", "changes", "recommenders", "predictions", "data"]
EPSILON = 0.0001  # noise of scale 10,000: a noisy count lands on a given small number ~never


def _workspace(tmp_path) -> W.Workspace:
    events = tmp_path / "e2e-privacy.parquet"
    ev = pl.read_parquet(sample_paths()["events"])
    keep = ev["user_id"].unique().sort().head(150)
    ev.filter(pl.col("user_id").is_in(keep.implode())).write_parquet(events)
    existing = {w.slug: w for w in W.list_workspaces()}
    return existing.get("e2e-privacy-shop") or W.create("E2E privacy shop", str(events))


def _leaks(page, n: int) -> list[str]:
    """Where the page shows ``n`` as a count: "n users" / "n customers" in its visible text,
    a metric's value, or a table cell holding just the number."""
    text = page.inner_text("body")
    found = [
        m.group(0) for m in re.finditer(rf"(?<![\d.,]){n:,}(?![\d.,%])\s+(users|customers)", text)
    ]
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    found += [f"metric {v}" for v in metrics if v.strip() == f"{n:,}"]
    # the cells of a table's customers / users column (other tables count rows, not users)
    cells = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stTable"] table')].flatMap(t => {
            const heads = [...t.querySelectorAll('thead th')].map(h => h.innerText.trim());
            const cols = heads.flatMap((h, i) => /customers|users/i.test(h) ? [i] : []);
            return [...t.querySelectorAll('tbody tr')].flatMap(r => {
                const cells = [...r.children].map(c => c.innerText.trim());
                return cols.map(i => cells[i]);
            });
        })"""
    )
    found += [f"table cell {v}" for v in cells if v == f"{n:,}"]
    return found


def test_no_page_shows_the_exact_size_of_a_small_segment(browser, app_url, tmp_path):
    ws = _workspace(tmp_path)
    segmentation = ws.snapshot().segmentation
    planted = {d.users for d in (*segmentation.rfm, *segmentation.clusters) if 0 < d.users < 40}
    assert len(planted) >= 3, planted  # the 150-user store has several small segments
    WP.set_settings(ws, WP.PrivacySettings(dp_epsilon=EPSILON), "test")
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    seen, texts = {}, {}
    for path in PAGES:
        page.goto(f"{app_url}/{path}?ws={ws.slug}")
        wait_idle(page)
        texts[path] = page.inner_text("body")
        assert "Traceback" not in texts[path]
        seen[path or "overview"] = {n: _leaks(page, n) for n in planted if _leaks(page, n)}
    page.close()
    assert not any(seen.values()), seen
    # the pages did show the workspace (noisy sizes, with the note saying so)
    assert "differential-privacy noise (ε = 0.0001)" in texts["segments"]
    assert "Champions" in texts["segments"]
