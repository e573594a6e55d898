"""Live profiles fed by Spark Structured Streaming (``stream-events --engine spark``): every
micro-batch of new files in a watched folder is added to a workspace by the same
incremental update as the HTTP collector's (:func:`profiling.workspace.live.add`).

A micro-batch is written as one file of the folder's format under the workspace's
``stream/`` folder and added like an upload of that file (same cleaning, same
de-duplication against earlier batches, one transaction). Spark's checkpoint (by default
``stream/checkpoint`` in the workspace) records which files each batch took. If the process
dies after a batch committed in the workspace and before Spark recorded it, Spark hands the
same files again at the next start and the store's de-duplication drops every row: no event
is lost or counted twice.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from profiling.engines.spark_stream import stream_files
from profiling.spark_session import spark_session
from profiling.workspace import live
from profiling.workspace import store as st


def checkpoint_dir(ws: st.Workspace) -> Path:
    """Where the stream of ``ws`` keeps Spark's checkpoint unless told otherwise."""
    return ws.path / "stream" / "checkpoint"


def stream_into(
    ws: st.Workspace,
    watch: str | Path,
    *,
    fmt: str = "csv",
    once: bool = False,
    interval_s: float = 2.0,
    checkpoint: str | Path | None = None,
    events_map: dict[str, str] | None = None,
    max_files_per_batch: int | None = None,
    spark=None,
    on_progress=None,
) -> list[st.BatchReport]:
    """Add the new event files of folder ``watch`` to ``ws`` micro-batch by micro-batch.

    ``once`` adds the files present now and returns; otherwise it runs until stopped.
    ``events_map`` maps the files' columns to canonical roles (inferred when None, as for an
    upload). Returns the report of every batch added."""
    spark = spark or spark_session(ui=False)
    scratch = ws.path / "stream" / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    reports: list[st.BatchReport] = []
    progress = on_progress or (lambda msg: None)

    def add(events: pl.DataFrame, batch_id: int) -> None:
        path = scratch / f"spark-batch-{batch_id}.{fmt}"
        if fmt == "csv":
            events.write_csv(path)
        else:
            events.write_parquet(path)
        try:
            rep = live.add(
                ws,
                str(path),
                events_map=events_map,
                names={"events": f"spark stream batch {batch_id}.{fmt}"},
                on_progress=progress,
            )
        finally:
            path.unlink(missing_ok=True)
        progress(
            f"batch {batch_id}: {rep.rows_new:,} new events, {rep.rows_duplicate:,} already "
            f"there, {rep.rows_dropped:,} dropped"
        )
        reports.append(rep)

    stream_files(
        spark,
        watch,
        add,
        checkpoint or checkpoint_dir(ws),
        fmt=fmt,
        once=once,
        interval_s=interval_s,
        max_files_per_batch=max_files_per_batch,
    )
    return reports
