"""Predictions: who will buy, who will lapse, what each customer is worth and who looks
risky, each model measured against simple baselines on a window it never saw."""

import streamlit as st

from profiling import predict as P
from profiling.predict import clv
from profiling.present import predict_viz as PV
from profiling.profiles.risk import flag_counts, most_unusual, n_flagged
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import gettext as _
from ui import data, privacy, widgets
from ui import labels as glossary_ui
from ui import overview as ov
from ui import predict as pred_ui
from ui.i18n import fragment

st.title(_("Predictions"))
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
privacy.retraining_note("predictions")  # after an erasure: why models are retrained
st.caption(
    _(
        "Each model learns from past cutoffs only: features come from the events before a "
        "cutoff, the answer from the days after it. Every number below is measured on the "
        "**last window of the log, which no model, threshold or choice of model has seen**, "
        "against simple baselines."
    )
)

c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
h = c1.number_input(
    _("Horizon (days ahead)"),
    min_value=7,
    max_value=365,
    value=P.DEFAULT_HORIZON,
    step=1,
    key=pred_ui.HORIZON,
    help=_(
        "Propensity: the chance of at least one purchase in the next H days. Churn risk looks "
        "further: no purchase in a lapse window set from the gaps between this store's repeat "
        "purchases (at least 2H)."
    ),
)

problem = pred_ui.precheck(int(h))
if problem:
    st.error(widgets.escape_markdown(problem))
    st.stop()
job = pred_ui.start(int(h))
if job.failed:
    st.error(widgets.escape_markdown(pred_ui.failure_text(job)))
    st.button(_("Try again"), on_click=pred_ui.retry, args=(job,))
    st.stop()


@fragment(run_every=2.0)
def training_progress(horizon_days: int) -> None:
    """The background job's progress; one full page run shows the results when it is done."""
    j = pred_ui.job(horizon_days)
    if j is None or j.done:
        st.rerun()
    fraction, text = pred_ui.progress_line(j)
    st.progress(fraction, text=text)


if job.done:
    bundle = job.result()
else:
    # never wait on training: the baselines (saved as soon as they are measured) show first
    training_progress(int(h))
    bundle = pred_ui.baselines(int(h))
    if bundle is None:
        st.caption(
            _(
                "Computing the features and the baselines (no training needed); they appear "
                "here first, and the learned models replace them when they are trained."
            )
        )
        st.stop()
result = bundle.predictions
if not result.learned_ready:
    st.info(
        _(
            "Baselines only for now: the learned models are training in the background "
            "(progress above). Every number below is already measured on the held-out window."
        ),
        icon=":material/hourglass_top:",
    )
c2.caption(result.plan.describe())

tasks = {t.task: t for t in result.tasks()}
labels = {"purchase": _("Chance of buying soon"), "churn": _("Chance of lapsing")}
task_name = (
    st.segmented_control(
        _("Score"), list(tasks), default="purchase", format_func=labels.get, key="ps_pred_task"
    )
    or "purchase"
)
if result.churn_note:
    st.info(
        _("Churn risk is not scored: {why}").format(
            why=widgets.escape_markdown(P.stage_text(result.churn_note))
        ),
        icon=":material/info:",
    )
t = tasks[task_name]
bal = t.class_balance
st.caption(
    _(
        "Held-out window: {users} users, {positives} positive ({share}). Training: {rows} "
        "user-cutoff rows, {train_share} positive. Thresholds chosen on the {validation}."
    ).format(
        users=fmt.count(bal["test_users"]),
        positives=fmt.count(bal["test_positives"]),
        share=fmt.percent(bal["test_positive_share"]),
        rows=fmt.count(bal["train_rows"]),
        train_share=fmt.percent(bal["train_positive_share"]),
        validation=P.stage_text(bal["validation"]),
    )
)
if t.baseline_wins:
    st.warning(P.verdict(t), icon=":material/balance:")
else:
    st.success(P.verdict(t), icon=":material/verified:")
for sentence in P.plain_reading(result, task_name):
    st.markdown(f"- {widgets.escape_markdown(sentence)}")

# --- comparison ---------------------------------------------------------------------------
st.subheader(_("Model against baselines"))
metric_words = {
    "precision": (
        _("share of predicted buyers who bought"),
        _("precision at the F1-maximizing threshold chosen on validation"),
    ),
    "recall": (
        _("share of buyers the model found"),
        _("recall at the F1-maximizing threshold chosen on validation"),
    ),
    "f1": (_("balance of the two"), _("F1: harmonic mean of precision and recall")),
}
words = {name: metric_words.get(name, (G.label(name),))[0] for name in P.METRICS}
# a static table wraps the models' names and the measures instead of cutting them off
st.table(P.comparison_by_measure(t, words), hide_index=True)
st.caption(
    _(
        "Each cell: the value on the held-out window [95% bootstrap interval over customers]; "
        "★ marks the best model on that measure; (used) names the model whose scores are "
        "shown. The learned model is a calibrated gradient-boosting classifier over every "
        "profile signal. The measures' technical names and definitions are in the analyst "
        "details at the foot of the page."
    )
)
for name, why in (t.not_fitted or {}).items():
    st.caption(
        _("{model} is not compared: {why}.").format(model=G.predict_model_label(name), why=_(why))
    )
st.download_button(
    _("Download the metrics (CSV)"),
    glossary_ui.csv(t.metrics),
    file_name=f"metrics-{task_name}.csv",
    mime="text/csv",
    icon=":material/download:",
    key="ps_pred_metrics_csv",
)

# --- customer value -------------------------------------------------------------------------
value = result.value
st.subheader(_("Customer value: predicted spend against what customers spent"))
if value is None:
    why = (
        P.stage_text(result.value_note)
        if result.value_note
        else _(
            "these predictions were saved before customer value was measured; they are "
            "recomputed when the data changes"
        )
    )
    st.info(
        _("Customer value is not measured: {why}").format(why=widgets.escape_markdown(why)),
        icon=":material/info:",
    )
else:
    if value.best_on_test != P.LEARNED:
        st.warning(P.value_verdict(value), icon=":material/balance:")
    else:
        st.success(P.value_verdict(value), icon=":material/verified:")
    for sentence in P.plain_reading(result, "value"):
        st.markdown(f"- {widgets.escape_markdown(sentence)}")
    if result.value_note:
        st.caption(widgets.escape_markdown(P.stage_text(result.value_note)))
    value_words = {m: G.label("value_mae" if m == "mae" else m) for m in P.VALUE_METRICS}
    st.table(P.value_by_measure(value, value_words), hide_index=True)
    st.caption(
        _(
            "Each model predicts every customer's spend over {days} days from the events "
            "before the held-out window; the cells compare it with what they then spent [95% "
            "bootstrap interval]. The learned model multiplies the chance of buying by the "
            "spend expected when buying."
        ).format(days=value.horizon_days)
    )

# --- threshold ----------------------------------------------------------------------------
st.subheader(_("Choose a threshold"))
m1, m2 = st.columns([1, 2])
model = m1.selectbox(_("Model"), t.models, format_func=G.predict_model_label, key="ps_pred_model")
f1_max = t.thresholds[model]
threshold = m2.slider(
    _("Threshold (predict yes when the score is at least this)"),
    0.0,
    1.0,
    value=round(float(min(max(f1_max, 0.0), 1.0)), 2),
    step=0.01,
    key=f"ps_pred_threshold_{task_name}_{model}",
    help=_("Starts at the F1-maximizing threshold chosen on validation ({value}).").format(
        value=f"{f1_max:.2f}"
    ),
)
at = P.metrics_at(t, model, threshold)
cols = st.columns(4)
metric_names = {
    "accuracy": _("Accuracy"),
    "precision": _("Precision"),
    "recall": _("Recall"),
    "f1": "F1",
}
for col, name in zip(cols, metric_names, strict=True):
    col.metric(metric_names[name], f"{at[name]:.3f}")
st.plotly_chart(
    PV.threshold_figure(P.threshold_curve(t, model), threshold, f1_max), width="stretch"
)

# --- curves -------------------------------------------------------------------------------
curves = {m: P.curves(t, m) for m in t.models}
left, right = st.columns(2)
with left:
    st.plotly_chart(PV.roc_figure(curves), width="stretch")
    st.plotly_chart(PV.calibration_figure(curves), width="stretch")
    st.plotly_chart(PV.gain_figure(curves), width="stretch")
with right:
    st.plotly_chart(PV.pr_figure(curves, bal["test_positive_share"]), width="stretch")
    if t.importance.height:
        st.plotly_chart(PV.importance_figure(t.importance), width="stretch")
    st.plotly_chart(PV.gain_figure(curves, lift=True), width="stretch")

# --- today's scores -----------------------------------------------------------------------
st.subheader(_("Today's scores by RFM segment"))
column = P.SCORE_COLUMNS[task_name]
rfm = pred_ui.rfm_segments()
if rfm is not None:
    dist = P.score_distribution(bundle.scores, rfm, column)
    st.plotly_chart(
        PV.score_by_segment_figure(dist, _("{score} by segment").format(score=labels[task_name])),
        width="stretch",
    )
st.caption(
    _(
        "Scores from {model}. Drivers: how much a user's score moves when one input of that "
        "model alone is set to the typical (median) user's value; the three largest per user."
    ).format(model=G.predict_model_label(t.chosen))
)
top = P.top_scores(bundle.scores, task_name, drivers=t.drivers)
score_col = top.columns[1]  # the score, its percentile, the drivers
st.dataframe(
    top,
    hide_index=True,
    width="stretch",
    column_config=glossary_ui.fitted_columns(
        top.columns,
        widths={"user_id": 110, score_col: 170, f"{score_col}_pct": 100, top.columns[3]: 0},
        labels={f"{score_col}_pct": _("percentile")},
    ),
)
st.download_button(
    _("Download this audience: the top {n} (CSV)").format(n=fmt.count(top.height)),
    glossary_ui.csv(top, ov.currency()),
    file_name=f"audience-{task_name}.csv",
    mime="text/csv",
    icon=":material/group_add:",
    key="ps_pred_audience_csv",
)
st.download_button(
    _("Download every score ({n} users, CSV)").format(n=fmt.count(bundle.scores.height)),
    glossary_ui.csv(bundle.scores, ov.currency()),
    file_name="scores.csv",
    mime="text/csv",
    icon=":material/download:",
    key="ps_pred_scores_csv",
)

# --- CLV ----------------------------------------------------------------------------------
st.subheader(_("Customer lifetime value (buying pattern and spend per purchase)"))
if result.bgnbd is None:
    st.warning(
        _(
            "Could not fit the buying-pattern model on the purchases before the held-out "
            "window, so there are no parameters or holdout check to show (why: below)."
        )
    )
else:
    b = result.bgnbd
    g = result.gamma_gamma
    params = clv.describe_params(b)
    if g is not None:
        params += "; " + clv.describe_params(g)
    st.caption(
        _(
            "Fitted by maximum likelihood on the purchases before the held-out window: "
            "{params}. Today's expected purchases, values and P(alive) come from a refit on "
            "the whole log."
        ).format(params=params)
    )
    if result.holdout is not None:
        st.plotly_chart(
            PV.holdout_figure(result.holdout, result.plan.horizon_days), width="stretch"
        )
if result.clv_note:
    st.info(P.stage_text(result.clv_note), icon=":material/info:")

# --- risk ---------------------------------------------------------------------------------
st.subheader(_("Risk"))
st.caption(
    _(
        "Anomaly score: IsolationForest on standardized behaviour features (about 0.5 = "
        "ordinary, near 1 = very unusual). It says *unusual*, not *fraudulent*; the rules say "
        "why."
    )
)
if bundle.risk is None:
    st.caption(_("The risk scores come with the learned models (training in the background)."))
    st.stop()
counts = flag_counts(bundle.risk)
r1, r2 = st.columns([2, 3])
with r1:
    st.plotly_chart(PV.risk_flags_figure(counts), width="stretch")
with r2:  # a static table wraps the rules instead of cutting them off
    st.table(
        counts.rename({"flag": _("risk flag"), "rule": _("rule"), "users": _("customers")}),
        hide_index=True,
    )
st.caption(
    _("{n} customers raise at least one flag. The most unusual customers first:").format(
        n=fmt.count(n_flagged(bundle.risk))
    )
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
        labels={"anomaly_score": _("how unusual"), "anomaly_pct": _("percentile")},
    ),
)
widgets.analyst_details(
    ds, [*P.METRICS, "purchase_propensity", "churn_risk", "p_alive", "anomaly_score"]
)
