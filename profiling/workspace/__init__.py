"""Persisted workspaces (DuckDB): datasets that stay, their batches, snapshots and results."""

from profiling.workspace.lock import WorkspaceBusy
from profiling.workspace.store import (
    SAMPLE_SLUG,
    BatchReport,
    Snapshot,
    Workspace,
    create,
    delete,
    ensure_sample,
    home,
    list_workspaces,
    new_rows,
    open_workspace,
    slugify,
    to_jsonable,
)

__all__ = [
    "SAMPLE_SLUG",
    "BatchReport",
    "Snapshot",
    "Workspace",
    "WorkspaceBusy",
    "create",
    "delete",
    "ensure_sample",
    "home",
    "list_workspaces",
    "new_rows",
    "open_workspace",
    "slugify",
    "to_jsonable",
]
