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
    assert A.can_open({"name": "Sample store"}, "eve@example.com")  # no owner: open
    assert A.owner_meta(None) == {}
    assert A.owner_meta(" Ann@Example.com") == {"owner": "ann@example.com", "shared_with": "[]"}


def test_the_owner_shares_a_workspace_and_nobody_else_can(tmp_path, monkeypatch):
    from profiling.dataset import sample_paths

    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    pl.read_parquet(sample_paths()["events"]).head(200).write_parquet(tmp_path / "e.parquet")
    ws = W.create("Ann's shop", str(tmp_path / "e.parquet"),
                  extra_meta=A.owner_meta("ann@example.com"))  # fmt: skip
    assert not A.can_open(ws.meta(), "bob@example.com")
    assert A.share(ws, "ann@example.com", ["Bob@example.com ", "", "ann@example.com"]) == [
        "bob@example.com"
    ]
    assert A.can_open(ws.meta(), "bob@example.com")
    with pytest.raises(WorkspaceError, match="only the owner .* you are signed in as bob@"):
        A.share(ws, "bob@example.com", ["eve@example.com"])
    with pytest.raises(WorkspaceError, match="expected e-mail addresses, found eve"):
        A.share(ws, "ann@example.com", ["eve"])
