"""Predictions of the active dataset, trained in a background thread and kept per dataset
and parameters.

Training takes seconds to minutes, so it runs in one worker thread of its own (not the map's
UMAP process: a prediction must not wait behind a UMAP warm-up). A page that needs the scores
either waits for the job with a progress bar (the Predictions page) or shows them only when
they are ready and offers to start the job (User profile, Segments, Profile map): a page run
never blocks on training it did not ask for. Finished results stay in the runner (the last
few per server process) and are never mutated.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import polars as pl
import streamlit as st

from profiling import predict as P
from profiling.errors import ProfilingError
from profiling.jobs import Job
from profiling.profiles.risk import in_language, risk_scores
from profiling.vocabulary import fmt, i18n
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from ui import data, overview, persist, profiles
from ui.i18n import fragment
from ui.jobs import PREDICTIONS, runtime
from ui.text import escape_markdown

JOB_MESSAGES = (N_("started"), N_("waiting for the worker"))
"""The job runtime's own progress messages (English), in the catalog for :func:`stage_text`."""

HORIZON = "ps_pred_horizon"
"""Session-state key: the horizon (days) last chosen on the Predictions page."""
SCORE_FILTERS = "ps_seg_score_filters"


@dataclass(frozen=True)
class Bundle:
    """Everything the pages show: the predictions, the risk table and the joined scores
    (one row per user: see :func:`profiling.predict.all_scores`). While the learned models
    train, a baselines-only bundle (``risk`` None) stands in for it."""

    predictions: P.Predictions
    risk: pl.DataFrame | None
    scores: pl.DataFrame


def _compute(
    events: pl.DataFrame, horizon_days: int, save=None, save_baselines=None, *, progress
) -> Bundle:
    def report(stage: str, fraction: float) -> None:
        progress(fraction * 0.95, stage)

    def baselines_ready(pred: P.Predictions) -> None:
        if save_baselines is not None:
            save_baselines(Bundle(pred, None, P.all_scores(pred, None)))

    pred = P.predict(
        events, horizon_days=horizon_days, progress=report, on_baselines=baselines_ready
    )
    progress(0.96, N_("risk: anomaly score and rules"))
    risk = risk_scores(events)
    bundle = Bundle(pred, risk, P.all_scores(pred, risk))
    if save is not None:
        progress(0.99, N_("saving with the workspace"))
        save(bundle)
    return bundle


def _restore(bundle: Bundle, *, progress) -> Bundle:
    """A job that hands back predictions saved with the workspace (after a restart)."""
    return bundle


def params(horizon_days: int, stage: str = "all") -> dict:
    """What saved predictions are keyed by: the horizon, the stage ("all" or "baselines")
    and the layout of their names (:data:`profiling.predict.RESULT_LAYOUT`: predictions saved
    under older names are computed again)."""
    return {"horizon": horizon_days, "stage": stage, "layout": P.RESULT_LAYOUT}


def _saved(spec: data.WorkspaceRef, horizon_days: int, stage: str = "all") -> Bundle | None:
    return persist.store(spec).get("predictions", params(horizon_days, stage), spec.version)


def _saver(spec: data.WorkspaceRef, horizon_days: int, stage: str = "all"):
    store = persist.store(spec)
    ds = data.load(spec)
    end, n = ds.as_of, ds.events.height

    def save(bundle: Bundle) -> None:
        store.put(
            "predictions",
            params(horizon_days, stage),
            spec.version,
            bundle,
            data_end=end,
            events=n,
        )

    return save


def baselines(horizon_days: int | None = None) -> Bundle | None:
    """The baselines-only predictions of the active dataset saved while the learned
    models train (None before they are ready). Reads the workspace; never waits."""
    spec = data.resolved_spec()
    if spec is None:
        return None
    return _saved(spec, horizon() if horizon_days is None else horizon_days, "baselines")


def _key(spec: data.WorkspaceRef, horizon_days: int) -> str:
    return spec.key() + json.dumps({"predict": True, "horizon": horizon_days})


def horizon() -> int:
    """The horizon in days this session chose (default 30)."""
    return int(st.session_state.get(HORIZON, P.DEFAULT_HORIZON))


def precheck(horizon_days: int) -> str | None:
    """Why the active dataset cannot support predictions at this horizon (too short a log,
    no purchases...), found from its dates alone, or None: the page says so at once instead
    of starting a job that would fail."""
    try:
        P.plan_cutoffs(data.load(data.resolved_spec()).events, horizon_days=horizon_days)
    except P.PredictionError as exc:
        return P.stage_text(P.error_stage(exc))  # in the reader's language
    return None


def start(horizon_days: int | None = None) -> Job:
    """Start (or find) the prediction job of the active dataset; returns at once."""
    spec = data.resolved_spec()
    h = horizon() if horizon_days is None else horizon_days
    key = _key(spec, h)
    found = runtime().status(PREDICTIONS, key)
    if found is not None:
        return found
    saved = _saved(spec, h)
    if saved is not None:
        return runtime().start(PREDICTIONS, key, "Predictions", _restore, saved)
    events = data.load(spec).events
    # run in English: what a run saves is read later in any language, so its notes and
    # messages are Stages (msgid and values) made in English and said where they are shown
    with i18n.language(i18n.DEFAULT):
        return runtime().start(
            PREDICTIONS,
            key,
            "Predictions",
            _compute,
            events,
            h,
            _saver(spec, h),
            _saver(spec, h, "baselines"),
        )


def job(horizon_days: int | None = None) -> Job | None:
    """The prediction job of the active dataset, if one was started."""
    spec = data.resolved_spec()
    if spec is None:
        return None
    h = horizon() if horizon_days is None else horizon_days
    found = runtime().status(PREDICTIONS, _key(spec, h))
    if found is None and _saved(spec, h) is not None:  # saved before a restart
        found = start(h)
        deadline = time.monotonic() + 2.0
        while not found.done and time.monotonic() < deadline:
            time.sleep(0.02)
    return found


def progress_line(j: Job) -> tuple[float, str]:
    """(fraction, text) of a running prediction job, for a progress bar."""
    return min(j.progress, 1.0), _(
        "{stage} ({seconds} s). The learned models train in the background: other pages stay "
        "usable."
    ).format(stage=stage_text(j.message), seconds=fmt.count(j.elapsed))


def stage_text(message: str) -> str:
    """A job's progress message in the current language (the job reports it in English;
    :func:`profiling.predict.stage_text` reads the prediction run's stages)."""
    return P.stage_text(message)


def wait(j: Job, status) -> Bundle:
    """Wait for ``j`` showing its progress in ``status`` (an ``st.status``); returns the
    result or raises the job's ProfilingError."""
    bar = st.progress(0.0)
    while not j.done:
        bar.progress(
            min(j.progress, 1.0),
            text=_("{stage} ({seconds} s)").format(
                stage=stage_text(j.message), seconds=fmt.count(j.elapsed)
            ),
        )
        time.sleep(0.3)
    bar.empty()
    if j.failed:
        status.update(label=_("Could not compute the predictions"), state="error")
    return j.result()


def failure_text(j: Job) -> str:
    """Why the prediction job ``j`` failed, in the reader's language: the library's refusal
    read again from the Stage it was raised with (:func:`profiling.predict.error_stage`),
    else the runtime's own message (a stopped worker, a cancel)."""
    if j.done and not j.cancelled:
        exc = j.future.exception()
        if isinstance(exc, ProfilingError):
            return P.stage_text(P.error_stage(exc))
    return j.error


def retry(j: Job) -> None:
    """Callback: forget a failed job so the next run starts it again."""
    runtime().forget(PREDICTIONS, j.key)


def ready() -> Bundle | None:
    """The finished predictions of the active dataset at this session's horizon, or None
    (not started, running, or failed). Never starts or waits for training."""
    j = job()
    if j is None or not j.done or j.failed:
        return None
    return j.result()


def ready_scores() -> pl.DataFrame | None:
    """One row per user with every score (see :class:`Bundle`), or None when not ready."""
    b = ready()
    return None if b is None else b.scores


def rfm_segments() -> pl.DataFrame | None:
    """user_id, rfm_segment of the active dataset (cached), or None without purchases."""
    return profiles.rfm_for(data.resolved_spec())


def status_line() -> str:
    """A short sentence saying where the predictions of the active dataset stand."""
    j = job()
    if j is None:
        return _("Predicted scores are not computed yet for this dataset.")
    if j.failed:
        return _("Predicted scores could not be computed: {error}").format(error=failure_text(j))
    if not j.done:
        return _("Predicted scores are being computed ({progress}, {message}).").format(
            progress=fmt.percent(j.progress, 0), message=stage_text(j.message)
        )
    return _("Predicted scores are ready.")


PRED_WAITING = "ps_user_pred_waiting"  # the User profile's scores poll a running job


def user_section(user_id: str) -> None:
    """The User profile's compact "Predicted scores" block: each score with its percentile
    and drivers, CLV, and risk flags with their rules. Shows only finished predictions; when
    there are none, offers to start them in the background (the page does not wait). While
    they are computed the block re-reads itself every 2 s (only this block), and shows the
    scores when they are ready, without a reload. A customer the models did not score gets
    one plain sentence, no percentile or driver line."""
    j = job()
    running = j is not None and not j.done
    if running:
        st.session_state[PRED_WAITING] = True
    else:
        st.session_state.pop(PRED_WAITING, None)
    fragment(_user_scores, run_every=2.0 if running else None)(user_id)


def _user_scores(user_id: str) -> None:
    st.subheader(_("Predicted scores"))
    scores = ready_scores()
    j = job()
    running = j is not None and not j.done
    if running and not st.session_state.get(PRED_WAITING):
        # started from this block's button (a fragment run): one full run starts the timer
        st.session_state[PRED_WAITING] = True
        st.rerun()
    if not running and st.session_state.pop(PRED_WAITING, False):
        st.rerun()  # finished (or failed): one full run shows it everywhere, timer off
    if scores is None:
        c1, c2 = st.columns([2, 1], vertical_alignment="center")  # the button fits at 1280 px
        c1.caption(
            status_line()
            + " "
            + _("They are trained on the Predictions page, or here in the background.")
        )
        c2.button(
            _("Compute in the background"),
            icon=":material/query_stats:",
            key="ps_user_pred_start",
            on_click=start,
            disabled=j is not None and not j.failed,
        )
        return
    row = P.user_scores(scores, user_id)
    if row is None:
        st.caption(_("This user has no event before the scoring date, so no score."))
        return
    with st.container(key="ps_user_scored"):  # a page test waits for this block
        _scored(scores, user_id, row)


def _scored(scores: pl.DataFrame, user_id: str, row: dict) -> None:
    """A scored user's figures (in rows of three: a money value with a long symbol, US$ in
    Chinese, was cut in a fifth of 1280 px), drivers and risk flags."""
    if row.get("purchase_propensity") is None and row.get("churn_risk") is None:
        st.caption(
            _(
                "The prediction models did not score this customer (too little history "
                "before the scoring date), so there is no chance to buy, churn risk or "
                "percentile to show."
            )
        )
        _risk_flags(ready(), user_id, row)
        return
    cols = [*st.columns(3), *st.columns(3)[:2]]
    cols[0].metric(
        _("Chance to buy"),
        fmt.percent(row.get("purchase_propensity")),
        help=_("Purchase propensity: the chance of a purchase in the next {days} days.").format(
            days=horizon()
        )
        + _percentile_words(row.get("purchase_propensity_pct")),
    )
    _percentile_caption(cols[0], row.get("purchase_propensity_pct"))
    cols[1].metric(
        _("Churn risk"),
        fmt.percent(row.get("churn_risk")),
        help=_(
            "Chance that this past buyer lapses: {lapse} (none for users who never bought)."
        ).format(lapse=_lapse_words()),
    )
    _percentile_caption(cols[1], row.get("churn_risk_pct"))
    # no p_alive column at all: the buying-pattern model could not be fitted (not a number)
    unfitted = None if "p_alive" in row else _clv_reason()
    cols[2].metric(
        _("Still active"),
        fmt.percent(row.get("p_alive")),
        help=_(
            "P(alive) of the buying-pattern model: the probability that the customer has "
            "not quietly stopped buying."
        )
        + ("" if unfitted is None else " " + _("Not shown: {reason}").format(reason=unfitted)),
    )
    if unfitted is not None:
        # a short value: "could not fit" was cut ("could n…") in a fifth of 1280 px, and
        # a third is not much wider in Chinese
        cols[2].caption(_("model not fitted"))
        cols[3].metric(
            _("Value, next year"),
            "—",
            help=_("Expected purchases and value need the buying-pattern model. {reason}").format(
                reason=unfitted
            ),
        )
        cols[3].caption(_("model not fitted"))
    elif "expected_value_365d" in row:
        value = row.get("expected_value_365d")
        cols[3].metric(
            _("Value, next year"),
            fmt.money(value, overview.currency()),
            help=_(
                "Expected value over the next 365 days: BG/NBD expected purchases "
                "times Gamma-Gamma expected spend per purchase (undiscounted)."
            ),
        )
    else:
        cols[3].metric(
            _("Orders, next year"),
            fmt.number(row.get("expected_purchases_365d"), 2),
            help=_("BG/NBD expected purchases over the next 365 days."),
        )
    cols[4].metric(
        _("How unusual"),
        fmt.number(row.get("anomaly_score"), 2),
        help=_("Anomaly score (IsolationForest): about 0.5 ordinary, near 1 very unusual."),
    )
    _percentile_caption(cols[4], row.get("anomaly_pct"))
    bundle = ready()
    for task, label in (("purchase", _("Chance to buy")), ("churn", _("Churn risk"))):
        drivers = _user_drivers(bundle, task, user_id) or row.get(f"{task}_drivers")
        if drivers and row.get(SCORE_OF_TASK[task]) is not None:
            st.caption(
                _("**{label} drivers** (score change against a typical value):").format(label=label)
                + " "
                + escape_markdown(drivers)
            )
        elif (why := _missing_drivers_line(scores, user_id, task)) is not None:
            st.caption(_("**{label} drivers**:").format(label=label) + " " + why)
    _risk_flags(bundle, user_id, row)


SCORE_OF_TASK = {"purchase": "purchase_propensity", "churn": "churn_risk"}


def _percentile_words(pct: float | None) -> str:
    """ " 97th percentile." for a help text; empty when the customer has no percentile."""
    if pct is None or pct != pct:  # NaN: not scored
        return ""
    return " " + _("{ordinal} percentile.").format(ordinal=fmt.ordinal(pct))


def _percentile_caption(col, pct: float | None) -> None:
    if pct is not None and pct == pct:
        col.caption(_("{ordinal} percentile").format(ordinal=fmt.ordinal(pct)))


def _risk_flags(bundle: Bundle | None, user_id: str, row: dict) -> None:
    flags = row.get("risk_flags") or []
    if flags:
        for reason in _user_reasons(bundle, user_id, row).split(" | "):
            st.warning(escape_markdown(reason), icon=":material/flag:")
    else:
        st.caption(_("No risk flag: none of the risk rules fires for this user."))


def _user_drivers(bundle: Bundle | None, task: str, user_id: str) -> str | None:
    """One user's drivers of ``task`` in the current language (None when not scored)."""
    t = None if bundle is None else getattr(bundle.predictions, task)
    if t is None:
        return None
    text = P.drivers_in_language(t.drivers, [user_id])
    return text["drivers"][0] if text.height else None


def _user_reasons(bundle: Bundle | None, user_id: str, row: dict) -> str:
    """One user's risk reasons in the current language (the saved text as a fallback)."""
    if bundle is None or bundle.risk is None:
        return row.get("risk_reasons") or ""
    mine = in_language(bundle.risk.filter(pl.col("user_id") == user_id))
    return mine["risk_reasons"][0] if mine.height else row.get("risk_reasons") or ""


def _missing_drivers_line(scores, user_id: str, task: str) -> str | None:
    """Why a scored user's drivers are not shown (:func:`profiling.predict.missing_drivers`),
    as a sentence; None when there is nothing to say."""
    missing = P.missing_drivers(scores, user_id, task)
    if missing is None:
        return None
    reason, higher = missing
    if reason == "below_top":
        return _(
            "not computed for this user: they are worked out for the {top} highest-scored "
            "users only, and {higher} users score higher."
        ).format(top=fmt.count(P.DRIVER_USERS), higher=fmt.count(higher))
    return _("none: no input of the model moves this user's score away from a typical user's.")


def _lapse_words() -> str:
    """Churn's lapse window in plain words, from the finished predictions."""
    bundle = ready()
    lapse = None if bundle is None else bundle.predictions.lapse
    return _("no purchase in the lapse window") if lapse is None else lapse.describe()


def _clv_reason() -> str:
    """Why the finished predictions have no customer-value columns, in the library's words."""
    bundle = ready()
    note = None if bundle is None else bundle.predictions.clv_note
    return (
        P.stage_text(note)
        if note
        else _("The customer-value model could not be fitted on this log.")
    )


FILTERABLE = ("churn_risk", "purchase_propensity", "p_alive", "anomaly_score")
"""Scores between 0 and 1 the Segments page can filter an audience by."""


def segment_score_filter(joined: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series | None]:
    """The Segments page's score filter ("Champions with churn risk ≥ 0.6").

    Returns ``joined`` with every score column added (when the predictions are ready) and
    a mask of the users within the chosen score ranges, or None when no range narrows
    anything (then nobody is left out for a missing score).
    """
    scores = ready_scores()
    if scores is None:
        c1, c2 = st.columns([2, 1], vertical_alignment="center")  # the button fits at 1280 px
        c1.caption(status_line() + " " + _("When they are ready, members can be filtered by them."))
        j = job()
        c2.button(
            _("Compute in the background"),
            icon=":material/query_stats:",
            key="ps_seg_pred_start",
            on_click=start,
            disabled=j is not None and not j.failed,
        )
        return joined, None
    keep = [c for c in scores.columns if c not in joined.columns or c == "user_id"]
    joined = joined.join(scores.select(keep), on="user_id", how="left")
    bounds: dict[str, tuple[float, float]] = {}
    with st.expander(_("Filter by predicted scores"), icon=":material/filter_alt:", expanded=False):
        cols = st.columns(len(FILTERABLE))
        for col, name in zip(cols, FILTERABLE, strict=True):
            if name not in joined.columns:
                continue
            lo, hi = col.slider(
                G.predict_score_label(name),
                0.0,
                1.0,
                (0.0, 1.0),
                step=0.05,
                key=f"ps_seg_score_{name}",
            )
            if (lo, hi) != (0.0, 1.0):
                bounds[name] = (lo, hi)
        flagged = st.toggle(_("Only users with a risk flag"), key="ps_seg_score_flagged")
        if flagged:
            bounds["n_risk_flags"] = (1, 1_000_000)
        st.caption(
            _(
                "A customer without a score you narrowed (the chance of not buying again of "
                "someone who never bought) is left out. Export below includes the score "
                "columns you pick."
            )
        )
    return joined, (P.score_mask(joined, bounds) if bounds else None)


MAP_SCORES = (
    "purchase_propensity",
    "churn_risk",
    "p_alive",
    "expected_value_365d",
    "anomaly_score",
    "n_risk_flags",
)


def map_color_options() -> dict[str, str]:
    """Scores the Profile map can colour by (only once the predictions are ready)."""
    scores = ready_scores()
    if scores is None:
        return {}
    return {
        c: _("Score: {score}").format(score=G.predict_score_label(c))
        for c in MAP_SCORES
        if c in scores.columns
    }


def with_map_scores(table: pl.DataFrame) -> pl.DataFrame:
    """The map table with the score columns joined on user_id, when they are ready."""
    scores = ready_scores()
    if scores is None:
        return table
    keep = [c for c in MAP_SCORES if c in scores.columns and c not in table.columns]
    return table.join(scores.select("user_id", *keep), on="user_id", how="left")
