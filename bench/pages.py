"""Pages on a big store: each page's first and second render, and the server's peak memory.

For each size (default 1M, 3M and 10M events; 20 events and 1/10 item per 10 users, as the
issue's stores), a store from ``profiling.sample.generate_store`` is saved as a workspace
(timed on its own: this is the upload, done once), then a fresh ``streamlit run app.py``
serves it and headless Chromium opens every page twice in one browser session: the first
visit after the server started, then the second. The User profile is also timed to its
first useful content (the user's header). Peak memory is the server's and its workers'
VmHWM. The 2M-event row of the issue is the baseline the targets were set against.

Run: ``.venv/bin/python bench/pages.py [--events 1000000 3000000 10000000]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CHROMIUM_ARGS, ROOT, peak_rss_gb, serve, wait_idle  # noqa: E402

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
    from profiling.sample import generate_store

    store = generate_store(n_users=n_events // 20, n_items=max(n_events // 200, 12),
                           n_events=n_events)  # fmt: skip
    paths = {"events": folder / "events.parquet", "users": folder / "users.parquet",
             "items": folder / "items.parquet"}  # fmt: skip
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


def run(n_events: int) -> None:
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
    print(f"\n## {s['events']:,} events, {s['users']:,} users, {s['items']:,} items "
          f"(generated in {gen:.0f} s, saved as a workspace in {saved:.0f} s)")  # fmt: skip
    proc, url = serve(dict(os.environ, PERSONA_STUDIO_HOME=str(home)))
    try:
        visits = _visits(url, ws.slug)
        peak = peak_rss_gb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    print("| page | first render (s) | second render (s) | first useful content (s) |")
    print("|---|---|---|---|")
    for title, (first, second, useful) in visits.items():
        print(f"| {title} | {first:.1f} | {second:.1f} | "
              f"{'' if useful is None else f'{useful:.1f}'} |")  # fmt: skip
    print(f"peak server memory (with its workers): {peak:.1f} GB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    for n in ap.parse_args().events:
        run(n)


if __name__ == "__main__":
    main()
