"""The Recommenders page with the sequential models on a tiny workspace (the deep models
train in a second or two there)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests._apptest import compare_and_wait
from tests.test_app import APP, _workspace


def chain_csv(users: int = 30) -> str:
    """Every user buys 4 consecutive items of a chain p0 -> p1 -> ... -> p7; the k-th
    purchases of all users come one after another, so a temporal split holds out the
    latest steps of many users."""
    lines = ["user_id,item_id,event_type,timestamp"]
    for k in range(4):
        for u in range(users):
            start = u % 5
            minute = k * users + u
            lines.append(
                f"u{u},p{start + k},purchase,2025-01-01T{minute // 60:02d}:{minute % 60:02d}:00"
            )
    return "\n".join(lines) + "\n"


def test_the_recommenders_page_trains_and_compares_the_sequential_models(
    clear_streamlit_caches, tmp_path
):
    slug = _workspace("Chain shop", chain_csv(), tmp_path)
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = slug
    at.run()
    at.switch_page("app_pages/recommenders.py").run()
    at.multiselect(key="ps_rec_models").set_value(["popularity", "markov", "gru4rec", "sasrec"])
    compare_and_wait(at)
    assert not at.exception and not at.error
    models = at.table[0].value.columns[1:]
    assert sorted(models) == ["gru4rec", "markov", "popularity", "sasrec"]
    trained = [m.value for m in at.markdown if m.value.startswith("✓")]
    deep = [t for t in trained if t.startswith(("✓ gru4rec", "✓ sasrec"))]
    assert len(deep) == 2 and all("epoch(s), stopped by" in t for t in deep)
    reasons = at.table[-1].value
    assert reasons["why"].str.len().min() > 0
