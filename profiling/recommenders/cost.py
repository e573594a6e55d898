"""What each model costs to fit, as a function of the data's shape, and whether it fits
this machine: pages offer a model that would not fit with a warning instead of starting it.

Estimates are deliberately simple upper bounds (bytes of the largest structures a fit
holds at once), not measurements: EASE holds dense items x items matrices, the Surprise
user/item kNN models a dense similarity matrix, factor models factors for every user and
item, neighbourhood and content models sparse matrices that grow with the interactions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

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
    """Estimated peak memory (bytes) of a fit, and what drives it (``driver``: in English;
    ``template`` and ``values`` say it again in another language)."""

    model: str
    bytes: int
    driver: str
    template: str = field(default="", compare=False)
    values: dict = field(default_factory=dict, compare=False)

    def describe(self) -> str:
        """ "about 1.2 GB (3 dense 12,000² matrices)", in English (logs, the CLI)."""
        return f"about {human_bytes(self.bytes)} ({self.driver})"

    def in_words(self) -> str:
        """:meth:`describe` in the current language."""
        driver = _(self.template).format(**self.values) if self.template else self.driver
        return _("about {size} ({driver})").format(size=human_bytes(self.bytes), driver=driver)


def _cost(model: str, n_bytes: int, template: str, **values: object) -> Cost:
    """A :class:`Cost` whose driver is ``template`` (an English msgid) filled with ``values``."""
    return Cost(model, n_bytes, template.format(**values), template, values)


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
        return _cost(
            model, base + 3 * s.items**2 * FLOAT, N_("3 dense {n}² matrices"), n=f"{s.items:,}"
        )
    if model in ("knn-user", "knn-means", "knn-baseline"):
        return _cost(
            model, base + s.users**2 * FLOAT, N_("a dense {n}² similarity"), n=f"{s.users:,}"
        )
    if model in ("knn-item", "slope-one"):
        return _cost(
            model, base + 2 * s.items**2 * FLOAT, N_("dense {n}² item tables"), n=f"{s.items:,}"
        )
    if model in ("als", "bpr", "svd", "svdpp", "nmf"):
        factors = 128
        return _cost(
            model,
            base + (s.users + s.items) * factors * FLOAT * 2,
            N_("{factors} factors per user and item"),
            factors=factors,
        )
    if model == "item-knn":
        # co-occurrences are computed a block of items at a time (at most BLOCK_PAIRS
        # entries, with their COO copy) and cut to 100 neighbours per item at once
        block = min(s.items**2, s.interactions * min(s.items, 50), BLOCK_PAIRS)
        kept = s.items * min(s.items, 100)
        return _cost(
            model,
            base + 2 * block * 16 + kept * SPARSE_ENTRY,
            N_("item co-occurrences, a block at a time"),
        )
    if model == "hybrid":
        parts = [estimate(m, s) for m in ("item-knn", "ease", "als", "content")]
        return _cost(
            model,
            sum(p.bytes for p in parts) - 3 * base,
            N_("item-kNN, EASE, ALS and content at once"),
        )
    return _cost(model, 2 * base + s.items * 2_000, N_("the interactions and the catalog"))


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
