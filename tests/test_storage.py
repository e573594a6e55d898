"""Storage that survives change and concurrency: one writer at a time, the format version,
versioned results, raw data lifetime, the keyed audit digest and the CLI's error lines."""

from __future__ import annotations

import errno
import hashlib
import hmac
import importlib
import os
import pickle
import stat
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from profiling import private
from profiling import workspace as W
from profiling.data import ingest
from profiling.errors import ProfilingError, WorkspaceError
from profiling.vocabulary import i18n
from profiling.workspace import db, formats, lock, store
from profiling.workspace import privacy as WP
from profiling.workspace import results as R
from profiling.workspace.results import ResultStore
from tests.conftest import raised_in_both

cli_main = importlib.import_module("profiling.cli.main")  # the package's `main` is the function
ROOT = Path(__file__).resolve().parent.parent
RAW = "RAWID7f3a"  # a raw user id planted in the uploads; must not outlive what is promised

B1 = f"user,item,when,qty,price\nu1,i1,2024-01-01 10:00,1,5\n{RAW},i2,2024-01-02 10:00,2,3\n"
B2 = "user,item,when,qty,price\nu2,i1,2024-02-01 10:00,1,5\n"
B3 = "user,item,when,qty,price\nu3,i2,2024-03-01 10:00,1,3\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(WP.AUDIT_KEY_ENV, "test-audit-secret-0123")
    for name, text in (("b1.csv", B1), ("b2.csv", B2), ("b3.csv", B3)):
        (tmp_path / name).write_text(text)
    return tmp_path / "home"


def _cli(*args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "profiling", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _sources_listed(ws) -> set[str]:
    with db.connect(ws.db_path) as con:
        return {Path(r[0]).name for r in con.execute("SELECT path FROM sources").fetchall() if r[0]}


# ---- one writer at a time -------------------------------------------------------------------
def test_two_cli_adds_at_once_take_turns_with_batch_ids_2_and_3_and_leave_no_orphan(home, tmp_path):
    ws = W.create("Race", str(tmp_path / "b1.csv"))
    env = {"PERSONA_STUDIO_HOME": str(home)}
    procs = [_cli("workspace", "add", "race", str(tmp_path / f"b{n}.csv"), env=env) for n in (2, 3)]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert "Traceback" not in err, err
        assert p.returncode == 0, err  # the second waits for the first (60 s default)
    assert ws.batches()["batch_id"].to_list() == [1, 2, 3]
    assert sorted(ws.dataset().events["user_id"].unique()) == sorted(["u1", RAW, "u2", "u3"])
    # every file in sources/ is one a batch lists: no orphan copy
    assert {p.name for p in (ws.path / "sources").iterdir()} == _sources_listed(ws)
    assert len(_sources_listed(ws)) == 3


def test_a_second_writer_is_refused_in_one_line_after_the_waiting_time(home, tmp_path):
    ws = W.create("Busy", str(tmp_path / "b1.csv"))
    env = {"PERSONA_STUDIO_HOME": str(home), lock.WAIT_ENV: "0.3"}
    with lock.write_lock(ws.path):
        proc = _cli("workspace", "add", "busy", str(tmp_path / "b2.csv"), env=env)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    lines = [ln for ln in err.splitlines() if ln.startswith("error")]
    assert lines == [
        "error: workspace 'busy' is busy: another save is still running after 0.3 s; try "
        "again when it has finished"
    ]
    assert "Traceback" not in err
    assert ws.batches()["batch_id"].to_list() == [1]
    assert {p.name for p in (ws.path / "sources").iterdir()} == _sources_listed(ws)


def test_another_thread_waits_for_the_lock_and_the_holder_may_write_again(home, tmp_path):
    ws = W.create("Threads", str(tmp_path / "b1.csv"))
    errors = []

    def write():
        try:
            ws.set_setting("currency", "EUR")
        except WorkspaceError as exc:
            errors.append(exc)

    with lock.write_lock(ws.path, wait_s=0):
        ws.set_setting("currency", "GBP")  # re-entrant in the holding thread
        os.environ[lock.WAIT_ENV] = "0.2"
        try:
            t = threading.Thread(target=write)
            t.start()
            t.join()
        finally:
            del os.environ[lock.WAIT_ENV]
    assert len(errors) == 1 and isinstance(errors[0], W.WorkspaceBusy)
    assert ws.meta()["currency"] == "GBP"
    assert not lock.is_held(ws.path)


# ---- the format version ---------------------------------------------------------------------
def _make_version_1(ws) -> None:
    """Rewrite ``ws`` as a format-1 workspace: pickled segmentations, format /1."""
    snap = ws.snapshot()
    blob = pickle.dumps(snap.segmentation)
    con = duckdb.connect(str(ws.db_path))
    con.execute("ALTER TABLE snapshots DROP COLUMN segmentation")
    con.execute("ALTER TABLE snapshots ADD COLUMN segmentation BLOB")
    con.execute("UPDATE snapshots SET segmentation = ?", [blob])
    con.execute("UPDATE meta SET value = 'persona-studio-workspace/1' WHERE key = 'format'")
    con.close()


def test_an_older_workspace_is_upgraded_once_and_its_pickles_become_json(home, tmp_path):
    ws = W.create("Old", str(tmp_path / "b1.csv"))
    before = ws.snapshot()
    _make_version_1(ws)
    again = W.open_workspace("old").snapshot()  # opening upgrades it
    assert again.segmentation.to_dict() == before.segmentation.to_dict()
    assert again.assignments.equals(before.assignments)
    con = duckdb.connect(str(ws.db_path), read_only=True)
    kind = con.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'snapshots' "
        "AND column_name = 'segmentation'"
    ).fetchone()[0]
    fmt = con.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()[0]
    con.close()
    assert (kind, fmt) == ("VARCHAR", "persona-studio-workspace/2")
    assert ws.add(str(tmp_path / "b2.csv")).batch_id == 2  # and it takes new batches


def test_a_newer_or_unknown_format_is_refused_with_a_clear_message(home, tmp_path):
    ws = W.create("New", str(tmp_path / "b1.csv"))
    con = duckdb.connect(str(ws.db_path))
    con.execute("UPDATE meta SET value = 'persona-studio-workspace/3' WHERE key = 'format'")
    con.close()
    with pytest.raises(formats.NewerFormatError, match="made by a newer Persona Studio"):
        ws.summary()
    con = duckdb.connect(str(ws.db_path))
    con.execute("UPDATE meta SET value = 'persona-studio-workspace/0' WHERE key = 'format'")
    con.close()
    with pytest.raises(WorkspaceError, match="format persona-studio-workspace/0 is too old"):
        ws.summary()


def test_no_pickle_is_stored_in_a_new_workspace(home, tmp_path):
    ws = W.create("Plain", str(tmp_path / "b1.csv"))
    con = duckdb.connect(str(ws.db_path), read_only=True)
    blobs = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'BLOB'"
    ).fetchall()
    con.close()
    assert blobs == []


# ---- results carry the version ------------------------------------------------------------------
def test_a_result_from_another_version_is_refused_with_a_retrain_notice(tmp_path):
    store_ = ResultStore(tmp_path / "ws" / "results")
    (tmp_path / "ws").mkdir()
    store_.put("model", {"k": 1}, "v1", {"a": 1}, data_end=datetime(2024, 1, 1), events=1)
    assert store_.get("model", {"k": 1}, "v1") == {"a": 1}
    path = next((tmp_path / "ws" / "results" / "model").glob("*/v1.pkl"))
    assert path.read_bytes().startswith(b"PERSONA-STUDIO-RESULT ")
    blob = path.read_bytes()
    path.write_bytes(blob.replace(R.library_version().encode(), b"0.0.1-old", 1))
    assert store_.get("model", {"k": 1}, "v1") is None
    assert not store_.has("model", {"k": 1}, "v1")
    [why] = store_.stale_reasons("model")
    assert "written by Persona Studio 0.0.1-old" in why and "retrain" in why
    path.write_bytes(pickle.dumps({"a": 1}))  # a bare pickle of before the stamp
    assert store_.get("model", {"k": 1}, "v1") is None
    assert "before results carried a version" in store_.stale_reasons("model")[0]


# ---- raw data lifetime ----------------------------------------------------------------------------
def _holds_raw(home: Path) -> list[str]:
    """Every file under ``home`` that holds the planted raw id, read inside DuckDB, Parquet
    and text files alike."""
    found = []
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        if path.name.endswith(".duckdb"):
            con = duckdb.connect(str(path), read_only=True)
            for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                text = con.sql(f'SELECT * FROM "{t}"').pl().write_ndjson()  # noqa: S608 - table names listed by DuckDB itself, in a test
                if RAW in text:
                    found.append(f"{path}:{t}")
            con.close()
        elif path.suffix == ".parquet":
            if RAW in pl.read_parquet(path).write_ndjson():
                found.append(str(path))
        elif RAW.encode() in path.read_bytes():
            found.append(str(path))
    return found


def test_a_pseudonymized_workspace_keeps_no_raw_copy_after_the_save(home, tmp_path):
    path, name = ingest.materialize(B1.encode(), "shop.csv")  # an upload under review
    assert _holds_raw(home) == [path]
    W.create("Pseudo", path, names={"events": name}, pseudonym_key=b"k" * 16)
    assert _holds_raw(home) == []


def test_a_saved_upload_is_deleted_and_a_failed_batch_leaves_no_copy(home, tmp_path):
    ws = W.create("Kept", str(tmp_path / "b1.csv"))
    path, name = ingest.materialize(b"who,what\nx,y\n", "bad.csv")
    with pytest.raises(ProfilingError, match="no column is mapped to 'timestamp'"):
        ws.add(path, names={"events": name})
    assert {p.name for p in (ws.path / "sources").iterdir()} == _sources_listed(ws)
    assert Path(path).exists()  # kept for the user to fix the mapping
    good, name = ingest.materialize(B2.encode(), "good.csv")
    ws.add(good, names={"events": name})
    assert not Path(good).exists()  # saved: the scratch copy is gone
    assert private.discard_uploads([path]) == [Path(path).name]  # abandoned: the page's call


def test_erasure_leaves_the_raw_id_nowhere(home, tmp_path):
    ws = W.create("Erase", str(tmp_path / "b1.csv"))
    ws.add(str(tmp_path / "b2.csv"))
    (ws.path / "sources" / "stray.csv").write_text(f"user\n{RAW}\n")  # listed by no batch
    ResultStore(ws.results_dir).put(
        "model", {}, ws.data_version(), {"ids": [RAW]}, data_end=datetime(2024, 1, 1), events=2
    )
    assert _holds_raw(home)
    rep = WP.erase_user(ws, RAW, "dpo")
    assert _holds_raw(home) == []
    assert rep.sources_rewritten == 1 and rep.sources_removed == 1
    src = pl.read_csv(next(p for p in (ws.path / "sources").iterdir() if "u1" in p.read_text()))
    assert src["user"].to_list() == ["u1"]  # u1's row stays


def test_crash_leftovers_are_swept_at_start_whatever_their_age_unless_in_use(home, tmp_path):
    ws = W.create("Swept", str(tmp_path / "b1.csv"))
    root = home / "workspaces"
    half = root / ".half.abc"
    (half / "sources").mkdir(parents=True)
    (half / "sources" / "x.csv").write_text(B1)  # a killed create: the full raw CSV
    busy = root / ".busy.def"
    busy.mkdir()
    (busy / "note").write_text("a create still running")
    (ws.path / "sources" / "orphan.csv").write_text(B1)  # a batch killed before its commit
    (ws.results_dir).mkdir()
    (ws.results_dir / ".v9.pkl.tmp").write_text(RAW)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    part = private.uploads_dir() / f".abc.csv.{dead.stdout.strip()}.part"
    part.write_text(B1)
    with lock.write_lock(busy):
        gone = store.sweep_leftovers()
    assert str(half) in gone and part.name in gone
    assert busy.exists() and not half.exists() and not part.exists()
    assert not (ws.path / "sources" / "orphan.csv").exists()
    # what still holds the raw id is the workspace itself (its database, its listed copy)
    kept = {Path(p.split(":")[0]).name for p in _holds_raw(home)}
    assert kept == {"workspace.duckdb", *_sources_listed(ws)}


# ---- the audit digest ---------------------------------------------------------------------------
def test_the_audit_digest_is_keyed_with_a_secret_made_once_0600(home, tmp_path, monkeypatch):
    monkeypatch.delenv(WP.AUDIT_KEY_ENV)
    ws = W.create("Audit", str(tmp_path / "b1.csv"))
    WP.erase_user(ws, "u1", "dpo")
    key_file = home / WP.AUDIT_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes()) == 32
    digest = WP.audit_log(ws)["subject_digest"][0]
    assert digest == hmac.new(key_file.read_bytes(), b"u1", hashlib.sha256).hexdigest()
    assert digest != hashlib.sha256(b"u1").hexdigest()
    assert WP.audit_key() == key_file.read_bytes()  # made once, then reused


# ---- the CLI ------------------------------------------------------------------------------------
def test_the_cli_strips_escape_sequences_from_names_and_writes_private_files(
    home, tmp_path, capsys
):
    old = os.umask(0o022)
    try:
        assert (
            cli_main.main(
                ["workspace", "create", "evil\x1b[2J\x1b]0;x\x07", str(tmp_path / "b1.csv")]
            )
            == 0
        )
        assert os.umask(0o022) == 0o077  # the CLI set the private umask
    finally:
        os.umask(old)
    ws = W.list_workspaces()[0]
    assert stat.S_IMODE(ws.db_path.stat().st_mode) == 0o600
    capsys.readouterr()
    assert cli_main.main(["workspace", "list"]) == 0
    assert cli_main.main(["workspace", "show", ws.slug]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "evil?[2J?]0;x?" in out


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/data/ws/workspace.duckdb"),
            "error: the disk is full (/data/ws/workspace.duckdb): free some space and run the "
            "command again",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/data/x.csv"),
            "error: Permission denied (/data/x.csv)",
        ),
    ],
)
def test_file_errors_are_one_line_with_exit_status_2(monkeypatch, capsys, exc, line):
    def boom(args):
        raise exc

    parser = cli_main.build_parser
    monkeypatch.setattr(
        cli_main,
        "build_parser",
        lambda: _with_func(parser(), boom),
    )
    assert cli_main.main(["workspace", "list"]) == 2
    assert capsys.readouterr().err.splitlines() == [line]


def _with_func(parser, func):
    real = parser.parse_args

    def parse(argv=None):
        args = real(argv)
        args.func = func
        return args

    parser.parse_args = parse
    return parser


def test_why_a_snapshot_has_no_clusters_is_kept_in_english_whatever_the_language(tmp_path):
    from profiling.data.dataset import load_dataset
    from profiling.profiles.segments import clustering_error_text
    from profiling.vocabulary import i18n

    log = tmp_path / "two.csv"
    log.write_text(
        "user_id,item_id,event_type,timestamp\n"
        "u1,i1,purchase,2024-01-01 10:00\nu2,i2,purchase,2024-01-02 10:00\n"
    )
    with i18n.language("zh"):  # a page in Chinese computes it (in a job, in its language)
        _profiles, seg = store.compute_snapshot(load_dataset(str(log)))
        assert clustering_error_text(seg.k_curve[0]["error"]) == (
            "聚类至少需要 3 位客户，实际只有 2 位。"
        )
    assert (seg.k, seg.k_curve) == (
        0,
        [{"error": "clustering needs at least 3 users. Got 2 instead."}],
    )
    with i18n.language("zh"):  # a snapshot made without clusters says so the same way
        _profiles, seg = store.compute_snapshot(load_dataset(str(log)), clusters=False)
        assert clustering_error_text(seg.k_curve[0]["error"]) == "未要求生成聚类"
    assert seg.k_curve == [{"error": "clusters were not asked for"}]


# ---- in the reader's language (issue 28) -----------------------------------------------------
def _english_and_chinese(call, kind=WorkspaceError) -> tuple[str, str]:
    return raised_in_both(call, kind)


def test_storage_errors_read_in_the_readers_language(home, tmp_path, monkeypatch):
    ws = W.create("Busy", str(tmp_path / "b1.csv"))
    refused = []

    def write(lang: str) -> None:
        with i18n.language(lang):
            try:
                with lock.write_lock(ws.path, wait_s=0):
                    pass
            except W.WorkspaceBusy as exc:
                refused.append(str(exc))

    with lock.write_lock(ws.path):
        for lang in ("en", "zh"):
            t = threading.Thread(target=write, args=(lang,))
            t.start()
            t.join()
    assert refused == [
        "workspace 'busy' is busy: another save is still running after 0 s; try again when it "
        "has finished",
        "工作区 'busy' 正忙：另一项保存在 0 秒后仍在进行；请在它完成后重试",
    ]
    monkeypatch.setenv(lock.WAIT_ENV, "soon")
    assert _english_and_chinese(lock.wait_seconds) == (
        "PERSONA_STUDIO_LOCK_WAIT_S: expected a number of seconds, found 'soon'",
        "PERSONA_STUDIO_LOCK_WAIT_S：应为秒数，实际为 'soon'",
    )
    foreign = tmp_path / "notes.duckdb"
    foreign.write_text("hello")
    assert _english_and_chinese(lambda: db.check_file(foreign)) == (
        f"{foreign}: expected a DuckDB database written by Persona Studio, found a file that is "
        "not a DuckDB database (5 bytes read at its start). Delete the workspace folder or "
        "restore the file from a backup.",
        f"{foreign}：应为 Persona Studio 写入的 DuckDB 数据库，实际是一个不是 DuckDB 数据库的文件"
        "（在开头读取了 5 个字节）。请删除该工作区文件夹，或从备份恢复该文件。",
    )
    assert _english_and_chinese(
        lambda: formats.refuse_newer(3, foreign), formats.NewerFormatError
    ) == (
        f"{foreign}: this workspace was made by a newer Persona Studio (storage format "
        "persona-studio-workspace/3; this version reads up to persona-studio-workspace/2). "
        "Upgrade Persona Studio to open it; it was left unchanged.",
        f"{foreign}：此工作区由较新版本的 Persona Studio 创建（存储格式 persona-studio-workspace/3；"
        "此版本最高读取 persona-studio-workspace/2）。请升级 Persona Studio 后再打开；工作区保持不变。",
    )
