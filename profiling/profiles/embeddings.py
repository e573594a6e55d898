"""Maps of the whole user base: 2-D / 3-D projections of user profiles or model factors.

PCA is exact and instant; UMAP (umap-learn) keeps neighbourhoods and shows groups better
but compiles with numba on first use in a process, so :func:`warm_up` exists to pay that
cost early (the app calls it in a background thread when the server starts). Results are
plain frames (user_id, x, y[, z]) that can be cached on disk with :class:`EmbeddingCache`.

Neighbours for UMAP are computed exactly with scikit-learn and handed to umap-learn as a
precomputed graph: below 4,096 points umap-learn would otherwise build the full distance
matrix through a Python callback, which takes seconds even for 3,000 users.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from profiling import private
from profiling.errors import ProfilingError
from profiling.profiles.features import feature_label
from profiling.profiles.segments import default_cluster_features, prepare_matrix
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

METHODS = {"umap": "UMAP (neighbourhoods kept)", "pca": "PCA (linear, instant)"}
SOURCES = {
    "profile": N_("Behaviour profile"),
    "svd": N_("Taste from ratings (SVD)"),
    "als": N_("Taste from purchases (ALS)"),
    "gru4rec": N_("Taste from visit order (GRU4Rec)"),
    "sasrec": N_("Taste from visit order (SASRec)"),
}
"""Plain names (msgids: translate where shown); the help of the picker says what each is
(user factors of a model)."""
MAX_POINTS = 50_000
MIN_USERS = 5
UMAP_EPOCHS = 200

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class EmbeddingParams:
    """How to project: method, 2 or 3 dimensions, UMAP's neighbourhood size and spread."""

    method: str = "umap"
    n_components: int = 2
    n_neighbors: int = 15
    min_dist: float = 0.1
    random_state: int = S.RANDOM_STATE

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ProfilingError(
                _("unknown projection method {method!r}; expected one of {names}").format(
                    method=self.method, names=", ".join(METHODS)
                )
            )
        if self.n_components not in (2, 3):
            raise ProfilingError(
                _("a map has 2 or 3 dimensions, not {n}").format(n=self.n_components)
            )
        if self.n_neighbors < 2:
            raise ProfilingError(
                _("n_neighbors must be at least 2, got {n}").format(n=self.n_neighbors)
            )


@dataclass
class Embedding:
    """A projection of users: ``coords`` has user_id, x, y and (in 3-D) z."""

    coords: pl.DataFrame
    params: EmbeddingParams
    source: str
    features: list[str]
    seconds: float
    n_users_total: int
    explained_variance: list[float] = field(default_factory=list)


# ---- input matrices ----------------------------------------------------------------------


def profile_matrix(
    profiles: pl.DataFrame, features: list[str] | None = None
) -> tuple[list[str], np.ndarray, list[str]]:
    """User ids, the standardized feature matrix and the features used (the clustering
    features by default: activity and money logged, shares, recency)."""
    features = features or default_cluster_features(profiles)
    if not features:
        raise ProfilingError(_("the profiles have no numeric features to draw a map from"))
    return profiles[S.USER_ID].to_list(), prepare_matrix(profiles, features), features


def factor_matrix(model) -> tuple[list[str], np.ndarray, list[str]]:
    """User ids and a fitted model's user factors (standardized per dimension)."""
    ids, factors = model.user_factors()
    x = np.asarray(factors, dtype=np.float64)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    names = [f"factor_{i + 1}" for i in range(x.shape[1])]
    return [str(u) for u in ids], (x - x.mean(axis=0)) / sd, names


def stratified_sample(
    ids: list[str],
    strata: list[str | None] | None,
    max_users: int = MAX_POINTS,
    random_state: int = S.RANDOM_STATE,
) -> np.ndarray:
    """Positions of at most ``max_users`` users, drawn per stratum in proportion to its size
    (largest remainder), at least one user from every non-empty stratum. Sorted positions;
    every position when there are not more users than ``max_users``."""
    n = len(ids)
    if n <= max_users:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    labels = np.array(["" if s is None else str(s) for s in (strata or [""] * n)], dtype=object)
    groups = {g: np.flatnonzero(labels == g) for g in sorted(set(labels))}
    if len(groups) > max_users:
        raise ProfilingError(
            _("{groups} strata do not fit in a sample of {size}").format(
                groups=f"{len(groups):,}", size=f"{max_users:,}"
            )
        )
    sizes = np.array([len(v) for v in groups.values()], dtype=np.int64)
    quota = sizes * max_users / n
    take = np.maximum(np.floor(quota).astype(np.int64), 1)
    order = np.argsort(-(quota - np.floor(quota)), kind="stable")
    spare = max_users - take.sum()
    for j in order:
        if spare <= 0:
            break
        if take[j] < sizes[j]:
            take[j] += 1
            spare -= 1
    while take.sum() > max_users:  # minimum-one rule overshot: trim the largest strata
        take[np.argmax(take)] -= 1
    picked = [
        rng.choice(members, size=int(t), replace=False)
        for members, t in zip(groups.values(), take, strict=True)
    ]
    return np.sort(np.concatenate(picked))


# ---- projections -------------------------------------------------------------------------


def _frame(ids: list[str], xy: np.ndarray) -> pl.DataFrame:
    cols = {S.USER_ID: pl.Series(S.USER_ID, ids, dtype=pl.String)}
    for j, name in enumerate(["x", "y", "z"][: xy.shape[1]]):
        cols[name] = pl.Series(name, xy[:, j].astype(np.float64))
    return pl.DataFrame(cols)


def _check(x: np.ndarray) -> None:
    if x.shape[0] < MIN_USERS:
        raise ProfilingError(
            _("a map needs at least {least} users; this dataset has {n}").format(
                least=MIN_USERS, n=x.shape[0]
            )
        )


def pca(x: np.ndarray, params: EmbeddingParams) -> tuple[np.ndarray, list[float]]:
    """PCA coordinates and the share of variance each axis explains."""
    _check(x)
    k = min(params.n_components, x.shape[1])
    model = PCA(n_components=k, random_state=params.random_state)
    xy = model.fit_transform(x)
    if k < params.n_components:  # fewer features than axes: pad with zeros
        xy = np.column_stack([xy, np.zeros((x.shape[0], params.n_components - k))])
    # the sign of a principal axis is arbitrary; fix it so maps do not flip between runs
    signs = np.sign(xy[np.argmax(np.abs(xy), axis=0), np.arange(xy.shape[1])])
    signs[signs == 0] = 1.0
    return xy * signs, [float(v) for v in model.explained_variance_ratio_]


class _EpochWriter:
    """A file for umap-learn's tqdm bar that turns "80/200" into progress callbacks."""

    _pattern = re.compile(r"(\d+)/(\d+)")

    def __init__(self, progress: Progress, start: float, span: float) -> None:
        self.progress, self.start, self.span = progress, start, span

    def write(self, text: str) -> None:
        hits = self._pattern.findall(text)
        if hits:
            done, total = (int(v) for v in hits[-1])
            if total:
                self.progress(
                    self.start + self.span * done / total,
                    _("layout epoch {done}/{total}").format(done=done, total=total),
                )

    def flush(self) -> None:
        pass


def umap(x: np.ndarray, params: EmbeddingParams, progress: Progress | None = None) -> np.ndarray:
    """UMAP coordinates; deterministic for a given ``random_state`` (single-threaded)."""
    _check(x)
    import umap as umap_learn  # imported here: the import alone takes seconds

    report = progress or (lambda fraction, message: None)
    n_neighbors = min(params.n_neighbors, x.shape[0] - 1)
    report(0.05, "finding each user's nearest neighbours")
    nn = NearestNeighbors(n_neighbors=n_neighbors).fit(x)
    dist, idx = nn.kneighbors(x)
    report(0.25, "building the neighbourhood graph")
    tqdm_kwds = {"disable": progress is None, "mininterval": 0.25, "ncols": 60}
    if progress is not None:
        tqdm_kwds["file"] = _EpochWriter(report, 0.3, 0.68)
    model = umap_learn.UMAP(
        n_components=params.n_components,
        n_neighbors=n_neighbors,
        min_dist=params.min_dist,
        n_epochs=UMAP_EPOCHS,
        random_state=params.random_state,
        precomputed_knn=(idx, dist, None),
        tqdm_kwds=tqdm_kwds,
        # small data: spectral init can fail on disconnected graphs; PCA init is stable
        init="pca" if x.shape[0] < 4 * params.n_components + 4 else "spectral",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xy = model.fit_transform(x)
    report(1.0, "done")
    return np.asarray(xy, dtype=np.float64)


def embed(
    ids: list[str],
    x: np.ndarray,
    params: EmbeddingParams,
    *,
    source: str = "profile",
    features: list[str] | None = None,
    n_users_total: int | None = None,
    progress: Progress | None = None,
) -> Embedding:
    """Project the rows of ``x`` (one per user in ``ids``) with ``params.method``."""
    if len(ids) != x.shape[0]:
        raise ProfilingError(
            _("{ids} user ids for a matrix of {rows} rows").format(ids=len(ids), rows=x.shape[0])
        )
    t0 = time.perf_counter()
    explained: list[float] = []
    if params.method == "pca":
        xy, explained = pca(x, params)
    else:
        xy = umap(x, params, progress)
    return Embedding(
        coords=_frame(ids, xy),
        params=params,
        source=source,
        features=list(features or []),
        seconds=time.perf_counter() - t0,
        n_users_total=n_users_total if n_users_total is not None else len(ids),
        explained_variance=explained,
    )


def embed_and_store(
    ids: list[str],
    x: np.ndarray,
    params: EmbeddingParams,
    source: str,
    features: list[str],
    n_users_total: int,
    cache_dir: str,
    key: str,
    progress: Progress | None = None,
) -> Embedding:
    """:func:`embed`, then keep the result in the disk cache under ``key`` (for workers)."""
    emb = embed(
        ids,
        x,
        params,
        source=source,
        features=features,
        n_users_total=n_users_total,
        progress=progress,
    )
    EmbeddingCache(cache_dir).put(key, emb)
    return emb


def warm_up(random_state: int = S.RANDOM_STATE, progress: Progress | None = None) -> float:
    """Run UMAP once on a small random matrix so numba compiles (or loads from its cache)
    every function a real map needs. Returns the seconds it took."""
    t0 = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    x = np.random.default_rng(random_state).normal(size=(300, 8))
    for j, k in enumerate((2, 3)):
        report(j / 2, f"compiling UMAP ({k}-D)")
        umap(x, EmbeddingParams(method="umap", n_components=k, random_state=random_state))
    report(1.0, "UMAP ready")
    return time.perf_counter() - t0


# ---- what the map shows ------------------------------------------------------------------

SEGMENT_COLUMNS = {"rfm_segment": N_("Value segment (RFM)"), "cluster_name": N_("Behaviour group")}


def map_table(
    emb: Embedding, profiles: pl.DataFrame, assignments: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The embedding's coordinates with everything the map can colour, size or show on
    hover: every profile column and, when given, the RFM segment and cluster names."""
    table = emb.coords.join(profiles, on=S.USER_ID, how="left")
    if assignments is not None:
        keep = [c for c in SEGMENT_COLUMNS if c in assignments.columns]
        table = table.join(assignments.select(S.USER_ID, *keep), on=S.USER_ID, how="left")
    return table


def color_options(profiles: pl.DataFrame, segments: tuple[str, ...] = ()) -> dict[str, str]:
    """What the map can be coloured by: the given segment columns (see
    :data:`SEGMENT_COLUMNS`), one entry per tag present (``tag:<name>``), then every
    numeric profile feature. Key -> label in the current language."""
    options = {c: _(SEGMENT_COLUMNS[c]) for c in segments}
    if "tags" in profiles.columns:
        tags = profiles["tags"].explode().drop_nulls().unique().sort().to_list()
        options.update({f"tag:{t}": _("Tag: {tag}").format(tag=_(t)) for t in tags})
    for name, dtype in profiles.schema.items():
        if dtype.is_numeric() and name not in options:
            options[name] = feature_label(name)
    return options


def color_values(table: pl.DataFrame, key: str) -> tuple[pl.Series, bool]:
    """The values to colour by and whether they are categories (segments, tags) rather
    than numbers. A tag becomes "has tag" / "no tag"; users without a segment get
    "(none)"."""
    if key.startswith("tag:"):
        tag = key[4:]
        has = table["tags"].list.contains(tag).fill_null(False)
        return has.replace_strict(
            {True: f"{tag}", False: f"not {tag}"}, return_dtype=pl.String
        ), True
    if key not in table.columns:
        raise ProfilingError(
            _("the map cannot be coloured by {key!r}: no such column").format(key=key)
        )
    col = table[key]
    if col.dtype.is_numeric():
        return col.cast(pl.Float64), False
    return col.cast(pl.String).fill_null("(none)"), True


# ---- disk cache --------------------------------------------------------------------------


def cache_key(
    fingerprint: str, source: str, features: list[str], params: EmbeddingParams, sample: int
) -> str:
    """A digest of everything that decides the coordinates."""
    blob = json.dumps(
        {
            "fp": fingerprint,
            "source": source,
            "features": features,
            "params": asdict(params),
            "sample": sample,
            "epochs": UMAP_EPOCHS,
            "version": 1,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def default_cache_dir() -> Path:
    """``$PERSONA_STUDIO_CACHE`` or ``~/.cache/persona-studio``, plus ``/embeddings``."""
    root = os.environ.get("PERSONA_STUDIO_CACHE") or Path.home() / ".cache" / "persona-studio"
    return Path(root) / "embeddings"


def cache_limit_bytes() -> int:
    """Size limit of one map cache folder: ``$PERSONA_STUDIO_CACHE_MB`` (default 512 MB);
    the least recently drawn maps are deleted first."""
    raw = os.environ.get("PERSONA_STUDIO_CACHE_MB")
    try:
        return int(float(raw) * 1024 * 1024) if raw else 512 * 1024 * 1024
    except ValueError:
        return 512 * 1024 * 1024


class EmbeddingCache:
    """Embeddings on disk (one Parquet file with metadata per key), so a restarted server
    shows a map it has drawn before at once. Unreadable entries count as missing."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.parquet"

    def get(self, key: str) -> Embedding | None:
        path = self._path(key)
        if not path.exists():
            return None
        private.touch(path)  # recently used: evicted last
        private.touch(path.with_suffix(".json"))
        try:
            coords = pl.read_parquet(path)
            meta = json.loads(path.with_suffix(".json").read_text())
            return Embedding(
                coords=coords,
                params=EmbeddingParams(**meta["params"]),
                source=meta["source"],
                features=meta["features"],
                seconds=meta["seconds"],
                n_users_total=meta["n_users_total"],
                explained_variance=meta["explained_variance"],
            )
        except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError):
            # an unreadable or half-written cache file is a cache miss: the caller computes
            # the map again and overwrites it, so nothing the user sees is lost
            return None

    def put(self, key: str, emb: Embedding) -> None:
        """Store ``emb``; a read-only or full disk only costs the cache, never the map."""
        if not Path(self.directory).parent.is_dir():
            return  # its owner (a workspace) was deleted while the map was drawn: stay deleted
        try:
            private.private_dir(self.directory)
            meta = {
                "params": asdict(emb.params),
                "source": emb.source,
                "features": emb.features,
                "seconds": emb.seconds,
                "n_users_total": emb.n_users_total,
                "explained_variance": emb.explained_variance,
            }
            tmp = self._path(key).with_suffix(".tmp")
            emb.coords.write_parquet(tmp)
            self._path(key).with_suffix(".json").write_text(json.dumps(meta))
            tmp.replace(self._path(key))
            private.trim_lru(
                self.directory, cache_limit_bytes(), keep={f"{key}.parquet", f"{key}.json"}
            )
        except (OSError, private.UnsafeFolderError):
            # a read-only, full or unsafe cache folder costs the cache only: the map was
            # computed and is returned to the caller; the next request computes it again
            return
