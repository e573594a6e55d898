"""Privacy controls: pseudonymized ids, small-group suppression and differentially private counts.

Each control is off by default and switched on per workspace (``profiling.workspace.privacy``):

- **Pseudonymized user ids**: every user id is replaced at ingestion by a keyed HMAC-SHA256
  (:func:`pseudonymize`); the same id and key always give the same pseudonym, so batches still
  line up, and without the key a pseudonym cannot be traced back to the id.
- **Small-group suppression**: segments or table cells with fewer than ``k`` users (default
  10) are merged into one "fewer than k users" row, which is itself hidden when it is still
  under ``k`` (:func:`suppress_small_groups`).
- **Differentially private counts**: segment sizes in the stakeholder report and exports get
  geometric (discrete Laplace) noise from OpenDP (:func:`dp_counts`); the epsilon is shown
  next to them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

import polars as pl

from profiling.errors import ProfilingError
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

KEY_ENV = "PERSONA_STUDIO_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
DEFAULT_K = 10
PSEUDONYM_PREFIX = "p_"
SMALL_GROUPS = N_("fewer than {k} users")  # an English msgid: stored, translated where shown

EXPLAIN = {  # English msgids, translated where they are shown
    "pseudonymize": N_(
        "User ids are replaced by keyed pseudonyms when data is loaded; the "
        "key stays on the server, so ids shown and exported cannot be traced back without it."
    ),
    "min_group": N_(
        "Segments and table cells with fewer than k users are merged into one row, "
        "or hidden, in charts, tables and exports, so no small group can be singled out."
    ),
    "dp_epsilon": N_(
        "Segment sizes in reports and exports get random noise (differential "
        "privacy): smaller epsilon means more noise and stronger protection."
    ),
}


class PrivacyError(ProfilingError):
    """A privacy control cannot be applied as configured."""


def pseudonym_key(value: str | bytes | None = None) -> bytes:
    """The HMAC key: ``value`` (e.g. from ``st.secrets``), else ``$PERSONA_STUDIO_PSEUDONYM_KEY``.

    Raises PrivacyError when there is none or it is shorter than 16 bytes.
    """
    raw = value if value is not None else os.environ.get(KEY_ENV)
    if raw is None or raw == "":
        raise PrivacyError(
            _(
                "pseudonymized ids need a secret key: set {variable} or "
                "pseudonym_key in .streamlit/secrets.toml; found none"
            ).format(variable=KEY_ENV)
        )
    key = raw.encode() if isinstance(raw, str) else bytes(raw)
    if len(key) < MIN_KEY_BYTES:
        raise PrivacyError(
            _("the pseudonym key must have at least {least} bytes; found {n}").format(
                least=MIN_KEY_BYTES, n=len(key)
            )
        )
    return key


def pseudonym(user_id: str, key: bytes) -> str:
    """``p_`` + the first 20 hex digits (80 bits) of HMAC-SHA256(key, user_id)."""
    digest = hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:20]


def pseudonymize(frame: pl.DataFrame, key: bytes, column: str = "user_id") -> pl.DataFrame:
    """``frame`` with ``column`` replaced by pseudonyms (same grain and columns).

    The HMAC runs once per distinct id (Python's hmac; polars has no keyed hash) and the
    result is joined back, so a log of millions of events costs one HMAC per user.
    """
    if column not in frame.columns:
        raise PrivacyError(
            _("cannot pseudonymize: no column {column!r} in {columns}").format(
                column=column, columns=frame.columns
            )
        )
    distinct = frame.select(pl.col(column).cast(pl.String).unique().drop_nulls())[column]
    mapping = pl.DataFrame(
        {
            "__id": distinct,
            "__pseudonym": [pseudonym(v, key) for v in distinct.to_list()],
        },
        schema={"__id": pl.String, "__pseudonym": pl.String},
    )
    return (
        frame.with_columns(pl.col(column).cast(pl.String).alias("__id"))
        .join(mapping, on="__id", how="left", maintain_order="left")
        .with_columns(pl.col("__pseudonym").alias(column))
        .drop("__id", "__pseudonym")
        .select(frame.columns)
    )


def suppress_small_groups(
    frame: pl.DataFrame, label: str, count: str = "users", k: int = DEFAULT_K
) -> pl.DataFrame:
    """Merge rows whose ``count`` is under ``k`` into one row labelled "fewer than k users".

    ``frame``: one row per group (``label``) with a user count and other numeric columns,
    which are summed for the merged row (shares stay shares of the whole). The merged row is
    dropped when its own count is still under ``k``. Returns the same columns, large groups
    first in their original order, then the merged row.
    """
    if k < 2:
        return frame
    for col in (label, count):
        if col not in frame.columns:
            raise PrivacyError(
                _("cannot suppress small groups: no column {column!r} in {columns}").format(
                    column=col, columns=frame.columns
                )
            )
    small = pl.col(count) < k
    big = frame.filter(~small)
    rest = frame.filter(small)
    if rest.height == 0:
        return frame
    numeric = [c for c, t in frame.schema.items() if c != label and t.is_numeric()]
    merged = rest.select(
        pl.lit(SMALL_GROUPS.format(k=k)).cast(frame.schema[label]).alias(label),
        *[pl.col(c).sum() for c in numeric],
    )
    merged = merged.select(
        [merged[c] if c in merged.columns else pl.lit(None).alias(c) for c in frame.columns]
    ).cast(frame.schema)
    if merged[count][0] < k:
        return big
    return pl.concat([big, merged])


def hide_small_cells(
    frame: pl.DataFrame, count: str = "users", k: int = DEFAULT_K
) -> tuple[pl.DataFrame, int]:
    """Drop the rows (cells of a cross table, e.g. flows between two segments) whose
    ``count`` is under ``k``; returns (the kept rows, same columns and order; the number of
    rows dropped). Cells are dropped rather than merged: a merged "from any to any" cell
    would mean nothing in a two-way table."""
    if count not in frame.columns:
        raise PrivacyError(
            _("cannot suppress small cells: no column {column!r} in {columns}").format(
                column=count, columns=frame.columns
            )
        )
    if k < 2:
        return frame, 0
    kept = frame.filter(pl.col(count) >= k)
    return kept, frame.height - kept.height


@dataclass(frozen=True)
class NoisyCounts:
    """Counts with geometric noise: ``counts`` has the input's columns with ``column``
    replaced by the noisy count (never negative); ``epsilon`` is the privacy loss when one
    user is added or removed."""

    counts: pl.DataFrame
    epsilon: float
    column: str


def dp_counts(frame: pl.DataFrame, column: str = "users", epsilon: float = 1.0) -> NoisyCounts:
    """Add OpenDP's geometric noise to a histogram of user counts (one row per group, each
    user in exactly one group): adding or removing one user changes one count by 1, so the
    L1 sensitivity is 1 and noise of scale 1/epsilon gives ``epsilon``-differential privacy.

    The noise comes from OpenDP's cryptographically secure sampler and is deliberately not
    seeded (a known seed would let anyone subtract the noise).
    """
    if not epsilon > 0:
        raise PrivacyError(
            _("epsilon must be a positive number; found {epsilon!r}").format(epsilon=epsilon)
        )
    if column not in frame.columns:
        raise PrivacyError(
            _("cannot add noise: no column {column!r} in {columns}").format(
                column=column, columns=frame.columns
            )
        )
    import opendp.prelude as dp

    dp.enable_features("contrib")
    meas = dp.m.make_geometric(
        dp.vector_domain(dp.atom_domain(T=dp.i64)), dp.l1_distance(T=dp.i64), scale=1.0 / epsilon
    )
    true = frame[column].cast(pl.Int64).fill_null(0).to_list()
    noisy = meas(true) if true else []
    out = frame.with_columns(pl.Series(column, noisy, dtype=pl.Int64).clip(lower_bound=0))
    return NoisyCounts(out, float(meas.map(1)), column)
