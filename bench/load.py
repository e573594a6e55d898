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
CHROMIUM = "/usr/bin/chromium"  # main() may put a lower-priority launcher here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (``/proc/PID/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    """Peak RSS of the server's process tree and the CPU seconds it used (the worker
    processes' CPU counted while they live)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self._stop = pid, 0, False
        self._cpu: dict[int, float] = {}
        self._cpu0 = self._sum_cpu()

    def _sum_cpu(self) -> float:
        for p in _tree(self.pid):
            self._cpu[p] = max(self._cpu.get(p, 0.0), _cpu_s(p))
        return sum(self._cpu.values())

    @property
    def cpu_s(self) -> float:
        return self._sum_cpu() - self._cpu0

    async def run(self) -> None:
        while not self._stop:
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in _tree(self.pid)))
            self._sum_cpu()
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
            where = "load"
            try:
                # the page's own timeout, not Playwright's 30 s default for the "load" event
                await page.goto(f"{url}/{path}?ws={slug}", timeout=180_000)
                where = "run"
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
                    f"session {n} {path or 'overview'} {slug}: {type(exc).__name__} while "
                    f"waiting for the page {where} after {time.perf_counter() - t0:.0f} s"
                )
            out["log"].append((n, path or "overview", slug, round(time.perf_counter() - t0, 2)))
    await context.close()


async def phase(url: str, server_pid: int, sessions: int, seconds: float, slugs: list[str]):
    from playwright.async_api import async_playwright

    out = {"times": [], "errors": [], "sessions": sessions, "log": []}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        sampler = Sampler(server_pid)
        task = asyncio.create_task(sampler.run())
        deadline = time.time() + seconds
        await asyncio.gather(
            *(session(browser, url, n, deadline, slugs, out) for n in range(sessions))
        )
        sampler.stop()
        await task
        await browser.close()
    times = sorted(out["times"])
    q = statistics.quantiles(times, n=100) if len(times) >= 2 else times * 99
    return {
        "sessions": sessions,
        "visits": len(times),
        "errors": out["errors"],
        "p50_s": q[49] if q else float("nan"),
        "p95_s": q[94] if q else float("nan"),
        "peak_rss_mb": sampler.peak_kb / 1024,
        "server_cpu_s": sampler.cpu_s,
        "wall_s": seconds,
        "log": out["log"],
    }


async def warm_up(url: str, slugs: list[str]) -> list[tuple[str, str, float]]:
    """One session visits every page of every workspace once, each to the end: the first
    computations (snapshot reads, models, predictions, maps) happen here, not in a phase."""
    from playwright.async_api import async_playwright

    times = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        for slug in slugs:
            for path in PAGES:
                t0 = time.perf_counter()
                await page.goto(f"{url}/{path}?ws={slug}", timeout=600_000)
                await _idle(page, 600_000)
                times.append((slug, path or "overview", time.perf_counter() - t0))
        await browser.close()
    return times


def wait_quiet(pid: int, share: float = 0.05, seconds: float = 10.0, limit: float = 900.0):
    """Wait until the server's process tree uses under ``share`` of one core for
    ``seconds`` (background training started by earlier visits has finished)."""
    t_end = time.time() + limit
    while time.time() < t_end:
        s = Sampler(pid)
        time.sleep(seconds)
        if s.cpu_s / seconds < share:
            return True
    return False


def _client_launcher(nice: int) -> str:
    """A Chromium launcher at lower CPU priority, so the server is measured with the CPU it
    asks for and the 20 renderers take what is left (both share the 2 cores here)."""
    if nice <= 0:
        return "/usr/bin/chromium"
    path = Path(tempfile.mkdtemp(prefix="persona-load-chromium-")) / "chromium"
    path.write_text(f'#!/bin/sh\nexec nice -n {nice} /usr/bin/chromium "$@"\n')
    path.chmod(0o700)
    return str(path)


def main() -> None:
    global CHROMIUM
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--single-minutes", type=float, default=1.0)
    ap.add_argument(
        "--home",
        help="reuse this PERSONA_STUDIO_HOME when it already holds "
        "Online Retail II (skips the few minutes of saving it)",
    )
    ap.add_argument(
        "--client-nice",
        type=int,
        default=19,
        help="nice level of the browser processes (0: same priority as the server)",
    )
    ap.add_argument("--no-warm-up", action="store_true")
    ap.add_argument(
        "--phases",
        default="",
        help="session counts of extra phases run between the single session and "
        "--sessions, e.g. 3 (each --minutes long)",
    )
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="persona-load-"))
    home = Path(args.home) if args.home else work / "home"
    os.environ["PERSONA_STUDIO_HOME"] = str(home)
    os.environ["PERSONA_STUDIO_CACHE"] = str(work / "cache")
    CHROMIUM = _client_launcher(args.client_nice)
    from profiling import workspace as W

    t0 = time.perf_counter()
    W.ensure_sample()
    known = {w.slug: w for w in W.list_workspaces()}
    retail = known.get("online-retail-ii") or W.create("Online Retail II", str(RETAIL))
    print(
        f"workspaces ready in {time.perf_counter() - t0:.0f} s "
        f"({retail.summary()['events']:,} events in Online Retail II); home {home}"
    )
    port = _free_port()
    log = open(work / "streamlit.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless=true",
            f"--server.port={port}",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    slugs = [retail.slug, W.SAMPLE_SLUG]
    try:
        for _ in range(180):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        if not args.no_warm_up:
            t0 = time.perf_counter()
            for slug, page, secs in asyncio.run(warm_up(url, slugs)):
                print(f"warm-up {slug:>18} {page:>12} {secs:7.1f} s", flush=True)
            quiet = wait_quiet(server.pid)
            print(
                f"warm-up done in {time.perf_counter() - t0:.0f} s; server quiet: {quiet}",
                flush=True,
            )
        results = []
        extra = [int(x) for x in args.phases.split(",") if x.strip()]
        plan = [
            (1, args.single_minutes),
            *((n, args.minutes) for n in extra),
            (args.sessions, args.minutes),
        ]
        for n, minutes in plan:
            results.append(asyncio.run(phase(url, server.pid, n, minutes * 60, slugs)))
            r = results[-1]
            print(
                f"phase {n} sessions: {r['visits']} visits, {len(r['errors'])} errors", flush=True
            )
            wait_quiet(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    print(f"\nclient nice {args.client_nice}; server CPU share = server CPU s / (wall s x 2 cores)")
    print(
        f"{'sessions':>8} {'visits':>7} {'errors':>6} {'p50 s':>7} {'p95 s':>7} "
        f"{'peak RSS MB':>12} {'server CPU s':>12} {'CPU share':>9}"
    )
    for r in results:
        print(
            f"{r['sessions']:>8} {r['visits']:>7} {len(r['errors']):>6} {r['p50_s']:>7.2f} "
            f"{r['p95_s']:>7.2f} {r['peak_rss_mb']:>12.0f} {r['server_cpu_s']:>12.0f} "
            f"{r['server_cpu_s'] / (r['wall_s'] * 2):>9.0%}"
        )
    for r in results:
        per_page: dict[str, list[float]] = {}
        for _n, page, slug, secs in r["log"]:
            per_page.setdefault(f"{slug}/{page}", []).append(secs)
        print(f"\n{r['sessions']} sessions, median page time by page:")
        for key, secs in sorted(per_page.items()):
            print(f"  {key:>32} {statistics.median(secs):7.2f} s  ({len(secs)} visits)")
        for e in r["errors"][:20]:
            print("error:", e)


if __name__ == "__main__":
    main()
