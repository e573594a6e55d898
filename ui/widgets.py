"""Shared widgets: the sidebar dataset picker, the dataset header and error display."""

from __future__ import annotations

import re
from datetime import datetime, time

import polars as pl
import streamlit as st

from profiling.data.dataset import Dataset
from profiling.data.ingest.report import MISSING_USER
from profiling.profiles.features import user_attributes
from profiling.profiles.users import pick_random, users_in
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from ui import data, profiles, security, state
from ui.i18n import fragment
from ui.text import escape_markdown, show_error, write_text  # noqa: F401 (re-exported)


def _pick_workspace() -> None:
    slug = st.session_state.get(state.PICKER)
    if slug:
        data.switch_to(slug)


def sidebar_dataset_picker() -> None:
    """Sidebar: every saved workspace, with the one named in the URL selected."""
    active = data.active_slug()
    names = security.visible(data.catalog(), security.signed_in_email())
    slugs = list(names)
    # the widget follows the URL, which a link, the Data page or a reload may change
    st.session_state[state.PICKER] = active if active in names else None
    with st.sidebar:
        st.markdown("**" + _("Workspace") + "**")
        st.selectbox(
            _("Workspace"),
            slugs,
            format_func=lambda s: names.get(s, s),
            index=None,
            placeholder=_("Choose a workspace"),
            label_visibility="collapsed",
            key=state.PICKER,
            on_change=_pick_workspace,
        )
        st.caption(_("Save uploads as a workspace on the **Data** page."))


def dataset_caption(ds: Dataset) -> None:
    """Workspace name, rows and dates in one line (the content fingerprint is in
    :func:`analyst_details`)."""
    s = ds.summary()
    start, end = s["start"], s["end"]
    st.caption(
        _("Workspace **{name}** · {rows} rows · {start} to {end}").format(
            name=escape_markdown(ds.name),
            rows=fmt.count(s["events"]),
            start=fmt.date_text(start),
            end=fmt.date_text(end),
        )
    )


def analyst_details(ds: Dataset, terms: list[str] = ()) -> None:
    """An "Analyst details" expander: the technical name and definition of every figure the
    page shows (from the glossary) and the dataset's content fingerprint."""
    with st.expander(_("Analyst details"), icon=":material/science:"):
        rows = [
            {_("on this page"): G.label(t), _("technical name and definition"): G.help_text(t)}
            for t in terms
        ]
        if rows:
            st.dataframe(rows, hide_index=True, width="stretch")
        st.caption(
            _(
                "Data version (content fingerprint): `{fingerprint}`. Every cached or saved "
                "result is tied to it."
            ).format(fingerprint=escape_markdown(ds.fingerprint[:16]))
        )


def money(value: float | None, currency: str | None = None) -> str:
    """Money with its currency when known, large values shortened ("£8.31M")."""
    return fmt.money(value, currency, compact=True)


def currency_suggestion() -> None:
    """When no setting and no column name says which currency but a country or locale column
    suggests one: say so, with where it came from, and a button to confirm it (the Currency
    setting on the Overview changes it). Nothing otherwise."""
    from ui import overview as ov

    hint = ov.currency_suggestion()
    if hint is None:
        return
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.info(
        _(
            "Currency: **{suggestion}** ({share} of customers). The files name no currency, "
            "so money is shown in {code} until you confirm it or choose another under "
            "Currency on the Overview."
        ).format(
            suggestion=escape_markdown(hint.sentence()),
            share=fmt.percent(hint.share, 0),
            code=hint.code,
        ),
        icon=":material/payments:",
    )
    if right.button(_("Confirm {code}").format(code=hint.code), key="ps_currency_confirm"):
        ov.set_currency(hint.code)
        st.rerun()


def quality_badge(ds: Dataset) -> None:
    """A badge with the share of rows kept, linking to the cleaning report. Rows without a
    customer id (guest checkouts) are expected in retail exports: they are left out of the
    share and explained in one line by the Overview instead."""
    rep = ds.report.events
    guests = rep.count(MISSING_USER)
    considered = max(rep.rows_read - guests, 1)
    share = min(rep.rows_kept / considered, 1.0) if rep.rows_read else ds.report.quality
    color = "green" if share >= 0.98 else "orange" if share >= 0.8 else "red"
    repaired = sum(r.count for r in rep.reasons if r.action != "dropped")
    st.badge(
        _(
            "Data quality: {share} of {rows} rows with a customer id kept · {dropped} dropped "
            "· {repaired} repaired or flagged"
        ).format(
            share=fmt.percent(share),
            rows=fmt.count(considered),
            dropped=fmt.count(rep.rows_dropped - guests),
            repaired=fmt.count(repaired),
        ),
        icon=":material/verified:" if color == "green" else ":material/warning:",
        color=color,
    )
    # a button, not st.page_link: AppTest loses the sidebar on reruns of pages with page links
    if st.button(_("See the cleaning report"), icon=":material/fact_check:", type="tertiary"):
        st.switch_page("app_pages/data.py")


def open_user(user_id: str) -> None:
    """Callback: show ``user_id`` on the User profile page (runs before widgets exist)."""
    st.session_state[state.USER_PICK] = user_id


def member_rows(members: pl.DataFrame, segment_label, n: int = 1000) -> pl.DataFrame:
    """The first ``n`` members as the members table shows them: RFM and custom segment names
    (the custom segment's "Everyone else") in the reader's language (``segment_label``) and a
    first column "profile" linking to each member's profile in the active workspace."""
    shown = members.head(n)
    for column in ("rfm_segment", "custom"):
        if column not in shown.columns:
            continue
        names = shown[column].unique().drop_nulls().to_list()
        shown = shown.with_columns(
            pl.col(column).replace_strict(
                {name: segment_label(name) for name in names},
                default=None,
                return_dtype=pl.String,
            )
        )
    links = [profile_link(u) for u in shown["user_id"]]
    return shown.insert_column(0, pl.Series("profile", links, pl.String))


def profile_link(user_id: str) -> str:
    """A relative link to ``user_id``'s profile in the active workspace
    ("user?ws=my-shop&user=12346"): the workspace stays the one in the URL."""
    from urllib.parse import urlencode

    spec = data.resolved_spec()
    params = {state.WS_PARAM: spec.slug} if spec is not None else {}
    return "user?" + urlencode(params | {state.USER_PARAM: str(user_id)})


def open_segment_member() -> None:
    """Callback: when a segment is picked on the User page, show one of its members."""
    choice = st.session_state.get(state.USER_SEGMENT)
    seg = profiles.active_segmentation()
    if not choice or seg is None:
        return
    members = users_in(seg.assignments, choice)
    if members and st.session_state.get(state.USER_PICK) not in set(members):
        open_user(pick_random(profiles.active_profiles(), among=members))


def plain(value: object) -> str:
    """A value for display: whole floats without ".0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _attribute_text(value: object) -> str:
    """A date-time at midnight reads as its date; anything else as :func:`plain`."""
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    return plain(value)


def attribute_line(row: dict) -> str:
    """ "age: **27** · gender: **F** · income: **35-49K**" for every user-table attribute
    a user has; names and values are escaped, so they render as plain text in Markdown."""
    parts = [
        f"{escape_markdown(str(k))}: **{escape_markdown(_attribute_text(v))}**"
        for k, v in user_attributes(row).items()
    ]
    return " · ".join(parts) if parts else _("No user attributes in this dataset.")


def tag_badge(tag: str) -> str:
    """A green Streamlit badge for a tag (Markdown, escaped; the rules are listed in the
    "What the tags mean" expander, no HTML)."""
    return f":green-badge[{escape_markdown(tag)}]"


def segment_badge(color: str, label: str, value: object) -> str:
    """``:blue-badge[RFM: Champions]`` with the value from the data escaped."""
    return f":{color}-badge[{label}: {escape_markdown(value)}]"


def badge_line(badges: list[str]) -> str:
    """Streamlit badge markup separated by spaces."""
    return " ".join(badges)


METHODS_HELP = N_(
    "**UMAP** keeps each user's neighbours together: groups stand out. It is computed in "
    "the background the first time.\n\n**PCA** is a linear projection drawn at once: "
    "global distances are kept, groups blur."
)
"""The projection switch's help (a msgid: translate it where it is shown)."""

MAP_GUIDE = N_(
    "- **Points close together behave alike.** Each point is one user, placed from their "
    "profile (how much and how often they buy, what they browse, when they shop, which "
    "categories).\n"
    "- **Groups of points** are kinds of customers. Colour by *RFM segment* or *Cluster* to "
    "see whether the named segments match the groups the map finds on its own.\n"
    "- **Distances between far-apart groups mean little in UMAP**: it keeps neighbours "
    "together but may place unrelated groups anywhere. PCA keeps global distances but blurs "
    "groups.\n"
    "- **The axes have no units.** Only positions relative to each other matter.\n"
    "- **Big points spent more** when sizing by money is on.\n"
    "- Hover for a user's id, segments and key figures; click a point to open their profile."
)
"""How to read the Profile map (a msgid: translate it where it is shown)."""


def map_axis_titles(emb) -> tuple[str, ...]:
    """ "PC1 (15% of variance)" for PCA, "UMAP 1" for UMAP."""
    n = emb.params.n_components
    if emb.params.method == "pca":
        var = list(emb.explained_variance) + [0.0] * n
        return tuple(
            _("PC{n} ({share} of variance)").format(n=i + 1, share=fmt.percent(var[i], 0))
            for i in range(n)
        )
    return tuple(f"UMAP {i + 1}" for i in range(n))


def map_title(emb, source_label: str) -> str:
    return _("{method} map of {n} users · {source}").format(
        method=emb.params.method.upper(), n=fmt.count(emb.coords.height), source=source_label
    )


def map_footer(emb) -> str:
    if emb.params.method == "umap":
        return _(
            "{method} of {n} standardized inputs, {neighbours} neighbours, minimum distance "
            "{min_dist}; computed in {seconds} s and cached for this dataset."
        ).format(
            method="UMAP",
            n=len(emb.features),
            neighbours=emb.params.n_neighbors,
            min_dist=fmt.number(emb.params.min_dist, 2),
            seconds=fmt.number(emb.seconds, 1),
        )
    return _(
        "{method} of {n} standardized inputs; computed in {seconds} s and cached for this dataset."
    ).format(
        method=emb.params.method.upper(),
        n=len(emb.features),
        seconds=fmt.number(emb.seconds, 1),
    )


def picked_user(event) -> str | None:
    """The user id of the point clicked on a map chart, if any."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for p in points:
        custom = p.get("customdata")
        if custom:
            return str(custom[0])
    return None


def file_slug(text: str) -> str:
    """A piece of a download's file name: "Can't lose them" -> "can-t-lose-them"."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "segment"


def from_url(key: str, param: str, allowed) -> None:
    """Before a widget is drawn: take its value from the URL (``?param=``) the first time
    this session sees it, when the value is one the widget offers."""
    value = st.query_params.get(param)
    if value is None or key in st.session_state:
        return
    for option in allowed:
        if str(option) == value:
            st.session_state[key] = option
            return


def to_url(param: str, value) -> None:
    """After a widget is drawn: put its value in the URL so that a shared link keeps it."""
    if value is None:
        st.query_params.pop(param, None)
    elif st.query_params.get(param) != str(value):
        st.query_params[param] = str(value)


def job_progress(job, text: str) -> None:
    """A background job's progress bar, refreshing itself every second; one full run of the
    page when the job is done. A failed job's error is shown instead."""
    if job.failed:
        st.error(
            _("{task} failed: {error}").format(task=text, error=escape_markdown(job.error)),
            icon=":material/error:",
        )
        return

    @fragment(run_every=1.0)
    def poll() -> None:
        if job.done:
            st.rerun()
        st.progress(
            min(job.progress, 1.0),
            text=_(
                "{task} in the background ({message}, {seconds} s). Other pages stay usable "
                "meanwhile."
                # a job's message is a msgid (a worker thread does not know who reads it)
            ).format(
                task=text,
                message=_(job.message) if job.message else "",
                seconds=f"{job.elapsed:.0f}",
            ),
        )

    poll()
