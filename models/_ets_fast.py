"""statsmodels' ETS estimation with its objective and numerical gradient compiled (numba).

``ETSModel.fit`` minimizes ``-loglike / nobs`` with scipy's L-BFGS-B and a forward-difference
gradient (``approx_grad=True``: absolute step 1e-8, turned around at a bound). Every objective
value goes through Python (the smoothing itself is Cython), so a candidate model costs several
hundred Python-level likelihood calls. :func:`fit_params` runs the same optimizer from the same
start, bounds and settings, but hands it the objective and the same forward-difference gradient
from one compiled call: the smoothing recursions of ``statsmodels/tsa/exponential_smoothing/
_ets_smooth.pyx`` and the log-likelihood of ``ETSModel._loglike_internal``, term by term, with
numpy's pairwise summation. The parameters returned are those ``fit(return_params=True)``
returns, up to floating-point rounding (``tests/models/test_ets_fast.py`` checks objective,
gradient and estimates against statsmodels).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from scipy.optimize import fmin_l_bfgs_b


@njit(cache=True)
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """``numpy.add.reduce`` of ``a[lo:lo + n]``, ``n <= 128``: eight accumulators, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


def sum_plan(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's pairwise summation of ``n`` values as a postfix program: blocks of at most 128
    (``0``: push the next block's sum) and additions (``1``). numpy recurses on halves rounded
    down to a multiple of 8; numba cannot cache a recursive function, so the recursion is
    unrolled here, once per series length."""
    leaves: list[tuple[int, int]] = []
    ops: list[int] = []

    def rec(lo: int, k: int) -> None:
        if k <= 128:
            leaves.append((lo, k))
            ops.append(0)
            return
        k2 = k // 2
        k2 -= k2 % 8
        rec(lo, k2)
        rec(lo + k2, k - k2)
        ops.append(1)

    rec(0, n)
    lo_n = np.array(leaves, dtype=np.int64).reshape(-1, 2)
    return lo_n[:, 0].copy(), lo_n[:, 1].copy(), np.array(ops, dtype=np.int64)


@njit(cache=True)
def _pairwise_sum(a: np.ndarray, plan_lo: np.ndarray, plan_n: np.ndarray, ops: np.ndarray) -> float:
    """``numpy.add.reduce(a)`` bit for bit, following :func:`sum_plan`."""
    stack = np.empty(ops.shape[0])
    sp = 0
    leaf = 0
    for op in ops:
        if op == 0:
            stack[sp] = _block_sum(a, plan_lo[leaf], plan_n[leaf])
            leaf += 1
            sp += 1
        else:
            stack[sp - 2] = stack[sp - 2] + stack[sp - 1]
            sp -= 1
    return stack[0]


@njit(cache=True)
def _objective(
    x: np.ndarray,
    y: np.ndarray,
    is_fixed: np.ndarray,
    fixed_values: np.ndarray,
    use_beta_star: bool,
    use_gamma_star: bool,
    mul_error: bool,
    mul_trend: bool,
    mul_season: bool,
    yhat: np.ndarray,
    xhat: np.ndarray,
    work: np.ndarray,
    plan_lo: np.ndarray,
    plan_n: np.ndarray,
    ops: np.ndarray,
) -> float:
    """``-loglike / nobs`` at the free internal parameters ``x`` (statsmodels' ``f``)."""
    full = np.empty(is_fixed.shape[0])
    k = 0
    for j in range(is_fixed.shape[0]):
        if is_fixed[j]:
            full[j] = fixed_values[j]
        else:
            full[j] = x[k]
            k += 1
    alpha, beta, gamma, phi = full[0], full[1], full[2], full[3]
    m = full.shape[0] - 6
    n = y.shape[0]
    beta_star = beta if use_beta_star else beta / alpha
    gamma_star = gamma if use_gamma_star else gamma / (1 - alpha)
    for j in range(full.shape[0] - 4):
        xhat[n - 1, j] = full[4 + j]
    for i in range(n):
        prev = (n + i - 1) % n
        s_m = xhat[prev, 2 + m - 1]
        if mul_trend:
            tr = xhat[prev, 0] * xhat[prev, 1] ** phi
        else:
            tr = xhat[prev, 0] + phi * xhat[prev, 1]
        if mul_season:
            yhat[i] = tr * s_m
            xhat[i, 0] = alpha * (y[i] / s_m) + (1 - alpha) * tr
        else:
            yhat[i] = tr + s_m
            xhat[i, 0] = alpha * (y[i] - s_m) + (1 - alpha) * tr
        if mul_trend:
            xhat[i, 1] = (
                beta_star * (xhat[i, 0] / xhat[prev, 0]) + (1 - beta_star) * xhat[prev, 1] ** phi
            )
        else:
            xhat[i, 1] = (
                beta_star * (xhat[i, 0] - xhat[prev, 0]) + (1 - beta_star) * phi * xhat[prev, 1]
            )
        if mul_season and mul_trend:
            xhat[i, 2] = gamma_star * y[i] / xhat[i, 0] + (1 - gamma_star) * s_m
        elif mul_season:
            xhat[i, 2] = gamma_star * (y[i] / xhat[i, 0]) + (1 - gamma_star) * s_m
        else:
            xhat[i, 2] = gamma_star * (y[i] - xhat[i, 0]) + (1 - gamma_star) * s_m
        for j in range(m - 1):
            xhat[i, 3 + j] = xhat[prev, 2 + j]
    for i in range(n):
        r = (y[i] - yhat[i]) / yhat[i] if mul_error else y[i] - yhat[i]
        work[i] = r**2
    mean = _pairwise_sum(work, plan_lo, plan_n, ops) / n
    loglike = -n / 2 * (math.log(2 * math.pi * mean) + 1)
    if mul_error:
        for i in range(n):
            if yhat[i] == 0:
                yhat[i] = 1e-32
            work[i] = math.log(abs(yhat[i]))
        loglike -= _pairwise_sum(work, plan_lo, plan_n, ops)
    return -loglike / n


@njit(cache=True)
def _objective_and_gradient(
    x0: np.ndarray, lb: np.ndarray, ub: np.ndarray, args: tuple
) -> tuple[float, np.ndarray]:
    """The objective (``args``: :func:`_objective`'s after ``x``) and scipy's
    ``approx_derivative(method="2-point", abs_step=1e-8)`` gradient, with the step turned around
    (or shortened) at a bound as ``_adjust_scheme_to_bounds`` does."""
    f0 = _objective(x0, *args)
    k = x0.shape[0]
    g = np.empty(k)
    x1 = x0.copy()
    for i in range(k):
        h = 1e-8
        if (x0[i] + h) - x0[i] == 0:
            sign = 1.0 if x0[i] >= 0 else -1.0
            h = 1.4901161193847656e-08 * sign * max(1.0, abs(x0[i]))
        lower, upper = x0[i] - lb[i], ub[i] - x0[i]
        xi = x0[i] + h
        fitting = abs(h) <= max(lower, upper)
        if (xi < lb[i] or xi > ub[i]) and fitting:
            h = -h
        elif not fitting:
            h = upper if upper >= lower else -lower
        x1[i] = x0[i] + h
        g[i] = (_objective(x1, *args) - f0) / ((x0[i] + h) - x0[i])
        x1[i] = x0[i]
    return f0, g


def fit_params(
    model: Any, maxiter: int = 2000, start_params: np.ndarray | None = None
) -> np.ndarray:
    """What ``model.fit(start_params=start_params, disp=False, maxiter=maxiter,
    return_params=True)`` returns for a statsmodels ``ETSModel`` without fixed parameters given
    by the user; the start values (statsmodels' own when ``start_params`` is ``None``), bounds,
    starred-parameter choice and result conversion are statsmodels' own."""
    start = model._convert_and_bound_start_params(
        model.start_params if start_params is None else np.asarray(start_params)
    )
    bounds = model._setup_bounds()
    use_beta_star = "smoothing_trend" not in model.bounds
    if use_beta_star:
        start[1] /= start[0]
    use_gamma_star = "smoothing_seasonal" not in model.bounds
    if use_gamma_star:
        start[2] /= 1 - start[0]
    k = model._k_params_internal
    is_fixed = np.zeros(k, dtype=np.int64)
    fixed_values = np.empty_like(start)
    free, free_bounds = [], []
    for i in range(k):
        if bounds[i][0] == bounds[i][1]:
            is_fixed[i] = True
            fixed_values[i] = bounds[i][0]
        else:
            free.append(start[i])
            free_bounds.append(bounds[i])
    x0 = np.asarray(free, dtype=float)
    lb = np.array([-np.inf if b[0] is None else b[0] for b in free_bounds], dtype=float)
    ub = np.array([np.inf if b[1] is None else b[1] for b in free_bounds], dtype=float)
    y = np.ascontiguousarray(model.endog, dtype=float)
    n = y.shape[0]
    static = (
        y,
        is_fixed,
        fixed_values,
        use_beta_star,
        use_gamma_star,
        model.error == "mul",
        model.trend == "mul",
        model.seasonal == "mul",
        np.zeros(n),
        np.zeros((n, model._k_states_internal)),
        np.empty(n),
        *sum_plan(n),
    )
    xopt, _, _ = fmin_l_bfgs_b(
        _objective_and_gradient, x0, args=(lb, ub, static), bounds=free_bounds, maxiter=maxiter
    )
    fitted = np.empty_like(start)
    j = 0
    for i in range(k):
        if is_fixed[i]:
            fitted[i] = fixed_values[i]
        else:
            fitted[i] = xopt[j]
            j += 1
    if use_beta_star:
        fitted[1] *= fitted[0]
    if use_gamma_star:
        fitted[2] *= 1 - fitted[0]
    return np.asarray(model._model_params(fitted))
