"""Overview: how many customers and orders, how much per order, how this period compares
with the one before, revenue over time, customers coming back, and the segment mix."""

from datetime import timedelta

import streamlit as st

from profiling.errors import ProfilingError
from profiling.present import viz
from profiling.profiles import overview as O
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from ui import data, privacy, profiles, widgets
from ui import overview as ov

st.title("Overview")
ds = data.active_dataset()
if ds is None:
    st.info("No dataset is open. Choose the sample store or upload files on the Data page.")
    if st.button("Open the Data page", icon=":material/database:"):
        st.switch_page("app_pages/data.py")
    st.stop()

widgets.dataset_caption(ds)
kind = ov.kind()
cur = ov.currency()
s = ds.summary()
first_day, last_day = s["start"].date(), s["end"].date()
WHAT = {
    O.TRANSACTIONS: "A **transaction log**: every row is one line of an order (one product "
    "bought or returned).",
    O.EVENTS: "An **event log**: views, carts and purchases of customers on the store.",
    O.RATINGS: "A **rating log**: customers' ratings of items.",
}
st.markdown(WHAT[kind])
everyone = privacy.protect_count("all customers", s["users"])  # noised or hidden per settings
users_text = "—" if everyone is None else f"{everyone:,}"
st.caption(
    f"{users_text} customers, {s['items']:,} items, {s['events']:,} rows from "
    f"{first_day:%d %b %Y} to {last_day:%d %b %Y} ({(last_day - first_day).days + 1:,} days)."
    if s["items"]
    else f"{users_text} customers, {s['events']:,} rows from {first_day:%d %b %Y} to "
    f"{last_day:%d %b %Y} ({(last_day - first_day).days + 1:,} days); no item ids."
)
note = ov.guest_note(ds)
if note:
    st.caption(f":material/info: {note}")

# --- period ---------------------------------------------------------------------------------
PRESETS = {
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "365d": "Last 12 months",
    "all": "Whole log",
    "custom": "Choose dates",
}
p1, p3 = st.columns([3, 1], vertical_alignment="bottom")
preset = (
    p1.segmented_control(
        "Period", list(PRESETS), format_func=PRESETS.get, default="90d", key="ps_ov_period"
    )
    or "90d"
)
if preset == "custom":
    picked = st.date_input(
        "From – to",
        value=(max(first_day, last_day - timedelta(days=89)), last_day),
        min_value=first_day,
        max_value=last_day,
        key="ps_ov_dates",
        format="DD/MM/YYYY",
    )
    lo, hi = (picked[0], picked[-1]) if picked else (first_day, last_day)
elif preset == "all":
    lo, hi = first_day, last_day
else:
    lo, hi = max(first_day, last_day - timedelta(days=int(preset[:-1]) - 1)), last_day
currencies = ["", *sorted(fmt.ISO_CODES)]
widgets.currency_suggestion()
with p3.popover("Currency", icon=":material/payments:"):
    choice = st.selectbox(
        "Currency of the money columns",
        currencies,
        index=currencies.index(cur or ""),
        format_func=lambda c: c or "none shown",
        key=f"ps_ov_currency_{data.resolved_spec().slug}",  # one per workspace: a switch
        # to another workspace must not carry this one's choice over
        help="Detected from the column names where they say it (for example 'Price (£)' or "
        "'amount_gbp'); set it here when they do not. Kept with the workspace.",
    )
    if (choice or None) != cur:
        ov.set_currency(choice or None)
        st.rerun()
try:
    start, end = O.day_bounds(lo, hi)
except ProfilingError as exc:
    widgets.show_error(exc)
    st.stop()
cmp = ov.comparison(start, end)
c, prev_start = cmp.current, cmp.previous_start
if cmp.previous_complete:
    st.caption(
        f"{lo:%d %b %Y} to {hi:%d %b %Y} ({(end - start).days:,} days), compared with the "
        f"previous {(end - start).days:,} days ({prev_start:%d %b %Y} to "
        f"{start - timedelta(days=1):%d %b %Y})."
    )
else:
    st.caption(
        f"{lo:%d %b %Y} to {hi:%d %b %Y} ({(end - start).days:,} days). No comparison: the log "
        "does not cover the whole period before it."
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
        help=f"{G.help_text(name)} Not shown under this workspace's privacy settings.",
    )


money = c.revenue is not None
cols = [*st.columns(3), *st.columns(3)]  # two rows: labels are never cut off
if privacy.on():  # the protected count, without a delta (a second, exact-difference figure)
    shown = privacy.protect_count(f"customers {start:%Y-%m-%d}..{end:%Y-%m-%d}", c.customers)
    cols[0].metric(
        G.label("customers").capitalize(),
        "—" if shown is None else fmt.count(shown),
        help=f"{G.help_text('customers')} Protected under this workspace's privacy settings.",
    )
else:
    metric(cols[0], "customers", fmt.count(c.customers), lambda d: signed(fmt.count(d), d))
metric(cols[1], "orders", fmt.count(c.orders), lambda d: signed(fmt.count(d), d))
if money:
    metric(
        cols[2],
        "revenue",
        fmt.money(c.revenue, cur, compact=True),
        lambda d: signed(fmt.money(d, cur, compact=True), d),
    )
    metric(cols[3], "aov", fmt.money(c.aov, cur), lambda d: signed(fmt.money(d, cur), d))
else:
    cols[2].metric("Revenue", "—", help="The data has no prices or amounts.")
    cols[3].metric("Average order value", "—", help="The data has no prices or amounts.")
pts = lambda d: signed(f"{100 * d:.1f} pts", d)  # noqa: E731 (percentage points)
if privacy.shares_hidden():  # shares of users: exact counts in disguise beside noisy ones
    protected(cols[4], "conversion" if kind == O.EVENTS else "repeat_rate")
elif kind == O.EVENTS:
    metric(cols[4], "conversion", fmt.percent(c.conversion), pts)
else:
    metric(cols[4], "repeat_rate", fmt.percent(c.repeat_rate), pts)
if money and privacy.shares_hidden():
    protected(cols[5], "revenue_per_customer")
elif money:
    metric(
        cols[5],
        "revenue_per_customer",
        fmt.money(c.revenue_per_customer, cur),
        lambda d: signed(fmt.money(d, cur), d),
    )
elif privacy.shares_hidden():
    protected(cols[5], "repeat_rate")
else:
    metric(cols[5], "repeat_rate", fmt.percent(c.repeat_rate), pts)

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
if t.height and t["partial"].any():
    st.caption(
        "Hatched bars: periods the chosen dates cover only in part (usually the first and "
        "the last), so their totals are lower because the period is shorter."
    )
else:
    st.plotly_chart(viz.activity_figure(ds.activity()), width="stretch")

# --- cohorts --------------------------------------------------------------------------------
coh = ov.cohorts(12)
if privacy.on():  # monthly cohorts are small groups of users: not shown
    pass
elif coh["cohort"].n_unique() >= 2:
    st.subheader("Do customers come back?")
    st.caption(
        "Each row is the customers whose first order fell in that month; each column, the "
        "share of them who ordered again that many months later (+0 is the first month). "
        "Over the whole log, not only the period above."
    )
    st.plotly_chart(viz.cohort_figure(coh), width="stretch")

# --- segments -------------------------------------------------------------------------------
mix = privacy.protected_mix(profiles.active_rfm_mix())  # small segments merged, DP noise
if mix:
    st.subheader("Who the customers are")
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
                "segment": d.name,
                "customers": fmt.count(d.users),
                "share of revenue": fmt.percent(d.share_of_revenue),
                "definition": d.definition,
            }
            for d in viz.ordered(mix)
        ],
        hide_index=True,
    )
    if st.button("Explore the segments", icon=":material/groups:"):
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
