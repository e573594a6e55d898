"""AppTest: the Segments page prepares the stakeholder report and offers HTML and PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from profiling.present import report as R

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.mark.skipif(R.chromium_path() is None, reason="no Chromium on this machine")
def test_the_segments_page_prepares_the_report_for_download(clear_streamlit_caches):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("app_pages/segments.py").run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download (PDF)" not in labels  # nothing is drawn before the button is pressed
    at.button(key="ps_report").click().run()
    assert not at.exception and not at.error
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download (web page)" in labels and "Download (PDF)" in labels
    # still offered on the next run (from the cache, not drawn again)
    at.run()
    assert "Download (PDF)" in [b.proto.label for b in at.get("download_button")]
