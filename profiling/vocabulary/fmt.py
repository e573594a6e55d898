"""Number formatting for people: money with its currency, thousands separators, percentages,
whole days; the column formats tables use; exports rounded to sensible precision with the
unit in the header. Values are formatted where they are shown, never rounded in the data.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable

import polars as pl
from babel.numbers import format_compact_decimal

from profiling.errors import DataValidationError
from profiling.vocabulary import glossary as G
from profiling.vocabulary import i18n
from profiling.vocabulary.i18n import gettext as _

SYMBOLS: dict[str, str] = {"GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥", "INR": "₹"}
ISO_CODES = frozenset(
    {
        "GBP",
        "USD",
        "EUR",
        "JPY",
        "INR",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "CNY",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "BRL",
        "MXN",
        "ZAR",
        "HKD",
        "SGD",
        "KRW",
    }
)
_SYMBOL_CODES = {"£": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR", "$": "USD"}
_WORDS = {
    "dollar": "USD",
    "dollars": "USD",
    "usd": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "sterling": "GBP",
    "yen": "JPY",
    "rupee": "INR",
}
MONEY_DECIMALS, RATIO_DECIMALS, DAYS_DECIMALS = 2, 4, 2


def detect_currency(column_names: Iterable[str], values: Iterable[str] = ()) -> str | None:
    """An ISO 4217 code read from the data, or None when nothing says which currency.

    ``column_names``: raw column names of the money columns (e.g. "Price (£)",
    "amount_gbp", "dollar_value"); ``values``: the values of a currency column when the
    file has one (the most common code wins). A symbol, an ISO code as a word of the name,
    or a currency word ("dollar", "euro", "pound") counts.
    """
    codes = [str(v).strip().upper() for v in values if v is not None]
    codes = [c for c in codes if c in ISO_CODES or c in _SYMBOL_CODES]
    if codes:
        top = max(sorted(set(codes)), key=codes.count)
        return _SYMBOL_CODES.get(top, top)
    for name in column_names:
        text = str(name)
        for sym, code in _SYMBOL_CODES.items():
            if sym in text:
                return code
        for word in re.split(r"[^A-Za-z]+", text):
            if word.upper() in ISO_CODES and len(word) == 3:
                return word.upper()
            if word.lower() in _WORDS:
                return _WORDS[word.lower()]
    return None


def normalize_currency(text: str | None) -> str | None:
    """A setting typed by a person ("gbp", "£", " EUR ") as an ISO code; None for empty.

    Raises DataValidationError (a ValueError) naming the value when it is not a known code
    or symbol."""
    if text is None or not str(text).strip():
        return None
    t = str(text).strip()
    code = _SYMBOL_CODES.get(t, t.upper())
    if code not in ISO_CODES:
        raise DataValidationError(
            "currency setting",
            f"expected an ISO 4217 code such as GBP, USD or EUR (or £, $, €), got {text!r}",
        )
    return code


def currency_of(mapping: dict[str, str], setting: str | None = None) -> str | None:
    """The currency to show: the workspace ``setting`` when there is one, else one detected
    from the names of the raw columns mapped to money roles (``mapping``: raw column ->
    role, as in :attr:`profiling.data.ingest.CleaningReport.mapping`), else None."""
    if setting:
        return normalize_currency(setting)
    money_roles = {"price", "amount", "currency"}
    return detect_currency([c for c, role in mapping.items() if role in money_roles])


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value, decimals: int = 2) -> str:
    """Thousands separators, at most ``decimals`` decimals, trailing zeros dropped:
    559.2500000000001 -> "559.25", 1234.0 -> "1,234" (in the current language)."""
    if _missing(value):
        return "—"
    return i18n.format_number(float(value), decimals)


def count(value) -> str:
    """A whole count with thousands separators: 12345 -> "12,345"."""
    return "—" if _missing(value) else i18n.format_number(round(float(value)), 0)


def _symbol_and_space(currency: str) -> tuple[str, str]:
    """The currency's symbol in the current language, and a space after it when the
    symbol is letters ("CHF 12.00", but "£12.00")."""
    sym = i18n.currency_symbol(currency)
    return sym, " " if sym.isascii() and sym.isalpha() else ""


def money(value, currency: str | None = None, compact: bool = False) -> str:
    """Money with its currency: "£1,234.50"; "CHF 12.00"; "1,234.50" when the currency is
    unknown. ``compact`` shortens large values ("£8.31M"; "¥831万" in Chinese)."""
    if _missing(value):
        return "—"
    v = float(value)
    sign = "-" if v < 0 else ""
    v = abs(v)
    body = i18n.format_fixed(v, 2)
    if compact and v >= 1e3:
        if i18n.get_language() == "en":
            for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
                if v >= limit:
                    body = i18n.format_fixed(v / limit, 2) + suffix
                    break
        else:
            body = format_compact_decimal(v, fraction_digits=2, locale=i18n.babel_locale())
    if currency:
        sym, space = _symbol_and_space(currency)
        return f"{sign}{sym}{space}{body}"
    return f"{sign}{body}"


def percent(value, decimals: int = 1) -> str:
    """A share 0-1 as a percentage: 0.1234 -> "12.3%"."""
    return "—" if _missing(value) else i18n.format_percent_value(float(value), decimals)


def ordinal(n) -> str:
    """1 -> "1st", 2 -> "2nd", 3 -> "3rd", 11 -> "11th", 52 -> "52nd" (Chinese: "第52")."""
    n = round(float(n))
    if 10 <= n % 100 <= 20:
        return _("{n}th").format(n=n)
    forms = {1: _("{n}st"), 2: _("{n}nd"), 3: _("{n}rd")}
    return forms.get(n % 10, _("{n}th")).format(n=n)


def days(value) -> str:
    """Whole days: 97.1958 -> "97 days", 1.2 -> "1 day" (Chinese: "97天")."""
    if _missing(value):
        return "—"
    n = round(float(value))
    return i18n.ngettext("{n} day", "{n} days", n).format(n=i18n.format_number(n, 0))


def date(value: dt.date | dt.datetime | None) -> str:
    """A date for people: "7 Dec 2026"; "2026年12月7日" in Chinese."""
    return "—" if value is None else i18n.format_date_value(value)


def month(value: dt.date | dt.datetime | None) -> str:
    """A month for people: "Dec 2026"; "2026年12月" in Chinese."""
    return "—" if value is None else i18n.format_month_value(value)


def value(v, kind: str, currency: str | None = None) -> str:
    """Format ``v`` by a glossary formatter kind."""
    if _missing(v):
        return "—"
    if kind == G.MONEY:
        return money(v, currency)
    if kind == G.DAYS:
        return days(v)
    if kind == G.SHARE:
        return percent(v)
    if kind == G.COUNT:
        return count(v)
    if kind in (G.NUMBER, G.SCORE, G.RATING):
        return number(v, 2)
    if kind == G.HOUR:
        return f"{int(v):02d}:00"
    return str(v)


def feature(v, name: str, currency: str | None = None) -> str:
    """Format the value of feature or metric ``name`` by its glossary kind."""
    return value(v, G.kind(name), currency)


def column_format(kind: str, currency: str | None = None) -> str | None:
    """The ``format`` of a ``st.column_config.NumberColumn`` for a kind (printf style with
    thousands separators), or None for non-numbers."""
    if kind == G.MONEY:
        prefix = "".join(_symbol_and_space(currency)) if currency else ""
        return f"{prefix}%,.2f"
    return {
        G.DAYS: _("%,.0f days"),
        G.SHARE: "percent",
        G.COUNT: "%,d",
        G.NUMBER: "%,.2f",
        G.SCORE: "%.2f",
        G.RATING: "%.2f",
        G.HOUR: _("%d h"),
    }.get(kind)


def round_for_export(frame: pl.DataFrame) -> pl.DataFrame:
    """Float columns rounded by their glossary kind: money to cents, days to 2 decimals,
    shares and other ratios to 4 (no float noise such as 559.2500000000001)."""
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype.is_float():
            k = G.kind(name)
            d = {G.MONEY: MONEY_DECIMALS, G.DAYS: DAYS_DECIMALS}.get(k, RATIO_DECIMALS)
            exprs.append(pl.col(name).round(d))
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs)


def for_export(frame: pl.DataFrame, currency: str | None = None) -> pl.DataFrame:
    """A frame of profile columns ready for a CSV a person opens: values rounded
    (:func:`round_for_export`) and every glossary column renamed to its plain label with
    the unit ("days since last order (days)", "net spend (GBP)"). ``user_id`` keeps its
    name so that audiences can be matched back by id."""
    out = round_for_export(frame)
    names = {c: G.header(c, currency) for c in out.columns if c != "user_id" and G.known(c)}
    # two columns must not end up with one header
    if len(set(names.values())) < len(names):
        return out
    return out.rename(names)
