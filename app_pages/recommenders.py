"""Recommenders: train and compare models honestly, by customer segment and for new users."""

import streamlit as st

from profiling import glossary as G
from profiling import schema as S
from profiling import viz
from profiling.errors import ProfilingError
from profiling.evaluation.tables import SIGNIFICANCE_NOTE, summary_table
from profiling.recommenders import registry
from ui import data, recommenders, widgets

st.title("Recommenders")
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
st.caption(
    "Models are trained on the past and scored on what users did next. The default global "
    "temporal split uses one cutoff date for everybody, so no model sees future popularity."
)

if not ds.summary()["items"]:
    st.info(
        "This dataset has no item ids, so there is nothing to recommend: recommenders need "
        "an item column (product id, SKU, ...). Map one on the Data page if the file has it.",
        icon=":material/info:",
    )
    st.stop()

event_types = [t for t in S.EVENT_TYPES if t in set(ds.events[S.EVENT_TYPE].unique().to_list())]
default_rule = recommenders.relevance(None, None)
with st.form("ps_rec_form", border=True):
    names = st.multiselect(
        "Models",
        list(registry.MODELS),
        default=[m for m in registry.DEFAULT_MODELS if m in registry.MODELS],
        format_func=lambda n: f"{n} · {registry.describe(n)}",
        key="ps_rec_models",
    )
    c1, c2, c3, c4 = st.columns([2, 1, 2, 1])
    protocol = c1.selectbox(
        "Protocol",
        list(recommenders.PROTOCOLS),
        format_func=recommenders.PROTOCOLS.get,
        key="ps_rec_protocol",
    )
    k = c2.number_input("K", min_value=1, max_value=50, value=S.DEFAULT_K, key="ps_rec_k")
    relevant = c3.multiselect(
        "Relevant in the test period",
        event_types,
        default=[t for t in default_rule.types if t in event_types],
        key="ps_rec_relevant",
        help="Which test events count as a hit. By default it follows the log: purchases, "
        "or every rating of a rating log (views and carts are options).",
    )
    threshold = c4.number_input(
        "or rating ≥", min_value=0.0, value=None, step=0.5, key="ps_rec_threshold",
        help="Count items the user rated at least this high (a threshold refines ratings: "
        "with it, a rating counts only when it reaches it).",
    )  # fmt: skip
    tune = st.toggle(
        "Tune", key="ps_rec_tune",
        help="Choose the settings of EASE, ALS, BPR, item-kNN and the hybrid on a validation "
        "split carved from the training part only (the test part is never seen), 30 s each.",
    )  # fmt: skip
    run = st.form_submit_button("Train and compare", type="primary", icon=":material/play_arrow:")

if not names:
    st.info("Choose at least one model.")
    st.stop()

relevant_t = tuple(relevant)
try:
    rule = recommenders.relevance(relevant_t or None, threshold)
    split = recommenders.split(protocol, relevant_t)
except ProfilingError as exc:
    widgets.show_error(exc)
    st.stop()
st.caption(f"Split: {split.description}. {rule.description.capitalize()}.")

previous = (
    None
    if run
    else recommenders.previous_comparison(names, protocol, relevant_t, threshold, int(k))
)
if previous is not None and not previous.stale:
    run = True  # saved with the workspace (e.g. before a restart): shown without training
    st.caption(f"Saved comparison, {previous.describe().replace('trained', 'compared')}.")
elif previous is not None and not st.session_state.get("ps_rec_ran"):
    st.warning(
        f"The last comparison with these settings is not current: "
        f"{previous.describe().replace('trained', 'compared')}. Press **Train and compare** "
        "to compare the models on the current data. Its table, for reference:",
        icon=":material/history:",
    )
    old_comp = (
        previous.value[3].metrics if previous.value[3] is not None else previous.value[0].metrics
    )
    st.dataframe(summary_table(old_comp), hide_index=True, width="stretch")
    st.stop()

if run or st.session_state.get("ps_rec_ran"):
    st.session_state["ps_rec_ran"] = True
    try:
        with st.status("Training models…", expanded=False) as status:
            chosen, entries = {}, {}
            tune_folds = tune and protocol == "kfold"  # then tuned inside every fold
            for i, name in enumerate(names if tune and not tune_folds else [], start=1):
                if name in recommenders.TUNABLE:
                    status.update(label=f"Tuning {name} on validation ({i} of {len(names)})…")
                    entry = recommenders.tuned(name, protocol, relevant_t, threshold, int(k))
                    chosen[name], entries[name] = entry["params"], entry
                    st.write(f"✓ {name}: {entry['tried']} settings tried")
            for i, name in enumerate(names, start=1):
                status.update(label=f"Training {name} ({i} of {len(names)})…")
                model = recommenders.fitted(protocol, relevant_t, name, chosen.get(name))
                note = recommenders.training_note(model)
                st.write(f"✓ {name}: trained in {model.fit_seconds_:.2f} s{note}")
            status.update(label="Scoring on the test period…")
            if tune_folds:
                status.update(label="Tuning and scoring inside every fold…")
            comp, curve, by_segment, folded, fold_tuned = recommenders.comparison(
                names, protocol, relevant_t, threshold, int(k), chosen, tune_folds
            )
            status.update(
                label=f"Compared {len(names)} models on {comp.n_users:,} test users",
                state="complete",
            )
    except ProfilingError as exc:
        widgets.show_error(exc)
        st.stop()

    implicit_note = recommenders.implicit_rating_models(names, protocol, relevant_t)
    if implicit_note:
        st.info(
            "No explicit ratings for these rating-prediction models, so events were turned into "
            f"ratings (view < cart < purchase): {implicit_note}.",
            icon=":material/info:",
        )

    if chosen or any(fold_tuned):
        st.subheader("Tuned settings")
        st.caption("Chosen on a validation split of the training part (of every fold with "
                   "k-fold); the test part was not used.")  # fmt: skip
        st.dataframe(
            recommenders.tuned_table(fold_tuned if any(fold_tuned) else entries),
            hide_index=True, width="stretch",
        )  # fmt: skip

    st.subheader("Comparison")
    table = folded.metrics if folded is not None else comp.metrics
    if folded is not None:
        st.caption(
            f"Mean ± standard deviation over {len(folded.comparisons)} folds. ★ best model for "
            "the metric. RMSE and MAE score the predicted ratings of rating models."
        )
    else:
        st.caption(
            "Mean over test users with a 95% bootstrap interval. ★ best model for the metric. "
            + SIGNIFICANCE_NOTE
        )
    st.dataframe(summary_table(table), hide_index=True, width="stretch")
    st.download_button(
        "Download the metrics (CSV)", table.write_csv(), file_name="metrics.csv",
        mime="text/csv", icon=":material/download:",
    )  # fmt: skip

    metric = st.segmented_control(
        "Metric",
        ["ndcg", "precision", "recall", "f1", "map", "hit_rate", "mrr"],
        default="ndcg",
        format_func=G.SHORT.get,
        key="ps_rec_metric",
    )
    left, right = st.columns(2)
    with left:
        st.plotly_chart(viz.metric_bars_figure(comp.metrics, metric), width="stretch")
    with right:
        st.plotly_chart(
            viz.time_quality_figure(comp.metrics, comp.timings, metric), width="stretch"
        )
    st.plotly_chart(viz.pr_curve_figure(curve), width="stretch")

    st.subheader("Which model serves which customers")
    if by_segment is not None:
        st.plotly_chart(viz.model_segment_figure(by_segment, metric), width="stretch")
    st.plotly_chart(viz.cold_warm_figure(comp.cold_warm(), metric), width="stretch")

    st.subheader("Why was this recommended?")
    users = comp.per_user["user_id"].unique().sort().head(500).to_list()
    u1, u2 = st.columns([1, 1])
    who = u1.selectbox("Test user", users, key="ps_rec_user")
    which = u2.selectbox("Model", names, key="ps_rec_explain_model")
    model = recommenders.fitted(protocol, relevant_t, which, chosen.get(which))
    st.dataframe(recommenders.explained(model, who, int(k)), hide_index=True, width="stretch")
else:
    st.info("Choose models and a protocol, then press **Train and compare**.")
