"""Argument validators shared by the recommenders and the evaluation: each names the
parameter, the value received and what is allowed ("... Got k=0 instead.")."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import polars as pl

from profiling.errors import EvaluationError
from profiling.errors import translated as _


def check_k(k: object, name: str = "k", error: type[Exception] = EvaluationError) -> int:
    """``k`` as an int, or ``error`` when it is not a positive integer (``True`` is not one)."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise error(
            _("{name} must be a positive integer. Got {name}={value} instead.").format(
                name=name, value=repr(k)
            )
        )
    return int(k)


def check_fraction(value: object, name: str) -> float:
    """``value`` as a float strictly between 0 and 1, or :class:`EvaluationError`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise EvaluationError(
            _(
                "{name} must be a number strictly between 0 and 1. Got {name}={value} instead."
            ).format(name=name, value=repr(value))
        )
    return float(value)


def check_columns(frame: pl.DataFrame, needed: Collection[str], name: str) -> None:
    """Raise :class:`EvaluationError` naming the columns ``frame`` lacks."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        has = ", ".join(frame.columns) if frame.columns else _("no columns")
        raise EvaluationError(
            _("{name} needs columns {needed}; missing {missing} (has {has}).").format(
                name=name, needed=", ".join(needed), missing=", ".join(missing), has=has
            )
        )
