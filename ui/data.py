"""The active workspace and its dataset, cached by workspace slug and data version.

The dataset is shared between sessions through ``st.cache_resource`` (one object per
workspace version, never copied or mutated), so a page run costs no copy of the log.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import duckdb
import polars as pl
import streamlit as st

from profiling import workspace as W
from profiling.data import ingest
from profiling.data.dataset import Dataset
from profiling.errors import ProfilingError, WorkspaceError
from profiling.vocabulary import fmt, i18n
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import store
from ui import security, state
from ui.i18n import cached
from ui.labels import CANONICAL_HEADERS
from ui.text import escape_markdown, show_error


@dataclass(frozen=True)
class WorkspaceRef:
    """What identifies the active data: the workspace and its data version. ``key()`` is
    the cache key of everything computed from it."""

    slug: str
    name: str
    version: str
    readonly: bool

    def key(self) -> str:
        return f"{self.slug}@{self.version}"

    def workspace(self) -> W.Workspace:
        return W.open_workspace(self.slug)


def active_slug() -> str:
    """The workspace named in the URL, else the one this session had open, else the sample
    store. Puts it (back) in the URL."""
    slug = st.query_params.get(state.WS_PARAM)
    if slug:
        st.session_state[state.WS] = slug
    else:
        slug = st.session_state.get(state.WS) or state.SAMPLE_KEY
        st.query_params[state.WS_PARAM] = slug
    return slug


def switch_to(slug: str) -> None:
    """Make ``slug`` the active workspace (URL and session) and forget the picked user."""
    st.session_state[state.WS] = slug
    st.query_params[state.WS_PARAM] = slug
    st.session_state.pop(state.USER_PICK, None)
    st.session_state.pop(state.USER_SEGMENT, None)
    st.query_params.pop(state.USER_PARAM, None)


@cached(N_("Preparing the sample store…"), max_entries=1)
def _sample() -> str:
    return W.ensure_sample().slug


def _ref_of(slug: str) -> WorkspaceRef:
    if slug == state.SAMPLE_KEY:
        _sample()
    ws = W.open_workspace(slug)
    meta = ws.meta()
    return WorkspaceRef(ws.slug, meta["name"], meta["data_version"], meta.get("readonly") == "true")


def _md(text: str) -> str:
    return escape_markdown(text)


_log = logging.getLogger(__name__)


def _without_paths(text: str) -> str:
    """``text`` with the server's data folder left out of file paths (a viewer sees the
    workspace's own file, never where the server keeps its data)."""
    for root in (store.workspaces_dir(), W.home()):
        text = text.replace(f"{root}/", "").replace(str(root), _("the data folder"))
    return text


def _not_found(slug: str, exc: ProfilingError) -> None:
    """Say why workspace ``slug`` cannot be opened, offering only the workspaces this viewer
    may open (no other workspace, no server path)."""
    names = security.visible(catalog(), security.signed_in_email())
    if isinstance(exc, store.WorkspaceMissing):
        st.error(security.missing_text(slug, names), icon=":material/folder_off:")
        return
    offer = ", ".join(f"{_md(n)} ({_md(s)})" for s, n in names.items() if s != slug)
    st.error(
        _("Workspace **{slug}** could not be opened: {error}").format(
            slug=_md(slug), error=_md(_without_paths(str(exc)))
        )
        + "\n\n"
        + _("Nothing else is shown in its place.")
        + " "
        + (_("Workspaces you can open: {offer}.").format(offer=offer) if offer else "")
        + " "
        + _("Or save your files as a new workspace on the Data page."),
        icon=":material/folder_off:",
    )


def resolved_spec() -> WorkspaceRef | None:
    """The active workspace, or None after saying why it cannot be opened."""
    slug = active_slug()
    try:
        return _ref_of(slug)
    except ProfilingError as exc:
        _not_found(slug, exc)
        return None
    except duckdb.Error as exc:  # a damaged file DuckDB opens but cannot read (truncated)
        _not_found(
            slug, WorkspaceError(_("its database cannot be read ({error})").format(error=exc))
        )
        return None


@cached(N_("Opening the workspace…"), max_entries=4)
def _load(key: str, _ref: WorkspaceRef) -> Dataset:
    # the version must match the one the page resolved: a refresh committed in between
    # raises (nothing cached) instead of filing new data under the old version's key
    return _ref.workspace().dataset(expect_version=_ref.version)


def load(ref: WorkspaceRef) -> Dataset:
    """The dataset of a workspace version (cached and shared, never mutated)."""
    return _load(ref.key(), ref)


def active_dataset() -> Dataset | None:
    """The active workspace's dataset, or None after showing why it could not be opened."""
    ref = resolved_spec()
    if ref is None:
        return None
    try:
        return load(ref)
    except ProfilingError as exc:
        show_error(WorkspaceError(_without_paths(str(exc))))
        return None
    except duckdb.Error as exc:  # a damaged file DuckDB opens but cannot read (truncated)
        text = _("workspace {name}: its database cannot be read ({error})").format(
            name=repr(ref.slug), error=exc
        )
        show_error(WorkspaceError(_without_paths(text)))
        return None


@st.cache_data(ttl=5, show_spinner=False)
def catalog() -> dict[str, str]:
    """slug -> name of every workspace (re-read every few seconds, and after changes); one
    that cannot be read is listed as "<slug> (cannot be opened)" and the rest still work."""
    try:
        _sample()
    except ProfilingError as exc:  # e.g. a user's folder named "sample": left as it is
        _log.warning("the sample store is not available: %s", exc)
    return store.catalog()


@st.cache_data(max_entries=16, show_spinner=False)
def inspect_upload(path: str, name: str, table: str, language: str | None = None) -> dict:
    """Read an uploaded file and infer its column roles (cached by its content path and
    ``language``, the language its notes are worded in).

    Returns a small dict: read description, notes, mapping rows (column, examples, role,
    reason) and mapping notes. Raises ProfilingError when the file cannot be used.
    """
    raw = ingest.read_table(path, name=name)
    mapping = ingest.infer_roles(raw, table)
    sample = raw.sample(5)
    rows = []
    for col in raw.frame.collect_schema().names():
        examples = ", ".join(str(v) for v in sample[col].drop_nulls().head(3).to_list())
        rows.append(
            {
                "column": col,
                "examples": examples[:80],
                "role": mapping.roles[col],
                "how": ingest.reason_text(mapping.reasons[col]),
            }
        )
    return {
        "read": raw.info.describe(),
        "notes": raw.info.notes + mapping.notes,
        "rows": rows,
    }


def default_name(file_name: str) -> str:
    """A workspace name from a file name: "online_retail_II.xlsx" -> "online retail II"."""
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    return stem.replace("_", " ").strip() or "My store"


def _forget_catalog() -> None:
    catalog.clear()


def create_workspace(
    name: str, files: dict[str, dict], maps: dict, progress, pseudonymize: bool = False
) -> WorkspaceRef:
    """Save reviewed uploads as a new workspace and return it (ids pseudonymized at
    ingestion when ``pseudonymize``). Raises ProfilingError."""
    ws = W.create(
        name,
        files["events"]["path"],
        files.get("users", {}).get("path"),
        files.get("items", {}).get("path"),
        events_map=maps.get("events"),
        users_map=maps.get("users"),
        items_map=maps.get("items"),
        names={role: f["name"] for role, f in files.items()},
        on_progress=progress,
        extra_meta=security.new_workspace_meta(),
        pseudonym_key=security.pseudonym_key() if pseudonymize else None,
    )
    _forget_catalog()
    return _ref_of(ws.slug)


def add_batch(ref: WorkspaceRef, files: dict[str, dict], maps: dict, progress) -> W.BatchReport:
    """Append reviewed uploads to the workspace as a new batch (pseudonymized with the
    workspace's key when it pseudonymizes ids). Raises ProfilingError."""
    return ref.workspace().add(
        files["events"]["path"],
        files.get("users", {}).get("path"),
        files.get("items", {}).get("path"),
        events_map=maps.get("events"),
        users_map=maps.get("users"),
        items_map=maps.get("items"),
        names={role: f["name"] for role, f in files.items()},
        on_progress=progress,
        pseudonym_key=security.configured_key(),
        caller=security.caller(),
    )


def delete_workspace(slug: str) -> None:
    """Delete ``slug`` (with sign-in, only its owner may). Raises ProfilingError."""
    security.check_delete(slug)
    W.delete(slug, caller=security.caller())
    _forget_catalog()


def batches(ref: WorkspaceRef) -> pl.DataFrame:
    """One row per batch of the workspace (see Workspace.batches), for people: added (a
    date and time in the one format), files ("events: a.csv · users: u.csv", not the stored
    JSON), rows read, new, repeated and dropped."""
    b = ref.workspace().batches()
    return b.select(
        pl.col("batch_id").alias(_("batch")),
        pl.Series(_("added"), [fmt.datetime_text(v) for v in b["added_at"]], pl.String),
        pl.Series(_("files"), [_files_text(f) for f in b["files"]], pl.String),
        pl.col("rows_read").alias(_("rows read")),
        pl.col("rows_new").alias(_("new rows")),
        pl.col("rows_duplicate").alias(_("rows already there")),
        pl.col("rows_dropped").alias(_("rows dropped")),
    )


def _files_text(stored: str | None) -> str:
    """The stored JSON of a batch's files ({table: {name, digest}}) as "events: a.csv"."""
    try:
        files = json.loads(stored or "{}")
    except json.JSONDecodeError:
        return str(stored)  # written by hand or an older version: shown as it is
    words = {"events": _("Events"), "users": _("Users"), "items": _("Items")}
    return " · ".join(f"{words.get(t, t)}: {f.get('name', '?')}" for t, f in files.items())


def preview(frame: pl.DataFrame | None, n: int = 200) -> pl.DataFrame | None:
    """The first ``n`` rows for display: decimals rounded to 6 places so binary float
    noise ("15.299999999999999") is not shown; the data itself is not changed."""
    if frame is None:
        return None
    head = frame.head(n)
    return head.with_columns(pl.col(pl.Float32, pl.Float64).round(6))


def preview_columns(frame: pl.DataFrame) -> dict:
    """``column_config`` of a cleaned table's preview: numbers and dates narrower than the
    data grid's default, so a typical log's dozen columns fit at 1280 px."""
    out = {}
    for name, dtype in frame.schema.items():
        label = _(CANONICAL_HEADERS[name]) if name in CANONICAL_HEADERS else name
        if dtype.is_numeric():
            out[name] = st.column_config.NumberColumn(label, width=70)
        elif dtype.is_temporal():
            # Streamlit's grid writes English month names: numbers in other languages
            grid = fmt.GRID_DATETIME_FORMAT if i18n.get_language() == "en" else "YYYY-MM-DD HH:mm"
            out[name] = st.column_config.DatetimeColumn(label, width=150, format=grid)
        elif name in CANONICAL_HEADERS:
            out[name] = st.column_config.TextColumn(label)
    return out
