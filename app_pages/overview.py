"""Overview: how many customers and orders, how much per order, how this period compares
with the one before, revenue over time, customers coming back, and the segment mix."""

from datetime import timedelta

import streamlit as st

from profiling.errors import ProfilingError
from profiling.present import viz
from profiling.profiles import overview as O
from profiling.profiles.segments import SCHEMES, segment_label
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import gettext as _
from ui import data, privacy, profiles, widgets
from ui import live as live_ui
from ui import overview as ov

st.title(_("Overview"))
ds = data.active_dataset()
if ds is None:
    st.info(_("No dataset is open. Choose the sample store or upload files on the Data page."))
    if st.button(_("Open the Data page"), icon=":material/database:"):
        st.switch_page("app_pages/data.py")
    st.stop()

widgets.dataset_caption(ds)
kind = ov.kind()
cur = ov.currency()
s = ds.summary()
first_day, last_day = s["start"].date(), s["end"].date()
WHAT = {
    O.TRANSACTIONS: _(
        "A **transaction log**: every row is one line of an order (one product bought or returned)."
    ),
    O.EVENTS: _("An **event log**: views, carts and purchases of customers on the store."),
    O.RATINGS: _("A **rating log**: customers' ratings of items."),
}
st.markdown(WHAT[kind])
everyone = privacy.protect_count("all customers", s["users"])  # noised or hidden per settings
span = {
    "users": "—" if everyone is None else fmt.count(everyone),
    "items": fmt.count(s["items"]),
    "rows": fmt.count(s["events"]),
    "start": fmt.date_text(first_day),
    "end": fmt.date_text(last_day),
    "days": fmt.days((last_day - first_day).days + 1),
}
st.caption(
    _("{users} customers, {items} items, {rows} rows from {start} to {end} ({days}).").format(
        **span
    )
    if s["items"]
    else _("{users} customers, {rows} rows from {start} to {end} ({days}); no item ids.").format(
        **span
    )
)
note = ov.guest_note(ds)
if note:
    st.caption(f":material/info: {note}")
live_ui.overview_line()  # only with a live feed; refreshes on its own

# --- period ---------------------------------------------------------------------------------
PRESETS = {
    "30d": _("Last 30 days"),
    "90d": _("Last 90 days"),
    "365d": _("Last 12 months"),
    "all": _("Whole log"),
    "custom": _("Choose dates"),
}
p1, p2, p3 = st.columns([3, 1, 1], vertical_alignment="bottom")
preset = (
    p1.segmented_control(
        _("Period"), list(PRESETS), format_func=PRESETS.get, default="90d", key="ps_ov_period"
    )
    or "90d"
)
if preset == "custom":
    picked = st.date_input(
        _("From – to"),
        value=(max(first_day, last_day - timedelta(days=89)), last_day),
        min_value=first_day,
        max_value=last_day,
        key="ps_ov_dates",
        format=_("DD/MM/YYYY"),  # the date order people write in the language
    )
    lo, hi = (picked[0], picked[-1]) if picked else (first_day, last_day)
elif preset == "all":
    lo, hi = first_day, last_day
else:
    lo, hi = max(first_day, last_day - timedelta(days=int(preset[:-1]) - 1)), last_day
currencies = ["", *sorted(fmt.ISO_CODES)]
widgets.currency_suggestion()
with p3.popover(_("Currency"), icon=":material/payments:"):
    choice = st.selectbox(
        _("Currency of the money columns"),
        currencies,
        index=currencies.index(cur or ""),
        format_func={c: c or _("none shown") for c in currencies}.get,
        key=f"ps_ov_currency_{data.resolved_spec().slug}",  # one per workspace: a switch
        # to another workspace must not carry this one's choice over
        help=_(
            "Detected from the column names where they say it (for example 'Price (£)' or "
            "'amount_gbp'); set it here when they do not. Kept with the workspace."
        ),
    )
    if (choice or None) != cur:
        ov.set_currency(choice or None)
        st.rerun()
spec = data.resolved_spec()
scheme = profiles.scheme_of(spec)
with p2.popover(_("Segment names")):
    picked_scheme = st.radio(
        _("Name RFM segments by"),
        list(SCHEMES),
        index=list(SCHEMES).index(scheme),
        format_func={k: _(v) for k, v in SCHEMES.items()}.get,
        key=f"ps_ov_scheme_{spec.slug}",
        help=_("Kept with the workspace: every page, export and the report use it."),
    )
    if picked_scheme != scheme:
        profiles.set_scheme(spec, picked_scheme)
        st.rerun()
try:
    start, end = O.day_bounds(lo, hi)
except ProfilingError as exc:
    widgets.show_error(exc)
    st.stop()
cmp = ov.comparison(start, end)
c, prev_start = cmp.current, cmp.previous_start
period = {
    "start": fmt.date_text(lo),
    "end": fmt.date_text(hi),
    "days": fmt.days((end - start).days),
    "prev_start": fmt.date_text(prev_start),
    "prev_end": fmt.date_text(start - timedelta(days=1)),
}
if cmp.previous_complete:
    st.caption(
        _(
            "{start} to {end} ({days}), compared with the previous {days} "
            "({prev_start} to {prev_end})."
        ).format(**period)
    )
else:
    st.caption(
        _(
            "{start} to {end} ({days}). No comparison: the log does not cover the whole "
            "period before it."
        ).format(**period)
    )


def metric(col, name: str, text: str, delta_fmt=None, inverse: bool = False) -> None:
    d = cmp.delta(name)
    col.metric(
        G.label(name).capitalize(),
        text,
        help=G.help_text(name),
        delta=None if d is None else (delta_fmt(d) if delta_fmt else fmt.number(d)),
        delta_color="inverse" if inverse else "normal",
    )


def signed(text: str, d: float) -> str:
    return text if d < 0 else f"+{text}"


def protected(col, name: str) -> None:
    """A figure about users left out under the privacy settings (said in its help)."""
    col.metric(
        G.label(name).capitalize(),
        "—",
        help=G.help_text(name) + " " + _("Not shown under this workspace's privacy settings."),
    )


money = c.revenue is not None
cols = [*st.columns(3), *st.columns(3)]  # two rows: labels are never cut off
pts = lambda d: signed(_("{value} pts").format(value=fmt.number(100 * d, 1)), d)  # noqa: E731 (percentage points)
count = lambda d: signed(fmt.count(d), d)  # noqa: E731
figures = {  # name -> (value as shown, its delta as shown)
    "orders": (fmt.count(c.orders), count),
    "buyers": (fmt.count(c.buyers), count),
    "revenue": (
        fmt.money(c.revenue, cur, compact=True),
        lambda d: signed(fmt.money(d, cur, compact=True), d),
    ),
    "aov": (fmt.money(c.aov, cur), lambda d: signed(fmt.money(d, cur), d)),
    "revenue_per_customer": (
        fmt.money(c.revenue_per_customer, cur),
        lambda d: signed(fmt.money(d, cur), d),
    ),
    "conversion": (fmt.percent(c.conversion), pts),
    "repeat_rate": (fmt.percent(c.repeat_rate), pts),
    "ratings": (fmt.count(c.ratings), count),
    "items_rated": (fmt.count(c.items_rated), count),
    "average_rating": (
        "—" if c.average_rating is None else fmt.number(c.average_rating, 2),
        lambda d: signed(fmt.number(d, 2), d),
    ),
    "ratings_per_customer": (
        "—" if c.ratings_per_customer is None else fmt.number(c.ratings_per_customer, 1),
        lambda d: signed(fmt.number(d, 1), d),
    ),
    "returning_customers": (fmt.percent(c.returning_customers), pts),
}
for col, name in zip(cols, O.headline_figures(kind, money), strict=True):
    if name == "customers" and privacy.on():  # the protected count, without a delta
        shown = privacy.protect_count(f"customers {start:%Y-%m-%d}..{end:%Y-%m-%d}", c.customers)
        col.metric(
            G.label("customers").capitalize(),
            "—" if shown is None else fmt.count(shown),
            help=G.help_text("customers")
            + " "
            + _("Protected under this workspace's privacy settings."),
        )
    elif name == "customers":
        metric(col, "customers", fmt.count(c.customers), count)
    elif name in O.SHARES_OF_CUSTOMERS and privacy.shares_hidden():
        protected(col, name)  # shares of customers: exact counts in disguise beside noisy ones
    elif name in ("revenue", "aov") and not money:
        col.metric(G.label(name).capitalize(), "—", help=_("The data has no prices or amounts."))
    else:
        metric(col, name, *figures[name])

widgets.quality_badge(ds)

# --- over time ------------------------------------------------------------------------------
t = ov.over_time(start, end)
if kind == O.EVENTS:
    left, right = st.columns([3, 2])
    with left:
        if t.height:
            st.plotly_chart(viz.revenue_orders_figure(t, O.grain(start, end), cur), width="stretch")
    with right:
        f = ov.funnel(start, end)
        if f.height >= 2 and not privacy.shares_hidden():  # the funnel counts users
            st.plotly_chart(viz.store_funnel_figure(f), width="stretch")
        else:
            st.plotly_chart(viz.event_mix_figure(ds.event_type_counts()), width="stretch")
elif t.height:
    st.plotly_chart(viz.revenue_orders_figure(t, O.grain(start, end), cur), width="stretch")
else:  # no orders in the log: its activity instead
    st.plotly_chart(viz.activity_figure(ds.activity()), width="stretch")
if t.height and t["partial"].any():
    st.caption(
        _(
            "Hatched bars: periods the chosen dates cover only in part (usually the first and "
            "the last), so their totals are lower because the period is shorter."
        )
    )

# --- cohorts --------------------------------------------------------------------------------
coh = ov.cohorts(12)
if privacy.on():  # monthly cohorts are small groups of users: not shown
    pass
elif coh["cohort"].n_unique() >= 2:
    st.subheader(_("Do customers come back?"))
    st.caption(
        _(
            "Each row is the customers whose first order fell in that month; each column, the "
            "share of them who ordered again that many months later (+0 is the first month). "
            "Over the whole log, not only the period above."
        )
    )
    st.plotly_chart(viz.cohort_figure(coh), width="stretch")

# --- segments -------------------------------------------------------------------------------
mix = privacy.protected_mix(profiles.active_rfm_mix())  # small segments merged, DP noise
if mix:
    st.subheader(_("Who the customers are"))
    m_left, m_right = st.columns([2, 3])
    with m_left:
        st.plotly_chart(viz.segment_mix_figure(mix), width="stretch")
    with m_right:
        st.plotly_chart(viz.segment_sizes_figure(mix), width="stretch")
    # a static table wraps long definitions instead of cutting them off; the names and
    # definitions are the library's own words, not data
    st.table(
        [
            {
                _("segment"): segment_label(d.name),
                G.label("customers"): fmt.count(d.users),
                G.label("share_of_revenue"): fmt.percent(d.share_of_revenue),
                _("definition"): _(d.definition),
            }
            for d in viz.ordered(mix)
        ],
        hide_index=True,
    )
    if st.button(_("Explore the segments"), icon=":material/groups:"):
        st.switch_page("app_pages/segments.py")

widgets.analyst_details(
    ds,
    [
        "customers",
        "orders",
        "revenue",
        "aov",
        "repeat_rate",
        "revenue_per_customer",
        "conversion",
        "share_of_revenue",
        "r_score",
        "f_score",
    ],
)
