"""User profile: who one user is, how they compare with everyone, what each model recommends."""

import streamlit as st

from profiling.errors import ProfilingError
from profiling.present import viz
from profiling.profiles.features import TAG_RULES
from profiling.profiles.segments import segment_label
from profiling.profiles.users import (
    bought_items,
    category_affinity,
    funnel,
    percentiles,
    pick_random,
    profile_document,
    rhythm,
    segment_choices,
    timeline,
    users_in,
)
from profiling.recommenders import registry
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import gettext as _
from ui import changes, data, labels, privacy, profiles, recommenders, state, widgets
from ui import live as live_ui
from ui import overview as ov
from ui import predict as pred_ui
from ui.i18n import fragment

st.title(_("User profile"))
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
privacy.retraining_note("model")  # after an erasure: why models are retrained
prof = profiles.active_profiles()
ids, row_of = profiles.user_ids()

# the user comes from the link (?user=ID), the search box, or the random button
missing = None
if state.USER_PICK not in st.session_state:
    linked = st.query_params.get(state.USER_PARAM)
    if linked is not None and linked not in row_of:
        missing = linked
    else:
        st.session_state[state.USER_PICK] = linked if linked is not None else ids[0]
if missing is not None:
    st.error(
        _(
            "User **{user}** is not in workspace **{workspace}** ({n} users). No other user "
            "is shown in its place: search for the user below, or check that the link names "
            "the right workspace."
        ).format(
            user=widgets.escape_markdown(missing),
            workspace=widgets.escape_markdown(ds.name),
            n=fmt.count(len(ids)),
        ),
        icon=":material/person_off:",
    )
    found = st.selectbox(
        _("Find a user (type to search)"),
        ids,
        index=None,
        placeholder=_("Type a user id"),
        key="ps_user_search_missing",
    )
    if found is None:
        st.stop()
    st.session_state[state.USER_PICK] = found
    st.rerun()
seg = profiles.active_segmentation()
choices = segment_choices(seg.assignments) if seg else {}
c1, c2, c3 = st.columns([4, 4, 2], vertical_alignment="bottom")
group = c2.selectbox(
    _("Pick from a segment"),
    list(choices),
    index=None,
    format_func=choices.get,
    placeholder=_("All customers"),
    key=state.USER_SEGMENT,
    on_change=widgets.open_segment_member,
)
pool = users_in(seg.assignments, group) if group else ids
# e.g. opened by a link or the map
if st.session_state[state.USER_PICK] not in (set(pool) if group else row_of):
    pool = [st.session_state[state.USER_PICK], *pool]
c3.button(
    _("Random user"),
    icon=":material/casino:",
    on_click=lambda: widgets.open_user(pick_random(prof, among=pool if group else None)),
)
listed, typed = profiles.search_options(pool, st.session_state[state.USER_PICK])
user = c1.selectbox(
    _("Find a user (type to search)"),
    listed,
    key=state.USER_PICK,
    accept_new_options=typed,
    help=_("The first {n} of {total} customers are listed; type any customer id.").format(
        n=fmt.count(len(listed)), total=fmt.count(len(pool))
    )
    if typed
    else None,
)
if user not in row_of:  # typed into a box that accepts any id
    st.error(
        _("No user **{user}** in workspace **{workspace}**; type another user id.").format(
            user=widgets.escape_markdown(user), workspace=widgets.escape_markdown(ds.name)
        ),
        icon=":material/person_off:",
    )
    st.stop()
st.query_params[state.USER_PARAM] = user
live_ui.watch_user(user)  # with a live feed: rerun when this user's events arrive
row = prof.row(row_of[user], named=True)

assign = profiles.assignment_of(user)
mine = ds.user_events(user)  # this user's rows, through the dataset's index

# --- header ----------------------------------------------------------------------------------
st.header(_("User {user}").format(user=widgets.escape_markdown(user)))
st.markdown(widgets.attribute_line(row))
badges = []
if assign.get("rfm_segment"):
    badges.append(widgets.segment_badge("blue", _("Segment"), segment_label(assign["rfm_segment"])))
if assign.get("cluster_name"):
    badges.append(widgets.segment_badge("violet", _("Group"), assign["cluster_name"]))
rules = {r.name: r.rule for r in TAG_RULES}
# tag names and rules are msgids (a tag from an older snapshot is shown as it is)
badges += [widgets.tag_badge(_(t)) for t in (row.get("tags") or [])]
st.markdown(widgets.badge_line(badges))
if row.get("tags"):
    with st.expander(_("What the tags mean")):
        for t in row["tags"]:
            rule = _(rules[t]) if t in rules else ""
            st.markdown(f"- **{widgets.escape_markdown(_(t))}**: {widgets.escape_markdown(rule)}")

pcts = percentiles(prof, user)
cur = ov.currency()
# rows of three: a money figure with a long symbol ("US$1,234.56" in Chinese) is never cut
cols = [col for start in range(0, max(pcts.height, 1), 3) for col in st.columns(3)]
for col, r in zip(cols, pcts.iter_rows(named=True), strict=False):
    value = fmt.feature(r["value"], r["feature"], cur)
    pct = r["sentence"]
    col.metric(
        r["label"].capitalize(),
        value,
        help=G.help_text(r["feature"])
        + (f" {pct}." if pct else " " + _("No value for this customer.")),
    )
    if pct:
        col.caption(pct)

left, right = st.columns(2)
with left:
    if pcts["percentile"].drop_nulls().len():
        st.plotly_chart(viz.percentile_figure(pcts), width="stretch")
    if any(c.startswith("cat_share__") for c in prof.columns):
        st.plotly_chart(viz.affinity_figure(category_affinity(prof, user)), width="stretch")
with right:
    st.plotly_chart(viz.rhythm_figure(rhythm(mine, user, ds.time_of_day_known())), width="stretch")
    f = funnel(row)
    if f.height >= 2:  # one step (a transaction log) is no funnel
        st.plotly_chart(viz.funnel_figure(f), width="stretch")

t = timeline(mine, ds.items, user)
st.plotly_chart(viz.timeline_figure(t), width="stretch")
with st.expander(_("Recent events ({n} in all)").format(n=fmt.count(t.height)), expanded=False):
    st.dataframe(labels.timeline_rows(t.head(200), cur), hide_index=True, width="stretch")

pred_ui.user_section(user)

# --- similar users ---------------------------------------------------------------------------
st.subheader(_("Similar customers"))
sim, sim_job = profiles.similar_users(user)
if sim is None:  # a big store: the index is built in the background
    widgets.job_progress(
        sim_job,
        _("Indexing {n} profiles to find similar customers").format(n=fmt.count(len(ids))),
    )
else:
    sim_cols = st.columns(max(sim.height, 1))
    for col, r in zip(sim_cols, sim.iter_rows(named=True), strict=False):
        col.button(
            widgets.escape_markdown(r["user_id"]),  # button labels read Markdown
            key=f"ps_sim_{r['user_id']}",
            help=_(
                "Profile distance {distance} (0 = identical, smaller = more alike; measured in "
                "standard deviations of the profile features)"
            ).format(distance=fmt.number(r["distance"], 2)),
            on_click=widgets.open_user,
            args=(r["user_id"],),
        )
st.caption(
    _("The customers whose profiles are closest to this one; click one to open their profile.")
)

# --- recommendations -------------------------------------------------------------------------
st.subheader(_("Recommendations"))
recs = {}


def show_list(table, bought_column: bool = True) -> None:
    # a static table wraps long titles and reasons instead of cutting them off
    st.table(labels.recommendation_rows(table, bought_column), hide_index=True)


def show_pending(ms) -> None:
    job = ms.job
    if job is not None and job.failed:
        what = (
            _("{model} could not be read: {error}")
            if ms.loading
            else _("{model} could not be trained: {error}")
        )
        st.error(
            what.format(
                model=recommenders.model_name(ms.name),
                error=widgets.escape_markdown(str(job.error)),
            )
        )
        st.button(
            _("Try again"),
            key=f"ps_retry_{ms.name}",
            on_click=recommenders.retrain,
            args=(ms.name,),
        )
    elif ms.too_big:
        st.warning(ms.too_big, icon=":material/memory:")
    elif job is not None and ms.loading:
        st.progress(
            min(job.progress, 1.0),
            text=_("Reading the saved {model} model in the background ({seconds} s).").format(
                model=recommenders.model_name(ms.name), seconds=f"{job.elapsed:.0f}"
            ),
        )
    elif job is not None:
        st.progress(
            min(job.progress, 1.0),
            text=_(
                "Training {model} in the background ({seconds} s); the list appears here "
                "when it is ready."
            ).format(model=recommenders.model_name(ms.name), seconds=f"{job.elapsed:.0f}"),
        )


def recommendations(chosen: list[str], hide_seen: bool, bought: list[str]) -> None:
    """Each model's list when its model is ready; training never holds up the page."""
    states = [recommenders.model_state(n) for n in chosen]
    again = recommenders.model_state("buy-again") if bought else None
    waiting = [
        x
        for x in [*states, again]
        if x is not None and x.model is None and x.job and not x.job.failed
    ]
    for tab, ms in zip(
        st.tabs([recommenders.model_name(n) for n in chosen]) if chosen else [],
        states,
        strict=False,
    ):
        with tab:
            if ms.stale:
                st.warning(_("Not current: {why}.").format(why=ms.stale), icon=":material/history:")
                st.button(
                    _("Retrain on the current data"),
                    key=f"ps_retrain_{ms.name}",
                    on_click=recommenders.retrain,
                    args=(ms.name,),
                )
            if ms.model is None:
                show_pending(ms)
                continue
            try:
                table = recommenders.explained(
                    ms.model, user, 10, exclude_seen=hide_seen, bought=bought
                )
            except ProfilingError as exc:
                widgets.show_error(exc)
                continue
            recs[ms.name] = table.to_dicts()
            show_list(table)
    st.caption(
        _(
            "This user bought {n} distinct items. The lists show items new to them; switch "
            "off the toggle to include what they have seen (ticked *bought before*)."
        ).format(n=fmt.count(len(bought)))
    )
    if again is not None:
        st.markdown("**" + _("Buy again") + "**")
        if again.model is None:
            show_pending(again)
        else:
            table = recommenders.buy_again(again.model, user, bought)
            recs["buy-again"] = table.to_dicts()
            show_list(table, bought_column=False)
            st.caption(_("Their own purchases, by how often and how recently they bought them."))
    if not waiting and st.session_state.pop("ps_user_recs_waiting", False):
        st.rerun()  # every list is ready: one full run stops the refresh timer
    if waiting:
        st.session_state["ps_user_recs_waiting"] = True


recs_box = st.container(key="ps_user_recs")  # the lists and their model picker
if ds.summary()["items"]:
    chosen = recs_box.multiselect(
        _("Models"),
        list(registry.MODELS),
        default=recommenders.default_user_models(),
        key="ps_user_models",
        format_func=lambda n: f"{recommenders.model_name(n)} · {registry.describe(n)}",
    )
    hide_seen = recs_box.toggle(
        _("Leave out items this user already bought or viewed"),
        value=True,
        key="ps_user_hide_seen",
    )
    bought = bought_items(mine, user)
    pending = any(
        recommenders.model_state(n, start=False).model is None
        for n in [*chosen, *(["buy-again"] if bought else [])]
    )
    with recs_box:
        fragment(recommendations, run_every=2.0 if pending else None)(chosen, hide_seen, bought)
else:
    st.info(_("This dataset has no item ids, so there is nothing to recommend."))

# last: rebuilding past segments starts background work that would slow what is above
history, rebuilding = changes.user_history(user)
if history.height or rebuilding:
    with st.expander(_("Segment history"), expanded=False, icon=":material/history:"):
        st.dataframe(history, hide_index=True, width="stretch")
        st.caption(
            _(
                "Segment at the end of each quarter back from the latest date (profiles "
                "rebuilt from the events up to each date), and the segments stored in each "
                "snapshot of this workspace."
            )
            + (
                " "
                + _(
                    "The quarter-end segments are being worked out in the background; they "
                    "appear here on the next visit."
                )
                if rebuilding
                else ""
            )
        )

st.download_button(
    _("Export this profile (JSON)"),
    profile_document(prof, user, {k: assign.get(k) for k in ("rfm_segment", "cluster_name")}, recs),
    file_name=f"profile-{user}.json",
    mime="application/json",
    icon=":material/download:",
)
widgets.analyst_details(
    ds,
    [
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
        "tenure_days",
        "rfm_segment",
        "cluster_name",
        "tags",
    ],
)
