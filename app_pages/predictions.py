"""Predictions: who will buy, who will lapse, what each customer is worth and who looks
risky, each model measured against simple baselines on a window it never saw."""

import streamlit as st

from profiling import predict as P
from profiling.errors import ProfilingError
from profiling.predict import clv
from profiling.present import predict_viz as PV
from profiling.profiles.risk import flag_counts, most_unusual, n_flagged
from profiling.vocabulary import glossary as G
from ui import data, privacy, widgets
from ui import labels as glossary_ui
from ui import overview as ov
from ui import predict as pred_ui

st.title("Predictions")
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
privacy.retraining_note("predictions")  # after an erasure: why models are retrained
st.caption(
    "Each model learns from past cutoffs only: features come from the events before a cutoff, "
    "the answer from the days after it. Every number below is measured on the **last window of "
    "the log, which no model, threshold or choice of model has seen**, against simple baselines."
)

c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
h = c1.number_input(
    "Horizon (days ahead)",
    min_value=7,
    max_value=365,
    value=P.DEFAULT_HORIZON,
    step=1,
    key=pred_ui.HORIZON,
    help="Propensity: the chance of at least one purchase in the next H days. Churn risk: the "
    "chance that a past buyer makes none in the next H days.",
)

job = pred_ui.start(int(h))
if job.failed:
    st.error(job.error)
    st.button("Try again", on_click=pred_ui.retry, args=(job,))
    st.stop()
if not job.done:
    with st.status("Training and measuring the models…", expanded=True) as status:
        try:
            pred_ui.wait(job, status)
        except ProfilingError as exc:
            widgets.show_error(exc)
            st.stop()
        status.update(label="Models trained and measured", state="complete", expanded=False)
bundle = job.result()
result = bundle.predictions
c2.caption(result.plan.describe())

tasks = {t.task: t for t in result.tasks()}
labels = {"purchase": "Chance of buying soon", "churn": "Chance of not buying again"}
task_name = (
    st.segmented_control(
        "Score", list(tasks), default="purchase", format_func=labels.get, key="ps_pred_task"
    )
    or "purchase"
)
if result.churn_note:
    st.info(
        f"Churn risk is not scored: {widgets.escape_markdown(result.churn_note)}",
        icon=":material/info:",
    )
t = tasks[task_name]
bal = t.class_balance
st.caption(
    f"Held-out window: {bal['test_users']:,} users, {bal['test_positives']:,} positive "
    f"({bal['test_positive_share']:.1%}). Training: {bal['train_rows']:,} user-cutoff rows, "
    f"{bal['train_positive_share']:.1%} positive. Thresholds chosen on the {bal['validation']}."
)
if t.baseline_wins:
    st.warning(P.verdict(t), icon=":material/balance:")
else:
    st.success(P.verdict(t), icon=":material/verified:")

# --- comparison ---------------------------------------------------------------------------
st.subheader("Model against baselines")
metric_words = {
    "precision": (
        "share of predicted buyers who bought",
        "precision at the F1-maximizing threshold chosen on validation",
    ),
    "recall": (
        "share of buyers the model found",
        "recall at the F1-maximizing threshold chosen on validation",
    ),
    "f1": ("balance of the two", "F1: harmonic mean of precision and recall"),
}
words = {name: metric_words.get(name, (G.label(name),))[0] for name in P.METRICS}
# a static table wraps the models' names and the measures instead of cutting them off
st.table(P.comparison_by_measure(t, words), hide_index=True)
st.caption(
    "Each cell: the value on the held-out window [95% bootstrap interval over customers]; "
    "★ marks the best model on that measure; (used) names the model whose scores are shown. "
    "The learned model is a calibrated gradient-boosting classifier over every profile "
    "signal. The measures' technical names and definitions are in the analyst details at "
    "the foot of the page."
)
st.download_button(
    "Download the metrics (CSV)",
    glossary_ui.csv(t.metrics),
    file_name=f"metrics-{task_name}.csv",
    mime="text/csv",
    icon=":material/download:",
    key="ps_pred_metrics_csv",
)

# --- threshold ----------------------------------------------------------------------------
st.subheader("Choose a threshold")
m1, m2 = st.columns([1, 2])
model = m1.selectbox(
    "Model", [P.LEARNED, *P.BASELINES], format_func=P.MODEL_LABELS.get, key="ps_pred_model"
)
f1_max = t.thresholds[model]
threshold = m2.slider(
    "Threshold (predict yes when the score is at least this)",
    0.0,
    1.0,
    value=round(float(min(max(f1_max, 0.0), 1.0)), 2),
    step=0.01,
    key=f"ps_pred_threshold_{task_name}_{model}",
    help=f"Starts at the F1-maximizing threshold chosen on validation ({f1_max:.2f}).",
)
at = P.metrics_at(t, model, threshold)
cols = st.columns(4)
for col, name in zip(cols, ("accuracy", "precision", "recall", "f1"), strict=True):
    col.metric(name.capitalize() if name != "f1" else "F1", f"{at[name]:.3f}")
st.plotly_chart(
    PV.threshold_figure(P.threshold_curve(t, model), threshold, f1_max), width="stretch"
)

# --- curves -------------------------------------------------------------------------------
curves = {m: P.curves(t, m) for m in [P.LEARNED, *P.BASELINES]}
left, right = st.columns(2)
with left:
    st.plotly_chart(PV.roc_figure(curves), width="stretch")
    st.plotly_chart(PV.calibration_figure(curves), width="stretch")
    st.plotly_chart(PV.gain_figure(curves), width="stretch")
with right:
    st.plotly_chart(PV.pr_figure(curves, bal["test_positive_share"]), width="stretch")
    st.plotly_chart(PV.importance_figure(t.importance), width="stretch")
    st.plotly_chart(PV.gain_figure(curves, lift=True), width="stretch")

# --- today's scores -----------------------------------------------------------------------
st.subheader("Today's scores by RFM segment")
column = P.SCORE_COLUMNS[task_name]
rfm = pred_ui.rfm_segments()
if rfm is not None:
    dist = P.score_distribution(bundle.scores, rfm, column)
    st.plotly_chart(
        PV.score_by_segment_figure(dist, f"{labels[task_name]} by segment"), width="stretch"
    )
st.caption(
    f"Scores from {P.MODEL_LABELS[t.chosen]}. Drivers: how much a user's score moves when one "
    "input of that model alone is set to the typical (median) user's value; the three largest "
    "per user."
)
top = P.top_scores(bundle.scores, task_name)
score_col = top.columns[1]  # the score, its percentile, the drivers
st.dataframe(
    top,
    hide_index=True,
    width="stretch",
    column_config=glossary_ui.fitted_columns(
        top.columns,
        widths={"user_id": 110, score_col: 170, f"{score_col}_pct": 100, top.columns[3]: 0},
        labels={f"{score_col}_pct": "percentile"},
    ),
)
st.download_button(
    f"Download every score ({bundle.scores.height:,} users, CSV)",
    glossary_ui.csv(bundle.scores, ov.currency()),
    file_name="scores.csv",
    mime="text/csv",
    icon=":material/download:",
    key="ps_pred_scores_csv",
)

# --- CLV ----------------------------------------------------------------------------------
st.subheader("Customer lifetime value (buying pattern and spend per purchase)")
if result.bgnbd is None:
    st.warning(
        "Could not fit the buying-pattern model on the purchases before the held-out window, "
        "so there are no parameters or holdout check to show (why: below)."
    )
else:
    b = result.bgnbd
    g = result.gamma_gamma
    params = clv.describe_params(b)
    if g is not None:
        params += "; " + clv.describe_params(g)
    st.caption(
        f"Fitted by maximum likelihood on the purchases before the held-out window: {params}. "
        "Today's expected purchases, values and P(alive) come from a refit on the whole log."
    )
    if result.holdout is not None:
        st.plotly_chart(
            PV.holdout_figure(result.holdout, result.plan.horizon_days), width="stretch"
        )
if result.clv_note:
    st.info(result.clv_note, icon=":material/info:")

# --- risk ---------------------------------------------------------------------------------
st.subheader("Risk")
st.caption(
    "Anomaly score: IsolationForest on standardized behaviour features (about 0.5 = ordinary, "
    "near 1 = very unusual). It says *unusual*, not *fraudulent*; the rules say why."
)
counts = flag_counts(bundle.risk)
r1, r2 = st.columns([2, 3])
with r1:
    st.plotly_chart(PV.risk_flags_figure(counts), width="stretch")
with r2:  # a static table wraps the rules instead of cutting them off
    st.table(counts, hide_index=True)
st.caption(
    f"{n_flagged(bundle.risk):,} customers raise at least one flag. The most unusual "
    "customers first:"
)
unusual = glossary_ui.lists_as_text(most_unusual(bundle.risk))  # no "[...]" in the grid
st.dataframe(
    unusual,
    hide_index=True,
    width="stretch",
    column_config=glossary_ui.fitted_columns(
        unusual.columns,
        widths={
            "user_id": 110,
            "anomaly_score": 110,
            "anomaly_pct": 100,
            "risk_flags": 170,
            "risk_reasons": 0,
        },
        labels={"anomaly_score": "how unusual", "anomaly_pct": "percentile"},
    ),
)
widgets.analyst_details(
    ds, [*P.METRICS, "purchase_propensity", "churn_risk", "p_alive", "anomaly_score"]
)
