"""AppTest: the Overview fits the log: orders and money for a transaction log, the funnel
for an event log, guest rows explained calmly, a period compared with the one before."""

from __future__ import annotations

import contextlib
from pathlib import Path

from streamlit.testing.v1 import AppTest

from profiling import workspace as W
from profiling.errors import WorkspaceError

APP = str(Path(__file__).resolve().parent.parent / "app.py")

# Three orders of two customers (invoice A1 has two lines) and a guest row without a
# customer id, as retail exports have; the money column's name says the currency.
SHOP = (
    "invoice,customer,when,amount_gbp\n"
    "A1,c1,2024-01-05 10:00,10\n"
    "A1,c1,2024-01-05 10:00,5\n"
    "A2,c2,2024-01-20 12:00,40\n"
    "A3,c1,2024-02-10 09:00,20\n"
    "A4,,2024-02-11 09:00,7\n"
)


def _open(slug: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["ws"] = slug
    return at.run()


def _shop(tmp_path) -> str:
    path = tmp_path / "retail.csv"
    path.write_text(SHOP)
    with contextlib.suppress(WorkspaceError):
        W.delete("retail-overview")
    return W.create("Retail overview", path).slug


def test_a_transaction_log_shows_orders_order_value_and_repeat_customers(
    clear_streamlit_caches, tmp_path
):
    at = _open(_shop(tmp_path))
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    # customers c1, c2; orders A1 (10 + 5), A2 (40), A3 (20); revenue 75
    assert metrics["Customers"] == "2"
    assert metrics["Orders"] == "3"
    assert metrics["Revenue"] == "£75.00"
    assert metrics["Average order value"] == "£25.00"  # 75 / 3
    assert metrics["Repeat customers"] == "50.0%"  # c1 ordered twice, c2 once
    assert metrics["Revenue per customer"] == "£37.50"  # 75 / 2
    assert any("A **transaction log**" in md.value for md in at.markdown)
    captions = " ".join(c.value for c in at.caption)
    assert "1 row (20%) has no customer id" in captions
    assert "expected in retail exports" in captions
    # the badge counts only rows with a customer id, so the guest row is not alarming
    assert any(
        "Data quality: 100.0% of 4 rows with a customer id" in md.value for md in at.markdown
    )
    # no single-bar funnel for a transaction log; no deltas when the log has no earlier period
    assert not any(m.delta for m in at.metric)
    assert "does not cover the whole period before it" in captions


def test_the_currency_can_be_set_for_a_workspace(clear_streamlit_caches, tmp_path):
    slug = _shop(tmp_path)
    at = _open(slug)
    at.selectbox(key=f"ps_ov_currency_{slug}").set_value("EUR").run()
    assert not at.exception
    assert W.open_workspace(slug).meta()["currency"] == "EUR"
    at = _open(slug)
    assert {m.label: m.value for m in at.metric}["Revenue"] == "€75.00"


def test_an_event_log_shows_conversion_deltas_and_the_funnel(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception and not at.error
    assert any("An **event log**" in md.value for md in at.markdown)
    metrics = {m.label: m for m in at.metric}
    assert "Visitors who bought" in metrics
    # the last 90 days against the 90 before: the sample store's year covers both
    assert metrics["Orders"].delta
    assert any("compared with the previous 90 days" in c.value for c in at.caption)
    assert "Do customers come back?" in [s.value for s in at.subheader]


def test_the_whole_log_counts_every_customer_of_the_sample_store(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.segmented_control(key="ps_ov_period").set_value("all").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "3,000"
    assert any("No comparison" in c.value for c in at.caption)


def test_a_transaction_log_shows_its_sales_once_and_not_the_activity_chart_as_well(
    clear_streamlit_caches, tmp_path
):
    # whole weeks only: no partial period, so no hatched-bars caption; the sales chart is
    # the only chart over time (the activity chart is for logs without orders)
    path = tmp_path / "weeks.csv"
    path.write_text(
        "customer,when,amount\n"
        + "".join(f"c{d % 5},2024-01-{1 + d:02d} 10:00,{10 + d}\n" for d in range(28))
    )
    with contextlib.suppress(WorkspaceError):
        W.delete("whole-weeks")
    at = _open(W.create("Whole weeks", path).slug)
    assert not at.exception and not at.error
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert titles and not any("Activity over time by event type" in t for t in titles)
