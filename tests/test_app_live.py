"""AppTest: live events in the app (issue 27): the Overview's "events arriving" line, the
Data page's write keys (owner only), What changed against an hour ago."""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.errors import WorkspaceError
from profiling.workspace import access as A
from profiling.workspace import collector as C
from profiling.workspace import live, store
from tests._apptest import wait_for_background

APP = str(Path(__file__).resolve().parent.parent / "app.py")
# 12 customers, one purchase each in January 2024; u1 bought i1 for 2 on 2 January
BASE = "user,item,when,qty,price\n" + "\n".join(
    f"u{u},i{u % 3},2024-01-{1 + u % 27:02d} 10:00,1,{u + 1}" for u in range(12)
)
# the live batch: u1 buys twice more on 28 January (5 x 1 and 3 x 2)
MORE = "user,item,when,qty,price\nu1,i1,2024-01-28 10:00,1,5\nu1,i2,2024-01-28 11:00,2,3\n"
OLGA, ROB = "olga@example.com", "rob@example.com"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "c" * 48,
    "client_id": "persona-studio-test",
    "client_secret": "s" * 24,
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def _make(tmp_path, name: str, *, feed: bool, owner: str | None = None) -> W.Workspace:
    (tmp_path / "base.csv").write_text(BASE + "\n")
    (tmp_path / "more.csv").write_text(MORE)
    with contextlib.suppress(WorkspaceError):
        W.delete(W.slugify(name))
    ws = W.create(name, str(tmp_path / "base.csv"), extra_meta=A.owner_meta(owner))
    if owner:
        A.share(ws, owner, [ROB])
    if feed:
        live.add(ws, str(tmp_path / "more.csv"))
    return ws


@pytest.fixture
def fed(tmp_path, clear_streamlit_caches):
    ws = _make(tmp_path, "Live app shop", feed=True)
    yield ws
    shutil.rmtree(ws.path, ignore_errors=True)
    store._META.clear()


@pytest.fixture
def quiet(tmp_path, clear_streamlit_caches):
    ws = _make(tmp_path, "Quiet app shop", feed=False)
    yield ws
    shutil.rmtree(ws.path, ignore_errors=True)
    store._META.clear()


def _open(slug: str, page: str | None = None, email: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    if email is not None:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": email}
    at.query_params["ws"] = slug
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def _captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption).replace("\\", "")


def test_the_overview_shows_events_arriving_for_a_workspace_with_a_live_feed(fed):
    at = _open(fed.slug)
    assert not at.exception and not at.error
    # 12 rows of the workspace's first batch and 2 of the live one, both committed today
    found = re.search(r"Live: last event (\d+) s ago · 14 events today", _captions(at))
    assert found, _captions(at)
    assert int(found.group(1)) < 120  # the batch was committed moments ago


def test_the_overview_shows_no_live_line_without_a_feed(quiet):
    at = _open(quiet.slug)
    assert not at.exception and not at.error
    assert "Live:" not in _captions(at)


def test_the_owner_creates_a_key_seen_once_then_by_its_prefix_and_revokes_it(quiet):
    at = _open(quiet.slug, "app_pages/data.py")
    at.segmented_control(key="ps_data_source").set_value("Manage workspaces").run()
    assert "No write key yet." in _captions(at)
    at.text_input(key="ps_live_key_label").input("website").run()
    at.button(key="ps_live_key_create").click().run()
    assert not at.exception and not at.error
    (shown,) = [c.value for c in at.code]
    assert C.key_is_valid(quiet, shown)  # the full key, shown once
    (record,) = C.list_write_keys(quiet)
    assert record["label"] == "website"
    table = at.dataframe[0].value
    assert table["Key"].tolist() == [f"ps_wk_{record['id']}_…"]
    assert table["Label"].tolist() == ["website"]
    assert table["Last used"].tolist() == ["never"]
    assert shown not in table.to_string()
    at.run()
    assert not at.code  # never shown again
    at.selectbox(key="ps_live_key_revoke_pick").set_value(record["id"]).run()
    at.button(key="ps_live_key_revoke").click().run()
    assert not at.exception and not at.error
    assert C.list_write_keys(quiet) == []
    assert not C.key_is_valid(quiet, shown)
    assert any("revoked" in s.value for s in at.success)


def test_a_reader_cannot_create_or_revoke_keys_and_the_owner_can(tmp_path, clear_streamlit_caches):
    ws = _make(tmp_path, "Owned live shop", feed=False, owner=OLGA)
    try:
        C.create_write_key(ws, "site", caller=A.Caller(OLGA))
        at = _open(ws.slug, "app_pages/data.py", email=ROB)
        at.segmented_control(key="ps_data_source").set_value("Manage workspaces").run()
        assert not at.exception
        keys = [b.key for b in at.button]
        assert "ps_live_key_create" not in keys and "ps_live_key_revoke" not in keys
        assert "Only the workspace's owner can create or revoke its write keys." in _captions(at)

        at = _open(ws.slug, "app_pages/data.py", email=OLGA)
        at.segmented_control(key="ps_data_source").set_value("Manage workspaces").run()
        keys = [b.key for b in at.button]
        assert "ps_live_key_create" in keys and "ps_live_key_revoke" in keys
    finally:
        shutil.rmtree(ws.path, ignore_errors=True)
        store._META.clear()


def test_what_changed_compares_the_newest_event_with_an_hour_before_it(fed):
    at = _open(fed.slug, "app_pages/changes.py")
    modes = at.segmented_control(key="ps_chg_mode")
    assert modes.options[-1] == "Now and an hour ago"
    modes.set_value("Now and an hour ago").run()
    wait_for_background(at, 120)
    assert not at.exception and not at.error
    # the newest event is u1's at 28 Jan 2024 11:00; an hour before is 10:00 (event time)
    assert (
        "Profiles as of the newest event (28 Jan 2024 11:00) against one hour before it "
        "(28 Jan 2024 10:00)" in _captions(at)
    )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers compared"] == "12"  # everyone bought before 10:00


def test_what_changed_offers_no_hour_mode_without_a_feed(quiet):
    at = _open(quiet.slug, "app_pages/changes.py")
    assert "Now and an hour ago" not in at.segmented_control(key="ps_chg_mode").options


def test_the_user_page_of_a_live_workspace_draws_the_user_with_their_live_stamp(fed):
    from datetime import UTC, datetime

    from ui import live as live_ui

    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = fed.slug
    at.query_params["user"] = "u1"
    at.run()
    at.switch_page("app_pages/user.py").run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Orders"] == "2"  # 2 January, and 28 January from the live batch
    assert metrics["Net spend"] == "13.00"  # 2 + 5 x 1 + 3 x 2
    # the stamp the page was drawn with: u1's 3 events, the last at 28 Jan 11:00
    stamp = (3, datetime(2024, 1, 28, 11, 0, tzinfo=UTC))
    assert at.session_state[live_ui.USER_STAMP] == (fed.slug, "u1", stamp)
    assert "Predicted scores" in [s.value for s in at.subheader]
