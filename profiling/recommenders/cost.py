"""What each model costs to fit, as a function of the data's shape, and whether it fits
this machine: pages offer a model that would not fit with a warning instead of starting it.

Estimates are deliberately simple upper bounds (bytes of the largest structures a fit
holds at once), not measurements: EASE holds dense items x items matrices, the Surprise
user/item kNN models a dense similarity matrix, factor models factors for every user and
item, neighbourhood and content models sparse matrices that grow with the interactions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FLOAT = 8  # bytes
SPARSE_ENTRY = 12  # bytes per stored entry of a CSR matrix (value + index)
FRAME_ROW = 120  # bytes per interaction row held by polars/pandas during a fit
BLOCK_PAIRS = 20_000_000  # profiling.recommenders.implicit_models.BLOCK_PAIRS
DEFAULT_SHARE = 0.35  # share of the machine's memory one model may take


@dataclass(frozen=True)
class Shape:
    """The size of the data a model is fitted on."""

    users: int
    items: int
    interactions: int


@dataclass(frozen=True)
class Cost:
    """Estimated peak memory (bytes) of a fit, and what drives it."""

    model: str
    bytes: int
    driver: str

    def describe(self) -> str:
        return f"about {human_bytes(self.bytes)} ({self.driver})"


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit in ("B", "KB") else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover


def _base(s: Shape) -> int:
    return s.interactions * FRAME_ROW


def estimate(model: str, s: Shape) -> Cost:
    """Peak memory of fitting ``model`` (a registry name) on data of shape ``s``."""
    base = _base(s)
    if model == "ease":
        # Gram matrix, its inverse and the weights: three dense items x items arrays
        return Cost(model, base + 3 * s.items**2 * FLOAT, f"3 dense {s.items:,}² matrices")
    if model in ("knn-user", "knn-means", "knn-baseline"):
        return Cost(model, base + s.users**2 * FLOAT, f"a dense {s.users:,}² similarity")
    if model in ("knn-item", "slope-one"):
        return Cost(model, base + 2 * s.items**2 * FLOAT, f"dense {s.items:,}² item tables")
    if model in ("als", "bpr", "svd", "svdpp", "nmf"):
        factors = 128
        return Cost(
            model,
            base + (s.users + s.items) * factors * FLOAT * 2,
            f"{factors} factors per user and item",
        )
    if model == "item-knn":
        # co-occurrences are computed a block of items at a time (at most BLOCK_PAIRS
        # entries, with their COO copy) and cut to 100 neighbours per item at once
        block = min(s.items**2, s.interactions * min(s.items, 50), BLOCK_PAIRS)
        kept = s.items * min(s.items, 100)
        return Cost(
            model,
            base + 2 * block * 16 + kept * SPARSE_ENTRY,
            "item co-occurrences, a block at a time",
        )
    if model == "hybrid":
        parts = [estimate(m, s) for m in ("item-knn", "ease", "als", "content")]
        return Cost(
            model, sum(p.bytes for p in parts) - 3 * base, "item-kNN, EASE, ALS and content at once"
        )
    return Cost(model, 2 * base + s.items * 2_000, "the interactions and the catalog")


def machine_memory() -> int:
    """Physical memory of this machine in bytes."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover (non-POSIX)
        return 8 * 1024**3


def budget(share: float = DEFAULT_SHARE) -> int:
    """Bytes one model may use: ``share`` of the machine (``PERSONA_STUDIO_MODEL_MEMORY``
    overrides it, in bytes)."""
    env = os.environ.get("PERSONA_STUDIO_MODEL_MEMORY")
    return int(env) if env else int(machine_memory() * share)


def fits(model: str, s: Shape, limit: int | None = None) -> bool:
    """Whether fitting ``model`` on ``s`` stays within ``limit`` bytes (default: budget)."""
    return estimate(model, s).bytes <= (budget() if limit is None else limit)


def affordable(models: list[str], s: Shape, limit: int | None = None) -> list[str]:
    """The models of ``models`` that fit, in their order."""
    return [m for m in models if fits(m, s, limit)]
