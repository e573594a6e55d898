"""AppTest: while an upload is reviewed, the Data page reports that file, not the open one."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")

# 5 data rows: one has no customer id (dropped), one repeats a row exactly (dropped as a
# duplicate: rows carry a time of day), so 5 read = 3 kept + 2 dropped.
CSV = (
    "customer,product,when,amount\n"
    "u1,i1,2024-01-01 10:00:00,5.0\n"
    "u2,i2,2024-01-02 11:00:00,7.5\n"
    ",i3,2024-01-03 12:00:00,3.0\n"
    "u1,i1,2024-01-01 10:00:00,5.0\n"
    "u3,i1,2024-01-04 09:30:00,2.0\n"
)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_data_page_shows_the_report_of_the_file_under_review(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/data.py").run()
    assert _metrics(at)["Rows read"] != "5"  # the sample store's report, before the upload
    at.get("file_uploader")[0].upload("review-me.csv", CSV.encode(), "text/csv").run()
    assert not at.exception
    headers = [h.value for h in at.header]
    assert headers == ["Cleaning report · files under review"]  # no sample store report
    m = _metrics(at)
    assert (m["Rows read"], m["Rows kept"], m["Rows dropped"]) == ("5", "3", "2")
    # the sample store's join line ("3,000 of 3,000 users") is not shown under the upload
    assert not any("3,000 of 3,000" in md.value for md in at.markdown)
    assert any("review\\-me" in t.label for t in at.tabs)


def test_the_review_report_follows_the_reviewed_roles(clear_streamlit_caches, tmp_path):
    from profiling.data import ingest
    from profiling.errors import ProfilingError
    from ui.upload import reviewed_report

    path, name = ingest.materialize(CSV.encode(), "review-me.csv")
    rep = reviewed_report(path, name, "events", ())
    assert (rep.rows_read, rep.rows_kept) == (5, 3)
    # the reviewer maps the id column to "ignore": the report is of that mapping, which
    # leaves no user id, so it stops with a message naming the missing role
    with pytest.raises(ProfilingError, match="user_id"):
        reviewed_report(path, name, "events", (("customer", "ignore"),))
