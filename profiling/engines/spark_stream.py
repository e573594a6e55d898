"""Spark Structured Streaming over a folder of event files: each micro-batch of new files is
handed, as a polars frame, to a function of the caller's (the workspace's incremental
update, see :func:`profiling.workspace.stream.stream_into`).

The file source reads new files only: Spark records in the checkpoint which files each
micro-batch took, so a restarted stream goes on where the last committed batch ended. Files
whose name starts with ``.`` or ``_`` are ignored until renamed (write under such a name,
then rename, so that a half-written file is never read).

The schema is the upload schema of the folder's first file: for CSV every column of its
header as text (the library's cleaning types them, as for an upload), for Parquet the
file's own schema. A later CSV file with another header is refused by Spark
(``enforceSchema`` off) rather than read into the wrong columns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from profiling.spark_session import SparkEngineError
from profiling.vocabulary.i18n import gettext as _

FORMATS = ("csv", "parquet")
OnBatch = Callable[[pl.DataFrame, int], None]
"""``on_batch(events, batch_id)``: the raw rows of one micro-batch (upload columns) and
Spark's batch id (the same id when a batch is replayed after a crash)."""


def first_file(watch: Path, fmt: str) -> Path:
    """The folder's first visible ``fmt`` file by name (the one the schema comes from)."""
    files = sorted(
        p for p in watch.glob(f"*.{fmt}") if p.is_file() and not p.name.startswith((".", "_"))
    )
    if not files:
        raise SparkEngineError(
            _(
                "{folder}: no .{fmt} file yet to take the columns from; put the first file of "
                "events in the folder, then start the stream"
            ).format(folder=watch, fmt=fmt)
        )
    return files[0]


def upload_schema(spark, watch: Path, fmt: str):
    """The Spark schema of the folder's files (see the module docstring)."""
    from pyspark.sql.types import StringType, StructField, StructType

    first = first_file(watch, fmt)
    if fmt == "parquet":
        return spark.read.parquet(str(first)).schema
    header = pl.read_csv(first, n_rows=0, infer_schema_length=0).columns
    return StructType([StructField(c, StringType(), True) for c in header])


def stream_files(
    spark,
    watch: str | Path,
    on_batch: OnBatch,
    checkpoint: str | Path,
    *,
    fmt: str = "csv",
    once: bool = False,
    interval_s: float = 2.0,
    max_files_per_batch: int | None = None,
) -> int:
    """Read the new ``fmt`` files of folder ``watch`` as a stream and call ``on_batch`` for
    every non-empty micro-batch.

    ``once`` processes the files present now and returns (``trigger(availableNow=True)``);
    otherwise a micro-batch starts every ``interval_s`` seconds until the query is stopped.
    ``max_files_per_batch`` caps the files of one micro-batch. Returns the number of
    micro-batches handed to ``on_batch``. An error raised by ``on_batch`` stops the query
    and is raised again here (Spark then keeps the batch uncommitted in the checkpoint: it
    is read again at the next start)."""
    if fmt not in FORMATS:
        raise SparkEngineError(
            _("stream format: expected one of {names}; got {fmt!r}").format(
                names=", ".join(FORMATS), fmt=fmt
            )
        )
    watch = Path(watch)
    if not watch.is_dir():
        raise SparkEngineError(
            _("{folder}: the folder to watch does not exist").format(folder=watch)
        )
    schema = upload_schema(spark, watch, fmt)
    reader = spark.readStream.schema(schema)
    if max_files_per_batch:
        reader = reader.option("maxFilesPerTrigger", int(max_files_per_batch))
    if fmt == "csv":
        reader = reader.option("header", True).option("enforceSchema", False)
        frame = reader.csv(str(watch))
    else:
        frame = reader.parquet(str(watch))
    handed = []
    failure: list[Exception] = []

    def each(df, batch_id: int) -> None:
        try:
            events = pl.from_arrow(df.toArrow())
            if events.height:
                on_batch(events, int(batch_id))
                handed.append(batch_id)
        except Exception as exc:  # kept to raise again, unwrapped, in the caller's thread
            failure.append(exc)
            raise

    writer = frame.writeStream.foreachBatch(each).option("checkpointLocation", str(checkpoint))
    writer = (
        writer.trigger(availableNow=True)
        if once
        else writer.trigger(processingTime=f"{interval_s:g} seconds")
    )
    from pyspark.errors import StreamingQueryException

    query = writer.start()
    try:
        query.awaitTermination()
    except StreamingQueryException as exc:  # wraps the batch function's error
        if failure:
            raise failure[0] from None
        raise SparkEngineError(
            _("the stream over {folder} stopped: {exc}").format(folder=watch, exc=exc)
        ) from None
    finally:
        if query.isActive:
            query.stop()
    if failure:
        raise failure[0]
    return len(handed)
