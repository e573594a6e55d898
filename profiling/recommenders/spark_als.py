"""Collaborative filtering at scale: Spark ML's ALS (implicit feedback) as a recommender.

Training runs on Spark (the active session, or a new one, see
:func:`profiling.spark_session.spark_session`); the learned user and item factors are
collected to the driver, where scoring, excluding seen items and top-k are the base class's,
as for every other model.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from profiling.recommenders.implicit_models import FactorModel, weighted
from profiling.vocabulary import schema as S


class SparkALS(FactorModel):
    """Implicit ALS of Spark ML (``pyspark.ml.recommendation.ALS``, Hu, Koren & Volinsky
    2008 with Spark's ALS-WR regularization, which scales ``regularization`` by each user's
    and item's number of interactions).

    The training value of a (user, item) pair is the ``weighting`` of its implicit weight
    (log(1 + w) by default, as :class:`~profiling.recommenders.implicit_models.ALS`);
    Spark's confidence is ``1 + alpha * value``. Score = ``user_factors @ item_factors.T``.

    Parameters
    ----------
    factors : int, default 64
    regularization : float, default 0.1
    iterations : int, default 15
    alpha : float, default 1
    weighting : {"log", "raw", "binary"}, default "log"
    random_state : int
        Spark ALS's seed. With more than one partition the sums of the normal equations
        are done in a data-dependent order, so factors agree between runs to rounding.
    """

    name = "spark-als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.1,
        iterations: int = 15,
        alpha: float = 1.0,
        weighting: str = "log",
        random_state: int = S.RANDOM_STATE,
    ) -> None:
        super().__init__(random_state=random_state)
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.alpha = alpha
        self.weighting = weighting

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        from profiling.spark_session import spark_session

        spark = spark_session()  # first: without PySpark it says how to install it
        from pyspark.ml.recommendation import ALS as SparkALSEstimator

        coo = weighted(self.matrix_, self.weighting).tocoo()
        triples = pl.DataFrame(
            {
                "u": coo.row.astype(np.int32),
                "i": coo.col.astype(np.int32),
                "v": coo.data.astype(np.float32),
            }
        )
        frame = spark.createDataFrame(triples.to_arrow())
        ensure_checkpoint_dir(spark)
        # Spark's default of 10 user and 10 item blocks makes every iteration 10-task stages
        # however small the matrix; one block per core (a cluster's total), and at least one
        # per ~1M ratings, keeps the tasks busy without the overhead
        cores = max(int(spark.sparkContext.defaultParallelism), 1)
        blocks = max(cores, -(-triples.height // 1_000_000))
        model = SparkALSEstimator(
            numUserBlocks=blocks,
            numItemBlocks=blocks,
            rank=self.factors,
            regParam=self.regularization,
            maxIter=self.iterations,
            alpha=self.alpha,
            implicitPrefs=True,
            userCol="u",
            itemCol="i",
            ratingCol="v",
            seed=self.random_state,
            coldStartStrategy="drop",
        ).fit(frame)
        self.user_factors_ = _dense(model.userFactors, len(self.users_), self.factors)
        # catalog items never seen in training get zero vectors (score 0)
        self.item_factors_ = _dense(model.itemFactors, len(self.items_), self.factors)


def ensure_checkpoint_dir(spark) -> None:
    """Give a local Spark a checkpoint folder when it has none.

    ALS's lineage grows with every iteration; Spark cuts it every ``checkpointInterval``
    (10) iterations only when the context has a checkpoint folder, and without one a task's
    serialization overflows the JVM's stack after some 15 iterations (a
    ``StackOverflowError`` that depends on the thread's stack size, so it comes and goes).
    On a cluster the folder must be on shared storage: there it is the deployment's
    setting (``spark.checkpoint.dir``), never a local temporary folder."""
    context = spark.sparkContext
    if context.getCheckpointDir() is not None or not context.master.startswith("local"):
        return
    import tempfile

    context.setCheckpointDir(tempfile.mkdtemp(prefix="persona-spark-checkpoints-"))


def _dense(factors, n: int, rank: int) -> np.ndarray:
    """(n x rank) float32 array from Spark's (id, features) factor frame; absent ids zero."""
    table = pl.from_arrow(factors.toArrow())
    out = np.zeros((n, rank), dtype=np.float32)
    if table.height:
        out[table["id"].to_numpy()] = np.asarray(table["features"].to_list(), dtype=np.float32)
    return out
