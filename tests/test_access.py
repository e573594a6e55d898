"""Workspace access: owner, shared-with list, open workspaces."""

from __future__ import annotations

import functools

import duckdb
import polars as pl
import pytest

from profiling import workspace as W
from profiling.errors import WorkspaceError
from profiling.workspace import access as A
from profiling.workspace import db, roles, store
from profiling.workspace import privacy as WP
from tests._access_fixtures import ANN, BOB, DPO, EVE, EVENTS, hold_lock, truncate_db
from tests.conftest import raised_in_both


def test_only_the_owner_and_people_shared_with_can_open_an_owned_workspace():
    meta = {"owner": "ann@example.com", "shared_with": '["bob@example.com"]'}
    assert A.can_open(meta, "Ann@Example.com")  # case-insensitive
    assert A.can_open(meta, "bob@example.com")
    assert not A.can_open(meta, "eve@example.com")
    assert not A.can_open(meta, None)
    sample = {"slug": "sample", "readonly": "true", "builtin": "sample"}
    assert A.can_open(sample, "eve@example.com")  # the sample store: public sample data
    # a read-only folder named "sample" that ensure_sample did not build is nobody's public data
    assert not A.can_open({"slug": "sample", "readonly": "true"}, "eve@example.com")
    assert A.owner_meta(None) == {}
    assert A.owner_meta(" Ann@Example.com") == {"owner": "ann@example.com", "shared_with": "[]"}


def test_the_owner_shares_a_workspace_and_nobody_else_can(tmp_path, monkeypatch):
    from profiling.data.dataset import sample_paths

    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    pl.read_parquet(sample_paths()["events"]).head(200).write_parquet(tmp_path / "e.parquet")
    ws = W.create(
        "Ann's shop", str(tmp_path / "e.parquet"), extra_meta=A.owner_meta("ann@example.com")
    )
    assert not A.can_open(ws.meta(), "bob@example.com")
    assert A.share(ws, "ann@example.com", ["Bob@example.com ", "", "ann@example.com"]) == [
        "bob@example.com"
    ]
    assert A.can_open(ws.meta(), "bob@example.com")
    with pytest.raises(WorkspaceError, match="only the owner .* you are signed in as bob@"):
        A.share(ws, "bob@example.com", ["eve@example.com"])
    with pytest.raises(WorkspaceError, match="expected e-mail addresses, found eve"):
        A.share(ws, "ann@example.com", ["eve"])


def test_an_ownerless_workspace_is_seen_only_by_administrators_until_assigned(
    tmp_path, monkeypatch
):
    from profiling.data.dataset import sample_paths

    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    pl.read_parquet(sample_paths()["events"]).head(200).write_parquet(tmp_path / "e.parquet")
    ws = W.create("Saved in open mode", str(tmp_path / "e.parquet"))  # no owner meta
    admins = ["DPO@example.com"]
    meta = ws.meta()
    # nobody becomes its owner by opening it: only administrators see it
    assert not A.can_open(meta, "ann@example.com", admins)
    assert not A.can_open(meta, None, admins)
    assert A.can_open(meta, "dpo@example.com", admins)
    assert A.access_of(ws.meta()) == ("", [])  # still no owner after those checks
    # and nobody may delete it, not even an administrator, before it has an owner
    assert not A.can_delete(meta, "dpo@example.com")
    with pytest.raises(WorkspaceError, match="an administrator must claim it first"):
        A.check_delete(ws, "dpo@example.com")
    with pytest.raises(WorkspaceError, match="only an administrator .* signed in as ann@"):
        A.assign(ws, "ann@example.com", "ann@example.com", admins)
    with pytest.raises(WorkspaceError, match="expected an e-mail address, found 'ann'"):
        A.assign(ws, "dpo@example.com", "ann", admins)

    assert A.assign(ws, "dpo@example.com", "Ann@example.com", admins) == "ann@example.com"
    meta = ws.meta()
    assert A.can_open(meta, "ann@example.com", admins)
    assert not A.can_open(meta, "bob@example.com", admins)
    assert not A.can_delete(meta, "bob@example.com") and not A.can_delete(meta, "dpo@example.com")
    with pytest.raises(WorkspaceError, match="only the owner .*ann@example.com.* bob@"):
        A.check_delete(ws, "bob@example.com")
    A.check_delete(ws, "ann@example.com")  # the owner may
    log = WP.audit_log(ws)
    assert log["action"].to_list() == ["assign owner"]
    assert log["requested_by"].to_list() == ["dpo@example.com"]
    # the owner may hand it over; the sample store has no owner to assign
    assert A.assign(ws, "ann@example.com", "bob@example.com") == "bob@example.com"
    sample = W.ensure_sample()
    assert A.can_open(sample.meta(), "eve@example.com") and not A.can_delete(sample.meta(), "x@y")
    with pytest.raises(WorkspaceError, match="public sample data: it has no owner"):
        A.assign(sample, "dpo@example.com", "ann@example.com", admins)


# ---- roles and failing closed (issue 23) -----------------------------------------------------


ADMINS = (DPO,)
OWNER = roles.Caller(ANN, ADMINS)
SHARED = roles.Caller(BOB, ADMINS)
STRANGER = roles.Caller(EVE, ADMINS)
ADMIN = roles.Caller(DPO, ADMINS)
NOBODY = roles.Caller(None, ADMINS)  # sign-in configured, nobody signed in


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    (tmp_path / "e.csv").write_text(EVENTS + "\n")
    return tmp_path


def _shop(home, name="Ann shop", owner=ANN, shared=(BOB,)) -> W.Workspace:
    ws = W.create(name, str(home / "e.csv"), extra_meta=A.owner_meta(owner))
    if owner and shared:
        A.share(ws, owner, list(shared))
    return ws


def _writes(ws, home):
    """Every write action of a workspace, as (name, call taking a caller)."""
    more = home / "e2.csv"
    more.write_text("user,item,when,qty,price\nu99,i1,2024-02-01 10:00,1,5\n")
    return {
        "privacy settings": lambda c: WP.set_settings(
            ws, WP.PrivacySettings(min_group=0), "x", caller=c
        ),
        "erase a user": lambda c: WP.erase_user(ws, "u1", "x", caller=c),
        "pseudonymize": lambda c: WP.pseudonymize_workspace(ws, b"k" * 16, "x", caller=c),
        "add data": lambda c: ws.add(str(more), caller=c),
        "delete": lambda c: W.delete(ws.slug, caller=c),
    }


@pytest.mark.parametrize("who", [SHARED, STRANGER, ADMIN, NOBODY], ids=lambda c: c.label)
def test_only_the_owner_changes_an_owned_workspace_a_shared_user_reads_only(home, who):
    ws = _shop(home)
    WP.set_settings(ws, WP.PrivacySettings(min_group=10, dp_epsilon=1.0), ANN, caller=OWNER)
    before = (ws.meta(), ws.batches().height, WP.audit_log(ws).height)
    for action, call in _writes(ws, home).items():
        with pytest.raises(roles.AccessDenied, match="only the owner of workspace 'ann-shop'"):
            call(who)
        assert ws.path.is_dir(), action
    with pytest.raises(WorkspaceError, match="only the owner .* can share it"):
        A.share(ws, who.email or "", [EVE])
    assert (ws.meta(), ws.batches().height, WP.audit_log(ws).height) == before
    assert WP.settings(ws) == WP.PrivacySettings(False, 10, 1.0)  # k and ε not lowered
    if who is SHARED:
        assert A.check_open("ann-shop", SHARED) is not None  # reading stays allowed
        with pytest.raises(roles.AccessDenied, match="shared with you to read only"):
            _writes(ws, home)["privacy settings"](who)


def test_the_owner_does_every_write_action_and_the_audit_log_names_them(home):
    ws = _shop(home)
    calls = _writes(ws, home)
    for action in ("privacy settings", "erase a user", "add data", "pseudonymize"):
        calls[action](OWNER)
    assert A.share(ws, ANN, [BOB, EVE]) == [BOB, EVE]
    log = WP.audit_log(ws)
    assert log["action"].to_list() == ["privacy settings", "erase user", "pseudonymize ids"]
    assert ws.batches().height == 2
    calls["delete"](OWNER)
    assert not ws.path.exists()


def test_an_administrator_acts_as_owner_of_an_ownerless_workspace_but_claims_it_to_delete(home):
    ws = _shop(home, "Open shop", owner=None)
    WP.set_settings(ws, WP.PrivacySettings(min_group=5), DPO, caller=ADMIN)
    assert WP.settings(ws).min_group == 5
    with pytest.raises(roles.AccessDenied, match="only the owner"):
        WP.set_settings(ws, WP.PrivacySettings(), ANN, caller=OWNER)  # not hers yet
    with pytest.raises(roles.AccessDenied, match="only the owner of workspace 'open-shop' may"):
        W.delete(ws.slug, caller=ADMIN)


def test_without_sign_in_the_local_user_owns_every_workspace(home):
    ws = _shop(home)  # owned by ann, opened by the local user of the CLI or open mode
    WP.set_settings(ws, WP.PrivacySettings(min_group=3))
    WP.set_settings(ws, WP.PrivacySettings(min_group=4), caller=roles.LOCAL)
    assert WP.settings(ws).min_group == 4
    assert A.check_open("ann-shop", roles.LOCAL).slug == "ann-shop"


@pytest.fixture
def short_lock_wait(monkeypatch):
    """The lock wait cut to 0.3 s and no cached meta, as on a server's first read."""
    monkeypatch.setattr(db, "connect", functools.partial(db.connect, wait_s=0.3))
    monkeypatch.setattr(store, "_META", {})


def _no_leak(message: str, home) -> None:
    assert str(home) not in message and "bob-shop" not in message and "workspaces" not in message


def test_a_workspace_locked_by_another_process_is_refused_not_opened(home, short_lock_wait):
    ws = _shop(home)
    _shop(home, "Bob shop", owner=BOB, shared=())
    store._META.clear()
    with hold_lock(ws.db_path):
        for who in (STRANGER, SHARED, OWNER):
            with pytest.raises(
                roles.AccessDenied, match="who may open it could not be checked"
            ) as e:
                A.check_open("ann-shop", who)
            _no_leak(str(e.value), home)
        with pytest.raises(roles.AccessDenied, match="cannot check who may erase users from"):
            WP.erase_user(ws, "u1", ANN, caller=OWNER)
        assert A.readable(["ann-shop", "bob-shop"], roles.Caller(BOB)) == ["bob-shop"]
    assert A.check_open("ann-shop", SHARED).slug == "ann-shop"  # the lock gone, open again


def test_a_meta_read_raising_a_duckdb_error_denies(home, monkeypatch):
    ws = _shop(home)

    def broken(self):
        raise duckdb.IOException("IO Error: Could not read enough bytes")

    monkeypatch.setattr(W.Workspace, "meta", broken)
    for who in (STRANGER, OWNER):
        with pytest.raises(roles.AccessDenied, match="could not be checked"):
            A.check_open("ann-shop", who)
        with pytest.raises(roles.AccessDenied, match="cannot check who may add data to"):
            ws.add(str(home / "e.csv"), caller=who)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "no meta table", "bad sharing list"])
def test_a_damaged_workspace_denies_everyone_and_names_nothing_else(home, damage):
    ws = _shop(home)
    _shop(home, "Bob shop", owner=BOB, shared=())
    if damage == "garbage":
        ws.db_path.write_bytes(b"garbage")
    elif damage == "truncated":
        truncate_db(ws)
    elif damage == "no meta table":
        with duckdb.connect(str(ws.db_path)) as con:
            con.execute("DROP TABLE meta")
    else:
        with duckdb.connect(str(ws.db_path)) as con:
            con.execute("UPDATE meta SET value = 'not json' WHERE key = 'shared_with'")
    for who in (STRANGER, SHARED, OWNER):
        with pytest.raises(roles.AccessDenied) as e:
            A.check_open("ann-shop", who)
        assert not isinstance(e.value, A.NoSuchWorkspace)
        _no_leak(str(e.value), home)
        with pytest.raises(roles.AccessDenied):
            WP.set_settings(ws, WP.PrivacySettings(), "x", caller=who)
    assert A.readable(["ann-shop", "bob-shop"], roles.Caller(BOB)) == ["bob-shop"]


def test_the_catalog_lists_a_damaged_workspace_by_slug_and_every_other_one_by_name(home):
    truncate_db(_shop(home))
    _shop(home, "Bob shop", owner=BOB, shared=())
    W.open_workspace("bob-shop")
    bad = _shop(home, "Carl shop", owner=None)
    bad.db_path.write_bytes(b"garbage")
    assert store.catalog() == {
        "ann-shop": "ann-shop (cannot be opened)",
        "bob-shop": "Bob shop",
        "carl-shop": "carl-shop (cannot be opened)",
    }


def test_a_missing_workspace_is_its_own_error_naming_only_the_slug(home):
    _shop(home, "Bob shop", owner=BOB, shared=())
    with pytest.raises(A.NoSuchWorkspace, match="^there is no workspace 'no-such'$"):
        A.check_open("no-such", STRANGER)


def test_the_sample_name_is_reserved_for_the_built_in_store(home):
    assert W.SAMPLE_SLUG in roles.RESERVED
    with pytest.raises(WorkspaceError, match="'sample' is reserved for the built-in sample"):
        W.create("Sample", str(home / "e.csv"))
    assert not (store.workspaces_dir() / "sample").exists()
    assert W.create("Sample 2", str(home / "e.csv")).slug == "sample-2"


def test_ensure_sample_leaves_a_folder_it_did_not_build_alone(home):
    mine = _shop(home, "Mine", shared=())  # a user's workspace, saved as "sample" before
    mine.path.rename(store.workspaces_dir() / "sample")
    with pytest.raises(store.SampleFolderTaken, match="left untouched"):
        W.ensure_sample()
    kept = W.open_workspace("sample")
    assert kept.meta()["name"] == "Mine" and kept.batches().height == 1
    assert not roles.is_builtin_sample(kept.meta())  # not public sample data either
    with pytest.raises(roles.AccessDenied, match="only the owner"):
        WP.set_settings(kept, WP.PrivacySettings(), "x", caller=STRANGER)
    with pytest.raises(roles.AccessDenied, match="You do not have access"):
        A.check_open("sample", STRANGER)
    with pytest.raises(WorkspaceError, match="reserved for a built-in store and cannot be deleted"):
        W.delete("sample")


def test_ensure_sample_keeps_its_own_marked_build(home):
    from profiling.data import ingest
    from profiling.data.dataset import sample_paths

    version = ";".join(ingest.file_digest(p) for p in sample_paths().values())
    built = W.create(
        "Sample store",
        str(home / "e.csv"),
        slug="sample",
        readonly=True,
        extra_meta={"sample_version": version, roles.BUILTIN_KEY: "sample"},
    )
    assert W.ensure_sample().meta()["created_at"] == built.meta()["created_at"]
    assert A.check_open("sample", STRANGER).slug == "sample"  # public to the signed-in
    with pytest.raises(roles.AccessDenied):
        A.check_open("sample", NOBODY)


# ---- in the reader's language (issue 28) -----------------------------------------------------
def _english_and_chinese(call, kind=WorkspaceError) -> tuple[str, str]:
    return raised_in_both(call, kind)


def test_a_refused_write_or_workspace_says_why_in_the_readers_language(home):
    ws = _shop(home)
    assert _english_and_chinese(
        lambda: WP.set_settings(ws, WP.PrivacySettings(min_group=5), BOB, caller=SHARED)
    ) == (
        "only the owner of workspace 'ann-shop' (or an administrator, when it has no owner) may "
        "change the privacy settings of it; you are signed in as bob@example.com and it is "
        "shared with you to read only",
        "只有工作区 'ann-shop' 的所有者（或在它没有所有者时由管理员）可以更改它的隐私设置；"
        "您当前的登录身份是 bob@example.com，而它仅以只读方式共享给您",
    )
    assert _english_and_chinese(lambda: W.delete(ws.slug, caller=NOBODY)) == (
        "only the owner of workspace 'ann-shop' may delete it; you are signed in as nobody "
        "(not signed in)",
        "只有工作区 'ann-shop' 的所有者可以删除它；您当前的登录身份是 无人（未登录）",
    )
    assert _english_and_chinese(lambda: A.check_open("ann-shop", STRANGER)) == (
        "You do not have access to this workspace. Ask its owner to share it with "
        "eve@example.com, or pick one of yours in the sidebar",
        "您无权访问此工作区。请让它的所有者共享给 eve@example.com，或在侧边栏中选择您自己的工作区",
    )
    assert _english_and_chinese(lambda: A.check_open("no-shop", STRANGER)) == (
        "there is no workspace 'no-shop'",
        "没有工作区 'no-shop'",
    )
    assert _english_and_chinese(lambda: A.share(ws, ANN, ["eve"])) == (
        "shared_with: expected e-mail addresses, found eve",
        "shared_with：应为电子邮件地址，实际为 eve",
    )
    assert _english_and_chinese(lambda: roles.check_name("sample")) == (
        "the name 'sample' is reserved for the built-in sample store; choose another name",
        "名称 'sample' 已保留给内置的 sample 商店；请换一个名称",
    )
    assert ws.path.is_dir() and WP.settings(ws) == WP.PrivacySettings()  # nothing changed
