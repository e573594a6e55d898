"""Workspace-level privacy: settings in the workspace meta, pseudonymizing a workspace's ids,
erasing one user everywhere, and the audit table that records both.

Settings (meta keys, all off by default): ``privacy_pseudonymize`` ("true"/"false"),
``privacy_min_group`` (k, 0 = off) and ``privacy_dp_epsilon`` ("" = off).

:func:`erase_user` removes one user from the events and users tables, from every snapshot's
profiles and assignments, from the example rows of the cleaning reports, from every stored
source file (rewritten without the user's rows; a source that cannot be rewritten in its own
format, such as Excel, is deleted, and files no batch lists are deleted) and every saved
map (a cache, drawn again on demand), marks every saved result for retraining (its object
file, which held the user's data, is deleted and its record says why, so it is never served
again and pages say a retrain is due: :meth:`ResultStore.mark_stale`), gives the workspace
a new data version so every in-memory cache and page treats its data as changed, and adds
an ``audit`` row with the time, who asked and a keyed digest (HMAC-SHA256 with the server's
audit secret, :func:`audit_key`; not the id, and not guessable from a list of ids without the
secret) of the erased user. The database part is one transaction, under the workspace's write
lock; source files are rewritten inside it, results and maps changed after it commits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from profiling import private
from profiling.data import ingest
from profiling.data import privacy as P
from profiling.errors import ProfilingError, WorkspaceError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import db
from profiling.workspace.results import ResultStore
from profiling.workspace.roles import CALLER_WORDS, Caller, require_owner
from profiling.workspace.store import Workspace, key_check, workspace_lock

# What the audit log records, stored in English as written here and said in the reader's
# language where the log is shown (:func:`audit_text`).
ASSIGN_OWNER = N_("assign owner")
PRIVACY_SETTINGS = N_("privacy settings")
ERASE_USER = N_("erase user")
PSEUDONYMIZE_IDS = N_("pseudonymize ids")
UNKNOWN_CALLER = N_("unknown")
AUDIT_WORDS = frozenset(
    {ASSIGN_OWNER, PRIVACY_SETTINGS, ERASE_USER, PSEUDONYMIZE_IDS, UNKNOWN_CALLER} | CALLER_WORDS
)
"""The stored words of the audit log's ``action`` and ``requested_by`` columns (msgids)."""
AUDIT_COLUMNS: dict[str, str] = {
    "requested_at": N_("when"),
    "action": N_("what was done"),
    "requested_by": N_("requested by"),
    "subject_digest": N_("user (keyed digest)"),
    "details": N_("details"),
}
"""The audit log's columns -> their headers where it is shown (msgids)."""

AUDIT_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS audit (requested_at TIMESTAMPTZ, action VARCHAR, requested_by VARCHAR, "
    "subject_digest VARCHAR, details VARCHAR)"
)


@dataclass(frozen=True)
class PrivacySettings:
    """A workspace's privacy controls; the defaults are all off."""

    pseudonymize: bool = False
    min_group: int = 0  # k of small-group suppression; 0 = off
    dp_epsilon: float | None = None  # epsilon of the DP counts; None = off

    def to_meta(self) -> dict[str, str]:
        return {
            "privacy_pseudonymize": "true" if self.pseudonymize else "false",
            "privacy_min_group": str(int(self.min_group)),
            "privacy_dp_epsilon": "" if self.dp_epsilon is None else repr(float(self.dp_epsilon)),
        }


def settings(ws: Workspace) -> PrivacySettings:
    """The workspace's privacy settings (defaults for keys it does not have)."""
    meta = ws.meta()
    eps = meta.get("privacy_dp_epsilon") or ""
    return PrivacySettings(
        pseudonymize=meta.get("privacy_pseudonymize") == "true",
        min_group=int(meta.get("privacy_min_group") or 0),
        dp_epsilon=float(eps) if eps else None,
    )


def set_settings(
    ws: Workspace, new: PrivacySettings, requested_by: str = "", caller: Caller | None = None
) -> None:
    """Store suppression and DP settings (pseudonymization is switched on by
    :func:`pseudonymize_workspace`, which rewrites the stored ids). Raises WorkspaceError for
    a k below 0 or a non-positive epsilon; AccessDenied unless ``caller`` is the owner."""
    require_owner(ws, caller, N_("change the privacy settings of"))
    if new.min_group < 0 or new.min_group == 1:
        raise WorkspaceError(
            _("privacy_min_group: expected 0 (off) or at least 2 users; found {found}").format(
                found=new.min_group
            )
        )
    if new.dp_epsilon is not None and not new.dp_epsilon > 0:
        raise WorkspaceError(
            _("privacy_dp_epsilon: expected a positive number; found {found}").format(
                found=new.dp_epsilon
            )
        )
    current = settings(ws)
    meta = new.to_meta()
    meta["privacy_pseudonymize"] = "true" if current.pseudonymize else "false"
    with workspace_lock(ws), db.connect(ws.db_path) as con, db.transaction(con):
        for key, value in meta.items():
            con.execute("DELETE FROM meta WHERE key = ?", [key])
            con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])
        record_audit(con, PRIVACY_SETTINGS, requested_by, "", json.dumps(meta))


AUDIT_KEY_ENV = "PERSONA_STUDIO_AUDIT_KEY"
AUDIT_KEY_FILE = "audit.key"


def audit_key() -> bytes:
    """The server's secret for audit digests: ``$PERSONA_STUDIO_AUDIT_KEY``, else a random
    32-byte secret created once in the home folder (``audit.key``, mode 0600)."""
    raw = os.environ.get(AUDIT_KEY_ENV)
    if raw:
        return raw.encode()
    path = private.private_dir(private.data_home()) / AUDIT_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) < 16:
            raise WorkspaceError(
                _(
                    "{path}: expected a secret of at least 16 bytes, found {found}; delete the "
                    "file (a new one is made) or set {variable}"
                ).format(path=path, found=len(key), variable=AUDIT_KEY_ENV)
            ) from None
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def subject_digest(subject: str) -> str:
    """The keyed digest an audit row keeps of a user id (HMAC-SHA256, hex)."""
    return hmac.new(audit_key(), subject.encode(), hashlib.sha256).hexdigest()


def record_audit(con, action: str, who: str, subject: str, details: str) -> None:
    con.execute(AUDIT_SCHEMA)
    digest = subject_digest(subject) if subject else ""
    con.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?, ?)",
        [datetime.now(UTC), action, who or UNKNOWN_CALLER, digest, details],
    )


def audit_log(ws: Workspace) -> pl.DataFrame:
    """One row per recorded action: requested_at, action, requested_by, subject_digest, details."""
    with db.connect(ws.db_path) as con:
        if not db.has_table(con, "audit"):
            return pl.DataFrame(
                schema={
                    "requested_at": pl.Datetime("us", "UTC"),
                    "action": pl.String,
                    "requested_by": pl.String,
                    "subject_digest": pl.String,
                    "details": pl.String,
                }
            )
        return db.read(con, "SELECT * FROM audit ORDER BY requested_at")


def audit_text(log: pl.DataFrame) -> pl.DataFrame:
    """The audit log (:func:`audit_log`) as a reader sees it, in the language of the
    context: the same rows in the same order, headers from :data:`AUDIT_COLUMNS`, and the
    stored words of ``action`` and ``requested_by`` (:data:`AUDIT_WORDS`) translated. An
    address, a word not in the table (an entry of another version), the digest and the
    details are shown as stored, never dropped."""
    words = [c for c in ("action", "requested_by") if c in log.columns]
    shown = log.with_columns(pl.col(c).replace({w: _(w) for w in AUDIT_WORDS}) for c in words)
    return shown.rename({c: _(h) for c, h in AUDIT_COLUMNS.items() if c in shown.columns})


def _user_tables(con) -> list[str]:
    names = [
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    ]
    out = []
    for name in names:
        cols = {r[0] for r in con.execute(f"DESCRIBE {db.quoted(name)}").fetchall()}
        if "user_id" in cols:
            out.append(name)
    return sorted(out)


def _scrub_examples(value, user_id: str):
    """``value`` (a report's JSON) without example rows that mention ``user_id``."""
    if isinstance(value, dict):
        return {k: _scrub_examples(v, user_id) for k, v in value.items()}
    if isinstance(value, list):
        return [
            _scrub_examples(v, user_id)
            for v in value
            if not (isinstance(v, dict) and user_id in {str(x) for x in v.values()})
            and not (isinstance(v, list) and user_id in {str(x) for x in v})
        ]
    return value


@dataclass(frozen=True)
class ErasureReport:
    """What :func:`erase_user` removed."""

    rows: dict[str, int]  # table -> rows deleted
    results_removed: int  # saved results marked for retraining (their object files deleted)
    maps_removed: int
    sources_removed: int  # source files deleted (not rewritable, or listed by no batch)
    data_version: str
    sources_rewritten: int = 0  # source files rewritten without the user's rows


#: why saved results are trained again after an erasure: stored in English with the results,
#: said in the reader's language by :func:`stale_reason_text`
ERASED_REASON = N_(
    "a user was erased from this workspace on {when} UTC (asked by {who}); the saved model "
    "held their data, so it was removed and must be trained again on the remaining data"
)
_ERASED_RE = re.compile(
    re.escape(ERASED_REASON)
    .replace(re.escape("{when}"), "(?P<when>.+?)")
    .replace(re.escape("{who}"), "(?P<who>.*)")
)


def stale_reason_text(reason: str) -> str:
    """A stored retraining reason in the language of the context (an erasure's reason is
    worded again, its date and requester kept; any other reason as it is stored)."""
    m = _ERASED_RE.fullmatch(reason)
    return _(ERASED_REASON).format(**m.groupdict()) if m else reason


def erase_user(
    ws: Workspace, user_id: str, requested_by: str, caller: Caller | None = None
) -> ErasureReport:
    """Remove ``user_id`` from the workspace everywhere (see the module docstring).

    Raises WorkspaceError when the workspace is read-only or the user is not in it, and
    AccessDenied unless ``caller`` is the owner (None = the local user).
    """
    require_owner(ws, caller, N_("erase users from"))
    if ws.readonly:
        raise WorkspaceError(
            _("workspace {name} is read-only: nothing can be erased from it").format(
                name=repr(ws.slug)
            )
        )
    rows: dict[str, int] = {}
    with workspace_lock(ws), db.connect(ws.db_path) as con, db.transaction(con):
        found = con.execute("SELECT count(*) FROM events WHERE user_id = ?", [user_id]).fetchone()[
            0
        ]
        in_users = (
            db.has_table(con, "users")
            and con.execute("SELECT count(*) FROM users WHERE user_id = ?", [user_id]).fetchone()[0]
        )
        if not found and not in_users:
            raise WorkspaceError(
                _("user {user} is not in workspace {name}: nothing to erase").format(
                    user=repr(user_id), name=repr(ws.slug)
                )
            )
        per_snapshot = con.execute(
            "SELECT s.snapshot_id, count(e.user_id) FROM snapshots s LEFT JOIN events e "
            "ON e.user_id = ? AND e.timestamp <= s.as_of GROUP BY s.snapshot_id",
            [user_id],
        ).fetchall()
        for sid, n in per_snapshot:
            con.execute("UPDATE snapshots SET events = events - ? WHERE snapshot_id = ?", [n, sid])
        for table in _user_tables(con):
            n = con.execute(
                f"SELECT count(*) FROM {db.quoted(table)} WHERE user_id = ?",  # noqa: S608 - quoted identifier, bound value
                [user_id],
            ).fetchone()[0]
            con.execute(f"DELETE FROM {db.quoted(table)} WHERE user_id = ?", [user_id])  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
            rows[table] = int(n)
        for (sid,) in con.execute("SELECT snapshot_id FROM snapshots").fetchall():
            kept = con.execute(
                f"SELECT count(*) FROM {db.quoted(f'assignments_{sid}')}"  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
            ).fetchone()[0]
            con.execute("UPDATE snapshots SET users = ? WHERE snapshot_id = ?", [kept, sid])
        for bid, reports in con.execute("SELECT batch_id, reports FROM batches").fetchall():
            if reports:
                clean = json.dumps(_scrub_examples(json.loads(reports), user_id))
                con.execute("UPDATE batches SET reports = ? WHERE batch_id = ?", [clean, bid])
        old = dict(con.execute("SELECT key, value FROM meta").fetchall())["data_version"]
        version = hashlib.blake2b(
            f"{old}|erased|{datetime.now(UTC).isoformat()}".encode(), digest_size=16
        ).hexdigest()
        con.execute("UPDATE meta SET value = ? WHERE key = 'data_version'", [version])
        con.execute("UPDATE snapshots SET data_version = ?", [version])
        rewritten, removed = _erase_from_sources(ws, con, user_id)
        now = datetime.now(UTC)
        results = sum(1 for p in ws.results_dir.rglob("*.pkl")) if ws.results_dir.exists() else 0
        maps = sum(1 for p in ws.maps_dir.glob("*.parquet")) if ws.maps_dir.exists() else 0
        details = {
            "rows": rows,
            "results_removed": results,
            "maps_removed": maps,
            "sources_rewritten": rewritten,
            "sources_removed": removed,
        }
        record_audit(con, ERASE_USER, requested_by, user_id, json.dumps(details))
    ResultStore(ws.results_dir).mark_stale(
        ERASED_REASON.format(when=f"{now:%Y-%m-%d %H:%M}", who=requested_by or "unknown")
    )
    shutil.rmtree(ws.maps_dir, ignore_errors=True)
    return ErasureReport(rows, results, maps, removed, version, rewritten)


_REWRITERS = {
    ".csv": lambda f, p: f.write_csv(p),
    ".tsv": lambda f, p: f.write_csv(p, separator="\t"),
    ".parquet": lambda f, p: f.write_parquet(p),
    ".jsonl": lambda f, p: f.write_ndjson(p),
    ".ndjson": lambda f, p: f.write_ndjson(p),
}
"""Source formats rewritten in place without an erased user; any other is deleted."""


def _erase_from_sources(ws: Workspace, con, user_id: str) -> tuple[int, int]:
    """Rewrite every stored source file without ``user_id``'s rows (matched on the raw column
    the batch mapped to user_id, compared as trimmed text); delete a file that cannot be
    rewritten in its own format, or that no batch lists. Returns (rewritten, deleted)."""
    maps = {
        bid: json.loads(m or "{}")
        for bid, m in con.execute("SELECT batch_id, maps FROM batches").fetchall()
    }
    rows = con.execute("SELECT path, role, name, batch_id FROM sources WHERE path <> ''").fetchall()
    listed = {Path(path).name for path, *_ in rows}
    rewritten = deleted = 0
    for rel, role, name, bid in rows:
        path = ws.path / rel
        if not path.exists():
            continue
        cols = [raw for raw, r in maps.get(bid, {}).get(role, {}).items() if r == S.USER_ID]
        if role not in ("events", "users"):
            continue  # the item catalog holds no user rows
        write = _REWRITERS.get(path.suffix.lower())
        frame = None
        if write is not None and cols:
            try:
                frame = ingest.read_table(str(path), name=name).frame.collect()
            except (ProfilingError, OSError, pl.exceptions.PolarsError):
                frame = None  # unreadable now: deleted below rather than kept with the user
        if frame is None or cols[0] not in frame.columns:
            path.unlink()
            con.execute("UPDATE sources SET path = '' WHERE path = ?", [rel])
            deleted += 1
            continue
        col = pl.col(cols[0]).cast(pl.String).str.strip_chars()
        kept = frame.filter(col.is_null() | (col != user_id))
        if kept.height == frame.height:
            continue
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        write(kept, tmp)
        os.replace(tmp, path)
        con.execute("UPDATE sources SET bytes = ? WHERE path = ?", [path.stat().st_size, rel])
        rewritten += 1
    folder = ws.path / "sources"
    if folder.is_dir():
        for p in folder.iterdir():
            if p.is_file() and p.name not in listed:
                p.unlink()
                deleted += 1
    return rewritten, deleted


def pseudonymize_workspace(
    ws: Workspace, key: bytes, requested_by: str = "", caller: Caller | None = None
) -> int:
    """Replace every stored user id by its keyed pseudonym (:func:`profiling.data.privacy.pseudonym`)
    in every table, snapshot and report, delete the uploaded source copies and saved
    maps/results (they hold the raw ids), and switch ``privacy_pseudonymize`` on. Returns the
    number of distinct ids replaced. Raises WorkspaceError when already pseudonymized and
    AccessDenied unless ``caller`` is the owner (None = the local user)."""
    require_owner(ws, caller, N_("pseudonymize the user ids of"))
    if settings(ws).pseudonymize:
        raise WorkspaceError(
            _("workspace {name} already has pseudonymized ids").format(name=repr(ws.slug))
        )
    with workspace_lock(ws), db.connect(ws.db_path) as con, db.transaction(con):
        ids = set()
        tables = _user_tables(con)
        for table in tables:
            ids |= {
                r[0]
                for r in con.execute(f"SELECT DISTINCT user_id FROM {db.quoted(table)}").fetchall()  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
            }
        ids.discard(None)
        mapping = pl.DataFrame(
            {"old": sorted(ids), "new": [P.pseudonym(i, key) for i in sorted(ids)]},
            schema={"old": pl.String, "new": pl.String},
        )
        con.register("ps_mapping", mapping.to_arrow())
        for table in tables:
            con.execute(
                f"UPDATE {db.quoted(table)} AS t SET user_id = m.new FROM ps_mapping AS m "  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
                "WHERE t.user_id = m.old"
            )
        con.unregister("ps_mapping")
        lookup = dict(zip(mapping["old"], mapping["new"], strict=True))
        for bid, reports in con.execute("SELECT batch_id, reports FROM batches").fetchall():
            if reports:
                clean = reports
                for old, new in lookup.items():
                    clean = clean.replace(json.dumps(old), json.dumps(new))
                con.execute("UPDATE batches SET reports = ? WHERE batch_id = ?", [clean, bid])
        sources = [r[0] for r in con.execute("SELECT path FROM sources").fetchall()]
        con.execute("UPDATE sources SET path = ''")
        con.execute("DELETE FROM meta WHERE key = 'privacy_pseudonymize'")
        con.execute("INSERT INTO meta VALUES ('privacy_pseudonymize', 'true')")
        con.execute("DELETE FROM meta WHERE key = 'privacy_key_check'")
        con.execute("INSERT INTO meta VALUES ('privacy_key_check', ?)", [key_check(key)])
        old = dict(con.execute("SELECT key, value FROM meta").fetchall())["data_version"]
        version = hashlib.blake2b(f"{old}|pseudonymized".encode(), digest_size=16).hexdigest()
        con.execute("UPDATE meta SET value = ? WHERE key = 'data_version'", [version])
        con.execute("UPDATE snapshots SET data_version = ?", [version])
        record_audit(con, PSEUDONYMIZE_IDS, requested_by, "", json.dumps({"ids": len(lookup)}))
    for folder in (ws.results_dir, ws.maps_dir):
        shutil.rmtree(folder, ignore_errors=True)
    for rel in sources:
        if rel and (ws.path / rel).exists():
            (ws.path / rel).unlink()
    return len(lookup)
