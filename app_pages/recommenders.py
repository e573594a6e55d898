"""Recommenders: train and compare models honestly, by customer segment and for new users."""

import streamlit as st

from profiling.errors import ProfilingError
from profiling.evaluation.tables import (
    SIGNIFICANCE_NOTE,
    by_measure_table,
    cold_users_note,
    measure_table,
)
from profiling.present import viz
from profiling.recommenders import registry
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _
from ui import data, labels, recommenders, widgets

st.title(_("Recommenders"))
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
st.caption(
    _(
        "Models are trained on the past and scored on what customers did next. The default "
        "global temporal split uses one cutoff date for everybody, so no model sees future "
        "popularity."
    )
)

if not ds.summary()["items"]:
    st.info(
        _(
            "This dataset has no item ids, so there is nothing to recommend: recommenders "
            "need an item column (product id, SKU, ...). Map one on the Data page if the file "
            "has it."
        ),
        icon=":material/info:",
    )
    st.stop()

event_types = ds.event_types()
default_rule = recommenders.relevance(None, None)
with st.form("ps_rec_form", border=True):
    # short names in the boxes (a chip or an option never cut at 1280 px); what each model
    # and protocol does is in the help text
    names = st.multiselect(
        _("Models"),
        list(registry.MODELS),
        default=recommenders.default_compare_models(),
        format_func=recommenders.model_name,
        key="ps_rec_models",
        help=recommenders.models_help(),
    )
    c1, c2, c3, c4 = st.columns([2, 1, 2, 1])
    protocol = c1.selectbox(
        _("How models are tested"),
        list(recommenders.PROTOCOLS),
        format_func=recommenders.protocol_name,
        key="ps_rec_protocol",
        help=recommenders.protocols_help(),
    )
    k = c2.number_input(
        _("List length (K)"), min_value=1, max_value=50, value=S.DEFAULT_K, key="ps_rec_k"
    )
    relevant = c3.multiselect(
        _("Counts as a hit"),
        event_types,
        default=[t for t in default_rule.types if t in event_types],
        format_func=viz.event_name,
        key="ps_rec_relevant",
        help=_(
            "Which test events count as a hit. By default it follows the log: purchases, "
            "or every rating of a rating log (views and carts are options)."
        ),
    )
    threshold = c4.number_input(
        _("or rating ≥"),
        min_value=0.0,
        value=None,
        step=0.5,
        key="ps_rec_threshold",
        help=_(
            "Count items the user rated at least this high (a threshold refines ratings: "
            "with it, a rating counts only when it reaches it)."
        ),
    )
    tune = st.toggle(
        _("Tune the settings"),
        key="ps_rec_tune",
        help=_(
            "Choose the settings of EASE, ALS, BPR, item-kNN and the hybrid on a validation "
            "split carved from the training part only (the test part is never seen), 30 s "
            "each."
        ),
    )
    run = st.form_submit_button(
        _("Train and compare"), type="primary", icon=":material/play_arrow:"
    )

heavy = recommenders.too_big(names)
if heavy:
    st.warning(recommenders.too_big_warning(heavy), icon=":material/memory:")
    names = [n for n in names if n not in heavy]
if not names:
    st.info(_("Choose at least one model."))
    st.stop()

relevant_t = tuple(relevant)
try:
    rule = recommenders.relevance(relevant_t or None, threshold)
    split = recommenders.split(protocol, relevant_t)
except ProfilingError as exc:
    widgets.show_error(exc)
    st.stop()
st.caption(
    _("Split: {split}. {rule}; {seen}.").format(
        split=recommenders.split_words(split, protocol),
        rule=rule.description.capitalize(),
        seen=rule.seen_rule,
    )
)

settings = recommenders.Settings(tuple(names), protocol, relevant_t, threshold, int(k), tune)
if run:
    recommenders.start_comparison(settings)
state = recommenders.comparison_state(settings)


@st.fragment(run_every=2.0)
def progress(settings: recommenders.Settings) -> None:
    """The background job's progress; one full run shows the results when it is done."""
    job = recommenders.comparison_state(settings).job
    if job is None or job.done:
        st.rerun()
    st.progress(
        min(job.progress, 1.0),
        text=_(
            "{message} ({seconds} s). Training runs in the background: other pages stay usable."
        ).format(message=job.message, seconds=f"{job.elapsed:.0f}"),
    )


if state.job is not None and state.job.failed:
    st.error(
        _("The comparison failed: {error}").format(error=widgets.escape_markdown(state.job.error)),
        icon=":material/error:",
    )
    st.stop()
if state.job is not None and not state.job.done:
    if state.saved is not None:
        st.caption(
            _("While it runs, the last comparison with these settings ({saved}) is below.").format(
                saved=state.saved.describe(compared=True)
            )
        )
    progress(settings)
    if state.saved is None:
        st.stop()
if state.run is None:
    st.info(_("Choose models and how they are tested, then press **Train and compare**."))
    st.stop()
if state.saved is not None and state.saved.stale:
    if state.job is None:
        st.warning(
            _(
                "The last comparison with these settings is not current: {saved}. Press "
                "**Train and compare** to compare the models on the current data. Its table, "
                "for reference:"
            ).format(saved=state.saved.describe(compared=True)),
            icon=":material/history:",
        )
    st.table(by_measure_table(state.run.metrics), hide_index=True)
    st.stop()
if state.saved is not None:
    st.caption(_("Saved comparison, {saved}.").format(saved=state.saved.describe(compared=True)))

result = state.run
comp, curve, by_segment, folded = result.comp, result.curve, result.by_segment, result.folded
with st.expander(
    _("Compared {n} models on {users} test customers").format(
        n=len(names), users=fmt.count(comp.n_users)
    )
):
    for line in recommenders.trained_lines(result):
        st.write(line)

if result.implicit:
    st.info(
        registry.implicit_ratings_note(event_types, list(result.implicit)),
        icon=":material/info:",
    )

if result.tuned or any(result.fold_tuned):
    st.subheader(_("Tuned settings"))
    st.caption(
        _(
            "Chosen on a validation split of the training part (of every fold with k-fold); "
            "the test part was not used."
        )
    )
    st.dataframe(
        recommenders.tuned_table(result.fold_tuned if any(result.fold_tuned) else result.tuned),
        hide_index=True,
        width="stretch",
    )

st.subheader(_("Comparison"))
table = result.metrics
if folded is not None:
    st.caption(
        _(
            "Average over {n} rounds, each holding out a different part of the data. ★ best "
            "model for each measure. RMSE and MAE measure rating errors of rating models."
        ).format(n=len(folded.comparisons))
    )
else:
    st.caption(
        _("Average over the customers of the test period. ★ best model for each measure.")
        + " "
        + _(SIGNIFICANCE_NOTE)
    )
# static tables wrap long names instead of cutting them off: every measure at a glance
# (one row each), then one measure in detail with its interval
st.table(by_measure_table(table), hide_index=True)
st.download_button(
    _("Download the metrics (CSV)"),
    labels.csv(table),
    file_name="metrics.csv",
    mime="text/csv",
    icon=":material/download:",
)

metric = (
    st.segmented_control(
        _("Measure to look at closely"),
        ["ndcg", "precision", "recall", "f1", "map", "hit_rate", "mrr"],
        default="ndcg",
        format_func=G.short,
        key="ps_rec_metric",
    )
    or "ndcg"
)  # a click on the chosen measure clears it
st.table(measure_table(table, metric), hide_index=True)
st.caption(
    _("Likely range: where the true value likely lies, ")
    + (
        _("± how much the rounds differ (standard deviation over the folds).")
        if folded is not None
        else _("95% bootstrap interval over the test customers.")
    )
)
left, right = st.columns(2)
with left:
    st.plotly_chart(viz.metric_bars_figure(comp.metrics, metric), width="stretch")
with right:
    st.plotly_chart(viz.time_quality_figure(comp.metrics, comp.timings, metric), width="stretch")
st.plotly_chart(viz.pr_curve_figure(curve), width="stretch")

st.subheader(_("Which model serves which customers"))
if by_segment is not None:
    st.plotly_chart(viz.model_segment_figure(by_segment, metric), width="stretch")
st.plotly_chart(viz.cold_warm_figure(comp.cold_warm(), metric), width="stretch")
if cold_note := cold_users_note(comp.per_user, comp.recommendations):
    st.caption(cold_note)

st.subheader(_("Why was this recommended?"))
users = comp.per_user["user_id"].unique().sort().head(500).to_list()
u1, u2 = st.columns([1, 1])
who = u1.selectbox(_("Test customer"), users, key="ps_rec_user")
which = u2.selectbox(
    _("Model"), names, format_func=recommenders.model_name, key="ps_rec_explain_model"
)
model = recommenders.compared_model(settings, result, which)
if model is None:
    st.info(
        _(
            "{model} could not be saved with the workspace; press **Train and compare** to "
            "train it again and see its reasons."
        ).format(model=recommenders.model_name(which)),
        icon=":material/info:",
    )
else:
    st.table(
        labels.recommendation_rows(recommenders.explained(model, who, int(k)), details=True),
        hide_index=True,
    )
    st.caption(
        _(
            "Score: the model's own score, higher ranks first. Popular pick: the model knew "
            "too little about this customer, so the item comes from the most popular items."
        )
    )
