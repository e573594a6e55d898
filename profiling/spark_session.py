"""The Spark session every Spark path shares (the engine, Spark ALS, Spark evaluation).

Sits below the wings that use it so that the recommenders (Spark ALS) and the engines can
both start a session without importing each other.
"""

from __future__ import annotations

import os

from profiling.errors import ProfilingError
from profiling.errors import translated as _

MASTER_ENV = "PERSONA_SPARK_MASTER"
DRIVER_MEMORY_ENV = "PERSONA_SPARK_DRIVER_MEMORY"
LOCAL_DRIVER_MEMORY = "4g"
BYTES_PER_PARTITION = 16 * 2**20  # of input on disk (Parquet expands several times in memory)
DEFAULT_CONF = {
    # timestamps are instants; hours, days and weekdays are read in UTC like the polars path
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}


class SparkEngineError(ProfilingError):
    """PySpark or Java is missing, or the input needs a step only the polars engine has."""


def spark_session(
    master: str | None = None,
    shuffle_partitions: int | None = None,
    ui: bool = True,
    input_path: str | None = None,
):
    """The active SparkSession, or a new one with :data:`DEFAULT_CONF`.

    The master is ``master``, else the ``PERSONA_SPARK_MASTER`` environment variable, else
    whatever ``spark-submit`` or ``spark-defaults.conf`` set (PySpark's own default is
    ``local[*]``). A new local session's JVM gets ``PERSONA_SPARK_DRIVER_MEMORY`` (default
    :data:`LOCAL_DRIVER_MEMORY`) unless ``spark.driver.memory`` is configured: in local
    mode the driver runs every task, and Spark's 1 GB default spills and collects garbage
    most of the time on a log of millions of events. ``shuffle_partitions``, else (when
    the configuration does not set it) a number sized by ``input_path``'s bytes, see
    :func:`size_shuffle_partitions`."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # PySpark is an extra: the app's requirements leave it out
        raise SparkEngineError(
            _(
                "the Spark engine needs PySpark and Java 17+: pip install 'persona-studio[spark]' "
                "(or pip install -r requirements-dev.txt in a checkout); found: {exc}"
            ).format(exc=exc)
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        if input_path and not shuffle_partitions:
            size_shuffle_partitions(active, input_path)
        return active
    builder = SparkSession.builder.appName("persona-studio")
    master = master or os.environ.get(MASTER_ENV)
    if master:
        builder = builder.master(master)
    for key, value in DEFAULT_CONF.items():
        builder = builder.config(key, value)
    if not ui:
        builder = builder.config("spark.ui.enabled", "false")
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    from pyspark import SparkConf

    configured = SparkConf()  # spark-submit's and spark-defaults' settings, when any
    if (master or configured.get("spark.master", "local")).startswith(
        "local"
    ) and not configured.contains("spark.driver.memory"):
        memory = os.environ.get(DRIVER_MEMORY_ENV, LOCAL_DRIVER_MEMORY)
        builder = builder.config("spark.driver.memory", memory)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # JVM missing or failing to start  # noqa: BLE001 - Py4J raises plain Exception subclasses for any JVM failure
        raise SparkEngineError(
            _(
                "could not start Spark (is Java 17+ installed? scripts/ensure_java.sh): {exc}"
            ).format(exc=exc)
        ) from None
    if input_path and not shuffle_partitions:
        size_shuffle_partitions(session, input_path)
    return session


def size_shuffle_partitions(spark, input_path: str) -> int:
    """Set ``spark.sql.shuffle.partitions`` from the input's size, unless the configuration
    (spark-submit, spark-defaults, the builder) sets it: one partition per
    :data:`BYTES_PER_PARTITION` bytes on disk, at least the default parallelism (the cores),
    rounded up to a multiple of it, at most Spark's default 200. Spark's 200 on two local
    cores makes every shuffle of a small log 200 tiny tasks. Returns the number in force."""
    if spark.sparkContext.getConf().contains("spark.sql.shuffle.partitions"):
        return int(spark.conf.get("spark.sql.shuffle.partitions"))
    cores = max(int(spark.sparkContext.defaultParallelism), 1)
    try:
        jvm = spark.sparkContext._jvm
        path = jvm.org.apache.hadoop.fs.Path(input_path)
        fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        size = int(fs.getContentSummary(path).getLength())
    except Exception:  # unreadable here: reading will say so; keep a small default  # noqa: BLE001 - Py4J raises plain Exception subclasses for any JVM failure
        size = 0
    n = max(cores, -(-size // BYTES_PER_PARTITION))
    n = min(-(-n // cores) * cores, 200)
    spark.conf.set("spark.sql.shuffle.partitions", str(n))
    return n
