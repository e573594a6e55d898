"""What fitted BG/NBD or MBG/NBD parameters (:mod:`profiling.predict.clv`) forecast for a
customer with x repeat purchases, the last at t_x, observed for T: P(alive), expected
purchases and the chance of at least one purchase in the next t. Which model a parameter set
is comes from its ``MODEL`` name (this module sits below the fits, which import it)."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from scipy import special


class PurchaseParams(Protocol):
    """What a forecast reads of fitted parameters (:class:`profiling.predict.clv.BGNBDParams`
    and its MBG/NBD subclass): the model's name and its four parameters."""

    MODEL: str
    r: float
    alpha: float
    a: float
    b: float


def p_alive(params: PurchaseParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(the customer is still active at T | x, t_x, T).

    BG/NBD (Fader, Hardie and Lee 2008, "Computing P(alive) using the BG/NBD model"):
    1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)), so 1 for every
    customer without a repeat purchase. MBG/NBD (Batislam et al. 2007, appendix, eq. 5):
    1 / (1 + a / (b + x) ((alpha + T) / (alpha + t_x))^(r + x)) for every customer.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=float)
    t_x, T = np.asarray(t_x, dtype=float), np.asarray(T, dtype=float)
    modified = params.MODEL == "MBG/NBD"
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        denominator = b + x if modified else np.where(x > 0, b + x - 1, 1.0)
        log_ratio = np.log(a) - np.log(denominator)
        log_ratio = log_ratio + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    odds = np.exp(np.minimum(log_ratio, 700.0))
    if not modified:
        odds = np.where(x > 0, odds, 0.0)
    return 1.0 / (1.0 + odds)


def _hyp2f1(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gauss's 2F1, with Euler's transformation where the direct series overflows."""
    with np.errstate(all="ignore"):
        direct = special.hyp2f1(a, b, c, z)
        euler = (1 - z) ** (c - a - b) * special.hyp2f1(c - a, c - b, c, z)
    return np.where(np.isfinite(direct), direct, euler)


def expected_purchases(
    params: PurchaseParams, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """E[number of purchases in (T, T + t] | x, t_x, T]; ``t`` in the model's unit.

    BG/NBD: Fader, Hardie and Lee (2005), equation 10. MBG/NBD: Batislam et al. (2007) as
    corrected by Wagner and Hoppe (2008), the formula of ``lifetimes``'
    ``ModifiedBetaGeoFitter.conditional_expected_number_of_purchases_up_to_time``.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=float)
    t_x, T = np.asarray(t_x, dtype=float), np.asarray(T, dtype=float)
    z = t / (alpha + T + t)
    ratio = ((alpha + T) / (alpha + T + t)) ** (r + x)
    alive = p_alive(params, x, t_x, T)
    with np.errstate(all="ignore"):
        if params.MODEL == "MBG/NBD":
            hyp = _hyp2f1(r + x, b + x + 1, a + b + x, z)
            given_alive = (a + b + x) / (a - 1) * (1 - ratio * hyp)
        else:
            hyp = _hyp2f1(r + x, b + x, a + b + x - 1, z)
            given_alive = (a + b + x - 1) / (a - 1) * (1 - ratio * hyp)
        out = given_alive * alive
    # where 2F1 still overflows (very large x) the posterior rate is sharp enough that
    # E[purchases | alive] = (r + x) / (alpha + T) * t is used instead
    fallback = alive * (r + x) / (alpha + T) * t
    return np.where(np.isfinite(out) & (out >= 0), out, fallback)


def p_purchase(
    params: PurchaseParams, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(at least one purchase in (T, T + t] | x, t_x, T) under BG/NBD or MBG/NBD.

    A customer who is alive at T buys in the window when the first exponential waiting time
    is shorter than t (in both models dropout happens only at a purchase), and given alive the
    rate is Gamma(r + x, alpha + T), so P = P(alive) (1 - ((alpha + T) / (alpha + T + t))^(r + x)).
    """
    r, alpha = params.r, params.alpha
    x = np.asarray(x, dtype=float)
    t_x, T = np.asarray(t_x, dtype=float), np.asarray(T, dtype=float)
    no_buy = ((alpha + T) / (alpha + T + t)) ** (r + x)
    return p_alive(params, x, t_x, T) * (1.0 - no_buy)
