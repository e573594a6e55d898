"""Size limits checked before a file is read: a decompression bomb is refused from its
metadata in a blink, with a message naming the file, the limit and the figure found, and a
refused upload leaves nothing on disk."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from profiling import private
from profiling.data import ingest
from profiling.data.ingest import limits as L
from profiling.errors import DataValidationError, ProfilingError

ROOT = Path(__file__).resolve().parent.parent

ROW = b"<row>" + b'<c t="n"><v>1</v></c>' * 16 + b"</row>"  # 16 cells a row
_CT = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    b'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    b'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
    b'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    b"schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
    b'" Target="xl/workbook.xml"/></Relationships>'
)
_WB = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
    b'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
    b'2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>'
    b"</workbook>"
)
_WB_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    b'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="'
    b'worksheets/sheet1.xml"/></Relationships>'
)


def _workbook(path: Path, rows: int, dimension: bytes = b"", header: bytes = b"") -> Path:
    """A minimal .xlsx whose first sheet holds ``rows`` rows of 16 cells (written in blocks
    at the fastest deflate level, so a few hundred MB of XML takes well under a second)."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://'
        b'schemas.openxmlformats.org/spreadsheetml/2006/main">' + dimension + b"<sheetData>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WB)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(head + header)
            block, left = ROW * 4096, rows
            while left >= 4096:
                fh.write(block)
                left -= 4096
            fh.write(ROW * left + b"</sheetData></worksheet>")
    return path


def _measured(path: Path) -> dict:
    """Read ``path`` with read_table in a fresh process (default limits); returns the
    error message, the seconds it took and how much the peak RSS rose (MB)."""
    code = f"""
import json, resource, time
from profiling.data import ingest
from profiling.errors import DataValidationError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    ingest.read_table({str(path)!r})
    error = None
except DataValidationError as exc:
    error = str(exc)
seconds = time.perf_counter() - start
rise = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({{"error": error, "seconds": seconds, "rss_mb": rise}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONA_STUDIO_MAX")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_100_million_row_parquet_is_refused_from_its_footer(tmp_path):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    # one repeated value, dictionary + run-length encoded: 20 row groups of 5M rows each
    # come to about a quarter of a megabyte on disk
    path = tmp_path / "many-rows.parquet"
    codes = pa.array(np.zeros(5_000_000, dtype=np.int8))
    chunk = pa.table({"user_id": pa.DictionaryArray.from_arrays(codes, pa.array(["u1"]))})
    with pq.ParquetWriter(path, chunk.schema) as writer:
        for _ in range(20):
            writer.write_table(chunk)
    assert path.stat().st_size < 1_000_000
    got = _measured(path)
    assert got["error"] == (
        "many-rows.parquet: the file is over the rows limit: found 100,000,000 rows, the limit "
        "is 50,000,000 rows (set PERSONA_STUDIO_MAX_ROWS to change it); the file was not read. "
        "Split it, or keep only the columns and dates you need"
    )
    assert got["seconds"] < 2.0
    assert got["rss_mb"] < 300


def test_an_xlsx_bomb_is_refused_from_its_sheet_dimension(tmp_path):
    # 1,048,576 x 16,384 cells declared; 300 MB of real XML behind it (calamine needs about
    # 1 GB and 10 s to read it), 2 MB on disk
    rows = 300_000_000 // len(ROW)
    path = _workbook(tmp_path / "bomb.xlsx", rows, b'<dimension ref="A1:XFD1048576"/>')
    assert path.stat().st_size < 4_000_000
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size > 299_000_000
    got = _measured(path)
    assert got["error"] == (
        "bomb.xlsx: the file is over the columns limit: found 16,384 columns declared by "
        'worksheet sheet1 (dimension ref="A1:XFD1048576"), the limit is 500 columns (set '
        "PERSONA_STUDIO_MAX_COLUMNS to change it); the file was not read. Split it, or keep "
        "only the columns and dates you need"
    )
    assert got["seconds"] < 2.0
    assert got["rss_mb"] < 300


def test_a_sheet_without_a_dimension_is_counted_while_streaming(tmp_path):
    path = _workbook(tmp_path / "plain.xlsx", 125)  # 125 rows x 16 cells = 2,000 cells
    with pytest.raises(DataValidationError, match=r"found at least 2,000 cells in worksheet"):
        ingest.read_table(path, limits=L.Limits(cells=1_999))
    with pytest.raises(DataValidationError, match=r"found at least 125 rows in worksheet"):
        ingest.read_table(path, limits=L.Limits(rows=124))
    # at the limits exactly, the sheet is read: 125 rows, the first one taken as the header
    raw = ingest.read_table(path, limits=L.Limits(cells=2_000, rows=125))
    assert raw.frame.collect().shape == (124, 16)


def test_a_dimension_over_the_cell_limit_is_refused(tmp_path):
    # B2:K12 is 11 rows x 10 columns; the sheet itself holds 2 rows of 16 cells
    path = _workbook(tmp_path / "dim.xlsx", 2, b'<dimension ref="B2:K12"/>')
    with pytest.raises(
        DataValidationError,
        match=r"dim.xlsx: the file is over the spreadsheet cells limit: found 110 cells "
        r'declared by worksheet sheet1 \(dimension ref="B2:K12"\), the limit is 109 cells',
    ):
        ingest.read_table(path, limits=L.Limits(cells=109))
    assert ingest.read_table(path, limits=L.Limits(cells=110)).frame.collect().height == 1


def test_zip_members_declaring_more_than_the_decompressed_limit_are_refused(tmp_path):
    path = _workbook(tmp_path / "wide.xlsx", 1000)  # sheet XML: 1000 x 346 bytes + head
    with zipfile.ZipFile(path) as zf:
        declared = sum(m.file_size for m in zf.infolist())
    assert declared > 346_000
    with pytest.raises(
        DataValidationError,
        match=rf"decompressed size limit: found 0.3 MB \({declared:,} bytes\) \(declared by "
        r"the zip directory\), the limit is 0.3 MB \(300,000 bytes\)",
    ):
        ingest.read_table(path, limits=L.Limits(decompressed_bytes=300_000))


def test_a_text_file_over_the_row_limit_is_refused_by_its_line_count(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("user_id,item_id,timestamp\n" + "u1,i1,2024-01-01\n" * 5)
    with pytest.raises(
        DataValidationError,
        match=r"events.csv: the file is over the rows limit: found 5 rows \(lines\), the limit "
        r"is 4 rows \(set PERSONA_STUDIO_MAX_ROWS",
    ):
        ingest.read_table(path, limits=L.Limits(rows=4))
    assert ingest.read_table(path, limits=L.Limits(rows=5)).frame.collect().height == 5


def test_json_lines_are_counted_and_columns_are_limited(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"user_id": "u1", "timestamp": "2024-01-01", "x": 1}\n' * 3)
    # JSON lines have no header: 3 lines are 3 rows, one header line allowed on top
    with pytest.raises(DataValidationError, match=r"found 2 rows \(lines\), the limit is 1 "):
        ingest.read_table(path, limits=L.Limits(rows=1))
    with pytest.raises(DataValidationError, match=r"found 3 columns, the limit is 2 columns"):
        ingest.read_table(path, limits=L.Limits(columns=2))


def test_a_file_over_the_byte_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "events.csv"
    path.write_text("user_id,timestamp\nu1,2024-01-01\n")  # 32 bytes
    monkeypatch.setenv("PERSONA_STUDIO_MAX_FILE_BYTES", "31")
    with pytest.raises(
        DataValidationError,
        match=r"over the file size limit: found 0.0 MB \(32 bytes\), the limit is 0.0 MB "
        r"\(31 bytes\) \(set PERSONA_STUDIO_MAX_FILE_BYTES",
    ):
        ingest.read_table(path)


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1.5"])
def test_a_malformed_limit_variable_is_refused_not_ignored(monkeypatch, value):
    monkeypatch.setenv("PERSONA_STUDIO_MAX_ROWS", value)
    with pytest.raises(ProfilingError, match=r"PERSONA_STUDIO_MAX_ROWS: expected a positive"):
        L.Limits.from_env()


def test_limit_variables_set_the_limits(monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_MAX_ROWS", "1_000")
    monkeypatch.setenv("PERSONA_STUDIO_MAX_SPREADSHEET_CELLS", "77")
    assert L.Limits.from_env() == L.Limits(rows=1000, cells=77)
    assert L.Limits() == L.Limits(
        bytes=2 * 1024**3,
        decompressed_bytes=4 * 1024**3,
        rows=50_000_000,
        columns=500,
        cells=10_000_000,
    )


class _Upload(io.BytesIO):
    """What Streamlit's file uploader hands over: a BytesIO with a name and a size."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name, self.size = name, len(data)


def _scratch() -> set[str]:
    return {p.name for p in private.uploads_dir().iterdir()}


def test_an_upload_over_the_byte_limit_leaves_nothing_on_disk(monkeypatch):
    from ui import upload

    before = _scratch()
    monkeypatch.setenv("PERSONA_STUDIO_MAX_FILE_BYTES", "10")
    with pytest.raises(DataValidationError, match=r"big.csv: the file is over the file size"):
        upload.save_checked(_Upload(b"0" * 11, "big.csv"))
    # streamed without a declared size: the copy stops at the limit and is deleted
    with pytest.raises(DataValidationError, match=r"found 0.0 MB \(11 bytes\)"):
        ingest.materialize(io.BytesIO(b"0" * 11), "big.csv", max_bytes=10)
    assert _scratch() == before


def test_a_refused_upload_is_discarded_with_its_utf8_copy(tmp_path):
    from ui import upload

    data = "user_id;zeit\n".encode("latin-1") + "ü1;2024-01-01\n".encode("latin-1") * 3
    saved = upload.save_checked(_Upload(data, "latin.csv"))
    assert saved["path"].startswith(str(private.uploads_dir()))
    with pytest.raises(DataValidationError, match=r"found 3 rows \(lines\), the limit is 2"):
        ingest.read_table(saved["path"], limits=L.Limits(rows=2))
    ingest.read_table(saved["path"])  # within the limits: read, making its UTF-8 copy
    digest = ingest.file_digest(saved["path"])
    assert (private.uploads_dir() / f"{digest}.utf8.txt").exists()
    gone = ingest.discard(saved["path"])
    assert sorted(gone) == sorted([Path(saved["path"]).name, f"{digest}.utf8.txt"])
    assert not Path(saved["path"]).exists()


def test_discard_never_deletes_a_file_outside_the_upload_folder(tmp_path):
    mine = tmp_path / "events.csv"
    mine.write_text("user_id,timestamp\nu1,2024-01-01\n")
    assert ingest.discard(mine) == []
    assert mine.exists()


def test_a_worksheet_longer_than_its_declared_size_is_refused_as_corrupt(tmp_path):
    import struct

    path = _workbook(tmp_path / "liar.xlsx", 2000)
    data = bytearray(path.read_bytes())
    sheet = b"xl/worksheets/sheet1.xml"
    at = data.find(b"PK\x01\x02")  # central directory entries: declared sizes at +24
    while at != -1:
        name_len = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if data[at + 46 : at + 46 + name_len] == sheet:
            data[at + 24 : at + 28] = struct.pack("<I", 1000)  # declares 1,000 bytes
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo(sheet.decode()).file_size == 1000
    with pytest.raises(DataValidationError, match=r"liar.xlsx: the workbook is corrupt .*CRC"):
        ingest.read_table(path)
