"""Stepwise ARIMA order search on the conditional-sum-of-squares likelihood (``approximation``).

R's ``forecast::auto.arima(approximation=TRUE)`` (Hyndman & Khandakar 2008, section 3.2) compares
candidate orders by an information criterion computed from a conditional-sum-of-squares (CSS)
fit instead of a full maximum-likelihood (ML) fit, then estimates the chosen order by ML. This
module is that search. A CSS candidate costs a few hundred evaluations of a compiled residual
recursion (microseconds each); an ML candidate costs as many Kalman-filter passes in statsmodels.

The search visits the same candidates in the same order as pmdarima's ``auto_arima(stepwise=True)``
(which follows R's ``newarima2.R``): the start model, the null model, a first-order AR and MA model,
the null model without a constant, then moves of ``(P, Q)`` and ``(p, q)`` by one and the
constant toggled, until no move improves the criterion or 100 models were fitted.

CSS model, for ``w = (1 - B)^d (1 - B^m)^D y`` (``y`` less an OLS fit on ``X`` when there are
regressors; ML then estimates the regression jointly)::

    phi(B) Phi(B^m) (w_t - mu) = theta(B) Theta(B^m) e_t

with ``mu`` present only when the constant is (``d + D <= 1``). Residuals start after the first
``p + P m`` values of ``w``, pre-sample errors are zero, ``sigma2`` is their mean square, and
the criterion is ``n* log(sigma2)`` plus the penalty with ``n* = n - d - D m`` (R's ``offset``
is the same for every candidate of a search and is left out). AR and MA polynomials are
parametrized through Monahan's (1984) transform, as statsmodels does, so every candidate is
stationary and invertible; candidates with a root within 1.01 of the unit circle are rejected,
as R and pmdarima reject them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
from numba import njit

MAX_FITS = 100  # pmdarima's and R's cap on models visited by the stepwise search


@njit(cache=True)
def _monahan(u: np.ndarray) -> np.ndarray:
    """Stationary AR coefficients from unconstrained values (statsmodels'
    ``constrain_stationary_univariate``)."""
    n = u.shape[0]
    y = np.zeros((n, n))
    for k in range(n):
        r = u[k] / math.sqrt(1.0 + u[k] * u[k])
        for i in range(k):
            y[k, i] = y[k - 1, i] + r * y[k - 1, k - i - 1]
        y[k, k] = r
    out = np.empty(n)
    for i in range(n):
        out[i] = -y[n - 1, i]
    return out


@njit(cache=True)
def _lag_poly(coef: np.ndarray, scoef: np.ndarray, m: int, sign: float) -> np.ndarray:
    """Coefficients of ``(1 + sign*sum c_i B^i)(1 + sign*sum C_j B^{jm})`` by power of ``B``."""
    p, P = coef.shape[0], scoef.shape[0]
    a = np.zeros(p + 1)
    a[0] = 1.0
    for i in range(p):
        a[i + 1] = sign * coef[i]
    out = np.zeros(p + P * m + 1)
    for j in range(P + 1):
        s = 1.0 if j == 0 else sign * scoef[j - 1]
        for i in range(p + 1):
            out[i + j * m] += s * a[i]
    return out


@njit(cache=True)
def _coefficients(
    x: np.ndarray, p: int, q: int, P: int, Q: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """AR, MA, seasonal AR, seasonal MA coefficients (statsmodels' signs) from optimizer values."""
    k = 0
    ar = _monahan(x[k : k + p])
    k += p
    ma = -_monahan(x[k : k + q])
    k += q
    sar = _monahan(x[k : k + P])
    k += P
    sma = -_monahan(x[k : k + Q])
    return ar, ma, sar, sma


@njit(cache=True)
def _css(x: np.ndarray, w: np.ndarray, p: int, q: int, P: int, Q: int, m: int, mean: bool) -> float:
    """Half the log of the conditional mean squared residual (the CSS objective R minimizes)."""
    ar, ma, sar, sma = _coefficients(x, p, q, P, Q)
    a = _lag_poly(ar, sar, m, -1.0)  # phi(B) Phi(B^m)
    b = _lag_poly(ma, sma, m, 1.0)  # theta(B) Theta(B^m)
    mu = x[p + q + P + Q] if mean else 0.0
    n = w.shape[0]
    na, nb = a.shape[0] - 1, b.shape[0] - 1
    e = np.zeros(n)
    ssq = 0.0
    for t in range(na, n):
        v = 0.0
        for i in range(na + 1):
            v += a[i] * (w[t - i] - mu)
        for j in range(1, min(nb, t - na) + 1):
            v -= b[j] * e[t - j]
        e[t] = v
        ssq += v * v
    used = n - na
    if used <= 0 or not ssq > 0.0:
        return np.inf
    return 0.5 * math.log(ssq / used)


@njit(cache=True)
def _css_and_grad(
    x: np.ndarray, w: np.ndarray, p: int, q: int, P: int, Q: int, m: int, mean: bool
) -> tuple[float, np.ndarray]:
    """The objective and its central-difference gradient in one compiled call (the optimizer's
    own numerical gradient costs more in Python overhead than the recursions themselves)."""
    f = _css(x, w, p, q, P, Q, m, mean)
    g = np.zeros(x.shape[0])
    xh = x.copy()
    for i in range(x.shape[0]):
        h = 1e-6 * max(1.0, abs(x[i]))
        xh[i] = x[i] + h
        up = _css(xh, w, p, q, P, Q, m, mean)
        xh[i] = x[i] - h
        down = _css(xh, w, p, q, P, Q, m, mean)
        xh[i] = x[i]
        g[i] = (up - down) / (2.0 * h)
    return f, g


@njit(cache=True)
def _bfgs(
    x0: np.ndarray, w: np.ndarray, p: int, q: int, P: int, Q: int, m: int, mean: bool
) -> tuple[np.ndarray, float]:
    """Minimize the CSS objective: BFGS with an Armijo backtracking line search, compiled with
    the objective (scipy's BFGS spends ~100 microseconds of Python per iteration on a problem
    whose objective costs a few). Stops when the gradient or the relative change of the
    objective is below R's ``optim`` tolerances (``reltol`` 1e-8) or after 200 iterations."""
    n = x0.shape[0]
    x = x0.copy()
    f, g = _css_and_grad(x, w, p, q, P, Q, m, mean)
    if not np.isfinite(f):
        return x, f
    H = np.eye(n)
    for _ in range(200):
        d = -H @ g
        slope = d @ g
        if slope >= 0.0:  # not a descent direction: restart from steepest descent
            H = np.eye(n)
            d = -g
            slope = -(g @ g)
        step = 1.0
        while True:
            xn = x + step * d
            fn, gn = _css_and_grad(xn, w, p, q, P, Q, m, mean)
            if np.isfinite(fn) and fn <= f + 1e-4 * step * slope:
                break
            step *= 0.5
            if step < 1e-10:
                return x, f
        s_ = xn - x
        yk = gn - g
        sy = s_ @ yk
        done = abs(f - fn) <= 1e-8 * (abs(f) + 1e-8) or np.max(np.abs(gn)) < 1e-6
        x, f, g = xn, fn, gn
        if done:
            break
        if sy > 1e-12:
            rho = 1.0 / sy
            Hy = H @ yk
            H = (
                H
                - rho * (np.outer(Hy, s_) + np.outer(s_, Hy))
                + (rho * rho * (yk @ Hy) + rho) * np.outer(s_, s_)
            )
    return x, f


@dataclass(frozen=True)
class Candidate:
    """One visited model: orders, constant, criterion and its CSS estimates (statsmodels order:
    ar, ma, seasonal ar, seasonal ma; then the mean of ``w``; then ``sigma2``)."""

    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    constant: bool
    ic: float
    ar: tuple[float, ...] = ()
    ma: tuple[float, ...] = ()
    sar: tuple[float, ...] = ()
    sma: tuple[float, ...] = ()
    mu: float = 0.0
    sigma2: float = float("nan")

    def start_params(self, exog_coefs: np.ndarray | None = None) -> np.ndarray:
        """Starting values for pmdarima/statsmodels SARIMAX with ``trend="c"`` when there is a
        constant: the intercept of the (differenced) state equation is ``mu phi(1) Phi(1)``."""
        head: list[float] = []
        if self.constant:
            head.append(self.mu * (1.0 - sum(self.ar)) * (1.0 - sum(self.sar)))
        if exog_coefs is not None:
            head.extend(float(c) for c in exog_coefs)
        body = [*self.ar, *self.ma, *self.sar, *self.sma, self.sigma2]
        return np.asarray(head + body, dtype=float)


def _penalty(criterion: str, k: int, n: int) -> float:
    if criterion == "aic":
        return 2.0 * k
    if criterion == "aicc":
        return 2.0 * k + 2.0 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.inf
    if criterion == "bic":
        return k * math.log(n)
    if criterion == "hqic":
        return 2.0 * k * math.log(math.log(n)) if n > 3 else math.inf
    raise ValueError(f"information criterion must be aic, aicc, bic or hqic, got {criterion!r}")


def _roots_ok(coef: tuple[float, ...], sign: float) -> bool:
    """Every root of ``1 + sign*sum c_i z^i`` at least 1.01 from the origin (R's check)."""
    c = np.trim_zeros(np.asarray(coef, dtype=float), "b")
    if not c.size:
        return True
    poly = np.concatenate([[1.0], sign * c])[::-1]  # highest power first for numpy.roots
    return bool(np.all(np.abs(np.roots(poly)) > 1.01))


def css_fit(
    w: np.ndarray,
    order: tuple[int, int, int],
    seasonal_order: tuple[int, int, int, int],
    constant: bool,
    criterion: str,
    n_star: int,
    n_exog: int = 0,
) -> Candidate:
    """CSS estimates of one candidate and its criterion (``inf`` when it cannot be used)."""
    p, _, q = order
    P, _, Q, m = seasonal_order
    k_arma = p + q + P + Q
    # w is divided by its root mean square so that the mean is on the scale of the ARMA
    # coefficients (the optimizer's steps are then comparable); estimates are scaled back
    scale = float(np.sqrt(np.mean(w * w))) or 1.0
    x0 = np.zeros(k_arma + int(constant))
    if constant:
        x0[-1] = float(np.mean(w)) / scale
    args = (w / scale, p, q, P, Q, max(m, 1), constant)
    if x0.size:
        x, obj = _bfgs(x0, *args)
    else:
        x, obj = x0, float(_css(x0, *args))
    fail = Candidate(order, seasonal_order, constant, math.inf)
    if not np.isfinite(obj):
        return fail
    ar, ma, sar, sma = (tuple(float(v) for v in c) for c in _coefficients(x, p, q, P, Q))
    if not (_roots_ok(ar, -1.0) and _roots_ok(ma, 1.0) and _roots_ok(sar, -1.0)):
        return fail
    if not _roots_ok(sma, 1.0):
        return fail
    sigma2 = math.exp(2.0 * obj) * scale * scale
    k = k_arma + int(constant) + n_exog + 1
    ic = n_star * math.log(sigma2) + _penalty(criterion, k, n_star)
    mu = float(x[-1]) * scale if constant else 0.0
    return Candidate(order, seasonal_order, constant, ic, ar, ma, sar, sma, mu, sigma2)


class _Fitted(Protocol):
    @property
    def ic(self) -> float: ...


F = TypeVar("F", bound=_Fitted)


def search(
    fit: Callable[[tuple[int, int, int, int], bool], F],
    seasonal: bool,
    start: tuple[int, int, int, int],
    maxima: tuple[int, int, int, int],
    constant: bool,
    toggle_constant: bool,
) -> list[F]:
    """The stepwise path of pmdarima's ``auto_arima(stepwise=True)``: every candidate visited,
    in the order visited (a failed fit has an infinite ``ic`` and counts towards the cap).

    ``fit((p, q, P, Q), constant)`` fits one candidate; ``start`` is ``(p, q, P, Q)`` of the
    start model, ``maxima`` their largest values; ``constant`` is whether the start has one and
    ``toggle_constant`` whether the search may add or drop it (R: only when ``d + D <= 1``;
    pmdarima: always). Non-seasonal searches (``seasonal=False``) keep ``P = Q = 0``."""
    max_p, max_q, max_P, max_Q = maxima
    seen: dict[tuple[int, int, int, int, bool], F] = {}
    best: list[tuple[int, int, int, int, bool] | None] = [None]

    def visit(p: int, q: int, P: int, Q: int, c: bool) -> bool:
        if not seasonal:
            P = Q = 0
        key = (p, q, P, Q, c)
        if key in seen or len(seen) >= MAX_FITS:
            return False
        cand = fit((p, q, P, Q), c)
        seen[key] = cand
        if not np.isfinite(cand.ic):
            return False
        if best[0] is None or cand.ic < seen[best[0]].ic:
            best[0] = key
            return True
        return False

    p, q, P, Q = start
    visit(p, q, P, Q, constant)
    if visit(0, 0, 0, 0, constant):
        p = q = P = Q = 0
    if max_p > 0 or max_P > 0:
        ap, aP = int(max_p > 0), int(seasonal and max_P > 0)
        if visit(ap, 0, aP, 0, constant):
            p, q, P, Q = ap, 0, aP, 0
    if max_q > 0 or max_Q > 0:
        mq, mQ = int(max_q > 0), int(seasonal and max_Q > 0)
        if visit(0, mq, 0, mQ, constant):
            p, q, P, Q = 0, mq, 0, mQ
    if constant and visit(0, 0, 0, 0, False):
        p = q = P = Q = 0
    moves = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))

    def first_better(
        orders: tuple[int, int, int, int], i: int, c: bool
    ) -> tuple[int, int, int, int] | None:
        """Orders after the first move of ``orders[i:i + 2]`` (pmdarima's order) whose model
        improves the best (``i`` = 2: ``P, Q``; ``i`` = 0: ``p, q``)."""
        for da, db in moves:
            new = list(orders)
            new[i] += da
            new[i + 1] += db
            inside = 0 <= new[i] <= maxima[i] and 0 <= new[i + 1] <= maxima[i + 1]
            if inside and visit(new[0], new[1], new[2], new[3], c):
                return new[0], new[1], new[2], new[3]
        return None

    while len(seen) < MAX_FITS:
        # seasonal orders first, then non-seasonal ones, then the constant toggled
        if hit := first_better((p, q, P, Q), 2, constant) or first_better(
            (p, q, P, Q), 0, constant
        ):
            p, q, P, Q = hit
        elif toggle_constant and visit(p, q, P, Q, not constant):
            constant = not constant
        else:
            break
    return list(seen.values())


def stepwise(
    w: np.ndarray,
    d: int,
    D: int,
    m: int,
    start: tuple[int, int, int, int],
    maxima: tuple[int, int, int, int],
    criterion: str,
    n_star: int,
    n_exog: int = 0,
) -> list[Candidate]:
    """Every candidate visited by the stepwise search on CSS fits, best criterion first.

    ``w`` is the differenced series, ``start`` is ``(p, q, P, Q)`` of the start model and
    ``maxima`` their largest values; ``m`` is 1 for non-seasonal data (then ``P = Q = 0``).
    A constant (a mean, or a drift after one difference) is tried only when ``d + D <= 1``, as
    R allows it (pmdarima also tries it after two differences: a quadratic trend)."""
    constant = d + D <= 1
    seasonal = m > 1

    def fit(orders: tuple[int, int, int, int], c: bool) -> Candidate:
        p, q, P, Q = orders
        sorder = (P, D, Q, m) if seasonal else (0, 0, 0, 0)
        return css_fit(w, (p, d, q), sorder, c, criterion, n_star, n_exog)

    visited = search(fit, seasonal, start, maxima, constant, toggle_constant=constant)
    return sorted((c for c in visited if np.isfinite(c.ic)), key=lambda c: c.ic)
