"""Profile map cold start and UMAP scaling.

1. Cold start: start a fresh ``streamlit run app.py`` (empty embedding cache, new process so
   numba has compiled nothing), open ``/map`` in headless Chromium and time until the UMAP
   map of the sample store is drawn. Target: at most 20 s from server start. The baseline
   measured in the same run is the time until the same page first shows any map (PCA).
2. UMAP time for 10k and 50k users (generated stores, profile features), against PCA on the
   same matrix in the same run.

Run: ``.venv/bin/python bench/map_cold_start.py [--skip-scaling]`` (needs Debian's chromium).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(screenshot: Path | None) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    cache = tempfile.mkdtemp(prefix="ps-bench-cache-")
    env = dict(os.environ, PERSONA_STUDIO_CACHE=cache)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
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
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}"
    times: dict[str, float] = {}
    try:
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.1)
            if time.perf_counter() - t0 > 60:
                raise SystemExit("the server did not start within 60 s")
        times["server up"] = time.perf_counter() - t0
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"{url}/map")
            page.locator(".gtitle", has_text="map of").first.wait_for(timeout=120_000)
            times["first map (PCA or UMAP)"] = time.perf_counter() - t0
            page.locator(".gtitle", has_text="UMAP map of").first.wait_for(timeout=180_000)
            times["UMAP map visible"] = time.perf_counter() - t0
            if screenshot is not None:
                page.wait_for_timeout(800)
                page.screenshot(path=str(screenshot), full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return times


def scaling(sizes: tuple[int, ...]) -> list[dict]:
    from profiling.data.dataset import load_dataset
    from profiling.data.sample import generate_store, write_store
    from profiling.profiles import embeddings as E
    from profiling.profiles.features import build_profiles

    E.warm_up()
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as d:
            paths = write_store(generate_store(n_users=n, n_items=2000, random_state=7), d)
            ds = load_dataset(paths["events"], paths["users"], paths["items"])
        ids, x, feats = E.profile_matrix(build_profiles(ds))
        pca = E.embed(ids, x, E.EmbeddingParams(method="pca"))
        umap = E.embed(ids, x, E.EmbeddingParams(method="umap"))
        rows.append(
            {
                "users": len(ids),
                "features": len(feats),
                "pca_s": pca.seconds,
                "umap_s": umap.seconds,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--screenshot", type=Path, default=ROOT / "test-artifacts" / "map-cold.png")
    args = parser.parse_args()
    args.screenshot.parent.mkdir(parents=True, exist_ok=True)

    times = cold_start(args.screenshot)
    base = times["first map (PCA or UMAP)"]
    print("Cold start (fresh server, empty cache), seconds from server start:")
    for name, seconds in times.items():
        print(f"  {name:<26} {seconds:6.1f} s   ({seconds / base:4.2f}x the first map)")
    verdict = "PASS" if times["UMAP map visible"] <= 20 else "FAIL"
    print(f"  target: UMAP map visible <= 20 s -> {verdict}")

    if not args.skip_scaling:
        print("\nUMAP vs PCA on profile features (generated stores, warm process):")
        for r in scaling((10_000, 50_000)):
            print(
                f"  {r['users']:>7,} users x {r['features']} features: UMAP {r['umap_s']:6.1f} s, "
                f"PCA {r['pca_s']:5.2f} s ({r['umap_s'] / r['pca_s']:,.0f}x PCA)"
            )


if __name__ == "__main__":
    main()
