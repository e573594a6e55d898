"""Customer value beside the scores: BG/NBD and Gamma-Gamma (:mod:`profiling.predict.clv`)
fitted on the calibration period and on the whole log, and the holdout check of BG/NBD."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from profiling.errors import ProfilingError
from profiling.predict import clv
from profiling.predict.btyd import UNIT_DAYS, rfm_summary
from profiling.predict.features import EventHistory
from profiling.predict.labels import cutoff_labels
from profiling.predict.protocol import CutoffPlan, Stage, error_stage, joined_stages
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_


def holdout_comparison(
    events: pl.DataFrame,
    calibration_end: date,
    holdout_end: date,
    params: clv.BGNBDParams,
    summary: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """BG/NBD predicted against actual purchase days in the holdout, by repeat purchase days
    in the calibration period (the check of Fader, Hardie and Lee 2005, figure 3).

    Returns
    -------
    pl.DataFrame
        One row per calibration count of repeat purchase days 0..6 and "7+":
        repeat_purchase_days (str), customers,
        actual (mean purchase days in the holdout), predicted (mean expected purchases).
        ``summary``: the calibration period's BTYD summary in ``params.unit`` when already
        made (read from the events when not given).
    """
    if summary is None:
        summary = rfm_summary(
            events, observation_period_end=calibration_end, unit=params.unit, round_to=None
        )
    start = datetime(calibration_end.year, calibration_end.month, calibration_end.day, tzinfo=UTC)
    start += timedelta(days=1)
    length_days = (holdout_end - calibration_end).days
    actual = cutoff_labels(events, start, length_days)
    x, t_x, T = (
        summary[c].to_numpy().astype(float) for c in ("repeat_purchase_days", "purchase_span", "T")
    )
    pred = clv.expected_purchases(params, length_days / UNIT_DAYS[params.unit], x, t_x, T)
    return (
        summary.select(S.USER_ID, "repeat_purchase_days")
        .with_columns(pl.Series("predicted", pred))
        .join(actual, on=S.USER_ID, how="left")
        .with_columns(
            pl.col("purchase_days").fill_null(0).alias("actual"),
            pl.col("repeat_purchase_days").clip(0, 7).alias("bin"),
        )
        .group_by("bin")
        .agg(pl.len().alias("customers"), pl.col("actual").mean(), pl.col("predicted").mean())
        .sort("bin")
        .with_columns(
            pl.when(pl.col("bin") == 7)
            .then(pl.lit("7+"))
            .otherwise(pl.col("bin").cast(pl.String))
            .alias("repeat_purchase_days")
        )
        .select("repeat_purchase_days", "customers", "actual", "predicted")
    )


def clv_scores(
    events: pl.DataFrame, plan: CutoffPlan, unit: str, history: EventHistory | None = None
) -> dict:
    """BG/NBD and Gamma-Gamma fitted on the calibration period (up to the test cutoff: the
    parameters reported and the holdout check) and on the whole log (today's CLV).
    ``history``: the :class:`EventHistory` of ``events`` whose fits at the test and today
    cutoffs are reused (the tasks made them already in days); built when not given.

    Returns
    -------
    dict
        ``bgnbd``, ``gamma_gamma`` (calibration period), ``bgnbd_today``,
        ``gamma_gamma_today`` (whole log): fitted parameters or None; ``table``: one row per
        customer of :func:`profiling.predict.clv.clv_table` or None; ``holdout``:
        :func:`holdout_comparison` or None; ``note``: why anything is missing, or None.
    """
    history = EventHistory(events) if history is None else history
    has_money = history.has_money
    out: dict = dict.fromkeys(
        ("bgnbd", "gamma_gamma", "bgnbd_today", "gamma_gamma_today", "table", "holdout")
    )
    notes = []
    if not has_money:
        notes.append(
            Stage(N_("no amounts in the log: expected value (Gamma-Gamma) is not computed"))
        )
    calib_end = (plan.test - timedelta(days=1)).date()
    for period, cutoff in ((N_("calibration period"), plan.test), (N_("whole log"), plan.today)):
        today = period == "whole log"
        try:
            summary, fit = history.value_fit(cutoff, unit=unit, with_spend=has_money)
        except ProfilingError as exc:
            notes.append(
                Stage(
                    N_("buying-pattern model on the {period}: {error}"),
                    period=period,
                    error=error_stage(exc),
                )
            )
            continue
        if isinstance(fit, clv.FitFailure):
            notes.append(
                Stage(N_("{period}: could not fit: {reason}"), period=period, reason=fit.reason)
            )
            continue
        if fit.spend_failure is not None:
            notes.append(
                Stage(
                    N_("{period}: spend per purchase (Gamma-Gamma) could not fit: {reason}"),
                    period=period,
                    reason=fit.spend_failure.reason,
                )
            )
        if today:
            out["bgnbd_today"], out["gamma_gamma_today"] = fit.purchases, fit.spend
            out["table"] = fit.table(summary)
        else:
            out["bgnbd"], out["gamma_gamma"] = fit.purchases, fit.spend
            holdout_end = (plan.test + timedelta(days=plan.horizon_days - 1)).date()
            out["holdout"] = holdout_comparison(
                events, calib_end, holdout_end, fit.purchases, summary=summary
            )
    out["note"] = joined_stages(notes)
    return out
