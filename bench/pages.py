"""Pages on a big store: each page's first and second render, and the server's peak memory.

For each size (default 1M, 2M, 3M and 10M events; 20 events and 1/10 item per 10 users, as
the issue's stores), a store from ``profiling.data.sample.generate_store`` is saved as a
workspace (timed on its own: this is the upload, done once). Then:

1. **Page runs** (what the issue measured, and what its targets are about): a fresh Python
   process opens the workspace with Streamlit's AppTest (the data is loaded: "open") and
   runs every page twice, the first visit and the second. The User profile's first run is
   its first useful content (models train in the background and never hold it up). Peak
   memory is that process's VmHWM, the background threads and worker included. The
   same-run baseline is a bare rerun of the router (Streamlit's fixed cost per run).
2. **In a browser** (``--browser``): a fresh ``streamlit run app.py`` and headless Chromium
   opening every page twice; these times add the browser's own work (loading the front end,
   drawing the charts), which depends on the client machine more than on the server.

Run: ``.venv/bin/python bench/pages.py [--events 1000000 ...] [--browser]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CHROMIUM_ARGS, ROOT, peak_rss_gb, serve, wait_idle

sys.path.insert(0, str(ROOT))

PAGES = {
    "Overview": "",
    "Segments": "segments",
    "User profile": "user",
    "Profile map": "map",
    "What changed": "changes",
    "Recommenders": "recommenders",
}


def _store(n_events: int, folder: Path) -> dict[str, Path]:
    from profiling.data.sample import generate_store

    store = generate_store(
        n_users=n_events // 20, n_items=max(n_events // 200, 12), n_events=n_events
    )
    paths = {
        "events": folder / "events.parquet",
        "users": folder / "users.parquet",
        "items": folder / "items.parquet",
    }
    store.events.write_parquet(paths["events"])
    store.users.write_parquet(paths["users"])
    store.items.write_parquet(paths["items"])
    return paths


def _visits(url: str, slug: str) -> dict[str, tuple[float, float, float | None]]:
    """page -> (first render s, second render s, first useful content s or None)."""
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for title, path in PAGES.items():
            times, useful = [], None
            for _ in range(2):
                start = time.perf_counter()
                page.goto(f"{url}/{path}?ws={slug}")
                if title == "User profile" and useful is None:
                    page.locator("h2", has_text="User ").first.wait_for(timeout=900_000)
                    useful = time.perf_counter() - start
                page.get_by_role("heading", name=title).first.wait_for(timeout=900_000)
                wait_idle(page)
                times.append(time.perf_counter() - start - 0.3)
                assert "Traceback" not in page.content(), title
            out[title] = (times[0], times[1], useful)
        browser.close()
    return out


TARGETS = {10_000_000: (15.0, 1.5, 3.0, 12.0), 2_000_000: (7.5, 0.75, 1.5, 6.0)}
"""events -> first render (Overview, Segments), second render, User content (s), peak GB."""


def _measure(home: str, slug: str) -> None:
    """In a fresh process: every page's first and second run through AppTest (JSON out)."""
    from streamlit.testing.v1 import AppTest

    os.environ["PERSONA_STUDIO_HOME"] = home
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800)
    at.query_params["ws"] = slug
    t = time.perf_counter()
    at.run()  # the router's first run opens the workspace and renders the Overview
    out = {"open": time.perf_counter() - t}
    t = time.perf_counter()
    at.run()
    out["router rerun"] = time.perf_counter() - t
    for title, path in PAGES.items():
        file = f"app_pages/{path or 'overview'}.py"
        runs = []
        for _ in range(2):
            t = time.perf_counter()
            at.switch_page(file).run()
            runs.append(time.perf_counter() - t)
            if at.exception:
                raise SystemExit(f"{title}: {at.exception[0].value}")
        out[title] = runs
    # the first visits started background work (models, past segments, UMAP); page runs
    # share the process with it. Wait until it is done, then visit every page once more.
    t = time.perf_counter()
    out["background"] = _wait_background()
    out["background_s"] = time.perf_counter() - t
    for title, path in PAGES.items():
        t = time.perf_counter()
        at.switch_page(f"app_pages/{path or 'overview'}.py").run()
        out[title].append(time.perf_counter() - t)
    out["peak_gb"] = peak_rss_gb(os.getpid())
    print("RESULT " + json.dumps(out))


def _wait_background(limit_s: float = 1200.0) -> bool:
    """Wait until no lane of the background runtime has an unfinished job."""
    from ui.jobs import runtime

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        rt = runtime()
        if all(j.done for lane in rt.lanes for j in rt.jobs(lane)):
            return True
        time.sleep(1.0)
    return False


def _page_runs(home: Path, slug: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", str(home), slug],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, PERSONA_STUDIO_HOME=str(home)),
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if not line:
        raise SystemExit(f"the page-run measurement failed:\n{proc.stderr[-3000:]}")
    return json.loads(line[0][len("RESULT ") :])


def _check(ok: bool) -> str:
    return "ok" if ok else "**missed**"


def run(n_events: int, browser: bool) -> None:
    from profiling import workspace as W

    work = Path(tempfile.mkdtemp(prefix="ps-bench-pages-"))
    home = work / "home"
    os.environ["PERSONA_STUDIO_HOME"] = str(home)
    t = time.perf_counter()
    paths = _store(n_events, work)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    ws = W.create(f"Store {n_events:,}", paths["events"], paths["users"], paths["items"])
    saved = time.perf_counter() - t
    s = ws.summary()
    print(
        f"\n## {s['events']:,} events, {s['users']:,} users, {s['items']:,} items "
        f"(generated in {gen:.0f} s, saved as a workspace in {saved:.0f} s)"
    )
    runs = _page_runs(home, ws.slug)
    base = runs["router rerun"]
    first_t, second_t, user_t, peak_t = TARGETS.get(n_events, (None,) * 4)
    print(
        f"\nPage runs (AppTest, one fresh process): workspace opened and Overview drawn in "
        f"{runs['open']:.1f} s; baseline (a bare rerun) {base:.2f} s"
    )
    print(
        "| page | first run (s) | second run (s) | after background work (s) | second / baseline | target |"
    )
    print("|---|---|---|---|---|---|")
    for title in PAGES:
        first, second, settled = runs[title]
        target = ""
        if first_t is not None:
            if title in ("Overview", "Segments"):
                target = f"first ≤ {first_t:g} s {_check(first <= first_t)}; "
            if title == "User profile":
                target = f"content ≤ {user_t:g} s {_check(first <= user_t)}; "
            target += f"second ≤ {second_t:g} s {_check(second <= second_t)}"
        print(
            f"| {title} | {first:.2f} | {second:.2f} | {settled:.2f} | {second / base:.1f}x "
            f"| {target} |"
        )
    print(
        f"background work (models, past segments, UMAP) finished "
        f"{runs['background_s']:.0f} s after the last second visit"
        + ("" if runs["background"] else " (NOT finished: stopped waiting)")
    )
    peak = runs["peak_gb"]
    print(
        f"peak memory of the process: {peak:.1f} GB"
        + (f" (target ≤ {peak_t:g} GB: {_check(peak <= peak_t)})" if peak_t else "")
    )
    if not browser:
        return
    proc, url = serve(dict(os.environ, PERSONA_STUDIO_HOME=str(home)))
    try:
        visits = _visits(url, ws.slug)
        peak = peak_rss_gb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    print("\nIn headless Chromium (fresh server; times include drawing in the browser):")
    print("| page | first render (s) | second render (s) | first useful content (s) |")
    print("|---|---|---|---|")
    for title, (first, second, useful) in visits.items():
        print(
            f"| {title} | {first:.1f} | {second:.1f} | "
            f"{'' if useful is None else f'{useful:.1f}'} |"
        )
    print(f"peak server memory (with its workers): {peak:.1f} GB")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        _measure(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--events", type=int, nargs="+", default=[1_000_000, 2_000_000, 3_000_000, 10_000_000]
    )
    ap.add_argument("--browser", action="store_true", help="also time the pages in Chromium")
    args = ap.parse_args()
    for n in args.events:
        run(n, args.browser)


if __name__ == "__main__":
    main()
