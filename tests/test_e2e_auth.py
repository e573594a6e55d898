"""Browser end-to-end sign-in against a local OpenID Connect provider the test starts:
sign in, open an own workspace, be refused another user's, sign out."""

from __future__ import annotations

import os

import polars as pl
import pytest

from profiling import workspace as W
from profiling.data.dataset import sample_paths
from profiling.workspace import access as A
from profiling.workspace import privacy as WP
from profiling.workspace.access import owner_meta
from profiling.workspace.roles import AccessDenied, Caller
from tests.conftest import _free_port, start_app, stop_app
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
    A.share(W.open_workspace("ann-shop"), "ann@example.com", ["carol@example.com"])
    if "open-mode-shop" not in existing:  # saved without sign-in: no owner
        W.create("Open mode shop", str(events))
    port = _free_port()
    unverified = ["mallory@example.com"]
    with Provider("persona-studio-test", "test-secret-" + "x" * 16, unverified) as idp:
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
        url, proc, log = start_app(
            log_name="streamlit-auth.log", args=(f"--secrets.files={secrets}",), port=port
        )
        yield url
        stop_app(proc, log)


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


def _sign_in(page, base: str, path: str, email: str) -> None:
    """Sign in through the test provider, then open ``path`` (e.g. "/data?ws=ann-shop")."""
    page.goto(base + path)
    wait_idle(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/authorize**", timeout=30_000)
    page.fill("#email", email)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/**", timeout=30_000)
    wait_idle(page)
    page.goto(base + path)
    wait_idle(page)


def test_a_shared_user_reads_but_sees_no_owner_control_and_a_forced_change_is_refused(
    browser, auth_app
):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    _sign_in(page, auth_app, "/data?ws=ann-shop", "carol@example.com")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Cleaning report · Ann shop").wait_for(timeout=30_000)  # she reads
    assert main.get_by_text("Add data to Ann shop").count() == 0
    main.get_by_text("Manage workspaces", exact=True).click()
    wait_idle(page)
    main.get_by_text("it is shared with you to read").wait_for()
    for owner_only in ("Save privacy settings", "Pseudonymize user ids", "Save sharing"):
        assert main.get_by_role("button", name=owner_only).count() == 0
    context.close()
    # the same change forced past the page, as the library sees it from the app
    ws = W.open_workspace("ann-shop")
    before = WP.settings(ws)
    with pytest.raises(AccessDenied, match="shared with you to read only"):
        WP.set_settings(ws, WP.PrivacySettings(), "carol", caller=Caller("carol@example.com"))
    assert WP.settings(ws) == before


def test_an_address_the_provider_says_is_unverified_is_refused(browser, auth_app):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    _sign_in(page, auth_app, "/?ws=sample", "mallory@example.com")
    page.get_by_text("e-mail address is not verified").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stMetric"]').count() == 0
    context.close()
