"""Helpers for AppTest scripts that start background work."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest


def compare_and_wait(at: AppTest, timeout: float = 150.0) -> AppTest:
    """Press "Train and compare" and rerun until the background comparison is shown (AppTest
    does not run a fragment's timer, so the test reruns the page as the timer would)."""
    at.get("form_submit_button")[0].click().run()
    return wait_for_comparison(at, timeout)


def wait_for_comparison(at: AppTest, timeout: float = 150.0) -> AppTest:
    """Rerun while a background job's progress bar is shown (the page's fragment timer)."""
    deadline = time.time() + timeout
    while at.get("progress") and not at.exception and time.time() < deadline:
        time.sleep(0.3)
        at.run()
    return at


wait_for_background = wait_for_comparison
