"""AppTest: an upload over a limit is refused on the Data page with the limit's message, and
nothing of it is left in the upload folder."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from profiling import private

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CSV = (
    b"customer,product,when,amount\n"
    b"u1,i1,2024-01-01 10:00:00,5.0\n"
    b"u2,i2,2024-01-02 11:00:00,7.5\n"
    b"u3,i1,2024-01-04 09:30:00,2.0\n"
)  # 3 data rows, 119 bytes


def _scratch() -> set[str]:
    return {p.name for p in private.uploads_dir().iterdir()}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "PERSONA_STUDIO_MAX_ROWS",
            "2",
            "over the rows limit: found 3 rows (lines), the limit is 2",
        ),
        (
            "PERSONA_STUDIO_MAX_FILE_BYTES",
            "100",
            "over the file size limit: found 0.0 MB (119 bytes), the limit is 0.0 MB (100 bytes)",
        ),
    ],
)
def test_an_upload_over_a_limit_is_refused_and_deleted(
    clear_streamlit_caches, monkeypatch, variable, value, message
):
    assert len(CSV) == 119
    before = _scratch()
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/data.py").run()
    monkeypatch.setenv(variable, value)  # after the sample store is open: it is bigger
    at.get("file_uploader")[0].upload("too-big.csv", CSV, "text/csv").run()
    assert not at.exception
    errors = re.sub(r"\\(.)", r"\1", " ".join(e.value for e in at.error))  # Markdown-escaped
    assert f"too-big.csv: the file is {message}" in errors
    digest = hashlib.blake2b(CSV, digest_size=16).hexdigest()
    assert not any(name.startswith(digest) for name in _scratch())
    assert _scratch() <= before  # nothing new: neither the copy nor a part file
