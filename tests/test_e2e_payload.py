"""Browser security test: a workspace whose every text field carries markup payloads is shown
on every page and tab; no script may run and no payload may be interpreted as markup."""

from __future__ import annotations

import polars as pl
import pytest

from profiling import workspace as W
from profiling.data.dataset import sample_paths
from tests.test_e2e import wait_idle

pytestmark = pytest.mark.e2e

# each payload carries a marker word; an interpreted payload leaves the word without its markup
PAYLOADS = [
    "<script>alert('s')</script>",
    "<img src=x onerror=alert('i')>",
    "[PAYLOADLINK](javascript:alert('l'))",
    "![PAYLOADIMG](http://127.0.0.1:9/p.png)",
    ":red[PAYLOADRED]",
    "**PAYLOADBOLD**",
    '=HYPERLINK("http://127.0.0.1:9","x")',
    "# PAYLOADHEAD",
    # Plotly's own label markup (chart ticks, legends, pie and Sankey labels)
    "<b>PAYLOADPLOTB</b><br>",
    '<a href="https://example.com/">PAYLOADPLOTA</a>',
]
NAME = "<img src=x onerror=alert('n')> :red[PAYLOADRED] **PAYLOADBOLD** shop"
SLUG = "payload-shop"

# what an interpreted payload would leave in the page (checked in every tab, hidden or not)
CHECK = """() => {
  const bad = [];
  for (const img of document.querySelectorAll('img')) {
    const src = img.getAttribute('src') || '';
    if (src === 'x' || src.includes('127.0.0.1:9') || img.alt === 'PAYLOADIMG') bad.push('img ' + src);
  }
  for (const a of document.querySelectorAll('a')) {
    const href = (a.getAttribute('href') || '').trim().toLowerCase();
    if (href.startsWith('javascript') || a.textContent.trim() === 'PAYLOADLINK') bad.push('link ' + href);
  }
  for (const s of document.querySelectorAll('script')) {
    if (s.textContent.includes("alert(")) bad.push('script');
  }
  for (const e of document.querySelectorAll('strong, b, em, h1, h2, h3, h4, h5, h6')) {
    const t = e.textContent.trim();
    if (t === 'PAYLOADBOLD' || t.startsWith('PAYLOADHEAD')) bad.push(e.tagName + ' ' + t);
  }
  for (const t of document.querySelectorAll('.js-plotly-plot tspan')) {
    const style = t.getAttribute('style') || '';
    if (t.textContent.trim() === 'PAYLOADPLOTB' && style.includes('bold')) bad.push('plotly bold');
  }
  for (const a of document.querySelectorAll('.js-plotly-plot a')) {
    if (a.textContent.includes('PAYLOADPLOTA')) bad.push('plotly link ' + a.textContent);
  }
  const text = document.querySelector('[data-testid=stApp]').textContent;
  for (const m of text.matchAll(/PAYLOADRED/g)) {
    // kept as text, or percent-encoded inside a link (a member's profile URL): not markup
    if (text.slice(Math.max(0, m.index - 5), m.index) !== ':red[' && text.slice(Math.max(0, m.index - 9), m.index) !== '%3Ared%5B') bad.push('directive: ' + text.slice(Math.max(0, m.index - 60), m.index + 20));
  }
  return bad;
}"""

# a chart label that reads "<b>PAYLOADPLOTB</b>" as text: the Plotly payload reached a chart
PLOTLY_SHOWN = """() => [...document.querySelectorAll('.js-plotly-plot text, .js-plotly-plot tspan')]
  .some(t => t.textContent.includes('<b>PAYLOADPLOTB</b>'))"""


def _payload(i) -> pl.Expr:
    return pl.lit(PAYLOADS[i % len(PAYLOADS)])


def _payload_files(folder) -> dict[str, str]:
    """The sample store's first 120 users, with every text field prefixed by a payload."""
    p = sample_paths()
    users = pl.read_csv(p["users"]).head(120)
    keep = users["user_id"]
    events = pl.read_parquet(p["events"]).filter(pl.col("user_id").is_in(keep.implode()))
    items = pl.read_csv(p["items"]).filter(pl.col("item_id").is_in(events["item_id"].implode()))
    n = len(PAYLOADS)

    def tagged(col: str, frame: pl.DataFrame) -> pl.Expr:
        # payload k for the k-th distinct value: every payload appears in every field
        rank = pl.col(col).rank("dense").cast(pl.Int64) % n
        return pl.concat_str(
            pl.coalesce([pl.when(rank == k).then(_payload(k)) for k in range(n)]),
            pl.lit(" "),
            pl.col(col),
        ).alias(col)

    uid = pl.col("user_id").rank("dense").cast(pl.Int64) % n
    prefix = pl.coalesce([pl.when(uid == k).then(_payload(k)) for k in range(n)])
    users = users.with_columns(
        pl.concat_str(prefix, pl.col("user_id")).alias("user_id"),
        tagged("gender", users),
        tagged("region", users),
        pl.lit("gold").alias(":red[PAYLOADRED] <b>tier</b>"),  # a column name from the file
    )
    events = events.with_columns(pl.concat_str(prefix, pl.col("user_id")).alias("user_id"))
    items = items.with_columns(
        tagged("title", items), tagged("category", items), tagged("brand", items)
    )
    out = {}
    for table, frame in (("events", events), ("users", users), ("items", items)):
        path = folder / f"{table}.csv"
        frame.write_csv(path)
        out[table] = str(path)
    return out


@pytest.fixture(scope="module")
def payload_workspace(workspace_home, tmp_path_factory):
    files = _payload_files(tmp_path_factory.mktemp("payload"))
    if SLUG not in {w.slug for w in W.list_workspaces()}:
        W.create(NAME, files["events"], files["users"], files["items"], slug=SLUG)
    return SLUG


def _visit(page, url: str, problems: list[str], where: str) -> None:
    page.goto(url)
    wait_idle(page, timeout=180_000)
    _check(page, problems, where)


def _check(page, problems: list[str], where: str) -> None:
    page.wait_for_timeout(300)
    found = page.evaluate(CHECK)
    problems += [f"{where}: {b}" for b in found]
    body = page.content()
    if "Traceback" in body:
        problems.append(f"{where}: a traceback is shown")


def _click_tabs(page, problems: list[str], where: str) -> None:
    tabs = page.get_by_role("tab")
    for i in range(tabs.count()):
        if tabs.nth(i).is_visible():
            tabs.nth(i).click()
            wait_idle(page)
            _check(page, problems, f"{where} tab {i}")


def test_no_payload_runs_or_renders_as_markup_on_any_page(browser, app_url, payload_workspace):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    problems: list[str] = []
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    ws = f"ws={payload_workspace}"
    pages = {
        "overview": "",
        "map": "map",
        "segments rfm": "segments",
        "segments clusters": "segments?view=Clusters",
        "segments rule": "segments?view=Custom+rule",
        "user": "user",
        "changes": "changes",
        "predictions": "predictions",
        "recommenders": "recommenders",
        "data": "data",
    }
    plotly_shown = []  # charts whose labels show a Plotly payload as literal text
    for where, path in pages.items():
        sep = "&" if "?" in path else "?"
        _visit(page, f"{app_url}/{path}{sep}{ws}", problems, where)
        if page.evaluate(PLOTLY_SHOWN):
            plotly_shown.append(where)
        _click_tabs(page, problems, where)
        if where == "recommenders":
            page.get_by_role("button", name="Train and compare").click()
            wait_idle(page, timeout=240_000)
            _check(page, problems, "recommenders trained")
            _click_tabs(page, problems, "recommenders trained")
    # the payloads are shown as the text they are
    page.goto(f"{app_url}/data?{ws}")
    wait_idle(page)
    heading = page.locator('[data-testid="stHeading"]', has_text="Cleaning report").first
    assert "<img src=x onerror=alert('n')> :red[PAYLOADRED] **PAYLOADBOLD** shop" in (
        heading.inner_text()
    )
    page.close()
    assert not dialogs, f"a payload ran a script: {dialogs}"
    assert not problems, "payloads interpreted as markup:\n" + "\n".join(problems)
    assert plotly_shown, "no chart showed a Plotly payload as text: the check saw nothing"
    suspicious = [e for e in errors if "127.0.0.1:9" in e or "alert" in e or "/x" in e]
    assert not suspicious, f"console errors from payloads: {suspicious}"
