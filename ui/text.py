"""Text from the data, shown as text: the one escaping helper every page and widget uses.

Ids, titles, categories, brands, attribute values, column names, file names, segment names
and error messages quoting them come from uploaded files. Streamlit reads Markdown (and its
``:red[...]`` directives) in most labels, so every such string goes through
:func:`escape_markdown` before it reaches ``st.markdown``/``st.caption``/``st.header``/labels,
or is shown with ``st.text``/a dataframe cell. No page renders HTML from data.
"""

from __future__ import annotations

import re

import streamlit as st

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def escape_markdown(text: object) -> str:
    """Backslash-escape every character Markdown (and Streamlit's directives) could read as
    markup, so that a value from the data renders as the plain text it is. Newlines become
    spaces (a value cannot start a heading or a list on a line of its own)."""
    s = str(text).replace("\r", " ").replace("\n", " ")
    return MARKDOWN_SPECIAL.sub(r"\\\1", s)


def show_error(exc: BaseException) -> None:
    """An error box with the exception's message as plain text (messages quote the data)."""
    st.error(escape_markdown(str(exc)), icon=":material/error:")


def write_text(message: object) -> None:
    """A progress line (e.g. inside ``st.status``) whose text may quote file names."""
    st.markdown(escape_markdown(message))
