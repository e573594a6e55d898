"""Private files: 0700 folders, 0600 uploads, no path from a file name, expiry and LRU."""

from __future__ import annotations

import os
import stat
import time

import polars as pl
import pytest

from profiling import private
from profiling import workspace as W
from profiling.data import ingest
from profiling.errors import ProfilingError
from profiling.private import UnsafeFolderError
from profiling.profiles import embeddings as E
from profiling.vocabulary import i18n
from profiling.workspace import store


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_private_dir_makes_an_existing_open_folder_0700(tmp_path):
    d = tmp_path / "a" / "b"
    d.mkdir(parents=True, mode=0o755)
    d.chmod(0o755)
    assert private.private_dir(d) == d
    assert mode(d) == 0o700


def test_private_dir_refuses_a_link_or_a_file(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafeFolderError, match="expected a private folder, found a link"):
        private.private_dir(tmp_path / "link")


def test_a_refused_folder_or_setting_is_said_in_the_readers_language(tmp_path, monkeypatch):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafeFolderError) as raised:
        private.private_dir(tmp_path / "link")
    assert (
        str(raised.value)
        == f"{tmp_path / 'link'}: expected a private folder, found a link or a file"
    )
    monkeypatch.setenv("PERSONA_STUDIO_UPLOAD_RETENTION_HOURS", "soon")
    with i18n.language("zh"):
        with pytest.raises(UnsafeFolderError) as raised:
            private.private_dir(tmp_path / "link")
        assert str(raised.value) == f"{tmp_path / 'link'}：应为私有文件夹，实际是链接或文件"
        with pytest.raises(ProfilingError) as raised:
            private.retention_seconds()
        assert str(raised.value) == (
            "PERSONA_STUDIO_UPLOAD_RETENTION_HOURS：应为小时数，实际为 'soon'"
        )


def test_uploads_are_0600_in_a_0700_folder_named_by_digest_not_by_file_name(home):
    path, name = ingest.materialize(b"user_id,item_id\nu,i\n", "../../etc/passwd.csv")
    assert name == "../../etc/passwd.csv"  # shown to the user, never used as a path
    p = os.path.realpath(path)
    assert os.path.dirname(p) == os.path.realpath(home / "uploads")
    assert os.path.basename(p).endswith(".csv") and "passwd" not in p
    assert mode(p) == 0o600
    assert mode(home / "uploads") == 0o700
    # an odd extension is dropped rather than put into the path
    odd, _ = ingest.materialize(b"x\n1\n", "a.c/../sv")
    assert os.path.basename(odd) == os.path.basename(odd).split(".")[0]
    assert private.safe_suffix("report.XLSX") == ".xlsx"
    assert private.safe_suffix("evil.cs v") == ""


def test_unsaved_uploads_expire_after_the_retention_time(home, monkeypatch):
    old, _ = ingest.materialize(b"a\n1\n", "old.csv")
    new, _ = ingest.materialize(b"a\n2\n", "new.csv")
    now = time.time()
    # an upload in use is touched on every page run: one untouched for over an hour (the
    # default) belongs to a session that ended
    os.utime(old, (now - 61 * 60, now - 61 * 60))
    os.utime(new, (now - 59 * 60, now - 59 * 60))
    gone = private.sweep_uploads(now=now)
    assert gone == [os.path.basename(old)]
    assert not os.path.exists(old) and os.path.exists(new)
    monkeypatch.setenv("PERSONA_STUDIO_UPLOAD_RETENTION_HOURS", "0.5")
    assert private.sweep_uploads(now=now) == [os.path.basename(new)]
    monkeypatch.setenv("PERSONA_STUDIO_UPLOAD_RETENTION_HOURS", "soon")
    with pytest.raises(Exception, match="expected a number of hours, found 'soon'"):
        private.sweep_uploads(now=now)


def test_reusing_an_upload_refreshes_it(home):
    path, _ = ingest.materialize(b"a\n3\n", "x.csv")
    os.utime(path, (0, 0))
    ingest.materialize(b"a\n3\n", "x.csv")  # the same content again: touched, not rewritten
    assert os.stat(path).st_mtime > time.time() - 60


def test_trim_lru_deletes_least_recently_used_first(tmp_path):
    for i, name in enumerate(["a", "b", "c", "d"]):
        (tmp_path / name).write_bytes(b"x" * 100)
        os.utime(tmp_path / name, (1000 + i, 1000 + i))  # a oldest ... d newest
    private.touch(tmp_path / "a")  # a used just now: newest
    # 400 bytes, limit 250: delete b (oldest) then c -> 200 bytes left
    assert private.trim_lru(tmp_path, 250) == 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "d"]
    assert private.trim_lru(tmp_path, 0, keep={"a"}) == 100  # d goes, a is kept
    assert [p.name for p in tmp_path.iterdir()] == ["a"]


def test_map_cache_stays_under_its_limit(tmp_path, monkeypatch):
    cache = E.EmbeddingCache(tmp_path / "maps")
    coords = pl.DataFrame({"user_id": ["u"] * 2000, "x": [0.5] * 2000, "y": [0.25] * 2000})
    emb = E.Embedding(
        coords=coords,
        params=E.EmbeddingParams(method="pca"),
        source="s",
        features=["f"],
        seconds=0.1,
        n_users_total=2000,
        explained_variance=[0.5, 0.2],
    )
    cache.put("k1", emb)
    one = sum(p.stat().st_size for p in (tmp_path / "maps").iterdir())
    assert mode(tmp_path / "maps") == 0o700
    monkeypatch.setenv("PERSONA_STUDIO_CACHE_MB", str(1.5 * one / 1024 / 1024))
    for f in (tmp_path / "maps").iterdir():
        os.utime(f, (1000, 1000))
    cache.put("k2", emb)  # two maps exceed 1.5 maps' size: the least recent (k1) goes
    assert cache.get("k1") is None
    assert cache.get("k2") is not None


def test_a_new_workspace_folder_is_private(home):
    from profiling.data.dataset import sample_paths

    p = sample_paths()
    events = pl.read_parquet(p["events"]).head(300)
    src = home.parent / "e.parquet"
    events.write_parquet(src)
    ws = W.create("Private shop", str(src))
    assert mode(home) == 0o700
    assert mode(store.workspaces_dir()) == 0o700
    assert mode(store.workspaces_dir() / ws.slug) == 0o700


def test_a_half_made_workspace_left_by_a_killed_save_is_removed_when_old(tmp_path):
    (tmp_path / ".shop.abc123").mkdir()  # create() builds here, then renames into place
    (tmp_path / ".shop.abc123" / "workspace.duckdb").write_bytes(b"half")
    (tmp_path / ".fresh.x").mkdir()
    (tmp_path / "shop").mkdir()  # a real workspace: never touched
    now = time.time()
    os.utime(tmp_path / ".shop.abc123", (now - 7200, now - 7200))  # 2 h old > 1 h
    os.utime(tmp_path / "shop", (now - 7200, now - 7200))
    assert private.remove_stale_temporaries(tmp_path, now=now) == [".shop.abc123"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".fresh.x", "shop"]
