"""The event collector: write keys, checks that name each bad event, dedup, micro-batches."""

from __future__ import annotations

import polars as pl
import pytest
from starlette.testclient import TestClient

from profiling import workspace as W
from profiling.cli import main
from profiling.errors import WorkspaceError
from profiling.vocabulary import i18n
from profiling.workspace import collector as C

BASE = """user_id,item_id,event_type,timestamp,quantity,price
u1,i1,view,2024-01-01 10:00,1,5
u1,i1,purchase,2024-01-01 10:05,1,5
u2,i2,view,2024-01-02 11:00,1,3
u3,i2,purchase,2024-01-03 12:00,2,3
u4,i1,view,2024-01-04 09:00,1,5
"""


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    (tmp_path / "base.csv").write_text(BASE)
    return W.create("Shop", str(tmp_path / "base.csv"))


@pytest.fixture
def client(ws):
    collector = C.Collector(ws, interval_s=3600)
    _key_id, key = C.create_write_key(ws, "test")
    with TestClient(C.create_app(collector)) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        yield c, collector


def ev(user="u1", event="view", ts="2024-01-05T10:00:00Z", **kw):
    return {"user_id": user, "event": event, "timestamp": ts, "item_id": "i1", **kw}


def test_a_request_without_a_valid_key_is_refused_and_writes_nothing(client):
    c, collector = client
    r = c.post("/v1/events", json=ev(), headers={"Authorization": "Bearer ps_wk_0_nope"})
    assert r.status_code == 401
    assert collector.pending() == 0


def test_a_revoked_key_is_refused(ws, client):
    c, _ = client
    (key_id,) = [k["id"] for k in C.list_write_keys(ws)]
    C.revoke_write_key(ws, key_id)
    assert c.post("/v1/events", json=ev()).status_code == 401
    with pytest.raises(WorkspaceError, match="has no write key 'gone'"):
        C.revoke_write_key(ws, "gone")


def test_a_batch_with_bad_events_names_each_and_writes_nothing(client):
    c, collector = client
    batch = [
        ev(event_id="a"),
        ev(ts="not a date", event_id="b"),
        ev(user=None, event_id="c"),
        ev(event="purchase", price=-3.0, event_id="d"),
    ]
    r = c.post("/v1/events", json={"batch": batch})
    assert r.status_code == 400  # user_id missing is a shape problem, found before cleaning
    assert r.json()["problems"] == [
        {"index": 2, "event_id": "c", "field": "user_id", "rule": "required"}
    ]
    r = c.post("/v1/events", json={"batch": [batch[0], batch[1], batch[3]]})
    assert r.status_code == 422
    got = {(p["index"], p["event_id"]) for p in r.json()["problems"]}
    assert got == {(1, "b"), (2, "d")}
    rules = {p["event_id"]: p["rule"] for p in r.json()["problems"]}
    assert "timestamp" in rules["b"] and "negative" in rules["d"]
    assert collector.pending() == 0


def test_events_with_a_known_id_are_not_counted_twice(client):
    c, collector = client
    r = c.post("/v1/events", json=[ev(event_id="x1"), ev(ts="2024-01-05T11:00:00Z", event_id="x2")])
    assert r.status_code == 202 and r.json() == {"accepted": 2, "duplicates": 0}
    r = c.post("/v1/events", json=[ev(event_id="x1"), ev(ts="2024-01-05T12:00:00Z", event_id="x3")])
    assert r.json() == {"accepted": 1, "duplicates": 1}
    assert collector.pending() == 2


def test_a_flush_adds_the_inbox_as_one_batch_and_updates_the_touched_users(ws, client):
    c, collector = client
    before = ws.snapshot().profiles
    n_u1 = before.filter(before["user_id"] == "u1")["n_events"][0]
    c.post("/v1/events", json=ev(event_id="e1"))
    c.post("/v1/events", json=[ev(user="u9", event="purchase", price=4.0, quantity=2)])
    r = c.post("/v1/flush")
    assert r.status_code == 200 and r.json()["rows_new"] == 2
    after = ws.snapshot().profiles
    assert after.filter(after["user_id"] == "u1")["n_events"][0] == n_u1 + 1
    assert after.filter(after["user_id"] == "u9")["monetary"][0] == 4.0 * 2
    assert collector.pending() == 0
    assert c.post("/v1/flush").json() == {"pending": 0}


def test_an_inbox_added_twice_after_a_crash_is_not_counted_twice(ws, client):
    c, collector = client
    c.post("/v1/events", json=ev(event_id="k1"))
    files = list(collector.inbox.glob("*.parquet"))
    kept = {f: f.read_bytes() for f in files}
    collector.flush()
    for f, data in kept.items():  # the updater died after the commit, before the delete
        f.write_bytes(data)
    rep = collector.flush()
    assert rep["rows_new"] == 0 and rep["rows_duplicate"] == 1
    assert ws.dataset().events.height == 5 + 1


def test_the_cli_creates_lists_and_revokes_write_keys(ws, capsys):
    assert main(["write-key", "create", "shop", "--label", "site"]) == 0
    out = capsys.readouterr().out
    assert C.KEY_PREFIX in out
    key_id = C.list_write_keys(ws)[0]["id"]
    assert main(["write-key", "list", "shop"]) == 0
    listed = capsys.readouterr().out
    assert f"{key_id}  created" in listed
    assert "last used never  site" in listed
    assert main(["write-key", "revoke", "shop", key_id]) == 0
    assert C.list_write_keys(ws) == []


def test_one_bad_event_among_many_is_found_and_named_with_its_rule(client):
    c, collector = client
    batch = [ev(ts=f"2024-01-05T10:{m:02d}:00Z", user=f"u{m % 7}") for m in range(60)]
    batch[37] = ev(ts="yesterday-ish", event_id="bad")
    r = c.post("/v1/events", json=batch)
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert (problem["index"], problem["event_id"]) == (37, "bad")
    assert problem["rule"].startswith("column 'timestamp': expected timestamps")
    assert "yesterday-ish" in problem["rule"]
    assert collector.pending() == 0


def test_a_full_disk_answers_503_with_a_retry_hint_and_keeps_nothing(client, monkeypatch):
    import errno

    c, collector = client

    def full(frame, ids):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(collector, "_write", full)
        r = c.post("/v1/events", json=ev(event_id="z1"))
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert "No space left on device" in r.json()["error"]
    assert collector.pending() == 0
    # the id was not remembered: the retry is stored
    assert c.post("/v1/events", json=ev(event_id="z1")).json() == {"accepted": 1, "duplicates": 0}


def test_iso_times_with_offsets_epochs_and_other_formats_are_stored_as_the_same_instants(
    ws, client
):
    from datetime import UTC, datetime

    c, collector = client
    # ISO with an offset and an epoch (the fast path: no format sniffing)...
    fast = [
        ev(user="t1", ts="2024-01-05T12:00:00+02:00", event_id="t1"),
        ev(user="t2", ts=1704456000, event_id="t2"),  # 2024-01-05 12:00 UTC
    ]
    # ...and, in another request, a format only the upload's detection reads
    slow = [ev(user="t3", ts="2024/01/05 13:30", event_id="t3")]
    assert c.post("/v1/events", json=fast).status_code == 202
    assert c.post("/v1/events", json=slow).status_code == 202
    assert c.post("/v1/flush").json()["rows_new"] == 3
    events = ws.dataset().events.filter(ws.dataset().events["user_id"].is_in(["t1", "t2", "t3"]))
    got = dict(zip(events["user_id"], events["timestamp"], strict=True))
    assert got == {
        "t1": datetime(2024, 1, 5, 10, 0, tzinfo=UTC),
        "t2": datetime(2024, 1, 5, 12, 0, tzinfo=UTC),
        "t3": datetime(2024, 1, 5, 13, 30, tzinfo=UTC),
    }


def test_an_epoch_out_of_range_is_a_named_cleaning_problem_not_a_crash(client):
    c, collector = client
    r = c.post("/v1/events", json=[ev(ts=10**20, event_id="far")])
    assert r.status_code == 422
    assert r.json()["problems"][0]["event_id"] == "far"
    assert collector.pending() == 0


def test_the_updater_in_its_own_process_adds_the_inbox_and_reports_it(ws):
    import time

    _kid, key = C.create_write_key(ws)
    collector = C.Collector(ws, interval_s=0.2)
    collector.start(process=True)
    try:
        assert collector.accept(key, [ev(user="p1", event_id="p1")])["accepted"] == 1
        deadline = time.monotonic() + 60
        while collector.status()["last_flush"] is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert collector.status()["last_flush"]["rows_new"] == 1
        assert collector.pending() == 0
    finally:
        collector.stop()
    assert not collector._thread.is_alive()
    profiles = W.open_workspace("shop").snapshot().profiles
    assert profiles.filter(profiles["user_id"] == "p1")["n_events"][0] == 1


# ---- who may manage keys and add events (issue 27, "Live in the app") ----------------------
OWNER_ADDR, READER_ADDR = "olga@example.com", "rob@example.com"


@pytest.fixture
def owned(tmp_path, monkeypatch):
    """Olga's shop, shared with Rob to read only."""
    from profiling.workspace import access as A

    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    (tmp_path / "base.csv").write_text(BASE)
    ws = W.create("Owned", str(tmp_path / "base.csv"), extra_meta=A.owner_meta(OWNER_ADDR))
    A.share(ws, OWNER_ADDR, [READER_ADDR])
    return ws


def test_a_reader_can_neither_create_nor_revoke_a_write_key_and_the_owner_can(owned):
    from profiling.workspace.roles import AccessDenied, Caller

    olga, rob = Caller(OWNER_ADDR), Caller(READER_ADDR)
    with pytest.raises(AccessDenied, match="only the owner of workspace 'owned'.*read only"):
        C.create_write_key(owned, "site", caller=rob)
    assert C.list_write_keys(owned) == []
    key_id, key = C.create_write_key(owned, "site", caller=olga)
    with pytest.raises(AccessDenied, match="may revoke write keys of it"):
        C.revoke_write_key(owned, key_id, caller=rob)
    assert C.key_is_valid(owned, key)
    C.revoke_write_key(owned, key_id, caller=olga)
    assert not C.key_is_valid(owned, key)


def test_a_reader_cannot_add_events_live_and_nothing_is_added(owned, tmp_path):
    from profiling.workspace import live
    from profiling.workspace.roles import AccessDenied, Caller

    (tmp_path / "more.csv").write_text(
        "user_id,item_id,event_type,timestamp,quantity,price\nu1,i1,view,2024-01-05 10:00,1,5\n"
    )
    with pytest.raises(AccessDenied, match="may add events to it"):
        live.add(owned, str(tmp_path / "more.csv"), caller=Caller(READER_ADDR))
    assert owned.batches().height == 1
    rep = live.add(owned, str(tmp_path / "more.csv"), caller=Caller(OWNER_ADDR))
    assert (rep.batch_id, rep.rows_new) == (2, 1)


def test_a_key_is_listed_by_its_prefix_with_when_it_was_last_used(ws, client):
    from datetime import datetime

    c, _ = client
    (record,) = C.list_write_keys(ws)
    assert record["last_used_at"] is None  # created, never used
    assert C.key_prefix(record["id"]) == f"ps_wk_{record['id']}_…"
    assert c.post("/v1/events", json=ev()).status_code == 202
    (record,) = C.list_write_keys(ws)
    used = datetime.fromisoformat(record["last_used_at"])
    assert used >= datetime.fromisoformat(record["created_at"])
    assert set(record) == {"id", "label", "created_at", "last_used_at"}  # never the key


def test_a_refused_request_does_not_count_as_a_use(ws, client):
    c, _ = client
    bad = c.post("/v1/events", json=ev(), headers={"Authorization": "Bearer ps_wk_0_nope"})
    assert bad.status_code == 401
    assert C.list_write_keys(ws)[0]["last_used_at"] is None


def test_a_workspace_has_a_feed_once_it_has_a_key_or_a_live_add(ws, tmp_path):
    from profiling.workspace import live

    assert not C.has_feed(ws)
    key_id, _key = C.create_write_key(ws)
    assert C.has_feed(ws)
    C.revoke_write_key(ws, key_id)
    assert not C.has_feed(ws)
    (tmp_path / "more.csv").write_text(
        "user_id,item_id,event_type,timestamp,quantity,price\nu2,i1,view,2024-01-05 10:00,1,5\n"
    )
    live.add(ws, str(tmp_path / "more.csv"))
    assert C.has_feed(ws)


def test_a_users_stamp_moves_only_with_that_users_events(ws, tmp_path):
    from datetime import UTC, datetime

    from profiling.workspace import live

    assert live.user_stamp(ws, "u1") is None  # no live state yet
    head = "user_id,item_id,event_type,timestamp,quantity,price\n"
    (tmp_path / "b1.csv").write_text(head + "u2,i1,view,2024-01-05 10:00,1,5\n")
    live.add(ws, str(tmp_path / "b1.csv"))
    # u1 has the base file's 2 events, the last at 2024-01-01 10:05
    assert live.user_stamp(ws, "u1") == (2, datetime(2024, 1, 1, 10, 5, tzinfo=UTC))
    assert live.user_stamp(ws, "u2") == (2, datetime(2024, 1, 5, 10, 0, tzinfo=UTC))
    (tmp_path / "b2.csv").write_text(head + "u1,i2,cart,2024-01-06 08:00,1,3\n")
    live.add(ws, str(tmp_path / "b2.csv"))
    assert live.user_stamp(ws, "u1") == (3, datetime(2024, 1, 6, 8, 0, tzinfo=UTC))
    assert live.user_stamp(ws, "u2") == (2, datetime(2024, 1, 5, 10, 0, tzinfo=UTC))
    assert live.user_stamp(ws, "nobody") is None


def test_a_rating_event_carries_its_score_into_the_users_rating_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    (tmp_path / "rated.csv").write_text(
        "user_id,item_id,event_type,timestamp,rating\n"
        "u1,i1,rating,2024-01-01 10:00,5\n"
        "u2,i2,rating,2024-01-02 11:00,3\n"
        "u2,i1,view,2024-01-03 12:00,\n"
    )
    rated = W.create("Rated", str(tmp_path / "rated.csv"))
    collector = C.Collector(rated, interval_s=3600)
    _key_id, key = C.create_write_key(rated, "test")
    with TestClient(C.create_app(collector)) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        r = c.post("/v1/events", json=ev(event="rating", rating=2, event_id="r1"))
        assert r.status_code == 202, r.text
        assert c.post("/v1/flush").status_code == 200
    u1 = rated.snapshot().profiles.filter(pl.col("user_id") == "u1").row(0, named=True)
    # ratings 5 (stored) and 2 (sent): two ratings, mean 3.5
    assert u1["n_ratings"] == 2 and u1["rating_mean"] == 3.5


def test_an_unknown_write_key_is_named_in_the_readers_language(ws):
    def message() -> str:
        with pytest.raises(WorkspaceError) as err:
            C.revoke_write_key(ws, "gone")
        return str(err.value)

    assert message() == "workspace 'shop' has no write key 'gone'; its keys: none"
    with i18n.language("zh"):
        assert message() == "工作区 'shop' 没有写入密钥 'gone'；它的密钥：无"
