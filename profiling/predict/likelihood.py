"""Maximum likelihood that refuses a fit which is not one: :func:`maximize` searches inside
:data:`PARAM_RANGE` and raises :class:`profiling.errors.ModelFitError` when the optimizer does
not converge, a parameter runs to an edge of the range, or the likelihood is not finite or is
flat at the optimum (used by the BG/NBD, MBG/NBD and Gamma-Gamma fits of
:mod:`profiling.predict.clv`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize

from profiling.errors import ModelFitError
from profiling.predict.protocol import Stage, Verbatim
from profiling.vocabulary.i18n import N_

PARAM_RANGE = (1e-4, 1e4)
"""The range every parameter of a sane fit stays in. r, a, b, p and q as they are; alpha
relative to a tenth of the longest customer age T, and v relative to the mean spend, so that
the range does not depend on the time or money unit. The optimizer searches inside it; a
parameter that ends at either edge means the likelihood kept improving towards a degenerate
model (for example b running off to 543,506: every customer with the same, tiny chance of
dropping out), and the fit is refused."""

_FLAT = 1e-6  # smallest curvature of -log L (log-parameter scale) that still pins a parameter
_EDGE = 0.01  # a log-parameter within this of a bound of PARAM_RANGE sits on the edge
_INWARD = 0.1  # the step back inside (log scale) that must not improve an edge fit
_EVERY = 20  # simplex iterations between two checks for a fit running to an edge

_WHAT = {  # msgids: a refusal keeps them, a page reads them in its language
    "r": N_("r (the shape of how purchase rates differ between customers)"),
    "alpha": N_("alpha (the scale of purchase rates)"),
    "a": N_("a (the first shape of the chance of dropping out)"),
    "b": N_("b (the second shape of the chance of dropping out)"),
    "p": N_("p (the shape of one customer's spend per purchase)"),
    "q": N_("q (the shape of how average spend differs between customers)"),
    "v": N_("v (the scale of average spend)"),
}


_EDGE_MESSAGES = {  # one sentence per edge, so that each reads whole in a translation
    "lower": N_(
        "{model} could not be fitted: {what} ran to {value}, the lower edge of the range a sane "
        "fit stays in ({low} to {high}). The likelihood keeps improving as {name} runs off to "
        "zero: the model is degenerate on this data, and numbers such as {name} = {limit} would "
        "mean nothing."
    ),
    "upper": N_(
        "{model} could not be fitted: {what} ran to {value}, the upper edge of the range a sane "
        "fit stays in ({low} to {high}). The likelihood keeps improving as {name} runs off to "
        "infinity: the model is degenerate on this data, and numbers such as {name} = {limit} "
        "would mean nothing."
    ),
}


def _fmt(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def maximize(
    model: str,
    names: tuple[str, ...],
    loglik: Callable[[np.ndarray], np.ndarray],
    scales: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Maximize ``sum(loglik(params))`` over ``params = exp(theta) * scales`` with theta in
    log(PARAM_RANGE); return (params, log-likelihood) or raise ModelFitError saying why the
    fit is not one."""
    lo, hi = np.log(PARAM_RANGE)
    bounds = [(lo, hi)] * len(names)

    def negll(theta: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            total = -float(np.sum(loglik(np.exp(theta) * scales)))
        # inf (not a large finite stand-in) so that a likelihood that is never finite
        # cannot pass for a converged fit
        return total if np.isfinite(total) else np.inf

    # a coarse simplex search from every parameter = 1 (alpha and v on the data's scale),
    # then a quasi-Newton run from there whose own convergence verdict is the one read.
    # A degenerate fit fails fast: once a parameter sits on an edge of PARAM_RANGE with the
    # likelihood still improving towards it, at two checks in a row of the simplex and again
    # after each run, the fit is refused there (it used to run every remaining budget, up to
    # 11,000 likelihood evaluations, only to end on the same edge)
    watch = EdgeWatch(negll, lo, hi)
    with np.errstate(invalid="ignore"):  # inf - inf in the simplex when nothing is finite
        res = optimize.minimize(
            negll,
            np.zeros(len(names)),
            method="Nelder-Mead",
            bounds=bounds,
            callback=watch,
            options={"xatol": 1e-4, "fatol": 1e-6, "maxfev": 3000},
        )
    if np.isfinite(res.fun) and watch.degenerate(res.x) is None:
        res = optimize.minimize(
            negll, res.x, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000}
        )
        if np.isfinite(res.fun) and not res.success and watch.degenerate(res.x) is None:
            # L-BFGS-B's line search fails on a ridge or against a bound, where its numerical
            # gradient is poor: a fine simplex run from where it stopped has the last word
            res = optimize.minimize(
                negll,
                res.x,
                method="Nelder-Mead",
                bounds=bounds,
                options={"xatol": 1e-7, "fatol": 1e-9, "maxfev": 6000},
            )
    if not np.isfinite(res.fun):
        raise ModelFitError(
            Stage(
                N_(
                    "{model} could not be fitted: its likelihood is not a finite number anywhere "
                    "the optimizer looked (starting from {start}), so the data give it nothing to "
                    "fit. Check that purchase_span is not longer than T and that "
                    "repeat_purchase_days, purchase_span and T are not negative."
                ),
                model=model,
                start=", ".join(n + " = 1" for n in names),
            )
        )
    params = np.exp(res.x) * scales
    for i, name in enumerate(names):
        edge = "lower" if res.x[i] - lo < _EDGE else "upper" if hi - res.x[i] < _EDGE else None
        if edge is not None:
            limit = PARAM_RANGE[0 if edge == "lower" else 1] * scales[i]
            raise ModelFitError(
                Stage(
                    _EDGE_MESSAGES[edge],
                    model=model,
                    what=_WHAT[name],
                    value=_fmt(params[i]),
                    low=_fmt(PARAM_RANGE[0] * scales[i]),
                    high=_fmt(PARAM_RANGE[1] * scales[i]),
                    name=name,
                    limit=_fmt(limit),
                )
            )
    if not res.success:
        raise ModelFitError(
            Stage(
                N_(
                    "{model} could not be fitted: the optimizer stopped without converging "
                    "({message}). Its parameters would be wherever it happened to stop."
                ),
                model=model,
                message=Verbatim(res.message),  # scipy's words, kept as they are
            )
        )
    hessian = central_hessian(negll, res.x)
    if not np.isfinite(hessian).all():
        raise ModelFitError(
            Stage(
                N_(
                    "{model} could not be fitted: its likelihood stops being a finite number "
                    "right next to the optimum, so the fit cannot be trusted."
                ),
                model=model,
            )
        )
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    if eigenvalues[0] <= _FLAT:
        flat = names[int(np.argmax(np.abs(eigenvectors[:, 0])))]
        raise ModelFitError(
            Stage(
                N_(
                    "{model} could not be fitted: its likelihood is flat along {what}: many "
                    "values fit this data equally well, so the data do not pin {name} down."
                ),
                model=model,
                what=_WHAT[flat],
                name=flat,
            )
        )
    return params, float(-res.fun)


class EdgeWatch:
    """Nelder-Mead's callback and the check between runs: is the fit running off to an edge
    of PARAM_RANGE? :meth:`degenerate` names the first parameter within ``_EDGE`` of a bound
    (log scale) for which a step of ``_INWARD`` back inside makes the likelihood worse; the
    callback stops the simplex (StopIteration) when the same parameter is so at two checks
    ``_EVERY`` iterations apart."""

    def __init__(self, negll: Callable[[np.ndarray], float], lo: float, hi: float) -> None:
        self.negll, self.lo, self.hi = negll, lo, hi
        self.iteration = 0
        self.last: int | None = None

    def degenerate(self, theta: np.ndarray) -> int | None:
        f0 = self.negll(theta)
        if not np.isfinite(f0):
            return None
        for i, value in enumerate(theta):
            if value - self.lo < _EDGE:
                step = _INWARD
            elif self.hi - value < _EDGE:
                step = -_INWARD
            else:
                continue
            inside = theta.copy()
            inside[i] += step
            if not self.negll(inside) < f0:
                return i
        return None

    def __call__(self, intermediate_result: optimize.OptimizeResult) -> None:
        self.iteration += 1
        if self.iteration % _EVERY:
            return
        edge = self.degenerate(intermediate_result.x)
        if edge is not None and edge == self.last:
            raise StopIteration
        self.last = edge


def central_hessian(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of f at x."""
    k = x.size
    out = np.empty((k, k))
    f0 = f(x)
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            if i == j:
                value = (f(x + ei) - 2 * f0 + f(x - ei)) / h**2
            else:
                value = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                    4 * h**2
                )
            out[i, j] = out[j, i] = value
    return out
