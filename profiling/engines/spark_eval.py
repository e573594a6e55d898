"""``evaluate --engine spark``: reading, cleaning, the split, the train interactions, the
ground truth and the ranking metrics run on Spark; models are fitted from the train
interactions.

What runs where:

- On Spark: reading and cleaning the log (:func:`profiling.engines.spark.load_dataset_spark`),
  the split (global temporal, or stratified per user), the train interactions (the rules of
  :func:`profiling.data.interactions.interactions_from`), the ground truth (the rules of
  :func:`profiling.evaluation.relevant_items`), and the per-user ranking metrics and their
  means (the definitions of :mod:`profiling.evaluation.metrics`) plus catalog coverage.
- Models are the registry's: each is fitted from the train interactions (one row per
  user-item pair, collected to the driver) and recommends ``max(k, 20)`` items to every test
  user, as :func:`profiling.evaluation.compare` does; ``spark-als`` trains its factors on
  Spark. The recommendations (test users x 20 rows) go back to Spark for the metrics.
- Not on this path: bootstrap intervals and tests, the beyond-accuracy metrics (novelty,
  popularity bias, diversity), rating errors, per-segment breakdowns and tuning (the polars
  path has them). Cold users get the model's overall-popularity fallback (no train-segment
  fallback).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from profiling.errors import EvaluationError, ProfilingError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

PROTOCOLS = ("temporal", "stratified")
CURVE_DEPTH = 20  # as profiling.evaluation.compare: every model recommends max(k, 20)
RANKING = ("precision", "recall", "f1", "ndcg", "map", "mrr", "hit_rate")


@dataclass
class SparkSplit:
    """A split whose train and test events are Spark DataFrames (not collected)."""

    train: object  # pyspark.sql.DataFrame of canonical events
    test: object
    protocol: str
    description: str
    cutoff: datetime | None = None

    def summary(self) -> dict:
        """Train/test events and users, and test users absent from train (one Spark job)."""
        from pyspark.sql import functions as F

        tr = self.train.select(S.USER_ID, F.lit(True).alias("tr"), F.lit(False).alias("te"))
        te = self.test.select(S.USER_ID, F.lit(False).alias("tr"), F.lit(True).alias("te"))
        per_user = (
            tr.unionByName(te)
            .groupBy(S.USER_ID)
            .agg(
                F.count(F.when(F.col("tr"), 1)).alias("n_tr"),
                F.count(F.when(F.col("te"), 1)).alias("n_te"),
            )
        )
        row = per_user.agg(
            F.sum("n_tr").alias("train_events"),
            F.sum("n_te").alias("test_events"),
            F.count(F.when(F.col("n_tr") > 0, 1)).alias("train_users"),
            F.count(F.when(F.col("n_te") > 0, 1)).alias("test_users"),
            F.count(F.when((F.col("n_te") > 0) & (F.col("n_tr") == 0), 1)).alias("cold"),
        ).first()
        return {
            "protocol": self.protocol,
            "description": self.description,
            "train_events": int(row["train_events"] or 0),
            "test_events": int(row["test_events"] or 0),
            "train_users": int(row["train_users"]),
            "test_users": int(row["test_users"]),
            "test_users_not_in_train": int(row["cold"]),
        }


# ---- splits -----------------------------------------------------------------------------
def temporal_split_spark(events, test_fraction: float = 0.2) -> SparkSplit:
    """Global temporal split on Spark, the rule of
    :func:`profiling.evaluation.temporal_split`: the cutoff is the timestamp at 0-based
    position min(floor(n * (1 - test_fraction)), n - 1) of the sorted timestamps; train is
    strictly before it, test at or after it. Found by a distributed sort and an offset."""
    from pyspark.sql import functions as F

    from profiling.checks import check_fraction

    test_fraction = check_fraction(test_fraction, "test_fraction")
    e = events.filter(F.col(S.TIMESTAMP).isNotNull())
    n = e.count()
    if n == 0:
        raise EvaluationError(
            _("{name} has no rows; a split needs events to cut.").format(
                name=_("events (with a timestamp)")
            )
        )
    idx = min(int(math.floor(n * (1.0 - test_fraction))), n - 1)
    cutoff = e.select(S.TIMESTAMP).orderBy(S.TIMESTAMP).offset(idx).first()[0]
    before = F.col(S.TIMESTAMP) < F.lit(cutoff)
    train, test = e.filter(before), e.filter(~before)
    n_train = train.count()
    if n_train == 0:
        raise EvaluationError(
            _(
                "no event is strictly before the cutoff {cutoff} with "
                "test_fraction={test_fraction}; the timestamps are (nearly) all equal."
            ).format(cutoff=cutoff, test_fraction=test_fraction)
        )
    cutoff = cutoff.replace(tzinfo=UTC)  # Spark hands back naive datetimes in UTC
    share = f"{n_train / n:.0%}"
    return SparkSplit(
        train,
        test,
        "temporal",
        f"global temporal split at {cutoff:%Y-%m-%d %H:%M} ({share} of events before)",
        cutoff,
    )


def stratified_split_spark(
    events, test_fraction: float = 0.25, random_state: int = S.RANDOM_STATE
) -> SparkSplit:
    """Per-user split of distinct (user, item) pairs with the rule of
    :func:`profiling.evaluation.stratified_split` (a user with n >= 2 items has
    round(test_fraction * n), at least 1 and at most n - 1, in test; every event of a test
    pair is test; single-item users and events without an item stay in train). The draw is
    a 64-bit hash of (user, item, ``random_state``), so it does not depend on Spark's
    partitioning; it is a different draw from the polars path's (numpy), with the same
    counts per user."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from profiling.checks import check_fraction

    test_fraction = check_fraction(test_fraction, "test_fraction")
    pairs = events.filter(F.col(S.ITEM_ID).isNotNull()).select(S.USER_ID, S.ITEM_ID).distinct()
    key = F.xxhash64(S.USER_ID, S.ITEM_ID, F.lit(int(random_state)))
    by_user = Window.partitionBy(S.USER_ID)
    n = F.count(F.lit(1)).over(by_user)
    n_test = F.when(n >= 2, F.least(F.greatest(F.floor(n * test_fraction + 0.5), F.lit(1)), n - 1))
    ranked = pairs.withColumn("__key", key).select(
        S.USER_ID,
        S.ITEM_ID,
        F.row_number().over(by_user.orderBy("__key", S.ITEM_ID)).alias("__r"),
        F.coalesce(n_test, F.lit(0)).alias("__n_test"),
    )
    test_pairs = ranked.filter(F.col("__r") <= F.col("__n_test")).select(
        S.USER_ID, S.ITEM_ID, F.lit(True).alias("__test")
    )
    tagged = events.join(test_pairs, on=[S.USER_ID, S.ITEM_ID], how="left")
    is_test = F.coalesce(F.col("__test"), F.lit(False))
    n_pairs = test_pairs.count()
    return SparkSplit(
        tagged.filter(~is_test).drop("__test"),
        tagged.filter(is_test).drop("__test"),
        "stratified",
        f"stratified random split: {test_fraction:.0%} of each user's items in test "
        f"({n_pairs:,} user-item pairs, hash seed {random_state})",
    )


# ---- interactions and ground truth ------------------------------------------------------
def interactions_spark(events, weights: dict[str, float] | None = None):
    """One row per (user_id, item_id) with ``weight`` (sum of the implicit event weights),
    ``rating`` (the latest rating by timestamp), ``timestamp`` (latest event),
    ``purchases`` and ``last_purchase``; pairs with a positive weight or a rating. The rules
    of :func:`profiling.data.interactions.interactions_from` (a rating tie at the same timestamp
    is broken by Spark, not by row order). Not collected."""
    from pyspark.sql import functions as F

    w = {**S.IMPLICIT_WEIGHTS, **(weights or {})}
    table = F.create_map(*[F.lit(x) for kv in w.items() for x in (kv[0], float(kv[1]))])
    weight = F.coalesce(table[F.col(S.EVENT_TYPE)], F.lit(0.0))
    bought = F.coalesce(F.col(S.EVENT_TYPE) == S.PURCHASE, F.lit(False))
    rated = F.col(S.RATING).isNotNull()
    return (
        events.filter(F.col(S.ITEM_ID).isNotNull())
        .groupBy(S.USER_ID, S.ITEM_ID)
        .agg(
            F.sum(weight).alias("weight"),
            F.max_by(F.when(rated, F.col(S.RATING)), F.when(rated, F.col(S.TIMESTAMP))).alias(
                S.RATING
            ),
            F.max(S.TIMESTAMP).alias(S.TIMESTAMP),
            F.sum(bought.cast("long")).alias("purchases"),
            F.max(F.when(bought, F.col(S.TIMESTAMP))).alias("last_purchase"),
        )
        .filter((F.col("weight") > 0) | F.col(S.RATING).isNotNull())
    )


def relevant_items_spark(test, types: tuple[str, ...], rating_threshold: float | None):
    """Distinct (user_id, item_id) of test events whose type is in ``types`` or whose rating
    is at least ``rating_threshold`` (:func:`profiling.evaluation.relevant_items`)."""
    from pyspark.sql import functions as F

    cond = F.lit(False)
    if types:
        cond = cond | F.coalesce(F.col(S.EVENT_TYPE).isin(list(types)), F.lit(False))
    if rating_threshold is not None:
        cond = cond | F.coalesce(F.col(S.RATING) >= float(rating_threshold), F.lit(False))
    return test.filter(cond & F.col(S.ITEM_ID).isNotNull()).select(S.USER_ID, S.ITEM_ID).distinct()


# ---- metrics ------------------------------------------------------------------------------
def ranking_metrics_spark(recs, truth, k: int):
    """Per-user ranking metrics on Spark, the definitions of
    :mod:`profiling.evaluation.metrics` (binary relevance; precision divides by k; NDCG with
    a log2 discount; MAP divides by min(|relevant|, k); MRR within the first k, as ``compare`` passes k).

    ``recs``: model, user_id, item_id, rank (any depth; a user's duplicate items keep the
    best rank; positions are 1.. by rank then item id). ``truth``: user_id, item_id.

    Returns
    -------
    pyspark.sql.DataFrame
        One row per (model, truth user): model, user_id and one column per metric of
        :data:`RANKING`; a truth user without recommendations from a model scores 0.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    t = truth.select(S.USER_ID, S.ITEM_ID).dropna().distinct()
    n_rel = t.groupBy(S.USER_ID).agg(F.count(F.lit(1)).alias("n_rel"))
    best = (
        recs.dropna(subset=[S.USER_ID, S.ITEM_ID, "rank"])
        .groupBy("model", S.USER_ID, S.ITEM_ID)
        .agg(F.min(F.col("rank").cast("double")).alias("rank"))
    )
    pos = F.row_number().over(Window.partitionBy("model", S.USER_ID).orderBy("rank", S.ITEM_ID))
    ranked = best.withColumn("pos", pos)
    hits = (
        ranked.join(n_rel, on=S.USER_ID, how="inner")
        .join(t.withColumn("hit", F.lit(1)), on=[S.USER_ID, S.ITEM_ID], how="left")
        .withColumn("hit", F.coalesce(F.col("hit"), F.lit(0)))
    )
    cum = F.sum("hit").over(
        Window.partitionBy("model", S.USER_ID)
        .orderBy("pos")
        .rowsBetween(Window.unboundedPreceding, 0)
    )
    hits = hits.withColumn("cum_hits", cum)
    at_k = F.col("pos") <= k
    idcg = [sum(1.0 / math.log2(p + 1) for p in range(1, n + 1)) for n in range(1, k + 1)]
    n_ideal = F.least(F.col("n_rel"), F.lit(k))
    per = hits.groupBy("model", S.USER_ID, "n_rel").agg(
        F.sum(F.when(at_k, F.col("hit")).otherwise(0)).alias("h"),
        F.sum(
            F.when(at_k & (F.col("hit") == 1), 1.0 / F.log2(F.col("pos") + 1)).otherwise(0.0)
        ).alias("dcg"),
        F.sum(
            F.when(at_k & (F.col("hit") == 1), F.col("cum_hits") / F.col("pos")).otherwise(0.0)
        ).alias("ap"),
        F.min(F.when(at_k & (F.col("hit") == 1), F.col("pos"))).alias("first"),
    )
    values = per.select(
        "model",
        S.USER_ID,
        (F.col("h") / k).alias("precision"),
        (F.col("h") / F.col("n_rel")).alias("recall"),
        (2.0 * F.col("h") / (k + F.col("n_rel"))).alias("f1"),
        F.least(
            F.greatest(
                F.col("dcg") / F.element_at(F.array(*map(F.lit, idcg)), n_ideal.cast("int")),
                F.lit(0.0),
            ),
            F.lit(1.0),
        ).alias("ndcg"),
        (F.col("ap") / n_ideal).alias("map"),
        F.coalesce(1.0 / F.col("first"), F.lit(0.0)).alias("mrr"),
        (F.col("h") > 0).cast("double").alias("hit_rate"),
    )
    models = recs.select("model").distinct()
    grid = models.crossJoin(n_rel.select(S.USER_ID))
    return grid.join(values, on=["model", S.USER_ID], how="left").fillna(0.0, subset=list(RANKING))


def mean_metrics_spark(per_user, recs, k: int, catalog_size: int) -> pl.DataFrame:
    """Long model, metric, k, value, users: the mean of every per-user metric over the
    truth users (one Spark job), and catalog coverage (distinct items in the top k of all
    users / ``catalog_size``)."""
    from pyspark.sql import functions as F

    means = per_user.groupBy("model").agg(
        F.count(F.lit(1)).alias("users"), *[F.avg(m).alias(m) for m in RANKING]
    )
    cov = (
        recs.filter(F.col("rank") <= k).groupBy("model").agg(F.countDistinct(S.ITEM_ID).alias("n"))
    )
    wide = pl.from_arrow(means.join(cov, on="model", how="left").toArrow())
    wide = wide.with_columns(
        (pl.col("n").fill_null(0) / max(catalog_size, 1)).alias("coverage")
    ).drop("n")
    return wide.unpivot(
        index=["model", "users"], on=[*RANKING, "coverage"], variable_name="metric"
    ).select(
        "model",
        "metric",
        pl.lit(k, dtype=pl.Int64).alias("k"),
        pl.col("value").cast(pl.Float64),
        pl.col("users").cast(pl.Int64),
    )


# ---- the whole evaluation ------------------------------------------------------------------
@dataclass
class SparkEvaluation:
    metrics: pl.DataFrame  # model, metric, k, value, users
    split: dict
    relevance: object  # profiling.evaluation.Relevance
    timings: list[dict] = field(default_factory=list)


def already_had_spark(train, relevance) -> pl.DataFrame | None:
    """The (user_id, item_id) pairs of the Spark ``train`` events that count as having the
    item under ``relevance`` (:meth:`profiling.evaluation.relevance.Relevance.already_had`,
    computed on Spark), or None when every training event with an item counts (a
    transaction log: "already had" is "seen")."""
    from pyspark.sql import functions as F

    if S.EVENT_TYPE not in train.columns:
        return None
    with_item = train.filter(F.col(S.ITEM_ID).isNotNull())
    types = {r[0] for r in with_item.select(S.EVENT_TYPE).distinct().collect()}
    if types <= set(relevance.types) | {S.REFUND}:
        return None
    had = F.col(S.EVENT_TYPE).isin(list(relevance.types))
    if S.RATING in train.columns and (
        relevance.rating_threshold is not None or relevance.kind == "rating log"
    ):
        had = had | F.col(S.RATING).isNotNull()
    pairs = with_item.filter(had).select(S.USER_ID, S.ITEM_ID).distinct()
    return pl.from_arrow(pairs.toArrow())


def evaluate_spark(
    dataset,
    model_names: list[str],
    *,
    protocol: str = "temporal",
    k: int = S.DEFAULT_K,
    relevant: tuple[str, ...] | None = None,
    rating_threshold: float | None = None,
    test_fraction: float = 0.2,
    random_state: int = S.RANDOM_STATE,
    progress=None,
) -> SparkEvaluation:
    """Evaluate registry models on a :class:`profiling.engines.spark.SparkDataset` (see the
    module doc for what runs where). ``protocol``: "temporal" (``test_fraction``) or
    "stratified" (25% of each user's items, as the polars path)."""
    from pyspark.sql import functions as F

    from profiling.checks import check_k
    from profiling.evaluation import relevance_for
    from profiling.evaluation.compare import recommend_excluding
    from profiling.recommenders import registry

    k = check_k(k)
    if protocol not in PROTOCOLS:
        raise EvaluationError(
            _(
                "--engine spark evaluates with the protocols {protocols}; got {protocol}. Use "
                "--engine polars for leave-last and kfold"
            ).format(protocols=", ".join(PROTOCOLS), protocol=repr(protocol))
        )
    # the kind of log from facts computed on Spark: its event types and whether it has ratings
    f = dataset.facts
    kinds = pl.DataFrame(
        {S.EVENT_TYPE: sorted(f["types"]) or [None]}, schema={S.EVENT_TYPE: pl.String}
    )
    kinds = kinds.with_columns(
        pl.lit(1.0 if f[f"{S.RATING}s"] else None, pl.Float64).alias(S.RATING)
    )
    relevance = relevance_for(kinds, types=relevant, rating_threshold=rating_threshold)
    events = dataset.events
    if protocol == "temporal":
        split = temporal_split_spark(events, test_fraction)
    else:
        split = stratified_split_spark(events, 0.25, random_state)
    truth = relevant_items_spark(split.test, relevance.types, relevance.rating_threshold).persist()
    train = interactions_spark(split.train)
    # the base class's rule: a pair only rated (weight 0) weighs as a rating event
    train = train.withColumn(
        "weight",
        F.when(
            (F.col("weight") <= 0) & F.col(S.RATING).isNotNull(), F.lit(S.IMPLICIT_WEIGHTS[S.RATE])
        ).otherwise(F.col("weight")),
    )
    train_pl = pl.from_arrow(train.toArrow()).sort(S.USER_ID, S.ITEM_ID)
    users = pl.from_arrow(truth.select(S.USER_ID).distinct().toArrow())[S.USER_ID].sort().to_list()
    if not users:
        truth.unpersist()
        raise EvaluationError(
            _(
                "no test user has a relevant item ({rule}); choose event types present in the "
                "test events or a lower threshold."
            ).format(rule=relevance.description)
        )
    depth = max(k, CURVE_DEPTH)
    had = already_had_spark(split.train, relevance)
    recs, timings = [], []
    for i, name in enumerate(model_names, start=1):
        if progress is not None:
            progress(name, i, len(model_names))
        model = registry.make(name, random_state=random_state)
        start = time.perf_counter()
        model.fit(train_pl, items=dataset.items)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        r = recommend_excluding(model, users, depth, had)  # the polars path's "already had" rule
        timings.append(
            {
                "model": name,
                "fit_seconds": fit_seconds,
                "predict_seconds": time.perf_counter() - start,
            }
        )
        recs.append(r.select(pl.lit(name).alias("model"), S.USER_ID, S.ITEM_ID, "rank"))
    spark = events.sparkSession
    recs_sdf = spark.createDataFrame(pl.concat(recs).to_arrow()).persist()
    catalog = (
        dataset.items[S.ITEM_ID].drop_nulls().n_unique()
        if dataset.items is not None and S.ITEM_ID in dataset.items.columns
        else train_pl[S.ITEM_ID].n_unique()
    )
    try:
        per_user = ranking_metrics_spark(recs_sdf, truth, k)
        metrics = mean_metrics_spark(per_user, recs_sdf, k, catalog)
    finally:
        recs_sdf.unpersist()
        truth.unpersist()
    order = {n: i for i, n in enumerate(model_names)}
    metrics = metrics.sort(pl.col("model").replace_strict(order), "metric")
    return SparkEvaluation(metrics, split.summary() | {"cutoff": split.cutoff}, relevance, timings)


def cmd_evaluate_spark(args) -> int:
    """``python -m profiling evaluate EVENTS --engine spark ...``: writes metrics.csv (model,
    metric, k, value, users) and report.json to ``--out``."""
    import json
    from pathlib import Path

    from profiling.data import ingest
    from profiling.engines.spark import load_dataset_spark
    from profiling.recommenders import registry
    from profiling.spark_session import spark_session

    if getattr(args, "workspace", None) or not args.events:
        raise ProfilingError(
            _(
                "--engine spark reads files (an events path or URI), not a saved workspace; "
                "give an events file, or use --engine polars"
            )
        )
    if args.tune:
        raise ProfilingError(
            _("--tune runs on the polars engine only; drop --tune or use --engine polars")
        )
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    for n in names:
        if n not in registry.MODELS:
            raise ProfilingError(
                _("unknown model {name}; expected some of: {models}").format(
                    name=repr(n), models=", ".join(registry.MODELS)
                )
            )
    types = None
    if args.relevant not in (None, "auto"):
        types = tuple(t.strip() for t in args.relevant.split(",") if t.strip())
    ds = load_dataset_spark(
        spark_session(input_path=args.events),
        args.events,
        args.users,
        args.items,
        events_map=ingest.parse_overrides(args.map),
        users_map=ingest.parse_overrides(args.users_map, "--users-map"),
        items_map=ingest.parse_overrides(args.items_map, "--items-map"),
    )
    res = evaluate_spark(
        ds,
        names,
        protocol=args.protocol,
        k=args.k,
        relevant=types,
        rating_threshold=args.rating_threshold,
        test_fraction=args.test_fraction,
        random_state=args.seed,
        progress=lambda name, i, n: print(f"[{i}/{n}] {name}", file=sys.stderr),
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res.metrics.write_csv(out / "metrics.csv")
    report = {
        "engine": "spark",
        "dataset": {"name": ds.name, "fingerprint": ds.fingerprint},
        "protocol": args.protocol,
        "k": args.k,
        "relevance": res.relevance.to_dict(),
        "split": res.split,
        "timings": res.timings,
        "cleaning": ds.report.to_dict(),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    wide = res.metrics.pivot(on="metric", index="model", values="value")
    print(
        f"split: {res.split['description']}; {res.split['test_users']:,} test users; "
        f"{res.relevance.description}"
    )
    print(wide.write_csv(separator="\t"))
    print(f"-> {out}/metrics.csv, report.json")
    return 0
