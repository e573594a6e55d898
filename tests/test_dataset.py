"""Dataset: joins with users and items, fingerprints, summaries and interactions."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from profiling.data.dataset import load_dataset
from profiling.errors import DataValidationError
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S

EVENTS = (
    "user,item,event,when,price,qty\n"
    "u1,i1,view,2024-01-01 10:00,10,\n"
    "u1,i1,cart,2024-01-01 10:01,10,\n"
    "u1,i1,purchase,2024-01-01 10:02,10,2\n"
    "u2,i2,view,2024-01-03 09:00,4,\n"
    "u3,i9,view,2024-01-04 09:00,4,\n"
)
USERS = "user_id,age,region\nu1,30,North\nu2,41,South\nu7,22,East\n"
ITEMS = "item_id,title,category\ni1,Lamp,Home\ni2,Book,Books\n"


@pytest.fixture
def files(tmp_path):
    out = {}
    for name, text in (("events.csv", EVENTS), ("users.csv", USERS), ("items.csv", ITEMS)):
        (tmp_path / name).write_text(text)
        out[name.split(".")[0]] = str(tmp_path / name)
    return out


def test_the_join_report_counts_matched_users_and_items(files):
    ds = load_dataset(files["events"], files["users"], files["items"])
    j = ds.report.joins
    assert (j.event_users, j.users_matched, j.users_without_events) == (3, 2, 1)
    assert (j.event_items, j.items_matched, j.items_without_events) == (3, 2, 0)


def test_the_summary_counts_users_items_events_and_net_revenue(files):
    s = load_dataset(files["events"]).summary()
    assert (s["users"], s["items"], s["events"]) == (3, 3, 5)
    assert s["revenue"] == 10 * 2
    assert s["start"] == dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert s["end"] == dt.datetime(2024, 1, 4, 9, tzinfo=dt.UTC)


def test_as_of_is_the_latest_event_not_today(files):
    assert load_dataset(files["events"]).as_of == dt.datetime(2024, 1, 4, 9, tzinfo=dt.UTC)


def test_the_fingerprint_follows_content_and_mapping(files, tmp_path):
    a = load_dataset(files["events"]).fingerprint
    assert load_dataset(files["events"]).fingerprint == a
    copy = tmp_path / "copy.csv"
    copy.write_text(EVENTS)
    assert load_dataset(str(copy)).fingerprint == a  # same content, same fingerprint
    changed = tmp_path / "changed.csv"
    changed.write_text(EVENTS.replace("u3", "u4"))
    assert load_dataset(str(changed)).fingerprint != a
    remapped = load_dataset(files["events"], events_map={"price": S.IGNORE})
    assert remapped.fingerprint != a


def test_interactions_sum_event_weights_per_user_and_item(files):
    inter = load_dataset(files["events"]).interactions()
    row = inter.filter((pl.col(S.USER_ID) == "u1") & (pl.col(S.ITEM_ID) == "i1")).row(0, named=True)
    w = S.IMPLICIT_WEIGHTS
    assert row["weight"] == w["view"] + w["cart"] + w["purchase"]
    assert inter.height == 3


def test_activity_counts_events_per_day_and_type(files):
    act = load_dataset(files["events"]).activity("1d")
    first_day = act.filter(pl.col("period") == dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert dict(first_day.select(S.EVENT_TYPE, "events").iter_rows()) == {
        "cart": 1,
        "purchase": 1,
        "view": 1,
    }


def test_a_users_table_whose_ids_match_no_event_is_refused(files, tmp_path):
    other = tmp_path / "strangers.csv"
    other.write_text("user_id,age\nx1,30\nx2,40\n")
    with pytest.raises(
        DataValidationError, match=r"strangers\.csv, column 'user_id': none of the 3 users"
    ):
        load_dataset(files["events"], str(other))


def test_ids_that_match_no_event_are_refused_in_the_readers_language(files, tmp_path):
    other = tmp_path / "strangers.csv"
    other.write_text("item_id,title\nx1,Kettle\nx2,Mug\n")
    with pytest.raises(DataValidationError) as raised:
        load_dataset(files["events"], items=str(other))
    assert str(raised.value) == (
        "strangers.csv, column 'item_id': none of the 3 items in the event log has a row in "
        "this table; expected item ids like the event log's, found ids such as ['x1', 'x2']"
    )
    with i18n.language("zh"), pytest.raises(DataValidationError) as raised:
        load_dataset(files["events"], items=str(other))
    assert str(raised.value) == (
        "strangers.csv，列 “item_id”：行为日志中的 3 个商品在此表中都没有对应的行；"
        "应为与行为日志相同的商品 ID，实际的 ID 如 ['x1', 'x2']"
    )


def test_dataset_interactions_and_split_interactions_agree_on_the_latest_rating(tmp_path):
    # the file lists the newer rating (5, on the 3rd) before the older one (2, on the 1st)
    path = tmp_path / "ratings.csv"
    path.write_text(
        "user,item,event,when,stars\n"
        "u1,i1,rating,2024-01-03 10:00,5\n"
        "u1,i1,rating,2024-01-01 10:00,2\n"
        "u1,i2,view,2024-01-02 10:00,\n"
    )
    ds = load_dataset(path)
    from profiling.evaluation import interactions_from

    whole = ds.interactions()
    assert whole.equals(interactions_from(ds.events))  # one function builds both
    assert dict(whole.select(S.ITEM_ID, S.RATING).iter_rows()) == {"i1": 5.0, "i2": None}


def test_evaluation_error_lives_with_the_other_errors():
    from profiling import errors
    from profiling.evaluation import EvaluationError

    assert EvaluationError is errors.EvaluationError
    assert issubclass(EvaluationError, errors.ProfilingError)


def test_user_events_are_the_users_rows_in_log_order_through_the_index(files, monkeypatch):
    ds = load_dataset(files["events"])
    u1 = ds.user_events("u1")
    assert u1[S.EVENT_TYPE].to_list() == ["view", "cart", "purchase"]  # the log's order
    assert ds.user_events("u3")[S.ITEM_ID].to_list() == ["i9"]
    assert ds.user_events("nobody").height == 0
    assert ds.user_events("nobody").columns == ds.events.columns
    # two ids sharing a hash: the exact id decides (every id hashed to the same value)
    hashes, order = ds.__dict__["_user_index"]
    ds.__dict__["_user_index"] = (hashes * 0, order[hashes.argsort(kind="stable")])
    monkeypatch.setattr(pl.Series, "hash", lambda self, *a, **k: pl.Series([0], dtype=pl.UInt64))
    assert ds.user_events("u2")[S.ITEM_ID].to_list() == ["i2"]
    assert ds.user_events("u1").height == 3
    # the index is not carried into a pickle (it is rebuilt on demand)
    import pickle

    assert "_user_index" not in pickle.loads(pickle.dumps(ds)).__dict__  # noqa: S301 - reads a pickle this project wrote into its own private folder


def test_time_of_day_known_is_read_once_from_the_log(files):
    ds = load_dataset(files["events"])
    assert ds.time_of_day_known() is True
    ds.__dict__["_time_known"] = False  # the memo answers from then on
    assert ds.time_of_day_known() is False
