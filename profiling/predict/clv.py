"""Customer lifetime value: BG/NBD, MBG/NBD and Gamma-Gamma fitted by maximum likelihood with
scipy, and refused when the fit is not one.

The models read the BTYD summary of :func:`profiling.predict.btyd.rfm_summary` (``repeat_purchase_days``
= x, ``purchase_span`` = t_x, ``T``, ``monetary_value``) and follow Fader, Hardie
and Lee, "Counting your customers the easy way" (Marketing Science, 2005: BG/NBD), Batislam,
Denizel and Filiztekin, "Empirical validation and comparison of models for customer base
analysis" (IJRM, 2007: MBG/NBD, with the erratum of Wagner and Hoppe, 2008) and Fader and
Hardie, "The Gamma-Gamma model of monetary value" (2013). The likelihoods are the ones the
``lifetimes`` package maximizes; on the CDNOW 1/10 sample calibrated to 1997-09-30 in weeks
the fits reproduce the published BG/NBD r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 and
``lifetimes``' MBG/NBD r = 0.525, alpha = 6.183, a = 0.891, b = 1.614 (``tests/test_clv.py``).

**Which model says "still active".** BG/NBD lets a customer drop out only right after a
*repeat* purchase, so every one-time buyer has P(alive) = 1 by construction however long they
have been silent. MBG/NBD also lets a customer drop out at the first purchase, so a one-time
buyer silent for a year is rightly doubtful. :func:`fit_value_model` fits MBG/NBD (and
Gamma-Gamma) and is what P(alive), expected purchases and expected value should come from.

**A fit that fails says so.** Every fit raises :class:`profiling.errors.ModelFitError` unless
the optimizer reports success, the likelihood is a finite number that curves away from the
optimum in every direction, every parameter stays inside :data:`PARAM_RANGE` (alpha and v
relative to the data's scale), and there are enough customers (:data:`MIN_CUSTOMERS`,
:data:`MIN_REPEAT_BUYERS`, :data:`MIN_SPEND_BUYERS`). This is the ``lifetimes`` habit
(``BaseFitter._fit`` raises ``ConvergenceError`` unless ``minimize`` reports success) plus
the checks ``lifetimes`` leaves to its user: a degenerate fit such as b = 543,506 is refused,
not shown as a number. :func:`fit_value_model` turns that refusal into a :class:`FitFailure`
("could not fit: <reason>") so that dependent scores fall back to a baseline.

Why not a library: PyMC-Marketing pulls PyMC and PyTensor (a compiler toolchain) for a
four-parameter fit, and ``lifetimes`` is unmaintained; the likelihoods are a few lines of
vectorized numpy, tested against the published values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np
import polars as pl
from scipy import special

from profiling.errors import ModelFitError
from profiling.predict.forecast import expected_purchases, p_alive, p_purchase
from profiling.predict.likelihood import PARAM_RANGE, maximize
from profiling.predict.protocol import Stage, Verbatim, error_stage
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

__all__ = [
    "MIN_CUSTOMERS",
    "MIN_REPEAT_BUYERS",
    "MIN_SPEND_BUYERS",
    "PARAM_RANGE",
    "BGNBDParams",
    "FitFailure",
    "GammaGammaParams",
    "MBGNBDParams",
    "ModelFitError",
    "ValueFit",
    "bgnbd_log_likelihood",
    "clv_table",
    "describe_params",
    "expected_average_value",
    "expected_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_mbgnbd",
    "fit_value_model",
    "gamma_gamma_log_likelihood",
    "mbgnbd_log_likelihood",
    "p_alive",
    "p_purchase",
]

MIN_CUSTOMERS = 10
"""Fewest customers a purchase model (BG/NBD, MBG/NBD) is fitted on: four parameters
describe how a population buys and drops out, and a handful of people is not a population."""

MIN_REPEAT_BUYERS = 5
"""Fewest customers with a repeat purchase a purchase model is fitted on: without people who
came back, nothing in the data tells how often customers come back or when they stop."""

MIN_SPEND_BUYERS = 10
"""Fewest repeat buyers with a positive spend Gamma-Gamma is fitted on (it reads only
repeat purchases): with 3 customers the fit runs off to p = 9,000,000."""


@dataclass(frozen=True)
class BGNBDParams:
    """Fitted BG/NBD parameters: purchase rate ~ Gamma(r, alpha), dropout ~ Beta(a, b).

    ``unit`` is the time unit of purchase_span and T the model was fitted in ("D" or "W").
    """

    MODEL: ClassVar[str] = "BG/NBD"

    r: float
    alpha: float
    a: float
    b: float
    unit: str = "D"
    n_customers: int = 0
    log_likelihood: float = float("nan")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MBGNBDParams(BGNBDParams):
    """Fitted MBG/NBD parameters: as BG/NBD, but a customer may also drop out at the first
    purchase, so a one-time buyer's P(alive) falls with the time since that purchase."""

    MODEL: ClassVar[str] = "MBG/NBD"


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters of the spend per transaction (p, q, v)."""

    MODEL: ClassVar[str] = "Gamma-Gamma"

    p: float
    q: float
    v: float
    n_customers: int = 0
    log_likelihood: float = float("nan")

    def to_dict(self) -> dict:
        return asdict(self)


def describe_params(params: BGNBDParams | GammaGammaParams) -> str:
    """One line naming the model and its parameters, e.g. ``"MBG/NBD r = 0.525, ..."``."""
    if isinstance(params, GammaGammaParams):
        return f"Gamma-Gamma p = {params.p:.3f}, q = {params.q:.3f}, v = {params.v:.3f}"
    units = {"D": N_("days"), "W": N_("weeks"), "M": N_("30-day months")}
    unit = _(units[params.unit]) if params.unit in units else params.unit
    return (
        f"{params.MODEL} r = {params.r:.3f}, α = {params.alpha:.3f}, a = {params.a:.3f}, "
        f"b = {params.b:.3f} ({unit})"
    )


def _arrays(summary: pl.DataFrame, *columns: str) -> list[np.ndarray]:
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise ModelFitError(
            Stage(
                N_(
                    "the BTYD summary has no column {missing}; expected the output of "
                    "profiling.predict.btyd.rfm_summary. Columns found: {found}."
                ),
                missing=Verbatim(", ".join(repr(c) for c in missing)),
                found=Verbatim(", ".join(summary.columns)),
            )
        )
    return [summary[c].cast(pl.Float64).to_numpy() for c in columns]


def _purchase_data(summary: pl.DataFrame, model: str):
    """(counts, x, t_x, T, T scale) of a BTYD summary, checked to be enough to fit on."""
    x, t_x, T = _arrays(summary, "repeat_purchase_days", "purchase_span", "T")
    finite = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(T)
    if not finite.all():
        raise ModelFitError(
            Stage(
                N_(
                    "{model} could not be fitted: {n} customers have a missing or infinite "
                    "repeat_purchase_days, purchase_span or T."
                ),
                model=model,
                n=int((~finite).sum()),
            )
        )
    bad = (x < 0) | (t_x < 0) | (t_x > T) | ((x == 0) & (t_x != 0))
    if bad.any():
        raise ModelFitError(
            Stage(
                N_(
                    "{model} could not be fitted: {n} customers have an impossible history (a "
                    "negative repeat_purchase_days or purchase_span, a purchase_span longer than "
                    "T, or a purchase_span without a repeat purchase day); expected the output of "
                    "rfm_summary."
                ),
                model=model,
                n=int(bad.sum()),
            )
        )
    repeat = int((x > 0).sum())
    if x.size < MIN_CUSTOMERS or repeat < MIN_REPEAT_BUYERS:
        raise ModelFitError(
            Stage(
                N_(
                    "{model} could not be fitted: it needs at least {least} customers of whom at "
                    "least {again} bought again (a repeat purchase); the data have {customers} "
                    "customers and {repeat} with a repeat purchase, so nothing tells how often "
                    "customers come back or when they stop."
                )
                if repeat == 0
                else N_(
                    "{model} could not be fitted: it needs at least {least} customers of whom at "
                    "least {again} bought again (a repeat purchase); the data have {customers} "
                    "customers and {repeat} with a repeat purchase."
                ),
                model=model,
                least=MIN_CUSTOMERS,
                again=MIN_REPEAT_BUYERS,
                customers=x.size,
                repeat=repeat,
            )
        )
    # identical (x, t_x, T) rows share one likelihood term
    keys, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    ux, utx, uT = keys.T
    return counts, ux, utx, uT, max(float(T.max()), 1.0) / 10.0  # alpha lives on T's scale


def bgnbd_log_likelihood(
    params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie and Lee 2005, equation 6)."""
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b)
    a2 = a2 - special.gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x)
    a4 = np.where(repeat, a4, -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def mbgnbd_log_likelihood(
    params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer MBG/NBD log-likelihood (Batislam, Denizel and Filiztekin 2007, eq. 4):
    the BG/NBD one with a dropout chance at every purchase, the first one included."""
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + x + 1) - special.gammaln(b)
    a2 = a2 - special.gammaln(a + b + x + 1)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x)
    return a1 + a2 + np.logaddexp(a3, a4)


def _fit_purchases(summary: pl.DataFrame, unit: str, cls: type[BGNBDParams], loglik):
    counts, x, t_x, T, scale = _purchase_data(summary, cls.MODEL)
    params, ll = maximize(
        cls.MODEL,
        ("r", "alpha", "a", "b"),
        lambda p: counts * loglik(tuple(p), x, t_x, T),
        np.array([1.0, scale, 1.0, 1.0]),
    )
    r, alpha, a, b = (float(v) for v in params)
    return cls(
        r=r, alpha=alpha, a=a, b=b, unit=unit, n_customers=int(counts.sum()), log_likelihood=ll
    )


def fit_bgnbd(summary: pl.DataFrame, *, unit: str = "D") -> BGNBDParams:
    """Maximum-likelihood BG/NBD fit on a BTYD summary.

    Parameters
    ----------
    summary : pl.DataFrame
        One row per customer with ``repeat_purchase_days``, ``purchase_span`` and ``T`` (in
        ``unit``), as
        returned by :func:`profiling.predict.btyd.rfm_summary`.
    unit : str
        The unit purchase_span and T are in; stored with the parameters.

    Raises
    ------
    ModelFitError
        With fewer than :data:`MIN_CUSTOMERS` customers or :data:`MIN_REPEAT_BUYERS` repeat
        buyers, an impossible history, a likelihood that is never finite or flat at the
        optimum, an optimizer that does not report success, or a parameter at the edge of
        :data:`PARAM_RANGE`. The message says which.
    """
    return _fit_purchases(summary, unit, BGNBDParams, bgnbd_log_likelihood)


def fit_mbgnbd(summary: pl.DataFrame, *, unit: str = "D") -> MBGNBDParams:
    """Maximum-likelihood MBG/NBD fit on a BTYD summary; as :func:`fit_bgnbd` (same input,
    same refusals), but one-time buyers can drop out, so their P(alive) is not 1."""
    return _fit_purchases(summary, unit, MBGNBDParams, mbgnbd_log_likelihood)


def gamma_gamma_log_likelihood(
    params: tuple[float, float, float], x: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend m over x transactions."""
    p, q, v = params
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )


def fit_gamma_gamma(summary: pl.DataFrame) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit on the repeat customers of a BTYD summary.

    Uses customers with ``repeat_purchase_days > 0`` and ``monetary_value > 0`` (the model describes
    positive spend per repeat transaction).

    Raises
    ------
    ModelFitError
        With fewer than :data:`MIN_SPEND_BUYERS` such customers (the message says how many
        there were), or for the reasons of :func:`fit_bgnbd` (optimizer without success,
        likelihood never finite or flat, a parameter at the edge of :data:`PARAM_RANGE`).
    """
    x, m = _arrays(summary, "repeat_purchase_days", "monetary_value")
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    x, m = x[keep], m[keep]
    if x.size < MIN_SPEND_BUYERS:
        raise ModelFitError(
            Stage(
                N_(
                    "Gamma-Gamma could not be fitted: it needs at least {least} repeat buyers "
                    "with a positive spend (it reads only repeat purchases); the data have {n}."
                ),
                least=MIN_SPEND_BUYERS,
                n=x.size,
            )
        )
    scale = float(np.mean(m))
    params, ll = maximize(
        GammaGammaParams.MODEL,
        ("p", "q", "v"),
        lambda prm: gamma_gamma_log_likelihood(tuple(prm), x, m),
        np.array([1.0, 1.0, scale]),
    )
    p, q, v = (float(value) for value in params)
    return GammaGammaParams(p=p, q=q, v=v, n_customers=int(x.size), log_likelihood=ll)


def expected_average_value(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[spend per transaction | x, m]: a weighted mean of the population mean p v / (q - 1)
    and the customer's own mean m, with weight p x / (p x + q - 1) on m. For q <= 1 the
    population mean does not exist and the customer's own mean is returned."""
    p, q, v = params.p, params.q, params.v
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    if q <= 1:
        return m
    population = p * v / (q - 1)
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * population + weight * np.where(x > 0, m, 0.0)


def clv_table(
    summary: pl.DataFrame,
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams | None,
    *,
    horizons_days: tuple[int, ...] = (90, 365),
) -> pl.DataFrame:
    """Per-customer P(alive), expected purchases and expected value over each horizon.

    Parameters
    ----------
    summary : pl.DataFrame
        BTYD summary (``rfm_summary``) in the unit of ``bgnbd`` with ``monetary_value`` when
        ``gamma_gamma`` is given.
    bgnbd : BGNBDParams or MBGNBDParams
        The purchase model; P(alive) and expected purchases follow its formulas (use
        MBG/NBD: under BG/NBD every one-time buyer has P(alive) = 1).
    horizons_days : tuple of int
        Horizons in days; converted to the model's unit.

    Returns
    -------
    pl.DataFrame
        One row per customer of ``summary``: ``user_id``, ``p_alive``,
        ``expected_purchases_<h>d`` for each horizon and, with ``gamma_gamma``,
        ``expected_spend_per_purchase`` and ``expected_value_<h>d`` (undiscounted:
        expected purchases times expected spend per purchase).
    """
    from profiling.predict.btyd import UNIT_DAYS

    x, t_x, T = _arrays(summary, "repeat_purchase_days", "purchase_span", "T")
    unit_days = UNIT_DAYS[bgnbd.unit]
    cols = {S.USER_ID: summary[S.USER_ID], "p_alive": p_alive(bgnbd, x, t_x, T)}
    spend = None
    if gamma_gamma is not None:
        (m,) = _arrays(summary, "monetary_value")
        spend = expected_average_value(gamma_gamma, x, m)
        cols["expected_spend_per_purchase"] = spend
    for h in horizons_days:
        n = expected_purchases(bgnbd, h / unit_days, x, t_x, T)
        cols[f"expected_purchases_{h}d"] = n
        if spend is not None:
            cols[f"expected_value_{h}d"] = n * spend
    return pl.DataFrame(cols)


# ---- one call for the predictions code: a fit, or a named fallback --------------------------
@dataclass(frozen=True)
class FitFailure:
    """A customer-value model that could not be fitted, and why; scores that need it fall
    back to the baseline that does not.

    ``reason`` is the :class:`profiling.predict.Stage` the refusal was raised with (English
    text that a page reads again in its language with ``stage_text``); :attr:`note` (and
    ``str(failure)``) reads "could not fit: <reason>".
    """

    model: str
    reason: str

    @property
    def note(self) -> Stage:
        """The note "could not fit: <reason>", a Stage (notes are saved in English and
        translated where they are read)."""
        return Stage(N_("could not fit: {reason}"), reason=self.reason)

    def __str__(self) -> str:
        return str(self.note)


@dataclass(frozen=True)
class ValueFit:
    """A fitted purchase model (MBG/NBD) and, where it could be fitted, the spend model.

    ``spend`` is None when the log has no amounts or Gamma-Gamma could not be fitted; then
    ``spend_failure`` says why and :meth:`table` has no expected-value columns.
    """

    purchases: MBGNBDParams
    spend: GammaGammaParams | None = None
    spend_failure: FitFailure | None = None

    def table(
        self, summary: pl.DataFrame, *, horizons_days: tuple[int, ...] = (90, 365)
    ) -> pl.DataFrame:
        """:func:`clv_table` of ``summary`` under this fit (P(alive) from MBG/NBD)."""
        return clv_table(summary, self.purchases, self.spend, horizons_days=horizons_days)

    def describe(self) -> str:
        """The parameters in one line, or why the spend model is missing (then a Stage:
        the failure reads in a page's language with ``stage_text``)."""
        text = describe_params(self.purchases)
        if self.spend is not None:
            return f"{text}; {describe_params(self.spend)}"
        if self.spend_failure is not None:
            return Stage(
                N_("{params}; Gamma-Gamma {failure}"), params=text, failure=self.spend_failure.note
            )
        return text


def fit_value_model(
    summary: pl.DataFrame, *, unit: str = "D", with_spend: bool = True
) -> ValueFit | FitFailure:
    """Fit MBG/NBD (and Gamma-Gamma) on a BTYD summary, or say why not.

    Parameters
    ----------
    summary : pl.DataFrame
        One row per customer from :func:`profiling.predict.btyd.rfm_summary` (with
        ``monetary=True`` for the spend model).
    unit : str
        The unit purchase_span and T are in.
    with_spend : bool
        Also fit Gamma-Gamma when ``summary`` has ``monetary_value``.

    Returns
    -------
    ValueFit or FitFailure
        The fit; or, when MBG/NBD cannot be fitted, a :class:`FitFailure` naming the
        reason, and every score that needs the model (P(alive), expected purchases and
        value, the model's chance of buying) should fall back to a baseline that does not.
        A Gamma-Gamma failure alone leaves a ``ValueFit`` without a spend model.
    """
    try:
        purchases = fit_mbgnbd(summary, unit=unit)
    except ModelFitError as exc:
        return FitFailure(MBGNBDParams.MODEL, error_stage(exc))
    if not with_spend or "monetary_value" not in summary.columns:
        return ValueFit(purchases)
    try:
        return ValueFit(purchases, fit_gamma_gamma(summary))
    except ModelFitError as exc:
        return ValueFit(purchases, None, FitFailure(GammaGammaParams.MODEL, error_stage(exc)))
