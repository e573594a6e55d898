"""Workspaces: reopening after a restart, and adding a batch against rebuilding.

1. ``reopen``: save Online Retail II (``../shared/data``, about 525,000 rows) as a workspace,
   start a fresh ``streamlit run app.py``, open every page of it in headless Chromium and time
   each page until it has finished rendering (cold: nothing computed but the workspace's
   first snapshot). Stop the server, start a new one, and time the same visits again
   (reopened: profiles, segments, models and maps come from the workspace). The ratio is
   cold / reopened for each page, in the same run.
2. ``refresh``: write a generated store of N events (default 10 million) as two files, the
   first 90% of its events by time and the last 10%; save the 90% as a workspace, then time
   (a) adding the 10% as a batch and (b) building a workspace from all 100% at once, each in
   its own process with its peak resident memory (``wait4``).

Run: ``.venv/bin/python bench/workspace.py [reopen] [refresh] [--events 10000000]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CHROMIUM_ARGS, ROOT, serve, wait_idle

sys.path.insert(0, str(ROOT))
RETAIL = (
    ROOT.parent
    / "shared"
    / "data"
    / "online_retail_ii_2009_2010"
    / ("online_retail_ii_2009_2010.parquet")
)
PAGES = {
    "Overview": "",
    "Segments": "segments",
    "User profile": "user",
    "What changed": "changes",
    "Profile map": "map",
    "Recommenders": "recommenders",
    "Data": "data",
}


def _visit_all(url: str, slug: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for title, path in PAGES.items():
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            start = time.perf_counter()
            page.goto(f"{url}/{path}?ws={slug}")
            page.get_by_role("heading", name=title).first.wait_for(timeout=600_000)
            wait_idle(page)
            out[title] = time.perf_counter() - start - 0.3
            assert "Traceback" not in page.content(), title
            page.close()
        browser.close()
    return out


def _settle(url: str, slug: str) -> float:
    """After the cold visits: wait until the background work they started is saved (the
    User profile's model lists, the UMAP map), so the restart finds it. Seconds waited."""
    from playwright.sync_api import sync_playwright

    start = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/user?ws={slug}")
        wait_idle(page)
        deadline = time.time() + 1800
        while page.locator('[data-testid="stProgress"]').count() and time.time() < deadline:
            page.wait_for_timeout(2000)
        page.goto(f"{url}/map?ws={slug}")
        page.locator(".gtitle", has_text="UMAP map of").wait_for(timeout=1_800_000)
        browser.close()
    return time.perf_counter() - start


def reopen() -> None:
    from profiling import workspace as W

    home = tempfile.mkdtemp(prefix="ps-bench-home-")
    env = dict(os.environ, PERSONA_STUDIO_HOME=home)
    os.environ["PERSONA_STUDIO_HOME"] = home
    t = time.perf_counter()
    ws = W.create("Online Retail II", RETAIL)
    created = time.perf_counter() - t
    s = ws.summary()
    print(f"workspace of {s['events']:,} events, {s['users']:,} users saved in {created:.1f} s")
    runs = {}
    for label in ("cold", "reopened"):
        t = time.perf_counter()
        proc, url = serve(env)
        started = time.perf_counter() - t
        try:
            runs[label] = _visit_all(url, ws.slug)
            if label == "cold":
                print(
                    f"background work (models, map) finished {_settle(url, ws.slug):.0f} s "
                    "after the cold visits; then the server is restarted"
                )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        print(f"{label}: server answered after {started:.1f} s")
    print("\n| page | cold (s) | reopened after restart (s) | cold / reopened |")
    print("|---|---|---|---|")
    for title in PAGES:
        c, r = runs["cold"][title], runs["reopened"][title]
        print(f"| {title} | {c:.1f} | {r:.1f} | {c / r:.1f}x |")
    tc, tr = sum(runs["cold"].values()), sum(runs["reopened"].values())
    print(f"| all pages | {tc:.1f} | {tr:.1f} | {tc / tr:.1f}x |")


def _timed(argv: list[str], env: dict) -> tuple[float, float]:
    """Seconds and peak resident memory (GB) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{argv} failed with status {status}")
    return time.perf_counter() - t, usage.ru_maxrss / 1024**2


def refresh(n_events: int) -> None:
    from profiling.data.sample import generate_store

    work = Path(tempfile.mkdtemp(prefix="ps-bench-refresh-"))
    t = time.perf_counter()
    store = generate_store(n_users=n_events // 20, n_items=n_events // 200, n_events=n_events)
    events = store.events.sort("timestamp")
    cut = int(events.height * 0.9)
    events.head(cut).write_parquet(work / "base.parquet")
    events.slice(cut).write_parquet(work / "batch.parquet")
    events.write_parquet(work / "all.parquet")
    print(
        f"generated {events.height:,} events in {time.perf_counter() - t:.0f} s; "
        f"batch of {events.height - cut:,} new rows"
    )
    del store, events
    env = dict(os.environ, PERSONA_STUDIO_HOME=str(work / "home"))
    cli = ["-m", "profiling", "workspace"]
    base_s, base_gb = _timed([*cli, "create", "base", str(work / "base.parquet")], env)
    add_s, add_gb = _timed([*cli, "add", "base", str(work / "batch.parquet")], env)
    all_s, all_gb = _timed([*cli, "create", "full", str(work / "all.parquet")], env)
    print("\n| step | time (s) | peak memory (GB) |")
    print("|---|---|---|")
    print(f"| save the first 90% as a workspace | {base_s:.1f} | {base_gb:.1f} |")
    print(f"| add the last 10% as a batch | {add_s:.1f} | {add_gb:.1f} |")
    print(f"| rebuild from all 100% | {all_s:.1f} | {all_gb:.1f} |")
    print(f"\nadding / rebuilding: time {add_s / all_s:.2f}x, memory {add_gb / all_gb:.2f}x")
    from profiling import workspace as W

    os.environ["PERSONA_STUDIO_HOME"] = str(work / "home")
    a, b = W.open_workspace("base").summary(), W.open_workspace("full").summary()
    print(
        f"same data either way: {a['events']:,} and {b['events']:,} events, "
        f"{a['users']:,} and {b['users']:,} users"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("parts", nargs="*", default=["reopen", "refresh"])
    ap.add_argument("--events", type=int, default=10_000_000)
    args = ap.parse_args()
    if "reopen" in args.parts:
        reopen()
    if "refresh" in args.parts:
        refresh(args.events)


if __name__ == "__main__":
    main()
