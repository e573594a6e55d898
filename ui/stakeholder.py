"""The stakeholder report button: prepares the HTML and PDF report of the active workspace
(headline numbers, the segments on screen, the newest saved model comparison) under its
privacy settings, then offers both files for download."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import streamlit as st

from profiling.errors import ProfilingError
from profiling.present import report as R
from profiling.profiles.segments import SegmentDescription
from profiling.vocabulary import i18n
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from ui import data, overview, persist, privacy, profiles
from ui.data import WorkspaceRef
from ui.recommenders import Run
from ui.text import show_error

READY = "ps_report_ready"  # cache key of the report prepared in this session
KIND_WORDS = {
    "RFM segments": N_("RFM segments"),
    "Clusters": N_("clusters of similar customers"),
    "Custom rule": N_("groups"),
}
"""How the report names the kind of segments in its sentences (English msgids)."""


def comparison_section(info, value, version: str) -> R.SavedComparison | R.MissingSection:
    """The report's view of the newest comparison saved by the Recommenders page (a
    :class:`ui.recommenders.Run`), or the section marked missing, with why, when the saved
    value cannot be read (saved by an older version of the app)."""
    if not isinstance(value, Run):
        return R.MissingSection(
            R.MODELS_TITLE,
            _(
                "the comparison saved on {day} was made by an older version of the app and "
                "cannot be read; run it again on the Recommenders page"
            ).format(day=info.saved_at[:10]),
        )
    split = value.comp.split
    return R.SavedComparison(
        value.metrics,
        split.description,
        datetime.fromisoformat(info.data_end),
        info.data_version != version,
        cutoff=split.cutoff,
    )


def _saved_comparison(ref: WorkspaceRef) -> R.SavedComparison | R.MissingSection | None:
    found = persist.store(ref).newest("comparison")
    return None if found is None else comparison_section(*found, ref.version)


@st.cache_data(max_entries=4, show_spinner=False)
def _prepare(
    key: str,
    _ref: WorkspaceRef,
    _descriptions: list[SegmentDescription],
    kind: str,
    min_group: int,
    epsilon: float | None,
    currency: str | None = None,
    _noisy_sizes: dict[str, int] | None = None,
    lang: str = i18n.DEFAULT,
) -> tuple[str, bytes, str, list[str]]:
    """(html, pdf, privacy sentence, one sentence per section that could not be built) of
    the report in ``lang``; ``key`` names everything it depends on (the language and the
    segment scheme included). DP noise is drawn once per key, so the HTML and the PDF show
    the same noisy sizes."""
    with i18n.language(lang):
        ds = data.load(_ref)
        saved = _saved_comparison(_ref)
        kind_words = _(KIND_WORDS[kind]) if kind in KIND_WORDS else kind
    rep = R.build_report(
        ds,
        _descriptions,
        segment_kind=kind_words,
        comparison=saved if isinstance(saved, R.SavedComparison) else None,
        missing=[saved] if isinstance(saved, R.MissingSection) else [],
        min_group=min_group,
        epsilon=epsilon,
        currency=currency,
        noisy_sizes=_noisy_sizes,  # the release the pages show (DP on), not a new draw
        language=lang,
    )
    with i18n.language(lang):
        gaps = [m.sentence() for m in rep.missing]
    return rep.html, R.html_to_pdf(rep.html), " ".join(rep.notes), gaps


def report_key(
    ref: WorkspaceRef,
    descriptions: list[SegmentDescription],
    kind: str,
    s,
    currency: str | None,
    lang: str,
    scheme: str,
) -> str:
    """The cache key of a prepared report: everything its text depends on, the language
    and the workspace's segment scheme (how RFM segments are named) included."""
    newest = persist.store(ref).newest_info("comparison")
    parts = {
        "ws": ref.key(),
        "lang": lang,
        "scheme": scheme,
        "kind": kind,
        "k": s.min_group,
        "eps": s.dp_epsilon,
        "cur": currency,
        "segments": [(d.segment, d.name, d.users, d.definition) for d in descriptions],
        "comparison": newest.saved_at if newest else None,
    }
    return hashlib.blake2b(json.dumps(parts, default=str).encode(), digest_size=12).hexdigest()


def report_button(descriptions: list[SegmentDescription], kind: str) -> None:
    """One button that prepares the stakeholder report (HTML and PDF) of the active
    workspace with the segments on screen; download buttons once it is ready."""
    ref = data.resolved_spec()
    if ref is None or not descriptions:
        return
    s = privacy.current()
    money = overview.currency()
    lang = i18n.get_language()
    key = report_key(ref, descriptions, kind, s, money, lang, profiles.scheme_of(ref))
    noisy = privacy.noisy_sizes(descriptions)
    with st.container(border=True):
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(
            _(
                "**Stakeholder report**: headline numbers, these segments and the latest saved "
                "model comparison, with charts and a short summary of each, as a web page and "
                "a PDF."
            )
        )
        if right.button(_("Prepare the report"), icon=":material/description:", key="ps_report"):
            try:
                with st.spinner(_("Drawing the charts and printing the PDF…")):
                    _prepare(
                        key, ref, descriptions, kind, s.min_group, s.dp_epsilon, money, noisy, lang
                    )
            except ProfilingError as exc:
                show_error(exc)
                return
            st.session_state[READY] = key
        if st.session_state.get(READY) != key:
            return
        page, pdf, note, gaps = _prepare(
            key, ref, descriptions, kind, s.min_group, s.dp_epsilon, money, noisy, lang
        )
        for gap in gaps:
            st.warning(gap, icon=":material/warning:")
        stem = f"customer-report-{ref.slug}"
        d1, d2, d3 = st.columns([1, 1, 2])
        d1.download_button(
            _("Download (web page)"),
            page,
            file_name=f"{stem}.html",
            mime="text/html",
            icon=":material/download:",
            key="ps_report_html",
        )
        d2.download_button(
            _("Download (PDF)"),
            pdf,
            file_name=f"{stem}.pdf",
            mime="application/pdf",
            icon=":material/picture_as_pdf:",
            key="ps_report_pdf",
        )
        if note:
            d3.caption(note)
