"""Column-role inference: which raw column is the user id, the timestamp, the price, ..."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from profiling.data.ingest.source import RawTable
from profiling.data.ingest.timestamps import parse_timestamp, timestamp_text
from profiling.data.ingest.values import attribute_kind
from profiling.errors import MappingError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_, template_pattern
from profiling.vocabulary.i18n import gettext as _


@dataclass
class ColumnMapping:
    """Raw column -> canonical role for one table, with the reason for each inference."""

    table: str
    roles: dict[str, str]
    reasons: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def column_for(self, role: str) -> str | None:
        """The raw column mapped to ``role``, or None."""
        for col, r in self.roles.items():
            if r == role:
                return col
        return None

    def has(self, role: str) -> bool:
        return self.column_for(role) is not None

    def to_dict(self) -> dict[str, str]:
        return dict(self.roles)


# ---- why a column has its role: stored in English, shown in the reader's language ---------
BY_YOU = N_("set by you")
BY_NAME = N_("name")
NOT_RECOGNIZED = N_("not recognized")
NATIVE = {
    "date-time": N_("type: native date-time column"),
    "date": N_("type: native date column"),
}
NATIVE_PREFERRED = {
    "date-time": N_("type: native date-time column, preferred over {names}"),
    "date": N_("type: native date column, preferred over {names}"),
}
BY_CONTENT = N_("content: {what}")
EVENT_NAMES = N_("content: event names")
LEFT_MOST_ID = N_("content: left-most id-like column")
SECOND_USER_ID = N_("content: a second id of each user ('{user}')")
AFTER_USER_ID = N_("content: the id-like column after the user id (headerless file)")
AFTER_ITEM = N_(
    "content: the id-like column after the item, with fewer distinct values ({n}) than the "
    "item column ({items})"
)
EMPTY_ATTRIBUTE = N_("empty in the first rows, kept as an attribute")
ATTRIBUTE_BY_KIND = {
    "date": N_("content: date, kept as an attribute"),
    "numeric": N_("content: numeric, kept as an attribute"),
    "categorical": N_("content: categorical, kept as an attribute"),
    "bands": N_("content: ordered bands, kept as an attribute"),
}
RATING_SCALE = N_("content: values on a {scale} rating scale (headerless)")
RATING_HALF_STEPS = N_("content: values on a {scale} rating scale in half steps (headerless)")
SMALL_WHOLE = N_("content: small whole numbers")
MONEY_TOTAL = N_("content: decimal money values, taken as the row's total")
GIVEN_AS_BANDS = N_("{reason}; given as bands")
KEPT_AS = N_("kept as an attribute: {kind}")
_PLAIN_KINDS = {"date": N_("date"), "numeric": N_("numeric")}
CATEGORICAL_VALUES = N_("categorical ({n} values in the sample)")
ORDERED_BANDS = N_("ordered bands: {bands} (a number for each in {column})")
"""Every reason a mapping gives (English msgids, kept in English with the mapping and the
cleaning report); :func:`reason_text` says one in the reader's language."""

_FIXED_REASONS = (
    BY_YOU,
    BY_NAME,
    NOT_RECOGNIZED,
    *NATIVE.values(),
    EVENT_NAMES,
    LEFT_MOST_ID,
    AFTER_USER_ID,
    EMPTY_ATTRIBUTE,
    *ATTRIBUTE_BY_KIND.values(),
    SMALL_WHOLE,
    MONEY_TOTAL,
)
_SHAPED_REASONS = (
    *NATIVE_PREFERRED.values(),
    SECOND_USER_ID,
    AFTER_ITEM,
    RATING_HALF_STEPS,
    RATING_SCALE,
    BY_CONTENT,  # last: any other "content: ..." is a timestamp format
)


def _attribute_text(kind: str) -> str:
    """How a kept attribute was read ("numeric", "categorical (12 values in the sample)",
    "ordered bands: 18-24 < 25-34 (a number for each in age_mid)") in the reader's
    language; the band labels and column names are data."""
    if kind in _PLAIN_KINDS:
        return _(_PLAIN_KINDS[kind])
    for template in (CATEGORICAL_VALUES, ORDERED_BANDS):
        found = template_pattern(template).fullmatch(kind)
        if found:
            return _(template).format(**found.groupdict())
    return kind


def reason_text(stored: str) -> str:
    """Why a column has its role, stored in English by :func:`infer_roles` (and the cleaning
    report), in the current language: "name" reads "列名" in Chinese, "content: a second id
    of each user ('cust')" keeps the column name. A reason in another shape is returned as
    stored; "" stays "" (``gettext("")`` would be the catalog's header)."""
    if not stored:
        return ""
    if stored.endswith("; given as bands"):
        return _(GIVEN_AS_BANDS).format(reason=reason_text(stored.removesuffix("; given as bands")))
    if stored in _FIXED_REASONS:
        return _(stored)
    found = template_pattern(KEPT_AS).fullmatch(stored)
    if found:
        return _(KEPT_AS).format(kind=_attribute_text(found["kind"]))
    for template in _SHAPED_REASONS:
        found = template_pattern(template).fullmatch(stored)
        if found:
            fields = found.groupdict()
            if template == BY_CONTENT:  # a timestamp format, said piece by piece
                fields["what"] = timestamp_text(fields["what"])
            return _(template).format(**fields)
    return stored


def _content_kind(series: pl.Series) -> dict:
    """Summarize a sample column for content-based role inference."""
    s = series.drop_nulls()
    if s.dtype == pl.String:
        s = s.str.strip_chars()
        s = s.filter(s.str.len_chars() > 0)
    n = s.len()
    out = {"n": n, "distinct": s.n_unique() if n else 0, "numeric": False, "integral": False}
    if n == 0:
        return out
    if s.dtype == pl.String and s.str.contains(r"^0\d").mean() > 0.5:
        return out  # zero-padded codes ("0042") are identifiers, not quantities
    nums = (
        s.cast(pl.Float64, strict=False)
        if s.dtype != pl.String
        else s.str.replace(",", ".").cast(pl.Float64, strict=False)
    )
    parsed = nums.drop_nulls()
    if parsed.len() >= 0.95 * n:
        out["numeric"] = True
        out["integral"] = bool(((parsed - parsed.round()).abs() < 1e-9).all())
        out["min"], out["max"] = float(parsed.min()), float(parsed.max())
        out["median"] = float(parsed.median())
    return out


def infer_roles(
    raw: RawTable,
    table: str = "events",
    overrides: dict[str, str] | None = None,
) -> ColumnMapping:
    """Map the raw columns of a table onto canonical roles.

    Names come first: each column name is normalized ("Customer ID" -> "customerid") and
    looked up among the synonyms in :mod:`profiling.vocabulary.schema`, then searched for telling
    fragments ("customer", "date", "price"). Roles still missing are inferred from content:
    a column of dates, YYYYMMDD integers or epoch numbers is the timestamp; a text column of
    known event names is the event type; the left-most id-like column with repeats is the
    user id; in a file without names, small integers are the quantity and a decimal money
    column is the row's total (``amount``, never a unit price, so revenue is not multiplied
    by quantity). ``overrides`` (raw column -> role or ``"ignore"``) win over everything.

    Raises
    ------
    MappingError
        An override names an unknown column or role, or gives one role to two columns.
    """
    if table not in S.ROLES_BY_TABLE:
        raise MappingError(
            raw.source,
            _("unknown table kind {table!r}; expected events, users or items").format(table=table),
        )
    columns = raw.frame.collect_schema().names()
    mapping = ColumnMapping(table=table, roles={}, reasons={})
    _apply_overrides(mapping, raw, columns, dict(overrides or {}))
    temporal = _temporal_columns(raw.frame.collect_schema())
    _roles_by_name(mapping, columns, temporal)
    ctx = _Content(raw, columns, mapping)
    _dates_by_content(ctx)
    if table == "events":
        _event_type_by_content(ctx)
    _id_by_content(ctx)
    if table == "events" and ctx.generic:
        _item_and_category_by_content(ctx)
        _rating_by_content(ctx)
        _numbers_by_content(ctx)
    if table in ("users", "items"):
        _attributes_by_content(ctx)
    for col in columns:
        mapping.roles.setdefault(col, S.IGNORE)
        mapping.reasons.setdefault(col, NOT_RECOGNIZED)
    mapping.roles = {c: mapping.roles[c] for c in columns}
    mapping.reasons = {c: mapping.reasons[c] for c in columns}
    return mapping


def _assign(mapping: ColumnMapping, col: str, role: str, reason: str) -> None:
    mapping.roles[col] = role
    mapping.reasons[col] = reason


def _free(mapping: ColumnMapping, role: str) -> bool:
    return role not in mapping.roles.values()


def _apply_overrides(
    mapping: ColumnMapping, raw: RawTable, columns: list[str], overrides: dict[str, str]
) -> None:
    allowed = S.ROLES_BY_TABLE[mapping.table]
    for col, role in overrides.items():
        if col not in columns:
            raise MappingError(
                raw.source,
                _(
                    "the mapping names a column that is not in the file; found columns: {names}"
                ).format(names=", ".join(columns)),
                column=col,
            )
        if role != S.IGNORE and role not in allowed:
            raise MappingError(
                raw.source,
                _("unknown role {role!r}; expected one of {names} or 'ignore'").format(
                    role=role, names=", ".join(allowed)
                ),
                column=col,
            )
    taken_by_override = [r for r in overrides.values() if r not in (S.IGNORE, S.ATTRIBUTE)]
    dup = [r for r, c in Counter(taken_by_override).items() if c > 1]
    if dup:
        raise MappingError(
            raw.source,
            _("the mapping gives role {dup!r} to more than one column").format(dup=dup[0]),
        )
    for col, role in overrides.items():
        _assign(mapping, col, role, BY_YOU)


def _roles_by_name(mapping: ColumnMapping, columns: list[str], temporal: dict[str, str]) -> None:
    """Exact synonyms first, then native date-time columns by type, then telling fragments
    of the name. A native date-time column only ever takes a date role."""
    synonyms = S.SYNONYMS_BY_TABLE[mapping.table]
    date_role = _DATE_ROLE.get(mapping.table)
    for col in columns:
        role = synonyms.get(S.normalize_token(col))
        if col in temporal and role != date_role:
            continue
        if col not in mapping.roles and role and _free(mapping, role):
            _assign(mapping, col, role, BY_NAME)
    _dates_by_type(mapping, columns, temporal)
    allowed = S.ROLES_BY_TABLE[mapping.table]
    for col in columns:
        if col in mapping.roles:
            continue
        norm = S.normalize_token(col)
        for pattern, role in _FRAGMENTS.get(mapping.table, ()):
            if col in temporal and role != date_role:
                continue
            if role in allowed and _free(mapping, role) and re.search(pattern, norm):
                _assign(mapping, col, role, BY_NAME)
                break


_DATE_ROLE = {"events": S.TIMESTAMP, "users": S.SIGNUP_DATE}
# among several native date-time columns, names saying "when it happened" come first
_WHEN_WORDS = ("purchase", "transaction", "order", "event", "timestamp", "created", "time", "date")


def _temporal_columns(schema: pl.Schema) -> dict[str, str]:
    """Native date-time and date columns: name -> "date-time" or "date"."""
    out = {}
    for col, dtype in schema.items():
        if isinstance(dtype, pl.Datetime):
            out[col] = "date-time"
        elif dtype == pl.Date:
            out[col] = "date"
    return out


def _dates_by_type(mapping: ColumnMapping, columns: list[str], temporal: dict[str, str]) -> None:
    """A native date-time or date column is the timestamp (events) or signup date (users)
    whatever its name; when there are several, the preference order is reported."""
    role = _DATE_ROLE.get(mapping.table)
    open_cols = [
        c
        for c in columns
        if c in temporal
        and c not in mapping.roles
        # a birth date is an attribute, never when a user signed up
        and not re.search(r"birth|dob|born", S.normalize_token(c))
    ]
    if role is None or not _free(mapping, role) or not open_cols:
        return

    def rank(col: str) -> tuple[int, int, int]:
        norm = S.normalize_token(col)
        word = next((i for i, w in enumerate(_WHEN_WORDS) if w in norm), len(_WHEN_WORDS))
        return word, temporal[col] != "date-time", columns.index(col)

    chosen, *others = sorted(open_cols, key=rank)
    reason = NATIVE[temporal[chosen]]
    if others:
        reason = NATIVE_PREFERRED[temporal[chosen]].format(names=", ".join(others))
        mapping.notes.append(
            _(
                "{n} date-time columns ({names}): '{chosen}' is the {value} (names with {names2}... first, then date-times over dates, then the left-most); map another one to change it"
            ).format(
                n=len(open_cols),
                names=", ".join(open_cols),
                chosen=chosen,
                value=role.replace("_", " "),
                names2=", ".join(_WHEN_WORDS[:4]),
            )
        )
    _assign(mapping, chosen, role, reason)


class _Content:
    """What content inference needs: a sample, per-column summaries, the open columns."""

    def __init__(self, raw: RawTable, columns: list[str], mapping: ColumnMapping) -> None:
        self.raw = raw
        self.columns = columns
        self.mapping = mapping
        self.table = mapping.table
        self.sample = raw.sample()
        self.generic = not raw.info.has_header
        self.excel = raw.info.format == "Excel"
        self.kinds = {c: _content_kind(self.sample[c]) for c in columns if c not in mapping.roles}

    def open_columns(self) -> list[str]:
        """Columns without a role yet that hold at least one value, left to right."""
        return [c for c in self.columns if c not in self.mapping.roles and self.kinds[c]["n"]]


def _dates_by_content(ctx: _Content) -> None:
    role = {"events": S.TIMESTAMP, "users": S.SIGNUP_DATE}.get(ctx.table)
    if role is None or not _free(ctx.mapping, role):
        return
    for col in ctx.open_columns():
        k = ctx.kinds[col]
        if k["numeric"] and not ctx.generic and "id" in S.normalize_token(col):
            continue
        ts = parse_timestamp(col, ctx.sample.schema[col], ctx.sample[col], excel=ctx.excel)
        if ts is None:
            continue
        ok = ctx.sample.select(ts.expr).to_series().drop_nulls().len()
        if ok >= 0.5 * k["n"]:
            _assign(ctx.mapping, col, role, BY_CONTENT.format(what=ts.description))
            return


def _event_type_by_content(ctx: _Content) -> None:
    if not _free(ctx.mapping, S.EVENT_TYPE):
        return
    for col in ctx.open_columns():
        if ctx.kinds[col]["numeric"]:
            continue
        vals = ctx.sample[col].cast(pl.String).drop_nulls().unique()
        norm = vals.str.to_lowercase().str.replace_all(r"[^0-9a-z]", "")
        if norm.is_in(list(S.EVENT_SYNONYMS)).mean() >= 0.8:
            _assign(ctx.mapping, col, S.EVENT_TYPE, EVENT_NAMES)
            return


def _id_like(ctx: _Content, col: str) -> bool:
    """Whole numbers or short codes without spaces."""
    k = ctx.kinds[col]
    if k["numeric"] and not k["integral"]:
        return False
    series = ctx.sample[col]
    return series.dtype != pl.String or series.drop_nulls().str.contains(r"\s").mean() <= 0.2


def _id_by_content(ctx: _Content) -> None:
    id_role = {"events": S.USER_ID, "users": S.USER_ID, "items": S.ITEM_ID}[ctx.table]
    if not _free(ctx.mapping, id_role):
        return
    for col in ctx.open_columns():
        if not _id_like(ctx, col):
            continue
        k = ctx.kinds[col]
        if ctx.table != "events" or k["distinct"] < k["n"] or k["n"] < 20:
            _assign(ctx.mapping, col, id_role, LEFT_MOST_ID)
            return


def _same_key(ctx: _Content, a: str, b: str) -> bool:
    """True when columns ``a`` and ``b`` name the same things one to one (two ids of one
    customer), judged on the sample."""
    pairs = ctx.sample.select(a, b).drop_nulls()
    n_pairs = pairs.unique().height
    return n_pairs == pairs[a].n_unique() == pairs[b].n_unique()


def _quantity_like(k: dict) -> bool:
    """Small whole numbers (median at most 50, none above 1,000) count things, not items."""
    return k["numeric"] and k["integral"] and abs(k["median"]) <= 50 and k["max"] <= 1000


def _item_and_category_by_content(ctx: _Content) -> None:
    """Headerless logs: after the user id, the next id-like column is the item and the one
    after it the category when it has fewer distinct values than the item column (the
    conventional user, item, category order). A column naming the same things as the user
    column one to one is a second user id and is left out."""
    mapping = ctx.mapping
    user = mapping.column_for(S.USER_ID)
    if user is None or not _free(mapping, S.ITEM_ID):
        return
    taken = [f"'{user}' user id"]
    for col in ctx.open_columns():
        k = ctx.kinds[col]
        if not _id_like(ctx, col) or _quantity_like(k):
            continue
        if _same_key(ctx, user, col):
            _assign(mapping, col, S.IGNORE, SECOND_USER_ID.format(user=user))
            continue
        item = mapping.column_for(S.ITEM_ID)
        if item is None:
            _assign(mapping, col, S.ITEM_ID, AFTER_USER_ID)
            taken.append(f"'{col}' item id ({k['distinct']:,} distinct in the sample)")
            continue
        if k["distinct"] < ctx.kinds[item]["distinct"]:
            reason = AFTER_ITEM.format(
                n=f"{k['distinct']:,}", items=f"{ctx.kinds[item]['distinct']:,}"
            )
            _assign(mapping, col, S.CATEGORY, reason)
            taken.append(f"'{col}' category ({k['distinct']:,} distinct)")
        break
    if len(taken) > 1:
        mapping.notes.append(
            _(
                "no header: id-like columns were taken in the conventional order user, item, category: {names}; change the mapping if your file's order differs"
            ).format(names=", ".join(taken))
        )


def _attributes_by_content(ctx: _Content) -> None:
    """Every other column of a users or items table is kept as an attribute; only empty
    columns are left out."""
    for col in ctx.columns:
        if col in ctx.mapping.roles:
            continue
        kind = attribute_kind(ctx.sample[col])
        if kind == "empty":
            _assign(ctx.mapping, col, S.ATTRIBUTE, EMPTY_ATTRIBUTE)
        else:
            _assign(ctx.mapping, col, S.ATTRIBUTE, ATTRIBUTE_BY_KIND[kind])


#: rating scales a headerless column is recognised by: (lowest, highest, step)
RATING_SCALES: tuple[tuple[float, float, float], ...] = ((1, 5, 1), (0.5, 5, 0.5), (1, 10, 1))


def _rating_scale(values: pl.Series) -> tuple[float, float, float] | None:
    """The first of :data:`RATING_SCALES` whose steps hold every value and whose range the
    values span (at least three distinct values over half the scale or more), else None."""
    v = values.drop_nulls().cast(pl.Float64, strict=False).drop_nulls()
    if v.len() == 0 or v.n_unique() < 3:
        return None
    lo, hi = float(v.min()), float(v.max())
    for low, high, step in RATING_SCALES:
        on_steps = bool((((v / step) - (v / step).round()).abs() < 1e-9).all())
        if on_steps and lo >= low and hi <= high and hi - lo >= 0.5 * (high - low):
            return low, high, step
    return None


def _rating_by_content(ctx: _Content) -> None:
    """Headerless logs with no event type and no money (no decimal column): a column of
    small whole numbers or half steps spanning a rating scale (1-5, 0.5-5, 1-10) is a
    rating, so the file is a rating log (MovieLens ``u.data``: user, item, rating, epoch
    seconds), not a transaction log with the ratings taken as quantities."""
    mapping = ctx.mapping
    if not (_free(mapping, S.RATING) and _free(mapping, S.EVENT_TYPE)):
        return
    if not (_free(mapping, S.PRICE) and _free(mapping, S.AMOUNT) and _free(mapping, S.QUANTITY)):
        return
    numeric = [c for c in ctx.open_columns() if ctx.kinds[c]["numeric"]]
    scaled = {c: _rating_scale(ctx.sample[c]) for c in numeric}
    money = [c for c in numeric if not ctx.kinds[c]["integral"] and scaled[c] is None]
    found = [c for c in numeric if scaled[c] is not None]
    if money or len(found) != 1:
        return  # a price or total beside it, or two candidates: not told apart safely
    col = found[0]
    low, high, step = scaled[col]
    scale = f"{low:g}-{high:g}" + (" in half steps" if step == 0.5 else "")
    said = RATING_HALF_STEPS if step == 0.5 else RATING_SCALE
    _assign(mapping, col, S.RATING, said.format(scale=f"{low:g}-{high:g}"))
    mapping.notes.append(
        _(
            "no header: column '{col}' holds values from {low:g} to {high:g} (a {scale} rating scale), and the file has no price and no event type, so it is read as a rating log with '{col}' as the rating; map '{col}' to 'quantity' if it counts units bought"
        ).format(col=col, low=low, high=high, scale=scale)
    )


def _numbers_by_content(ctx: _Content) -> None:
    """In a file without names: small whole numbers are quantities, decimals the total."""
    mapping = ctx.mapping
    for col in ctx.open_columns():
        k = ctx.kinds[col]
        if not k["numeric"]:
            continue
        small = abs(k["median"]) <= 50 and k["max"] <= 100_000
        if k["integral"] and _free(mapping, S.QUANTITY) and small:
            _assign(mapping, col, S.QUANTITY, SMALL_WHOLE)
        elif not k["integral"] and _free(mapping, S.AMOUNT) and _free(mapping, S.PRICE):
            _assign(mapping, col, S.AMOUNT, MONEY_TOTAL)
            mapping.notes.append(
                _(
                    "column '{col}' holds decimal money values with no telling name: taken as the row's total (amount), not a unit price; map it to 'price' if it is a unit price"
                ).format(col=col)
            )


_FRAGMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "events": (
        (
            r"(user|customer|client|visitor|member|buyer|shopper|account|household).*(id|no|number|key|code)$",
            S.USER_ID,
        ),
        (r"(product|item|sku|article|stock|goods).*(id|no|number|key|code)$", S.ITEM_ID),
        (r"(eventtype|actiontype|event|(?<!trans)action)", S.EVENT_TYPE),
        (r"(timestamp|datetime|date|time)", S.TIMESTAMP),
        (r"(qty|quantity|units)", S.QUANTITY),
        (r"(unitprice|priceeach|price)", S.PRICE),
        (r"(amount|revenue|total|value|sales)", S.AMOUNT),
        (r"(rating|stars)", S.RATING),
        (r"(invoice|order|transaction|basket)", S.ORDER_ID),
        (r"session", S.SESSION_ID),
        (r"(category|genre)", S.CATEGORY),
        (r"(brand)", S.BRAND),
        (r"(country|region)", S.REGION),
    ),
    "users": (
        (
            r"(user|customer|client|visitor|member|account|household).*(id|no|number|key|code)$",
            S.USER_ID,
        ),
        (r"(signup|registr|joined|created)", S.SIGNUP_DATE),
        (r"(country|region|state|city)", S.REGION),
        (r"(gender|sex)", S.GENDER),
        (r"age", S.AGE),
    ),
    "items": (
        (r"(product|item|sku|article|stock|goods|movie|book).*(id|no|number|key|code)$", S.ITEM_ID),
        (r"(title|name)", S.TITLE),
        (r"(category|genre|department)", S.CATEGORY),
        (r"(brand|manufacturer)", S.BRAND),
        (r"price", S.PRICE),
        (r"(description|desc)", S.DESCRIPTION),
        (r"(tag|keyword)", S.TAGS),
    ),
}


def parse_overrides(pairs: list[str] | None, source: str = "--map") -> dict[str, str]:
    """Parse ``raw=canonical`` strings (from the CLI) into a dict."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise MappingError(
                source, _("expected raw=canonical, found {pair!r}").format(pair=pair)
            )
        raw, role = pair.rsplit("=", 1)
        out[raw.strip()] = role.strip()
    return out
