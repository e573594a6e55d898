"""Named custom rule segments: rules as data, evaluated with polars, saved with a workspace.

A :class:`CustomSegment` is a name, a list of :class:`Rule` (feature, operator, value) and
how they combine ("and" / "or"). Rules are data, never code: each becomes a polars
expression over the profile frame (one row per user), after :func:`check` has made sure the
feature exists and the value has the kind the feature needs; a rule that cannot apply raises
:class:`CustomSegmentError` naming the feature, what was expected and what was found.

Segments are stored in the workspace database (table ``custom_segments``: name, definition
as JSON, saved_at, saved_by), so they survive a server restart and are shared by everyone
who opens the workspace.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import polars as pl

from profiling.errors import ProfilingError
from profiling.profiles.segments import EVERYONE_ELSE, SegmentDescription, describe_segments
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import db
from profiling.workspace.store import Workspace, workspace_lock

TABLE = "custom_segments"
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (name VARCHAR PRIMARY KEY, definition VARCHAR, "
    "saved_at TIMESTAMPTZ, saved_by VARCHAR)"
)
OUTSIDE = EVERYONE_ELSE
"""The value of the segment column for the users outside the rule: stored in English (data and
exports keep it), shown in the reader's language by ``segments.segment_label``."""
MAX_NAME = 80

#: operator -> plain words in English (shown through ``_()`` in the rule builder and in
#: descriptions)
OPERATORS: dict[str, str] = {
    ">": N_("more than"),
    ">=": N_("at least"),
    "<": N_("less than"),
    "<=": N_("at most"),
    "==": N_("is"),
    "!=": N_("is not"),
    "contains": N_("contains"),
    "in": N_("is one of"),
}
_NUMERIC_OPS = (">", ">=", "<", "<=", "==", "!=", "in")
_TEXT_OPS = ("==", "!=", "contains", "in")
_LIST_OPS = ("contains",)
_BOOL_OPS = ("==", "!=")
_DATE_OPS = (">", ">=", "<", "<=")


class CustomSegmentError(ProfilingError, ValueError):
    """A custom segment or one of its rules cannot be used as given."""


@dataclass(frozen=True)
class Rule:
    """One condition: ``feature`` (a profile column), ``op`` (a key of :data:`OPERATORS`)
    and ``value`` (a number, a text, or for "is one of" a comma-separated text or a list)."""

    feature: str
    op: str
    value: object

    def to_dict(self) -> dict:
        return {"feature": self.feature, "op": self.op, "value": self.value}


@dataclass(frozen=True)
class CustomSegment:
    """A named rule segment: users for whom the rules hold, combined with ``combine``."""

    name: str
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    combine: str = "and"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "combine": self.combine,
            "rules": [r.to_dict() for r in self.rules],
        }

    @classmethod
    def from_dict(cls, data: dict) -> CustomSegment:
        try:
            rules = tuple(Rule(r["feature"], r["op"], r["value"]) for r in data["rules"])
            return cls(str(data["name"]), rules, str(data.get("combine", "and")))
        except (KeyError, TypeError) as exc:
            raise CustomSegmentError(
                _(
                    "a saved custom segment: expected name, combine and rules (feature, op, "
                    "value); found {found}"
                ).format(found=repr(data))
            ) from exc


def allowed_ops(dtype: pl.DataType) -> tuple[str, ...]:
    """The operators a feature of this dtype accepts."""
    if dtype == pl.Boolean:
        return _BOOL_OPS
    if dtype.is_numeric():
        return _NUMERIC_OPS
    if isinstance(dtype, pl.List):
        return _LIST_OPS
    if dtype.is_temporal():
        return _DATE_OPS
    return _TEXT_OPS


def _number(text: object, label: str) -> float:
    try:
        value = float(text) if isinstance(text, int | float) else float(str(text).strip())
    except ValueError:
        value = math.nan
    if math.isnan(value) or math.isinf(value):
        raise CustomSegmentError(
            _("rule on {feature}: expected a number, found {found}").format(
                feature=label, found=repr(text)
            )
        )
    return value


def _date(text: object, label: str) -> datetime:
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day, tzinfo=UTC)
    try:
        d = date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        raise CustomSegmentError(
            _("rule on {feature}: expected a date as YYYY-MM-DD, found {found}").format(
                feature=label, found=repr(text)
            )
        ) from None
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _values(value: object) -> list[str]:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(v).strip() for v in items if str(v).strip()]


def _rule_expr(profiles_schema: pl.Schema, rule: Rule) -> pl.Expr:
    label = repr(rule.feature)
    if rule.feature not in profiles_schema or rule.feature == S.USER_ID:
        raise CustomSegmentError(
            _(
                "rule on {feature}: expected one of the profile features; found no such feature "
                "in this workspace's profiles"
            ).format(feature=label)
        )
    dtype = profiles_schema[rule.feature]
    ops = allowed_ops(dtype)
    if rule.op not in ops:
        raise CustomSegmentError(
            _(
                "rule on {feature}: expected an operator among {allowed} for this feature; "
                "found {found}"
            ).format(feature=label, allowed=", ".join(ops), found=repr(rule.op))
        )
    if rule.value is None or str(rule.value).strip() == "":
        raise CustomSegmentError(
            _("rule on {feature}: expected a value; found none").format(feature=label)
        )
    col = pl.col(rule.feature)
    compare = {
        ">": col.__gt__,
        ">=": col.__ge__,
        "<": col.__lt__,
        "<=": col.__le__,
        "==": col.__eq__,
        "!=": col.__ne__,
    }
    if dtype == pl.Boolean:
        text = str(rule.value).strip().lower()
        if text not in ("true", "false", "yes", "no"):
            raise CustomSegmentError(
                _("rule on {feature}: expected yes or no (true or false); found {found}").format(
                    feature=label, found=repr(rule.value)
                )
            )
        return compare[rule.op](pl.lit(text in ("true", "yes")))
    if dtype.is_numeric():
        if rule.op == "in":
            numbers = [_number(v, label) for v in _values(rule.value)]
            return col.cast(pl.Float64).is_in(numbers)
        return compare[rule.op](pl.lit(_number(rule.value, label)))
    if isinstance(dtype, pl.List):
        return col.list.contains(pl.lit(str(rule.value).strip()))
    if dtype.is_temporal():
        return compare[rule.op](pl.lit(_date(rule.value, label)).cast(dtype))
    text_col = col.cast(pl.String)
    if rule.op == "contains":
        return text_col.str.to_lowercase().str.contains(
            str(rule.value).strip().lower(), literal=True
        )
    if rule.op == "in":
        return text_col.is_in(_values(rule.value))
    text = pl.lit(str(rule.value).strip())
    return text_col == text if rule.op == "==" else text_col != text


def reserved_names() -> frozenset[str]:
    """The names no custom segment may take, lower-cased: :data:`OUTSIDE` in every language
    (a segment named 其他所有人 would read like the users outside the rule on a Chinese page)."""
    return frozenset(
        i18n.translations(lang).gettext(OUTSIDE).lower() for lang in i18n.LANGUAGES
    ) | {OUTSIDE.lower()}


def check_name(name: str) -> str:
    """The name stripped; raises CustomSegmentError when empty, too long or reserved
    (:func:`reserved_names`)."""
    clean = " ".join(str(name).split())
    if not clean:
        raise CustomSegmentError(_("segment name: expected a few words; found an empty name"))
    if len(clean) > MAX_NAME:
        raise CustomSegmentError(
            _("segment name: expected at most {most} characters; found {found}").format(
                most=MAX_NAME, found=len(clean)
            )
        )
    if clean.lower() in reserved_names():
        raise CustomSegmentError(
            _("segment name: {name} names the users outside the rule; choose another name").format(
                name=repr(_(OUTSIDE))
            )
        )
    return clean


def expression(profiles: pl.DataFrame, segment: CustomSegment) -> pl.Expr:
    """The polars expression that is true for the segment's members (null counts as no).

    Raises
    ------
    CustomSegmentError
        No rule, an unknown combination, feature or operator, or a value of the wrong kind;
        the message names the feature and what it expected.
    """
    if segment.combine not in ("and", "or"):
        raise CustomSegmentError(
            _("combine: expected 'and' or 'or'; found {found}").format(found=repr(segment.combine))
        )
    if not segment.rules:
        raise CustomSegmentError(
            _("segment {name}: expected at least one rule; found none").format(
                name=repr(segment.name)
            )
        )
    schema = profiles.schema
    exprs = [_rule_expr(schema, r).fill_null(False) for r in segment.rules]
    return pl.all_horizontal(exprs) if segment.combine == "and" else pl.any_horizontal(exprs)


def check(profiles: pl.DataFrame, segment: CustomSegment) -> None:
    """Raise CustomSegmentError when the segment cannot be applied to ``profiles``."""
    check_name(segment.name)
    expression(profiles, segment)


def members(profiles: pl.DataFrame, segment: CustomSegment) -> pl.DataFrame:
    """One row per member: user_id (in the order of ``profiles``)."""
    return profiles.filter(expression(profiles, segment)).select(S.USER_ID)


def label(profiles: pl.DataFrame, segment: CustomSegment, column: str = "custom") -> pl.DataFrame:
    """``profiles`` with ``column``: the segment's name for members, :data:`OUTSIDE` for the
    others (same grain and columns, plus ``column``)."""
    return profiles.with_columns(
        pl.when(expression(profiles, segment))
        .then(pl.lit(segment.name))
        .otherwise(pl.lit(OUTSIDE))
        .alias(column)
    )


def describe(segment: CustomSegment, labels: dict[str, str] | None = None) -> str:
    """The rule in words, in the language of the context: "days since last order at most 30
    and orders at least 3"."""
    labels = labels or {}
    parts = []
    for r in segment.rules:
        value = ", ".join(_values(r.value)) if r.op == "in" else str(r.value).strip()
        parts.append(
            _("{feature} {condition} {value}").format(
                feature=labels.get(r.feature, r.feature.replace("_", " ")),
                condition=_(OPERATORS[r.op]) if r.op in OPERATORS else r.op,
                value=value,
            )
        )
    joiner = {"and": _(" and "), "or": _(" or ")}.get(segment.combine, f" {segment.combine} ")
    return joiner.join(parts)


# ---- persistence ----------------------------------------------------------------------------
def save(ws: Workspace, segment: CustomSegment, saved_by: str = "") -> CustomSegment:
    """Store (or replace, by name) a custom segment in the workspace; returns it with its
    cleaned name. Rules are checked for shape here; against profiles by :func:`check`."""
    seg = CustomSegment(check_name(segment.name), tuple(segment.rules), segment.combine)
    if seg.combine not in ("and", "or"):
        raise CustomSegmentError(
            _("combine: expected 'and' or 'or'; found {found}").format(found=repr(seg.combine))
        )
    if not seg.rules:
        raise CustomSegmentError(
            _("segment {name}: expected at least one rule; found none").format(name=repr(seg.name))
        )
    for r in seg.rules:
        if r.op not in OPERATORS:
            raise CustomSegmentError(
                _("rule on {feature}: expected an operator among {allowed}; found {found}").format(
                    feature=repr(r.feature), allowed=", ".join(OPERATORS), found=repr(r.op)
                )
            )
    definition = json.dumps(seg.to_dict(), default=str)
    with workspace_lock(ws.slug), db.connect(ws.db_path) as con, db.transaction(con):
        con.execute(_SCHEMA)
        con.execute(f"DELETE FROM {TABLE} WHERE name = ?", [seg.name])  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
        con.execute(
            f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?)",  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
            [seg.name, definition, datetime.now(UTC), saved_by or "unknown"],
        )
    return seg


def saved(ws: Workspace) -> list[CustomSegment]:
    """The workspace's custom segments, oldest first."""
    with db.connect(ws.db_path) as con:
        if not db.has_table(con, TABLE):
            return []
        rows = con.execute(
            f"SELECT definition FROM {TABLE} ORDER BY saved_at, name"  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
        ).fetchall()
    return [CustomSegment.from_dict(json.loads(r[0])) for r in rows]


def delete(ws: Workspace, name: str) -> bool:
    """Remove the custom segment ``name``; True when there was one."""
    with workspace_lock(ws.slug), db.connect(ws.db_path) as con, db.transaction(con):
        con.execute(_SCHEMA)
        n = con.execute(f"SELECT count(*) FROM {TABLE} WHERE name = ?", [name]).fetchone()[0]  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
        con.execute(f"DELETE FROM {TABLE} WHERE name = ?", [name])  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
    return bool(n)


def describe_custom(
    profiles: pl.DataFrame,
    segment: CustomSegment,
    features: list[str],
    labels: dict[str, str] | None = None,
    column: str = "custom",
) -> tuple[pl.DataFrame, list[SegmentDescription]]:
    """Label the members and describe the segment and everyone else.

    Returns ``profiles`` with ``column`` (see :func:`label`) and the segment descriptions of
    :func:`profiling.profiles.segments.describe_segments` with the segment first (it has no entry
    when nobody matches), each with its rule in words as ``definition``.
    """
    labelled = label(profiles, segment, column)
    descs = describe_segments(labelled, column, features, names=False)
    descs.sort(key=lambda d: d.segment != segment.name)
    rule = describe(segment, labels)
    for d in descs:
        d.definition = rule if d.segment == segment.name else _("not ({rule})").format(rule=rule)
    return labelled, descs
