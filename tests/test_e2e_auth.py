"""Browser end-to-end sign-in against a local OpenID Connect provider the test starts:
sign in, open an own workspace, be refused another user's, sign out."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import polars as pl
import pytest

from profiling import workspace as W
from profiling.data.dataset import sample_paths
from profiling.workspace.access import owner_meta
from tests.conftest import ARTIFACTS, ROOT, _free_port
from tests.oidc_provider import Provider
from tests.test_e2e import wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def auth_app(tmp_path_factory, workspace_home):
    folder = tmp_path_factory.mktemp("auth")
    events = folder / "events.parquet"
    pl.read_parquet(sample_paths()["events"]).head(2000).write_parquet(events)
    existing = {w.slug for w in W.list_workspaces()}
    for name, owner in (("Ann shop", "ann@example.com"), ("Bob shop", "bob@example.com")):
        if W.slugify(name) not in existing:
            W.create(name, str(events), extra_meta=owner_meta(owner))
    if "open-mode-shop" not in existing:  # saved without sign-in: no owner
        W.create("Open mode shop", str(events))
    port = _free_port()
    with Provider("persona-studio-test", "test-secret-" + "x" * 16) as idp:
        secrets = folder / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            f'cookie_secret = "{"c" * 48}"\n'
            f'client_id = "{idp.client_id}"\n'
            f'client_secret = "{idp.client_secret}"\n'
            f'server_metadata_url = "{idp.metadata_url}"\n'
        )
        os.chmod(secrets, 0o600)
        log = open(ARTIFACTS / "streamlit-auth.log", "w")  # noqa: SIM115 (closed below)
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
                f"--secrets.files={secrets}",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://localhost:{port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            proc.kill()
            pytest.fail("the Streamlit server with [auth] did not start within 90 s")
        yield url
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_sign_in_own_workspace_refused_other_sign_out(browser, auth_app):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(f"{auth_app}/?ws=ann-shop")
    wait_idle(page)
    # no page and no data before signing in
    page.get_by_role("button", name="Sign in").wait_for()
    assert "Ann shop" not in page.content()
    assert page.locator('[data-testid="stMetric"]').count() == 0

    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/authorize**", timeout=30_000)
    page.fill("#email", "ann@example.com")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{auth_app}/**", timeout=30_000)
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("ann@example.com").wait_for(timeout=30_000)

    page.goto(f"{auth_app}/?ws=ann-shop")
    wait_idle(page)
    page.locator('[data-testid="stCaptionContainer"]', has_text="Ann shop").first.wait_for()
    assert page.locator('[data-testid="stMetric"]').count() >= 1
    picker = sidebar.locator('[data-testid="stSelectbox"]')
    picker.click()
    options = page.locator('[role="option"]').all_inner_texts()
    page.keyboard.press("Escape")
    assert any("Ann shop" in o for o in options) and not any("Bob shop" in o for o in options)
    assert not any("Open mode shop" in o for o in options)  # no owner: administrators only
    assert any("Sample store" in o for o in options)  # public sample data

    page.goto(f"{auth_app}/?ws=open-mode-shop")
    wait_idle(page)
    page.get_by_text("it was saved without sign-in, so it has no owner yet").wait_for()
    assert page.locator('[data-testid="stMetric"]').count() == 0

    page.goto(f"{auth_app}/?ws=bob-shop")
    wait_idle(page)
    page.get_by_text("You do not have access to this workspace").wait_for()
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert "Bob shop" not in page.locator('[data-testid="stMain"]').inner_text()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_timeout(1500)
    page.goto(f"{auth_app}/?ws=ann-shop")
    wait_idle(page)
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.locator('[data-testid="stMetric"]').count() == 0
    context.close()
