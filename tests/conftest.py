"""Shared fixtures: a clean Streamlit cache per test and the running app for browser tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "test-artifacts"


# The longest test files, longest first. `make test` runs the suite on two workers, each
# taking a whole file at a time (pytest-xdist's loadfile): starting the long files first
# keeps one worker from being left with a long file at the end while the other is idle.
LONGEST_FIRST = (  # by their measured time in a full run, longest first
    "test_e2e_journeys.py",
    "test_app.py",
    "test_e2e_layout.py",
    "test_i18n_e2e.py",
    "test_e2e.py",
    "test_app_predictions.py",
    "test_engines_spark.py",
    "test_app_models.py",
    "test_e2e_auth.py",
    "test_e2e_payload.py",
    "test_recommenders.py",
    "test_sample_signals.py",
)


def pytest_collection_modifyitems(config, items):
    """Run the files of LONGEST_FIRST first, in that order; the rest keep their order."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session", autouse=True)
def embedding_cache_dir(tmp_path_factory):
    """Maps are cached on disk; tests (and the app servers they start) use a fresh folder."""
    path = tmp_path_factory.mktemp("embedding-cache")
    os.environ["PERSONA_STUDIO_CACHE"] = str(path)
    yield path


@pytest.fixture(scope="session", autouse=True)
def workspace_home(tmp_path_factory):
    """Workspaces live in a fresh folder for the whole run (the sample store is built in it
    once); tests that need their own folder set PERSONA_STUDIO_HOME again."""
    path = tmp_path_factory.mktemp("persona-home")
    os.environ["PERSONA_STUDIO_HOME"] = str(path)
    yield path


@pytest.fixture
def clear_streamlit_caches():
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data, or skip the test saying it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real dataset not available: {path}")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="session")
def app_url():
    """Start `streamlit run app.py` on a free port; yield its URL; stop it afterwards."""
    url, proc, log = start_app(log_name="streamlit.log")
    offset = log.tell()  # where this server's lines start (the log is appended to)
    yield url
    stop_app(proc, log)
    # a widget given a default and a session-state value: Streamlit only logs it
    with open(log.name, errors="replace") as f:
        f.seek(offset)
        text = f.read()
    assert "was created with a default value but also had its value set" not in text, (
        f"a widget has a default value and a session-state value: see {log.name}"
    )


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("Debian's chromium is not installed (make test installs it when run as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    out = ARTIFACTS / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots are saved in {out}")
    return out


@pytest.fixture(scope="session")
def spark():
    """One local Spark (2 cores, 2 shuffle partitions, no UI) for the whole test session;
    skipped with the reason when PySpark or Java is missing (make test installs Java)."""
    if shutil.which("java") is None:
        pytest.skip("java is missing: run scripts/ensure_java.sh (make test does)")
    pytest.importorskip("pyspark")
    from profiling.spark_session import spark_session

    session = spark_session("local[2]", shuffle_partitions=2, ui=False)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def start_app(
    env: dict[str, str] | None = None,
    log_name: str = "streamlit-own.log",
    args: tuple[str, ...] = (),
    port: int | None = None,
):
    """Start one more `streamlit run app.py` (with more command-line ``args``) on ``port``
    or a free one (for a test that restarts a server or needs its own PERSONA_STUDIO_HOME);
    returns (url, process, log file) once /_stcore/health answers. Stop it with
    :func:`stop_app`."""
    port = port or _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # two workers never share a log
    if worker:
        log_name = log_name.replace(".log", f"-{worker}.log")
    log = open(ARTIFACTS / log_name, "a")  # noqa: SIM115 (closed by stop_app)
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
            *args,
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    url = f"http://localhost:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return url, proc, log
        except OSError:
            time.sleep(0.5)
    stop_app(proc, log)
    pytest.fail("the Streamlit server did not answer /_stcore/health within 90 s")


def stop_app(proc: subprocess.Popen, log) -> None:
    """Stop a server started by :func:`start_app` (its workers exit with it)."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)
    log.close()


def raised_in_both(call, kind: type[BaseException] = Exception) -> tuple[str, str]:
    """The message of the ``kind`` error ``call()`` raises in English, then in Chinese (a
    library error is worded in the language of the context it is raised in)."""
    from profiling.vocabulary import i18n

    with pytest.raises(kind) as en:
        call()
    with i18n.language("zh"), pytest.raises(kind) as zh:
        call()
    return str(en.value), str(zh.value)
