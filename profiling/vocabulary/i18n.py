"""Languages: the current language (context-local), message lookup through gettext
catalogs (``locale/<lang>/LC_MESSAGES/persona.po``, compiled with Babel on first use), and
numbers, percentages, money and dates formatted by Babel for that language.

Words shown to people are written in English in the code and wrapped: ``_("orders")`` is
looked up now, ``N_("orders")`` only marks a string for extraction (the glossary keeps its
English msgids and translates when a label is read, so a label follows the language of
the page that shows it). ``pybabel extract -F babel.cfg`` finds both (see
``docs/languages.md``).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import gettext as _gettext
import hashlib
import io
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, get_currency_symbol

from profiling import errors as _errors

log = logging.getLogger(__name__)

DOMAIN = "persona"
DEFAULT = "en"
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
"""Supported languages: code -> its name in itself (what the switch shows)."""

CATALOG_LOCALES: dict[str, str] = {"en": "en", "zh": "zh_CN"}
"""The folder of each language under ``locale/`` (a gettext locale name)."""

BABEL_LOCALES: dict[str, str] = {"en": "en", "zh": "zh_CN"}
"""The CLDR locale of each language, for numbers, money and dates."""

DATE_FORMATS: dict[str, str] = {"en": "dd MMM y", "zh": "long"}
"""Dates: "07 Dec 2026" in English (as ``fmt.DATE_FORMAT``), "2026年12月7日" in Chinese."""
MONTH_FORMATS: dict[str, str] = {"en": "MMM y", "zh": "y年M月"}
"""Months: "Dec 2026" in English, "2026年12月" in Chinese."""

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("persona_language", default=DEFAULT)
_lock = threading.Lock()
_translations: dict[str, _gettext.NullTranslations] = {}


def normalize(code: str | None) -> str | None:
    """A language code as one of :data:`LANGUAGES`, or None: "zh-CN", "zh_Hans", "ZH"
    -> "zh"; "en-GB" -> "en"; "fr", "" or None -> None."""
    if not code:
        return None
    base = str(code).strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def get_language() -> str:
    """The language of the current context (a page run, a thread, a CLI run): "en" unless
    set."""
    return _current.get()


def set_language(code: str) -> str:
    """Make ``code`` the language of the current context; returns the normalized code.

    Raises ValueError naming the code when it is not one of :data:`LANGUAGES`."""
    lang = normalize(code)
    if lang is None:
        # an unknown code is an error, not silently English
        raise ValueError(f"language: expected one of {', '.join(LANGUAGES)}, got {code!r}")
    _current.set(lang)
    return lang


@contextmanager
def language(code: str) -> Iterator[str]:
    """``with language("zh"): ...`` runs the block in that language, then restores."""
    lang = normalize(code)
    if lang is None:
        raise ValueError(f"language: expected one of {', '.join(LANGUAGES)}, got {code!r}")
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


# ---- catalogs -----------------------------------------------------------------------------
def po_path(lang: str) -> Path:
    """The catalog file of a language in the repository."""
    return LOCALE_DIR / CATALOG_LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


def cache_dir() -> Path:
    """Where compiled ``.mo`` files go: ``$PERSONA_LOCALE_CACHE``, else
    ``~/.cache/persona-studio/locale`` (the repository may be read-only in a deployment)."""
    env = os.environ.get("PERSONA_LOCALE_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "persona-studio" / "locale"


def compile_catalog(lang: str) -> bytes:
    """The ``.mo`` bytes of a language, compiled from its ``.po`` with Babel; kept in
    :func:`cache_dir` under the digest of the ``.po``'s bytes, so two checkouts (or two
    versions) with different catalogs never read each other's compiled file."""
    po = po_path(lang)
    source = po.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    mo = cache_dir() / CATALOG_LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}-{digest}.mo"
    if mo.exists():
        return mo.read_bytes()
    catalog = read_po(io.BytesIO(source), locale=CATALOG_LOCALES[lang], domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    data = buf.getvalue()
    try:
        mo.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, mo)  # atomic: a concurrent reader sees the old file or the new one
    except OSError as exc:
        # a read-only home still gets its translations, compiled in memory for this process
        log.warning("could not cache the compiled %s catalog in %s: %s", lang, mo.parent, exc)
    return data


def translations(lang: str) -> _gettext.NullTranslations:
    """The gettext translations of a language (English: the msgids themselves)."""
    hit = _translations.get(lang)
    if hit is not None:
        return hit
    with _lock:
        if lang not in _translations:
            if lang == DEFAULT and not po_path(lang).exists():
                _translations[lang] = _gettext.NullTranslations()
            else:
                _translations[lang] = _gettext.GNUTranslations(io.BytesIO(compile_catalog(lang)))
        return _translations[lang]


def reload() -> None:
    """Forget compiled catalogs (after a ``.po`` changed in a running process)."""
    with _lock:
        _translations.clear()


def gettext(message: str) -> str:
    """``message`` in the current language (the English msgid when it has no translation)."""
    if not message:
        return message
    return translations(get_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language:
    ``ngettext("{n} day", "{n} days", n).format(n=n)``."""
    return translations(get_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (it is translated where
    it is shown, with :func:`gettext`)."""
    return message


# the ground floor's errors word their "file, column" prefix (and their own messages, through
# profiling.errors.translated) in the current language too
_errors.translate = gettext
N_("{source}, column '{column}'")  # the msgid profiling.errors.DataValidationError uses


# ---- formats ------------------------------------------------------------------------------
def babel_locale(lang: str | None = None) -> Locale:
    return Locale.parse(BABEL_LOCALES[lang or get_language()])


def format_number(value: float, decimals: int = 2) -> str:
    """Grouped digits, at most ``decimals`` decimals, trailing zeros dropped: 1234.5 ->
    "1,234.5"."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals > 0 else "")
    text = format_decimal(value, format=pattern, locale=babel_locale())
    return "0" if text in ("-0", "") else text


def format_fixed(value: float, decimals: int = 2) -> str:
    """Grouped digits with exactly ``decimals`` decimals: 1234.5 -> "1,234.50"."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=babel_locale())


def format_percent_value(share: float, decimals: int = 1) -> str:
    """A share 0-1 as a percentage with ``decimals`` decimals: 0.1234 -> "12.3%"."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
    return format_percent(share, format=pattern, locale=babel_locale())


def currency_symbol(code: str) -> str:
    """The symbol of an ISO 4217 code in the current language ("£", "$", "¥"; "CHF" when
    the locale has no symbol)."""
    return get_currency_symbol(code, locale=babel_locale())


def format_date_value(value: dt.date | dt.datetime) -> str:
    """A date for people: "07 Dec 2026" in English, "2026年12月7日" in Chinese."""
    day = value.date() if isinstance(value, dt.datetime) else value
    lang = get_language()
    return format_date(day, format=DATE_FORMATS[lang], locale=babel_locale(lang))


def format_month_value(value: dt.date | dt.datetime) -> str:
    """A month for people: "Dec 2026" in English, "2026年12月" in Chinese."""
    day = value.date() if isinstance(value, dt.datetime) else value
    lang = get_language()
    return format_date(day, format=MONTH_FORMATS[lang], locale=babel_locale(lang))
