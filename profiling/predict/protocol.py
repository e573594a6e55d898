"""The rolling-cutoff protocol: where time is cut, which window features and labels read,
and the error raised when a log cannot support a prediction.

- time is cut at midnights (UTC). ``today`` is the midnight after the last event;
- the **test cutoff** is ``today - H`` (or the day after ``calibration_end``): features use
  events strictly before it, labels are purchases in the H days from it. Nothing a model,
  a baseline, a threshold or a model choice uses comes from on or after it;
- **training cutoffs** are the test cutoff minus H, 2H, ... (up to ``max_train_cutoffs``,
  each with at least H days of history before it): a training example is (a user's
  features before cutoff c, whether they bought in [c, c + H)), so every training label
  ends before the test cutoff;
- the **validation** set is the most recent training cutoff (models fitted on the older
  ones) or, with a single training cutoff, a stratified quarter of its users. The F1-maximizing
  threshold of every model and the model whose scores are used are chosen there;
- the scores of **today's** users come from the chosen model refitted on every cutoff up to
  and including the test cutoff (all of them are earlier than today, with complete labels).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from profiling.errors import DataValidationError, ProfilingError
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

DEFAULT_HORIZON = 30
TASKS = {"purchase": N_("purchase propensity"), "churn": N_("churn risk")}
SCORE_COLUMNS = {"purchase": "purchase_propensity", "churn": "churn_risk"}


class PredictionError(ProfilingError, ValueError):
    """The events cannot support the requested prediction (too short, no purchases, one
    class only in a window); the message says what is missing."""


Progress = Callable[[str, float], None]


class Stage(str):
    """A progress message: the English text (what logs and the CLI print) that remembers
    its msgid and values, so a page reads it again in its own language
    (:func:`stage_text`). String values are msgids too (a task's name)."""

    template: str
    values: dict

    def __new__(cls, template: str, **values: object) -> Stage:
        obj = super().__new__(cls, template.format(**values))
        obj.template, obj.values = template, values
        return obj

    def __reduce__(self):  # a worker process sends it through a queue
        return (_stage, (self.template, self.values))


def _stage(template: str, values: dict) -> Stage:
    return Stage(template, **values)


class Verbatim(str):
    """A value of a :class:`Stage` kept as it is in every language: a column name such as
    ``amount`` is also a word of the catalog, and :func:`stage_text` looks up other string
    values (they are msgids, such as a task's name)."""


def error_stage(exc: BaseException) -> str:
    """An error's message as a note: the :class:`Stage` it was raised with (so a page reads
    it in its own language), else its text as it is. A :class:`DataValidationError` whose
    problem is a Stage (the BTYD summary's refusals) keeps its "source, column" prefix as
    one too."""
    first = exc.args[0] if len(exc.args) == 1 else None
    if isinstance(first, Stage):
        return first
    if isinstance(exc, DataValidationError) and isinstance(exc.problem, Stage):
        where = (
            Stage(
                N_("{source}, column '{column}'"),
                source=Verbatim(exc.source),
                column=Verbatim(exc.column),
            )
            if exc.column
            else Verbatim(exc.source)
        )
        return Stage(N_("{where}: {problem}"), where=where, problem=exc.problem)
    return str(exc)


def joined_stages(notes: list[str]) -> str | None:
    """Several notes as one, "a; b" (a :class:`Stage` a page reads in its language), or
    None without notes."""
    if not notes:
        return None
    out = notes[0]
    for note in notes[1:]:
        out = Stage(N_("{note}; {more}"), note=out, more=note)
    return out


def stage_text(message: str) -> str:
    """A progress message in the current language: a :class:`Stage` from its msgid and
    values, any other message looked up as it is (a fixed message such as "done")."""
    if isinstance(message, Stage):
        values = {
            k: stage_text(v) if isinstance(v, str) and not isinstance(v, Verbatim) else v
            for k, v in message.values.items()
        }
        return _(message.template).format(**values)
    return _(message) if message else message  # gettext("") is the catalog's header


def no_progress(_stage: str, _fraction: float) -> None:
    """The default progress callback: reports nowhere."""
    return None


@dataclass(frozen=True)
class CutoffPlan:
    """Cutoffs of the rolling protocol (midnights, UTC). Features use events strictly before
    a cutoff; labels are purchases in [cutoff, cutoff + horizon_days)."""

    horizon_days: int
    start: datetime
    today: datetime
    test: datetime
    train: tuple[datetime, ...]  # oldest first

    @property
    def validation(self) -> datetime | None:
        """The most recent training cutoff when there are two or more (else None)."""
        return self.train[-1] if len(self.train) >= 2 else None

    def describe(self) -> str:
        """The protocol in one paragraph (Markdown), for the page."""
        val = (
            _(G.PREDICT_VALIDATION_WINDOW).format(day=fmt.date_text(self.validation))
            if self.validation is not None
            else _(G.PREDICT_VALIDATION_QUARTER)
        )
        return _(G.PREDICT_PROTOCOL).format(
            train=_(", ").join(fmt.date_text(c) for c in self.train),
            validation=val,
            start=fmt.date_text(self.test),
            end=fmt.date_text(self.test + timedelta(days=self.horizon_days)),
        )

    def to_dict(self) -> dict:
        h = timedelta(days=self.horizon_days)
        return {
            "horizon_days": self.horizon_days,
            "first_event_day": self.start.date().isoformat(),
            "today": self.today.date().isoformat(),
            "test_cutoff": self.test.date().isoformat(),
            "test_window": [self.test.date().isoformat(), (self.test + h).date().isoformat()],
            "train_cutoffs": [c.date().isoformat() for c in self.train],
            "validation_cutoff": None
            if self.validation is None
            else self.validation.date().isoformat(),
        }


def _midnight(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date() if value.tzinfo else value.date()
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _parse_date(value: object, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value).strip()).date()
    except ValueError:
        raise PredictionError(
            Stage(
                N_("{name} must be a date such as '1997-09-30'. Got {name}={value} instead."),
                name=name,
                value=repr(value),
            )
        ) from None


def _check_events(events: pl.DataFrame) -> None:
    if not isinstance(events, pl.DataFrame):
        raise TypeError(f"events must be a polars DataFrame. Got {type(events).__name__}.")
    for column in (S.USER_ID, S.EVENT_TYPE, S.TIMESTAMP):
        if column not in events.columns:
            raise PredictionError(
                Stage(
                    N_(
                        "events: column '{column}' is missing; predictions need user_id, "
                        "event_type and timestamp. Columns found: {found}."
                    ),
                    column=Verbatim(column),
                    found=Verbatim(", ".join(events.columns)),
                )
            )
    if events.height == 0:
        raise PredictionError(Stage(N_("events: the log is empty; predictions need events.")))
    if not (events[S.EVENT_TYPE] == S.PURCHASE).any():
        raise PredictionError(
            Stage(
                N_(
                    "events, column 'event_type': the log has no purchase (event_type == "
                    "'purchase'); purchase propensity, churn and CLV are learned from "
                    "purchases. Found only: {found}."
                ),
                found=", ".join(sorted(events[S.EVENT_TYPE].drop_nulls().unique().to_list())),
            )
        )


def plan_cutoffs(
    events: pl.DataFrame,
    *,
    horizon_days: int = DEFAULT_HORIZON,
    max_train_cutoffs: int = 6,
    calibration_end: date | datetime | str | None = None,
    step_days: int | None = None,
    min_history_days: int | None = None,
) -> CutoffPlan:
    """Cutoffs of the rolling protocol for ``events`` (see the module docstring).

    ``step_days`` (default H) is how far apart training cutoffs are: a step shorter than H
    pools more (overlapping) training windows, every one of them still ending on or before
    the held-out cutoff. ``min_history_days`` (default H) is the history each training
    cutoff keeps before it.

    Raises
    ------
    PredictionError
        If ``horizon_days`` is not a positive integer, the log is too short for one training
        cutoff with H days of history plus a held-out window of H days, or ``calibration_end``
        leaves no complete H-day window after it.
    """
    # over 60 lines with its docstring: both parameters checked with their own message, then
    # the plan; one reading of the protocol
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise PredictionError(
            Stage(
                N_("horizon must be a positive whole number of days. Got horizon={horizon}."),
                horizon=repr(horizon_days),
            )
        )
    if (
        isinstance(max_train_cutoffs, bool)
        or not isinstance(max_train_cutoffs, int)
        or max_train_cutoffs < 1
    ):
        raise PredictionError(
            Stage(
                N_("max_train_cutoffs must be a positive integer. Got {value}."),
                value=repr(max_train_cutoffs),
            )
        )
    _check_events(events)
    h = timedelta(days=horizon_days)
    first, last = events.select(
        pl.col(S.TIMESTAMP).min().alias("first"), pl.col(S.TIMESTAMP).max().alias("last")
    ).row(0)
    start = _midnight(first)
    today = _midnight(last) + timedelta(days=1)
    span = (today - start).days
    if calibration_end is None:
        test = today - h
    else:
        test = _midnight(_parse_date(calibration_end, "calibration_end")) + timedelta(days=1)
        if test + h > today:
            raise PredictionError(
                Stage(
                    N_(
                        "calibration_end={day} leaves {left} days of events after it (the log "
                        "ends on {end}); a held-out window of horizon={horizon} days needs an "
                        "earlier calibration_end or a shorter horizon."
                    ),
                    day=str(calibration_end),
                    left=(today - test).days,
                    end=str((today - timedelta(days=1)).date()),
                    horizon=horizon_days,
                )
            )
    step = h if step_days is None else timedelta(days=step_days)
    history = h if min_history_days is None else timedelta(days=min_history_days)
    if step.days < 1 or history.days < 1:
        raise PredictionError(
            Stage(
                N_(
                    "step_days and min_history_days must be positive whole numbers of days. "
                    "Got step_days={step}, min_history_days={history}."
                ),
                step=repr(step_days),
                history=repr(min_history_days),
            )
        )
    train = []
    c = test - h
    while len(train) < max_train_cutoffs and c - start >= history:
        train.append(c)
        c -= step
    if not train:
        raise PredictionError(
            Stage(
                N_(
                    "events, column 'timestamp': the log spans {span} days ({start} .. {end}); "
                    "predicting {horizon} days ahead needs at least {need} days before the end "
                    "of the held-out window: {horizon} of history, {horizon} to learn from and "
                    "{horizon} held out. Use a horizon of at most {most} days."
                ),
                span=span,
                start=str(start.date()),
                end=str((today - timedelta(days=1)).date()),
                horizon=horizon_days,
                need=3 * horizon_days,
                most=max(span // 3, 0),
            )
        )
    return CutoffPlan(horizon_days, start, today, test, tuple(reversed(train)))


def before_validation(plan: CutoffPlan, parts: list) -> list:
    """The training parts fitted before validation: those of the cutoffs whose label window
    ends on or before the validation cutoff (training windows a step shorter than the
    window overlap it: a model fitted on them would have read purchases made after the
    validation cutoff, a period effect validation would credit it for); all the earlier
    parts when none does (their labels still end before the held-out window)."""
    window = timedelta(days=plan.horizon_days)
    clean = [
        p for c, p in zip(plan.train[:-1], parts[:-1], strict=True) if c + window <= plan.train[-1]
    ]
    return clean or list(parts[:-1])


LAPSE_QUANTILE = 0.8
"""The share of repeat-purchase gaps the lapse window is longer than, by default."""


@dataclass(frozen=True)
class LapseWindow:
    """How long a past buyer must go without buying to count as lapsed (churn's window).

    ``days`` is the window; ``gap_days`` the ``quantile`` of the gaps between a customer's
    consecutive purchase days over the whole log (None without repeat purchases);
    ``reason`` says which rule set ``days`` ("data", "floor", "log length", "chosen").
    """

    days: int
    quantile: float
    gap_days: float | None
    n_gaps: int
    horizon_days: int
    reason: str

    def describe(self) -> str:
        """The window in plain words, for the page and the CLI."""
        head = _("no purchase in the next {days} days").format(days=self.days)
        if self.gap_days is None:
            return _("{head} (this log has no repeat purchases to set it from)").format(head=head)
        share = fmt.percent(self.quantile, 0)
        if self.reason == "data":
            return _(
                "{head}: longer than {share} of the gaps between this store's repeat purchases"
            ).format(head=head, share=share)
        why = {
            "floor": _("at least twice the {days}-day purchase horizon").format(
                days=self.horizon_days
            ),
            "log length": _("the longest window this log can measure"),
            "chosen": _("chosen"),
        }[self.reason]
        return _(
            "{head} ({why}; {share} of the gaps between this store's repeat purchases are "
            "at most {gap} days)"
        ).format(head=head, why=why, share=share, gap=fmt.count(self.gap_days))


def lapse_window(
    events: pl.DataFrame,
    horizon_days: int,
    *,
    lapse_days: int | None = None,
    quantile: float = LAPSE_QUANTILE,
) -> LapseWindow:
    """Churn's lapse window: the ``quantile`` of repeat-purchase gaps (whole days, rounded
    up), at least twice the purchase horizon, and at most a third of the log's span (a
    window must fit three times: history, training, held out). ``lapse_days`` overrides
    the data's choice.

    Raises
    ------
    PredictionError
        When ``lapse_days`` is not a whole number of days longer than ``horizon_days``.
    """
    if lapse_days is not None and (
        isinstance(lapse_days, bool)
        or not isinstance(lapse_days, int)
        or lapse_days <= horizon_days
    ):
        raise PredictionError(
            Stage(
                N_(
                    "the lapse window must be a whole number of days longer than the purchase "
                    "horizon ({horizon} days). Got lapse={lapse}."
                ),
                horizon=horizon_days,
                lapse=repr(lapse_days),
            )
        )
    day = pl.col(S.TIMESTAMP).dt.truncate("1d")
    gaps = (
        events.lazy()
        .filter(pl.col(S.EVENT_TYPE) == S.PURCHASE)
        .select(S.USER_ID, day.alias("day"))
        .unique()
        .sort(S.USER_ID, "day")
        .select(pl.col("day").diff().dt.total_days().over(S.USER_ID).alias("gap"))
        .drop_nulls()
        .collect()["gap"]
    )
    gap_days = float(gaps.quantile(quantile, "linear")) if gaps.len() else None
    first, last = events.select(
        pl.col(S.TIMESTAMP).min().alias("a"), pl.col(S.TIMESTAMP).max().alias("b")
    ).row(0)
    span = (_midnight(last) - _midnight(first)).days + 1
    if lapse_days is not None:
        days, reason = lapse_days, "chosen"
    else:
        floor = 2 * horizon_days
        # rounded first: a quantile of whole days is 60.000000001 after interpolation
        data_days = int(np.ceil(round(gap_days, 6))) if gap_days is not None else floor
        days, reason = (data_days, "data") if data_days >= floor else (floor, "floor")
        if days > span // 3 and span // 3 > horizon_days:
            days, reason = span // 3, "log length"
    return LapseWindow(days, quantile, gap_days, int(gaps.len()), horizon_days, reason)
