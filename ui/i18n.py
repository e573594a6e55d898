"""Choosing the language: the URL (``?lang=zh``), then this session's choice, then the
language this browser chose last time (a cookie), then the browser's own language
(``st.context.locale``), then English. The sidebar switch changes it for the session, the
URL (so a shared link opens in the sender's language) and the browser.
"""

from __future__ import annotations

import functools

import streamlit as st

from profiling.vocabulary import i18n
from ui import state

_COOKIE_DAYS = 365


def _chosen() -> str:
    from_url = i18n.normalize(st.query_params.get(state.LANG_PARAM))
    if from_url:
        return from_url
    return (
        i18n.normalize(st.session_state.get(state.LANG))
        or i18n.normalize(st.context.cookies.get(state.LANG_COOKIE))
        or i18n.normalize(st.context.locale)
        or i18n.DEFAULT
    )


def _switch() -> None:
    lang = i18n.normalize(st.session_state.get(state.LANG_PICK))
    if lang:
        st.session_state[state.LANG] = lang
        st.query_params[state.LANG_PARAM] = lang


def _remember_in_browser(lang: str) -> None:
    """Set the cookie a first visit reads. ``lang`` is one of a fixed set of codes, never
    text from the request."""
    if lang not in i18n.LANGUAGES:
        return
    max_age = _COOKIE_DAYS * 24 * 3600
    st.html(
        f"<script>document.cookie = '{state.LANG_COOKIE}={lang}; path=/; "
        f"max-age={max_age}; SameSite=Lax';</script>",
        unsafe_allow_javascript=True,
        width="content",
    )


def choose_language() -> str:
    """Set the language of this page run, keep it in the URL and the session, and show the
    sidebar switch. Call once per run, before anything shows a word."""
    lang = _chosen()
    st.session_state[state.LANG] = lang
    if st.query_params.get(state.LANG_PARAM) != lang:
        st.query_params[state.LANG_PARAM] = lang  # moving between pages clears the URL
    i18n.set_language(lang)
    st.session_state[state.LANG_PICK] = lang  # the switch follows the URL
    with st.sidebar:
        st.segmented_control(
            i18n.gettext("Language"),
            list(i18n.LANGUAGES),
            format_func=i18n.LANGUAGES.get,
            key=state.LANG_PICK,
            on_change=_switch,
            label_visibility="collapsed",
        )
        if i18n.normalize(st.context.cookies.get(state.LANG_COOKIE)) != lang:
            _remember_in_browser(lang)
    return lang


def in_session_language() -> None:
    """Set this session's language for a fragment's rerun: a fragment runs alone, without
    the router that calls :func:`choose_language`, so its words would read in English."""
    i18n.set_language(i18n.normalize(st.session_state.get(state.LANG)) or i18n.DEFAULT)


def fragment(func=None, *, run_every: float | None = None):
    """``st.fragment`` whose reruns read in this session's language (a fragment reruns alone,
    without the router that sets it): every fragment of the app is made with this, as
    ``@fragment(run_every=2.0)`` or ``fragment(f, run_every=...)(args)``. Streamlit tells
    fragments apart by the function's module and qualified name, which are kept."""

    def wrap(f):
        @functools.wraps(f)
        def in_language(*args, **kwargs):
            in_session_language()
            return f(*args, **kwargs)

        return st.fragment(in_language, run_every=run_every)

    return wrap(func) if func is not None else wrap


def cached(spinner: str, **kwargs):
    """``st.cache_resource`` whose spinner reads in the page's language: ``spinner`` is an
    English msgid (marked with ``N_`` where it is written). Streamlit fixes a cached
    function's spinner text when it is decorated, so there is one decoration per language,
    made on first use; they share one cache (Streamlit keys it by the function), and the
    spinner shows only when a call has to compute. ``.clear()`` clears that cache."""

    def wrap(f):
        by_language: dict[str, object] = {}

        def decorated(lang: str):
            if lang not in by_language:
                with i18n.language(lang):
                    text = i18n.gettext(spinner)
                by_language[lang] = st.cache_resource(show_spinner=text, **kwargs)(f)
            return by_language[lang]

        @functools.wraps(f)
        def in_language(*args, **kw):
            return decorated(i18n.get_language())(*args, **kw)

        in_language.clear = lambda: decorated(i18n.DEFAULT).clear()
        return in_language

    return wrap
