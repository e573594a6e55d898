"""Number formatting for people: money with its currency, thousands separators, percentages,
whole days; the column formats tables use; exports rounded to sensible precision with the
unit in the header. Values are formatted where they are shown, never rounded in the data.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

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
DATE_FORMAT = "%d %b %Y"  # "07 Jan 2024": the one date format of every page and the report
DATETIME_FORMAT = "%d %b %Y %H:%M"  # "07 Jan 2024 14:05"
GRID_DATETIME_FORMAT = "DD MMM YYYY HH:mm"  # the same, in the data grid's (moment.js) words


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
            _("currency setting"),
            _(
                "expected an ISO 4217 code such as GBP, USD or EUR (or £, $, €), got {text!r}"
            ).format(text=text),
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


#: the currency of a country (lower-case name or ISO 3166 alpha-2 code), for suggestions
COUNTRY_CURRENCY: dict[str, str] = {
    "united kingdom": "GBP",
    "uk": "GBP",
    "gb": "GBP",
    "great britain": "GBP",
    "england": "GBP",
    "scotland": "GBP",
    "wales": "GBP",
    "northern ireland": "GBP",
    "united states": "USD",
    "united states of america": "USD",
    "usa": "USD",
    "us": "USD",
    "japan": "JPY",
    "jp": "JPY",
    "india": "INR",
    "in": "INR",
    "switzerland": "CHF",
    "ch": "CHF",
    "canada": "CAD",
    "ca": "CAD",
    "australia": "AUD",
    "au": "AUD",
    "new zealand": "NZD",
    "nz": "NZD",
    "china": "CNY",
    "cn": "CNY",
    "sweden": "SEK",
    "se": "SEK",
    "norway": "NOK",
    "no": "NOK",
    "denmark": "DKK",
    "dk": "DKK",
    "poland": "PLN",
    "pl": "PLN",
    "brazil": "BRL",
    "br": "BRL",
    "mexico": "MXN",
    "mx": "MXN",
    "south africa": "ZAR",
    "za": "ZAR",
    "hong kong": "HKD",
    "hk": "HKD",
    "singapore": "SGD",
    "sg": "SGD",
    "south korea": "KRW",
    "korea": "KRW",
    "kr": "KRW",
    **{
        c: "EUR"
        for c in (
            "germany",
            "de",
            "france",
            "fr",
            "spain",
            "es",
            "italy",
            "it",
            "netherlands",
            "nl",
            "belgium",
            "be",
            "austria",
            "at",
            "ireland",
            "eire",
            "ie",
            "portugal",
            "pt",
            "finland",
            "fi",
            "greece",
            "gr",
            "luxembourg",
            "lu",
            "slovakia",
            "sk",
            "slovenia",
            "si",
            "estonia",
            "ee",
            "latvia",
            "lv",
            "lithuania",
            "lt",
            "malta",
            "mt",
            "cyprus",
            "cy",
            "croatia",
            "hr",
        )
    },
}
SUGGEST_SHARE = 0.8  # the dominant value must cover this share of the rows to suggest


@dataclass(frozen=True)
class CurrencySuggestion:
    """A currency suggested from a country or locale column the files have, for a person to
    confirm or change: ``code`` from ``column`` (the file's own name) = ``value``, which
    covers ``share`` (0-1) of the non-empty values."""

    code: str
    column: str
    value: str
    share: float

    def sentence(self) -> str:
        """ "GBP, suggested from Country = United Kingdom"."""
        return f"{self.code}, suggested from {self.column} = {self.value}"


def _currency_of_place(value: str) -> str | None:
    text = value.strip().lower()
    if text in COUNTRY_CURRENCY:
        return COUNTRY_CURRENCY[text]
    # a locale such as en_GB, en-US or de_DE.UTF-8: its territory names the country
    m = re.fullmatch(r"[a-z]{2,3}[-_]([a-z]{2})(?:\.[\w-]+)?", text)
    return COUNTRY_CURRENCY.get(m.group(1)) if m else None


def suggest_currency(
    columns: dict[str, pl.Series], min_share: float = SUGGEST_SHARE
) -> CurrencySuggestion | None:
    """A currency suggested from the first of ``columns`` (raw column name -> values of a
    country, region or locale column) whose most common value covers at least
    ``min_share`` of its non-empty values and names a country or locale with a known
    currency; None when none does (a suggestion, never a detection: the files name no
    currency)."""
    for name, values in columns.items():
        v = values.cast(pl.String, strict=False).drop_nulls().str.strip_chars()
        v = v.filter(v.str.len_chars() > 0)
        if v.len() == 0:
            continue
        top = v.value_counts(sort=True, name="n").row(0)
        share = top[1] / v.len()
        code = _currency_of_place(top[0])
        if share >= min_share and code is not None:
            return CurrencySuggestion(code, name, top[0], share)
    return None


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


def date_text(value) -> str:
    """A date or timestamp as "07 Jan 2024" (:data:`DATE_FORMAT`; "2024年1月7日" in
    Chinese); "—" when missing."""
    return "—" if _missing(value) else i18n.format_date_value(value)


def datetime_text(value) -> str:
    """A timestamp as "07 Jan 2024 14:05" (:data:`DATETIME_FORMAT`; "2024年1月7日 14:05" in
    Chinese), no "+00:00"."""
    return "—" if _missing(value) else f"{i18n.format_date_value(value)} {value:%H:%M}"


def days(value) -> str:
    """Whole days: 97.1958 -> "97 days", 1.2 -> "1 day" (Chinese: "97天")."""
    if _missing(value):
        return "—"
    n = round(float(value))
    return i18n.ngettext("{n} day", "{n} days", n).format(n=i18n.format_number(n, 0))


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
    if kind == G.PERCENTILE:
        return f"{float(v):.0f}"
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
        G.DAYS: "%,.0f",  # the label says "days" ("1 days" is what a fixed suffix gives)
        G.PERCENTILE: "%.0f",
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
