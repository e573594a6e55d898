"""Workspace access: owner, shared-with list, open workspaces."""

from __future__ import annotations

import polars as pl
import pytest

from profiling import workspace as W
from profiling.errors import WorkspaceError
from profiling.workspace import access as A


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
    from profiling.workspace import privacy as WP

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
