"""Privacy controls: keyed pseudonyms, small-group suppression, DP counts, erasure, audit."""

from __future__ import annotations

import hashlib
import hmac

import polars as pl
import pytest

from profiling import workspace as W
from profiling.data import privacy as P
from profiling.errors import WorkspaceError
from profiling.vocabulary import i18n
from profiling.workspace import db, roles
from profiling.workspace import privacy as WP
from profiling.workspace.results import ResultStore

KEY = b"0123456789abcdef-secret"


def test_a_pseudonym_is_the_keyed_hmac_and_is_stable_across_frames():
    expected = "p_" + hmac.new(KEY, b"U1", hashlib.sha256).hexdigest()[:20]
    assert P.pseudonym("U1", KEY) == expected
    frame = pl.DataFrame({"user_id": ["U1", "U2", "U1", None], "x": [1, 2, 3, 4]})
    out = P.pseudonymize(frame, KEY)
    assert out.columns == ["user_id", "x"] and out["x"].to_list() == [1, 2, 3, 4]
    assert out["user_id"].to_list() == [expected, P.pseudonym("U2", KEY), expected, None]
    assert P.pseudonym("U1", b"another-key-of-16+") != expected  # the key matters


def test_the_pseudonym_key_must_exist_and_be_long_enough(monkeypatch):
    monkeypatch.delenv(P.KEY_ENV, raising=False)
    with pytest.raises(P.PrivacyError, match="need a secret key: set PERSONA_STUDIO_PSEUDONYM"):
        P.pseudonym_key()
    with pytest.raises(P.PrivacyError, match="at least 16 bytes; found 5"):
        P.pseudonym_key("short")
    monkeypatch.setenv(P.KEY_ENV, "x" * 16)
    assert P.pseudonym_key() == b"x" * 16
    with pytest.raises(P.PrivacyError, match="no column 'user_id'"):
        P.pseudonymize(pl.DataFrame({"id": ["a"]}), KEY)


def test_a_refused_privacy_setting_is_said_in_the_readers_language(monkeypatch):
    monkeypatch.delenv(P.KEY_ENV, raising=False)
    with pytest.raises(P.PrivacyError) as raised:
        P.pseudonym_key("short")
    assert str(raised.value) == "the pseudonym key must have at least 16 bytes; found 5"
    with i18n.language("zh"):
        with pytest.raises(P.PrivacyError) as raised:
            P.pseudonym_key("short")
        assert str(raised.value) == "假名密钥至少需要 16 字节；实际为 5 字节"
        with pytest.raises(P.PrivacyError) as raised:
            P.pseudonym_key()
        assert str(raised.value) == (
            "假名化 ID 需要密钥：请设置 PERSONA_STUDIO_PSEUDONYM_KEY，或在 "
            ".streamlit/secrets.toml 中设置 pseudonym_key；目前都没有"
        )
        with pytest.raises(P.PrivacyError) as raised:
            P.dp_counts(pl.DataFrame({"segment": ["a"], "users": [3]}), "users", epsilon=0)
        assert str(raised.value) == "epsilon 应为正数，实际为 0"


def test_small_groups_are_merged_and_a_merged_group_under_k_is_hidden():
    f = pl.DataFrame(
        {"segment": ["A", "B", "C", "D"], "users": [50, 4, 9, 20], "revenue": [10.0, 2.0, 3.0, 4.0]}
    )
    out = P.suppress_small_groups(f, "segment", k=10)
    # B (4) and C (9) are under 10: merged into one row of 4 + 9 = 13 users, 2 + 3 = 5.0
    assert out.rows() == [("A", 50, 10.0), ("D", 20, 4.0), ("fewer than 10 users", 13, 5.0)]
    small = f.with_columns(pl.Series("users", [50, 4, 3, 20]))
    # 4 + 3 = 7 < 10: the merged row would still single people out, so it is dropped
    assert P.suppress_small_groups(small, "segment", k=10)["segment"].to_list() == ["A", "D"]
    assert P.suppress_small_groups(f, "segment", k=0).equals(f)  # off
    with pytest.raises(P.PrivacyError, match="no column 'n'"):
        P.suppress_small_groups(f, "segment", count="n")


def test_dp_counts_add_geometric_noise_with_the_epsilon_reported():
    f = pl.DataFrame({"segment": [f"s{i}" for i in range(400)], "users": [100] * 400})
    big = P.dp_counts(f, epsilon=1000.0)  # scale 1/1000: noise is almost always 0
    assert big.epsilon == pytest.approx(1000.0)
    assert (big.counts["users"] - 100).abs().sum() <= 5
    noisy = P.dp_counts(f, epsilon=0.5)  # scale 2: E|noise| of the discrete Laplace ~ 1.9
    diff = (noisy.counts["users"] - 100).cast(pl.Float64)
    assert noisy.epsilon == pytest.approx(0.5)
    assert 1.0 < diff.abs().mean() < 3.0  # noise is there, and of the expected size
    assert abs(diff.mean()) < 0.6  # and unbiased (sd of the mean ~ 2.8/sqrt(400) = 0.14)
    assert noisy.counts["segment"].to_list() == f["segment"].to_list()
    assert (P.dp_counts(pl.DataFrame({"users": [0]}), epsilon=0.1).counts["users"] >= 0).all()
    with pytest.raises(P.PrivacyError, match="epsilon must be a positive number; found 0"):
        P.dp_counts(f, epsilon=0)


@pytest.fixture
def small_ws(tmp_path, monkeypatch):
    from profiling.data.dataset import sample_paths

    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    p = sample_paths()
    ev = pl.read_parquet(p["events"])
    keep = ev["user_id"].unique().sort().head(40)
    ev.filter(pl.col("user_id").is_in(keep.implode())).write_parquet(tmp_path / "e.parquet")
    pl.read_csv(p["users"]).filter(pl.col("user_id").is_in(keep.implode())).write_csv(
        tmp_path / "u.csv"
    )
    return W.create("Privacy shop", str(tmp_path / "e.parquet"), str(tmp_path / "u.csv"))


def test_erasure_removes_the_user_everywhere_and_is_audited(small_ws, monkeypatch):
    monkeypatch.setenv(WP.AUDIT_KEY_ENV, "audit-secret-of-the-server")
    ws = small_ws
    before = ws.dataset()
    user = sorted(set(before.events["user_id"]))[0]
    n_events = before.events.filter(pl.col("user_id") == user).height
    ws.maps_dir.mkdir(parents=True, exist_ok=True)
    (ws.maps_dir / "k.parquet").write_bytes(b"map")
    old_version = ws.data_version()
    results = ResultStore(ws.results_dir)
    # a "model" trained on the user's data (it holds their id)
    results.put(
        "model",
        {"name": "als"},
        old_version,
        {"users": [user]},
        data_end=before.as_of,
        events=before.events.height,
    )

    rep = WP.erase_user(ws, user, "dpo@example.com")

    assert rep.rows["events"] == n_events and rep.rows["users"] == 1
    assert rep.rows["profiles_1"] == 1 and rep.rows["assignments_1"] == 1
    assert rep.results_removed == 1 and rep.maps_removed == 1
    # both stored sources (events parquet, users csv) rewritten without the user's rows
    assert rep.sources_rewritten == 2 and rep.sources_removed == 0
    after = ws.dataset()
    assert user not in set(after.events["user_id"]) and user not in set(after.users["user_id"])
    assert after.events.height == before.events.height - n_events
    snap = ws.snapshot()
    assert user not in set(snap.profiles["user_id"]) and user not in set(
        snap.assignments["user_id"]
    )
    assert ws.data_version() != old_version  # every cache and saved result is now stale
    assert not ws.maps_dir.exists()
    # the model is marked for retraining, not silently deleted: its file (which held the
    # user) is gone, so it is never served, and its record says why
    assert not list(ws.results_dir.rglob("*.pkl"))
    assert results.get("model", {"name": "als"}, old_version) is None
    info = results.latest("model", {"name": "als"})
    assert info.data_version == old_version and "a user was erased" in info.stale_reason
    assert "asked by dpo@example.com" in info.stale_reason and user not in info.stale_reason
    assert results.stale_reasons("model") == [info.stale_reason]
    assert results.stale_reasons("predictions") == []
    # once retrained on the remaining data, nothing is due any more
    results.put(
        "model", {"name": "als"}, ws.data_version(), {"users": []}, data_end=before.as_of, events=1
    )
    assert results.stale_reasons() == []
    sources = sorted((ws.path / "sources").iterdir())
    src_events = pl.read_parquet(next(p for p in sources if p.suffix == ".parquet"))
    src_users = pl.read_csv(next(p for p in sources if p.suffix == ".csv"))
    assert src_events.height == before.events.height - n_events  # the sample has no drops
    assert user not in set(src_events["user_id"]) and user not in set(src_users["user_id"])
    assert src_users.height == 39
    with db.connect(ws.db_path) as con:
        users = con.execute("SELECT users FROM snapshots").fetchone()[0]
    assert users == 39
    log = WP.audit_log(ws)
    assert log["action"].to_list() == ["erase user"]
    assert log["requested_by"].to_list() == ["dpo@example.com"]
    # keyed: without the server's secret a list of candidate ids does not reveal who it was
    keyed = hmac.new(b"audit-secret-of-the-server", user.encode(), hashlib.sha256).hexdigest()
    assert log["subject_digest"][0] == keyed
    assert log["subject_digest"][0] != hashlib.sha256(user.encode()).hexdigest()
    assert user not in log["details"][0]  # the audit keeps a digest, not the id
    with pytest.raises(WorkspaceError, match="is not in workspace 'privacy-shop'"):
        WP.erase_user(ws, user, "dpo@example.com")


def test_pseudonymizing_a_workspace_replaces_every_id(small_ws):
    ws = small_ws
    ids = sorted(set(ws.dataset().events["user_id"]))
    assert WP.pseudonymize_workspace(ws, KEY, "admin") == 40
    ds = ws.dataset()
    assert sorted(set(ds.events["user_id"])) == sorted(P.pseudonym(i, KEY) for i in ids)
    assert set(ds.users["user_id"]) <= set(ds.events["user_id"])
    snap = ws.snapshot()
    assert set(snap.assignments["user_id"]) == set(ds.events["user_id"])
    assert WP.settings(ws).pseudonymize
    with pytest.raises(WorkspaceError, match="already has pseudonymized ids"):
        WP.pseudonymize_workspace(ws, KEY)


def test_settings_are_off_by_default_and_validated(small_ws):
    ws = small_ws
    assert WP.settings(ws) == WP.PrivacySettings(False, 0, None)
    WP.set_settings(ws, WP.PrivacySettings(min_group=10, dp_epsilon=1.0), "admin")
    assert WP.settings(ws) == WP.PrivacySettings(False, 10, 1.0)
    with pytest.raises(WorkspaceError, match="expected 0 \\(off\\) or at least 2 users; found 1"):
        WP.set_settings(ws, WP.PrivacySettings(min_group=1))
    with pytest.raises(WorkspaceError, match="expected a positive number; found -1"):
        WP.set_settings(ws, WP.PrivacySettings(dp_epsilon=-1.0))
    assert WP.audit_log(ws)["action"].to_list() == ["privacy settings"]


# ---- pseudonymization at ingestion ------------------------------------------------------------
# HMAC-SHA256 with KEY, first 20 hex digits, checked by hand with
# `printf alice | openssl dgst -sha256 -hmac "0123456789abcdef-secret"`
ALICE = "p_e699d9e131ee56644bf3"
BOB = "p_c3f27b99cb997438250f"
CAROL = "p_785f0ab09c194ad3ecec"
EVENTS_1 = (
    "user_id,item_id,event_type,timestamp,price\n"
    "alice,i1,purchase,2024-01-01 10:00:00,5.0\n"
    "alice,i2,view,2024-01-02 10:00:00,\n"
    "bob,i1,purchase,2024-01-03 10:00:00,5.0\n"
    ",i1,view,2024-01-03 11:00:00,\n"  # no user id: dropped, an example row in the report
)
EVENTS_2 = (
    "user_id,item_id,event_type,timestamp,price\n"
    "bob,i1,purchase,2024-01-03 10:00:00,5.0\n"  # already in batch 1: a duplicate
    "alice,i3,purchase,2024-02-01 10:00:00,7.0\n"
    "carol,i2,purchase,2024-02-02 10:00:00,3.0\n"
)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _everything_stored(ws) -> str:
    """Every table of the workspace as text, plus the pickled segmentations' ids."""
    with db.connect(ws.db_path) as con:
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        text = [
            db.read(con, f"SELECT * FROM {db.quoted(t)}").write_ndjson()  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
            for t in tables
        ]
    return "\n".join(text)


def test_ids_are_pseudonymized_when_they_enter_the_workspace_and_in_later_batches(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(P.KEY_ENV, raising=False)
    assert P.pseudonym("alice", KEY) == ALICE  # the helper agrees with openssl
    users = _write(tmp_path, "u.csv", "user_id,region\nalice,north\nbob,south\n")
    ws = W.create("Pseudo shop", _write(tmp_path, "e1.csv", EVENTS_1), users, pseudonym_key=KEY)

    ds = ws.dataset()
    assert sorted(ds.events["user_id"].unique()) == sorted([ALICE, BOB])
    assert dict(ds.users.select("user_id", "region").iter_rows()) == {ALICE: "north", BOB: "south"}
    assert WP.settings(ws).pseudonymize
    # no raw file copies, no raw example rows, no raw id anywhere in the database
    assert not list((ws.path / "sources").iterdir())
    assert all(not r.examples for r in ds.report.events.reasons)
    assert ds.report.events.rows_dropped == 1
    stored = _everything_stored(ws)
    assert "alice" not in stored and "bob" not in stored and ALICE in stored

    # a later batch: the same key gives alice the same pseudonym; bob's repeated row is a
    # duplicate of batch 1 (compared after pseudonymization)
    monkeypatch.setenv(P.KEY_ENV, KEY.decode())  # the configured key, as the app has it
    rep = ws.add(_write(tmp_path, "e2.csv", EVENTS_2))
    assert (rep.rows_read, rep.rows_new, rep.rows_duplicate, rep.new_users) == (3, 2, 1, 1)
    ev = ws.dataset().events
    assert ev.filter(pl.col("user_id") == ALICE)["item_id"].sort().to_list() == ["i1", "i2", "i3"]
    assert sorted(ev["user_id"].unique()) == sorted([ALICE, BOB, CAROL])
    assert set(ws.snapshot().profiles["user_id"]) == {ALICE, BOB, CAROL}
    stored = _everything_stored(ws)
    assert "carol" not in stored and "alice" not in stored
    assert not list((ws.path / "sources").iterdir())

    # another key would give carol a second pseudonym: refused, nothing added
    with pytest.raises(WorkspaceError, match="pseudonymizes user ids with another key"):
        ws.add(_write(tmp_path, "e3.csv", EVENTS_2), pseudonym_key=b"another-key-0123456789")
    monkeypatch.delenv(P.KEY_ENV)
    with pytest.raises(P.PrivacyError, match="need a secret key"):
        ws.add(_write(tmp_path, "e4.csv", EVENTS_2))
    assert ws.batches().height == 2


def test_a_workspace_without_pseudonymization_keeps_ids_and_ignores_a_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    ws = W.create("Plain shop", _write(tmp_path, "e1.csv", EVENTS_1))
    ws.add(_write(tmp_path, "e2.csv", EVENTS_2), pseudonym_key=KEY)
    assert sorted(ws.dataset().events["user_id"].unique()) == ["alice", "bob", "carol"]
    assert not WP.settings(ws).pseudonymize
    assert len(list((ws.path / "sources").iterdir())) == 2


def test_pseudonymizing_a_stored_workspace_records_its_key_for_later_batches(small_ws, tmp_path):
    WP.pseudonymize_workspace(small_ws, KEY, "admin")
    small_ws.add(_write(tmp_path, "e2.csv", EVENTS_2), pseudonym_key=KEY)
    assert CAROL in set(small_ws.dataset().events["user_id"])
    with pytest.raises(WorkspaceError, match="another key"):
        small_ws.add(_write(tmp_path, "e3.csv", EVENTS_2), pseudonym_key=b"x" * 16)


# ---- in the reader's language (issue 28) -----------------------------------------------------
def test_a_refused_erasure_reads_in_the_readers_language(small_ws):
    def message() -> str:
        with pytest.raises(WorkspaceError) as err:
            WP.erase_user(small_ws, "nobody-here", "dpo@example.com")
        return str(err.value)

    assert message() == "user 'nobody-here' is not in workspace 'privacy-shop': nothing to erase"
    with i18n.language("zh"):
        assert message() == "客户 'nobody-here' 不在工作区 'privacy-shop' 中：没有可删除的内容"
        with pytest.raises(WorkspaceError) as err:
            WP.set_settings(small_ws, WP.PrivacySettings(min_group=1))
        assert str(err.value) == ("privacy_min_group：应为 0（关闭）或至少 2 位客户，实际为 1")


def test_the_audit_log_is_stored_as_recorded_and_read_in_the_readers_language(small_ws):
    ws = small_ws
    WP.set_settings(ws, WP.PrivacySettings(min_group=10), "dpo@example.com")
    WP.set_settings(ws, WP.PrivacySettings(min_group=5), roles.LOCAL.label)
    with db.connect(ws.db_path) as con:  # an entry of another version: a word not in the table
        WP.record_audit(con, "export audience", "", "", "{}")
    log = WP.audit_log(ws)
    with i18n.language("zh"):
        shown = WP.audit_text(log)
    # stored in English, whatever language the page that shows it reads
    assert log["action"].to_list() == ["privacy settings", "privacy settings", "export audience"]
    assert log["requested_by"].to_list() == [
        "dpo@example.com",
        "local user (open mode)",
        "unknown",
    ]
    assert WP.audit_log(ws).equals(log)
    assert shown.columns == ["时间", "操作", "操作人", "客户（带密钥的摘要）", "详情"]
    assert shown["操作"].to_list() == ["隐私设置", "隐私设置", "export audience"]
    assert shown["操作人"].to_list() == ["dpo@example.com", "本地用户（开放模式）", "未知"]
    assert shown["详情"].to_list() == log["details"].to_list()  # data, as recorded
    assert shown["时间"].to_list() == log["requested_at"].to_list()
    english = WP.audit_text(log)
    assert english.columns == [
        "when",
        "what was done",
        "requested by",
        "user (keyed digest)",
        "details",
    ]
    assert english["what was done"].to_list() == log["action"].to_list()
    assert english["requested by"].to_list() == log["requested_by"].to_list()
