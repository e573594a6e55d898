"""Customer lifetime value: BG/NBD and Gamma-Gamma fitted by maximum likelihood with scipy.

The models read the BTYD summary of :func:`profiling.predict.btyd.rfm_summary` (``frequency`` = x
repeat purchase days, ``recency`` = t_x, ``T``, ``monetary_value``) and follow Fader, Hardie
and Lee, "Counting your customers the easy way" (Marketing Science, 2005) and Fader and
Hardie, "The Gamma-Gamma model of monetary value" (2013). The likelihoods are the ones the
``lifetimes`` package maximizes; on the CDNOW 1/10 sample calibrated to 1997-09-30 in weeks
the fit reproduces the published r = 0.243, alpha = 4.414, a = 0.793, b = 2.426
(``tests/test_clv.py``).

Why not a library: PyMC-Marketing pulls PyMC and PyTensor (a compiler toolchain) for a
four-parameter fit, and ``lifetimes`` is unmaintained; the two likelihoods are a few lines
of vectorized numpy, tested against the published values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import polars as pl
from scipy import optimize, special

from profiling.errors import ProfilingError
from profiling.vocabulary import schema as S


class ModelFitError(ProfilingError, ValueError):
    """A CLV model cannot be fitted on the data given (too few customers or repeat buyers)."""


@dataclass(frozen=True)
class BGNBDParams:
    """Fitted BG/NBD parameters: purchase rate ~ Gamma(r, alpha), dropout ~ Beta(a, b).

    ``unit`` is the time unit of recency and T the model was fitted in ("D" or "W").
    """

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
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters of the spend per transaction (p, q, v)."""

    p: float
    q: float
    v: float
    n_customers: int = 0
    log_likelihood: float = float("nan")

    def to_dict(self) -> dict:
        return asdict(self)


def _arrays(summary: pl.DataFrame, *columns: str) -> list[np.ndarray]:
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise ModelFitError(
            f"the BTYD summary has no column {', '.join(repr(c) for c in missing)}; expected "
            f"the output of profiling.predict.btyd.rfm_summary. Columns found: {', '.join(summary.columns)}."
        )
    return [summary[c].cast(pl.Float64).to_numpy() for c in columns]


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


def fit_bgnbd(summary: pl.DataFrame, *, unit: str = "D") -> BGNBDParams:
    """Maximum-likelihood BG/NBD fit on a BTYD summary.

    Parameters
    ----------
    summary : pl.DataFrame
        One row per customer with ``frequency``, ``recency`` and ``T`` (in ``unit``), as
        returned by :func:`profiling.predict.btyd.rfm_summary`.
    unit : str
        The unit recency and T are in; stored with the parameters.

    Raises
    ------
    ModelFitError
        With fewer than 2 customers, without a single repeat purchase, or when the optimizer
        does not converge.
    """
    x, t_x, T = _arrays(summary, "frequency", "recency", "T")
    if x.size < 2 or not (x > 0).any():
        raise ModelFitError(
            f"BG/NBD needs at least 2 customers and one repeat purchase to fit; got "
            f"{x.size} customers and {int((x > 0).sum())} with a repeat purchase."
        )
    # identical (x, t_x, T) rows share one likelihood term
    keys, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    ux, utx, uT = keys.T
    scale = max(float(T.max()), 1.0) / 10.0  # alpha lives on the scale of T

    def negll(log_params: np.ndarray) -> float:
        p = np.exp(log_params)
        value = -(counts * bgnbd_log_likelihood((p[0], p[1] * scale, p[2], p[3]), ux, utx, uT))
        total = float(value.sum())
        return total if np.isfinite(total) else 1e300

    res = optimize.minimize(
        negll,
        np.zeros(4),
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000, "maxfev": 4000},
    )
    res = optimize.minimize(negll, res.x, method="L-BFGS-B")  # polish the simplex result
    if not np.isfinite(res.fun):
        raise ModelFitError(f"the BG/NBD fit did not converge: {res.message}")
    r, alpha, a, b = np.exp(res.x)
    return BGNBDParams(
        r=float(r),
        alpha=float(alpha * scale),
        a=float(a),
        b=float(b),
        unit=unit,
        n_customers=int(x.size),
        log_likelihood=float(-res.fun),
    )


def p_alive(params: BGNBDParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(the customer is still active at T | x, t_x, T); 1 for a customer without repeats.

    Fader, Hardie and Lee (2008) note "Computing P(alive) using the BG/NBD model":
    1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)).
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_ratio = np.log(a) - np.log(np.where(x > 0, b + x - 1, 1.0))
        log_ratio = log_ratio + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    odds = np.where(x > 0, np.exp(np.minimum(log_ratio, 700.0)), 0.0)
    return 1.0 / (1.0 + odds)


def expected_purchases(
    params: BGNBDParams, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """E[number of purchases in (T, T + t] | x, t_x, T] (Fader, Hardie and Lee 2005, eq. 10).

    ``t`` is in the unit the model was fitted in.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=float)
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    ratio = ((alpha + T) / (alpha + T + t)) ** (r + x)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ratio * hyp)
    # hyp2f1 overflows for very large x; such a customer's posterior rate is then sharp
    # enough that E[purchases | alive] = (r + x) / (alpha + T) * t is used instead
    out = numerator * p_alive(params, x, t_x, T)
    fallback = p_alive(params, x, t_x, T) * (r + x) / (alpha + T) * t
    return np.where(np.isfinite(out) & (out >= 0), out, fallback)


def p_purchase(
    params: BGNBDParams, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(at least one purchase in (T, T + t] | x, t_x, T) under BG/NBD.

    A customer who is alive at T buys in the window when the first exponential waiting time
    is shorter than t (dropout happens only right after a purchase), and given alive the rate
    is Gamma(r + x, alpha + T), so P = P(alive) (1 - ((alpha + T) / (alpha + T + t))^(r + x)).
    """
    r, alpha = params.r, params.alpha
    x = np.asarray(x, dtype=float)
    no_buy = ((alpha + T) / (alpha + T + t)) ** (r + x)
    return p_alive(params, x, t_x, T) * (1.0 - no_buy)


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

    Uses customers with ``frequency > 0`` and ``monetary_value > 0`` (the model describes
    positive spend per repeat transaction).

    Raises
    ------
    ModelFitError
        With fewer than 2 such customers.
    """
    x, m = _arrays(summary, "frequency", "monetary_value")
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    x, m = x[keep], m[keep]
    if x.size < 2:
        raise ModelFitError(
            "Gamma-Gamma needs at least 2 customers with a repeat purchase of positive value; "
            f"got {x.size}."
        )
    scale = float(np.mean(m))

    def negll(log_params: np.ndarray) -> float:
        p, q, v = np.exp(log_params)
        total = -float(gamma_gamma_log_likelihood((p, q, v * scale), x, m).sum())
        return total if np.isfinite(total) else 1e300

    res = optimize.minimize(
        negll,
        np.zeros(3),
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 6000, "maxfev": 6000},
    )
    res = optimize.minimize(negll, res.x, method="L-BFGS-B")
    p, q, v = np.exp(res.x)
    return GammaGammaParams(
        p=float(p),
        q=float(q),
        v=float(v * scale),
        n_customers=int(x.size),
        log_likelihood=float(-res.fun),
    )


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

    x, t_x, T = _arrays(summary, "frequency", "recency", "T")
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
