"""Many people at once: N concurrent headless browser sessions against one server.

Saves Online Retail II (``../shared/data``, about 525,000 events) as a workspace in a fresh
``PERSONA_STUDIO_HOME`` beside the built-in sample store, starts ``streamlit run app.py``,
then runs two phases against the same server: one session alone, then N sessions at once
(async Playwright, one Chromium, one context per session). Each session loops for the given
time over every page, switching between the two workspaces on each round, and on the Data
page uploads a small file of its own (never saved) and checks that the review shows its own
file name and no other session's. A page visit counts as an error when the page shows an
exception or the "not running" state does not come within the timeout.

Reported: page visits, errors, the 50th and 95th percentile page time (from navigation to
"script not running"), and the peak resident memory of the server and its worker processes
(``/proc/PID/status`` VmRSS, sampled every 0.5 s), for 1 session and for N sessions.

Run by hand: ``.venv/bin/python bench/load.py [--sessions 20] [--minutes 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RETAIL = ROOT.parent / "shared" / "data" / "online_retail_ii_2009_2010"
RETAIL = RETAIL / "online_retail_ii_2009_2010.parquet"
PAGES = ["", "segments", "user", "changes", "predictions", "map", "data"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*") if Path(f"/proc/{p}").exists() else []:
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return out


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self._stop = pid, 0, False

    async def run(self) -> None:
        while not self._stop:
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in _tree(self.pid)))
            await asyncio.sleep(0.5)

    def stop(self) -> None:
        self._stop = True


async def _idle(page, timeout: float) -> None:
    await page.wait_for_selector(IDLE, timeout=timeout)
    await page.wait_for_timeout(300)
    await page.wait_for_selector(IDLE, timeout=timeout)


async def session(browser, url: str, n: int, deadline: float, slugs: list[str], out: dict):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    own = f"session-{n}-upload.csv"
    rnd = 0
    while time.time() < deadline:
        slug = slugs[rnd % len(slugs)]
        rnd += 1
        for path in PAGES:
            if time.time() >= deadline:
                break
            t0 = time.perf_counter()
            try:
                await page.goto(f"{url}/{path}?ws={slug}")
                await _idle(page, 180_000)
                if await page.locator('[data-testid="stException"]').count():
                    out["errors"].append(f"session {n} {path or 'overview'} {slug}: exception")
                out["times"].append(time.perf_counter() - t0)
                if path == "data":
                    body = (
                        f"Customer ID,StockCode,InvoiceDate,Quantity,Price\ns{n},A,2024-01-01,1,2\n"
                    )
                    await page.locator(
                        '[data-testid="stFileUploaderDropzoneInput"]'
                    ).first.set_input_files(
                        files=[{"name": own, "mimeType": "text/csv", "buffer": body.encode()}]
                    )
                    await _idle(page, 180_000)
                    text = await page.content()
                    if own not in text:
                        out["errors"].append(f"session {n}: its own upload is not shown")
                    others = [f"session-{m}-upload.csv" for m in range(out["sessions"]) if m != n]
                    if any(o in text for o in others):
                        out["errors"].append(f"session {n}: sees another session's upload")
            except Exception as exc:  # noqa: BLE001 - counted and reported
                out["errors"].append(
                    f"session {n} {path or 'overview'} {slug}: {type(exc).__name__}"
                )
    await context.close()


async def phase(url: str, server_pid: int, sessions: int, seconds: float, slugs: list[str]):
    from playwright.async_api import async_playwright

    out = {"times": [], "errors": [], "sessions": sessions}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        sampler = Sampler(server_pid)
        task = asyncio.create_task(sampler.run())
        deadline = time.time() + seconds
        cpu0 = os.times()
        await asyncio.gather(
            *(session(browser, url, n, deadline, slugs, out) for n in range(sessions))
        )
        cpu1 = os.times()
        sampler.stop()
        await task
        await browser.close()
    times = sorted(out["times"])
    q = statistics.quantiles(times, n=100) if len(times) >= 2 else times * 99
    return {
        "sessions": sessions, "visits": len(times), "errors": out["errors"],
        "p50_s": q[49] if q else float("nan"), "p95_s": q[94] if q else float("nan"),
        "peak_rss_mb": sampler.peak_kb / 1024,
        "client_cpu_s": (cpu1.children_user + cpu1.user) - (cpu0.children_user + cpu0.user),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--single-minutes", type=float, default=1.0)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="persona-load-"))
    os.environ["PERSONA_STUDIO_HOME"] = str(home / "home")
    os.environ["PERSONA_STUDIO_CACHE"] = str(home / "cache")
    from profiling import workspace as W

    t0 = time.perf_counter()
    W.ensure_sample()
    retail = W.create("Online Retail II", str(RETAIL))
    print(f"workspaces ready in {time.perf_counter() - t0:.0f} s "
          f"({retail.summary()['events']:,} events in Online Retail II)")  # fmt: skip
    port = _free_port()
    log = open(home / "streamlit.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         f"--server.port={port}", "--browser.gatherUsageStats=false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://localhost:{port}"
    try:
        for _ in range(180):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        slugs = [retail.slug, W.SAMPLE_SLUG]
        # warm-up visit so both phases see computed snapshots, not first-time builds
        asyncio.run(phase(url, server.pid, 1, 60, slugs))
        results = [
            asyncio.run(phase(url, server.pid, 1, args.single_minutes * 60, slugs)),
            asyncio.run(phase(url, server.pid, args.sessions, args.minutes * 60, slugs)),
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    print(f"\n{'sessions':>8} {'visits':>7} {'errors':>6} {'p50 s':>7} {'p95 s':>7} "
          f"{'peak RSS MB':>12} {'client CPU s':>12}")  # fmt: skip
    for r in results:
        print(f"{r['sessions']:>8} {r['visits']:>7} {len(r['errors']):>6} {r['p50_s']:>7.2f} "
              f"{r['p95_s']:>7.2f} {r['peak_rss_mb']:>12.0f} {r['client_cpu_s']:>12.0f}")  # fmt: skip
    for r in results:
        for e in r["errors"][:20]:
            print("error:", e)


if __name__ == "__main__":
    main()
