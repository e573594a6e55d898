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

import polars as pl

from profiling.errors import ProfilingError
from profiling.vocabulary import glossary as G
from profiling.vocabulary import schema as S

DEFAULT_HORIZON = 30
TASKS = {"purchase": "purchase propensity", "churn": "churn risk"}
SCORE_COLUMNS = {"purchase": "purchase_propensity", "churn": "churn_risk"}


class PredictionError(ProfilingError, ValueError):
    """The events cannot support the requested prediction (too short, no purchases, one
    class only in a window); the message says what is missing."""


Progress = Callable[[str, float], None]


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
        d = self.to_dict()
        val = (
            G.PREDICT_VALIDATION_WINDOW.format(day=d["validation_cutoff"])
            if d["validation_cutoff"]
            else G.PREDICT_VALIDATION_QUARTER
        )
        return G.PREDICT_PROTOCOL.format(
            train=", ".join(d["train_cutoffs"]),
            validation=val,
            start=d["test_window"][0],
            end=d["test_window"][1],
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
            f"{name} must be a date such as '1997-09-30'. Got {name}={value!r} instead."
        ) from None


def _check_events(events: pl.DataFrame) -> None:
    if not isinstance(events, pl.DataFrame):
        raise TypeError(f"events must be a polars DataFrame. Got {type(events).__name__}.")
    for column in (S.USER_ID, S.EVENT_TYPE, S.TIMESTAMP):
        if column not in events.columns:
            raise PredictionError(
                f"events: column '{column}' is missing; predictions need user_id, event_type "
                f"and timestamp. Columns found: {', '.join(events.columns)}."
            )
    if events.height == 0:
        raise PredictionError("events: the log is empty; predictions need events.")
    if not (events[S.EVENT_TYPE] == S.PURCHASE).any():
        raise PredictionError(
            "events, column 'event_type': the log has no purchase (event_type == 'purchase'); "
            "purchase propensity, churn and CLV are learned from purchases. Found only: "
            + ", ".join(sorted(events[S.EVENT_TYPE].drop_nulls().unique().to_list()))
            + "."
        )


def plan_cutoffs(
    events: pl.DataFrame,
    *,
    horizon_days: int = DEFAULT_HORIZON,
    max_train_cutoffs: int = 6,
    calibration_end: date | datetime | str | None = None,
) -> CutoffPlan:
    """Cutoffs of the rolling protocol for ``events`` (see the module docstring).

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
            f"horizon must be a positive whole number of days. Got horizon={horizon_days!r}."
        )
    if (
        isinstance(max_train_cutoffs, bool)
        or not isinstance(max_train_cutoffs, int)
        or max_train_cutoffs < 1
    ):
        raise PredictionError(
            f"max_train_cutoffs must be a positive integer. Got {max_train_cutoffs!r}."
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
                f"calibration_end={calibration_end!s} leaves {(today - test).days} days of events "
                f"after it (the log ends on {(today - timedelta(days=1)).date()}); a held-out "
                f"window of horizon={horizon_days} days needs an earlier calibration_end or a "
                "shorter horizon."
            )
    train = []
    c = test - h
    while len(train) < max_train_cutoffs and c - start >= h:
        train.append(c)
        c -= h
    if not train:
        raise PredictionError(
            f"events, column 'timestamp': the log spans {span} days "
            f"({start.date()} .. {(today - timedelta(days=1)).date()}); predicting "
            f"{horizon_days} days ahead needs at least {3 * horizon_days} days before the end "
            f"of the held-out window: {horizon_days} of history, {horizon_days} to learn from "
            f"and {horizon_days} held out. Use a horizon of at most {max(span // 3, 0)} days."
        )
    return CutoffPlan(horizon_days, start, today, test, tuple(reversed(train)))
