"""The exact Gaussian likelihood of a (seasonal) ARIMA model, compiled: pmdarima's candidate fits
without statsmodels' per-call overhead.

pmdarima's ``auto_arima`` fits every candidate of its stepwise search with statsmodels'
``SARIMAX(...).fit(method="lbfgs", maxiter=50)``: scipy's L-BFGS-B with a forward-difference
gradient (step ``1e-5``) on ``-loglike / nobs`` over the unconstrained parameters. Each
likelihood evaluation there costs about half a millisecond, mostly Python: the state-space
matrices are rebuilt from the parameters, the stationary block is initialized, and the Kalman
filter runs. This module evaluates the same likelihood of the same state-space model in one
compiled call (tens of microseconds on quarterly data) and runs the same optimizer, from the
same start, with the same settings; :func:`fit_candidate` returns what the search compares: the
log-likelihood, the parameters and the information criterion as pmdarima computes it.

The model is the one statsmodels builds (``SARIMAX(y, order, seasonal_order, trend)``, the
defaults pmdarima uses): differencing inside the state vector with an approximate diffuse
initialization (variance ``1e6``) whose first ``d + D m`` observations are left out of the
likelihood (``loglikelihood_burn``), the ARMA block in Harvey's representation initialized at
its stationary distribution (mean ``(I - T)^-1 c``, covariance solving ``P = T P T' + R Q R'``
by doubling), the constant as the ARMA block's state intercept, and AR and MA polynomials
constrained by Monahan's transform. Its layout (design, fixed transition and selection entries,
where the AR and MA coefficients go) is read from the statsmodels model itself, so it is the
same model, not a re-derivation of it. ``tests/models/test_arima_ml.py`` pins the likelihood
to statsmodels' to 1e-9 and the search's choices to pmdarima's.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from scipy.optimize import fmin_l_bfgs_b

from models._arima_search import _coefficients, _lag_poly

#: statsmodels' settings for ``fit(method="lbfgs")`` without a score function (MLEModel.fit)
LBFGS_EPSILON = 1e-5
#: pmdarima's ``maxiter`` for every candidate
MAXITER = 50
_LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True)
def _matmul(A: np.ndarray, B: np.ndarray, out: np.ndarray) -> None:
    """``out = A @ B`` in loops: the matrices are a few rows wide, where a BLAS call's fixed
    cost exceeds the arithmetic."""
    n, kk, m = A.shape[0], A.shape[1], B.shape[1]
    for i in range(n):
        for j in range(m):
            out[i, j] = 0.0
        for s in range(kk):
            a = A[i, s]
            if a != 0.0:
                for j in range(m):
                    out[i, j] += a * B[s, j]


@njit(cache=True)
def _lyapunov(T: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """``P = T P T' + Q`` for a stable ``T`` by doubling: ``P = sum_j T^j Q T'^j``, the terms
    summed in blocks ``A_i P_i A_i'`` with ``A_{i+1} = A_i^2`` (``log2`` of the terms' count
    steps)."""
    n = T.shape[0]
    A = T.copy()
    P = Q.copy()
    AP = np.empty((n, n))
    step = np.empty((n, n))
    A2 = np.empty((n, n))
    for _ in range(200):
        _matmul(A, P, AP)
        _matmul(AP, A.T.copy(), step)
        big = 0.0
        top = 0.0
        for i in range(n):
            for j in range(n):
                P[i, j] += step[i, j]
                big = max(big, abs(step[i, j]))
                top = max(top, abs(P[i, j]))
        if big <= 1e-17 * max(top, 1e-300):
            break
        _matmul(A, A, A2)
        A[:, :] = A2
    return P


@njit(cache=True)
def _loglike(
    x: np.ndarray,
    y: np.ndarray,
    design: np.ndarray,
    T0: np.ndarray,
    R0: np.ndarray,
    k_diff: int,
    p: int,
    q: int,
    P: int,
    Q: int,
    m: int,
    const: bool,
    burn: int,
    init_var: float,
) -> float:
    """Log-likelihood at unconstrained parameters ``x`` (statsmodels' order: intercept, AR, MA,
    seasonal AR, seasonal MA, then the unconstrained ``sigma2``, whose square it is)."""
    k = T0.shape[0]
    c0 = 1 if const else 0
    ar, ma, sar, sma = _coefficients(x[c0 : x.shape[0] - 1], p, q, P, Q)
    a_poly = _lag_poly(ar, sar, m, -1.0)
    b_poly = _lag_poly(ma, sma, m, 1.0)
    sigma2 = x[x.shape[0] - 1] ** 2
    T = T0.copy()
    for i in range(1, a_poly.shape[0]):
        T[k_diff + i - 1, k_diff] = -a_poly[i]
    R = R0.copy()
    for i in range(1, b_poly.shape[0]):
        R[k_diff + i] = b_poly[i]
    c = np.zeros(k)
    if const:
        c[k_diff] = x[0]
    RQR = sigma2 * np.outer(R, R)
    # initial state: the differencing block diffuse, the ARMA block at its stationary law
    a = np.zeros(k)
    Pt = np.zeros((k, k))
    for i in range(k_diff):
        Pt[i, i] = init_var
    ks = k - k_diff
    Ts = np.ascontiguousarray(T[k_diff:, k_diff:])
    a[k_diff:] = np.linalg.solve(np.eye(ks) - Ts, c[k_diff:])
    Pt[k_diff:, k_diff:] = _lyapunov(Ts, np.ascontiguousarray(RQR[k_diff:, k_diff:]))
    # the transition's nonzero entries: T P T' costs O(nnz k) instead of O(k^3)
    nnz = 0
    for i in range(k):
        for j in range(k):
            if T[i, j] != 0.0:
                nnz += 1
    rows = np.empty(nnz, np.int64)
    cols = np.empty(nnz, np.int64)
    vals = np.empty(nnz)
    nnz = 0
    for i in range(k):
        for j in range(k):
            if T[i, j] != 0.0:
                rows[nnz], cols[nnz], vals[nnz] = i, j, T[i, j]
                nnz += 1
    ll = 0.0
    PZ = np.empty(k)
    an = np.empty(k)
    TP = np.empty((k, k))
    Pn = np.empty((k, k))
    for t in range(y.shape[0]):
        v = y[t]
        for i in range(k):
            v -= design[i] * a[i]
        F = 0.0
        for i in range(k):
            s = 0.0
            for j in range(k):
                s += Pt[i, j] * design[j]
            PZ[i] = s
            F += design[i] * s
        if not F > 0.0:
            return -np.inf
        if t >= burn:
            ll -= 0.5 * (_LOG_2PI + math.log(F) + v * v / F)
        # update, then predict: a = T (a + PZ v / F) + c, P = T (P - PZ PZ' / F) T' + RQR'
        g = v / F
        for i in range(k):
            a[i] += PZ[i] * g
            w = PZ[i] / F
            for j in range(k):
                Pt[i, j] -= w * PZ[j]
        for i in range(k):
            an[i] = c[i]
        for e in range(nnz):
            an[rows[e]] += vals[e] * a[cols[e]]
        for i in range(k):
            a[i] = an[i]
        for i in range(k):
            for j in range(k):
                TP[i, j] = 0.0
        for e in range(nnz):
            r, cc, val = rows[e], cols[e], vals[e]
            for j in range(k):
                TP[r, j] += val * Pt[cc, j]
        for i in range(k):
            for j in range(k):
                Pn[i, j] = RQR[i, j]
        for e in range(nnz):  # Pn += TP T': column rows[e] gets vals[e] * column cols[e]
            r, cc, val = rows[e], cols[e], vals[e]
            for i in range(k):
                Pn[i, r] += val * TP[i, cc]
        for i in range(k):  # statsmodels forces symmetry after each step
            Pt[i, i] = Pn[i, i]
            for j in range(i + 1, k):
                s = 0.5 * (Pn[i, j] + Pn[j, i])
                Pt[i, j] = s
                Pt[j, i] = s
    return ll


@njit(cache=True)
def _objective(x: np.ndarray, eps: float, *model: Any) -> tuple[float, np.ndarray]:
    """``-loglike / nobs`` and its forward-difference gradient, as scipy's L-BFGS-B computes it
    with ``approx_grad=True, epsilon=eps`` (step ``eps``; the difference divided by the step as
    represented, ``(x + eps) - x``), so that the optimizer takes the same path in one compiled
    call per iteration instead of ``k + 1`` Python ones. ``model``: :func:`_loglike`'s arguments
    after ``x``."""
    nobs = model[0].shape[0]
    f0 = -_loglike(x, *model) / nobs
    g = np.empty(x.shape[0])
    xh = x.copy()
    for i in range(x.shape[0]):
        xh[i] = x[i] + eps
        dx = xh[i] - x[i]
        f = -_loglike(xh, *model) / nobs
        g[i] = (f - f0) / dx
        xh[i] = x[i]
    return f0, g


@dataclass(frozen=True)
class MLFit:
    """One candidate fitted by maximum likelihood: constrained parameters in statsmodels' order,
    the log-likelihood, pmdarima's criterion value and the moduli of the inverse AR and MA roots
    (for pmdarima's root test)."""

    params: np.ndarray
    llf: float
    ic: float
    max_inv_ar_root: float
    max_inv_ma_root: float
    converged: bool


def _criterion(name: str, llf: float, k: int, nobs: int, nobs_effective: int) -> float:
    """pmdarima's ``aic``/``bic``/``hqic`` (statsmodels', on ``nobs_effective``) and ``aicc``
    (pmdarima's correction on the full ``nobs``), with ``k`` parameters including ``sigma2``."""
    aic = -2.0 * llf + 2.0 * k
    if name == "aic":
        return aic
    if name == "aicc":  # pmdarima's formula as it is (negative correction when k + 1 > nobs)
        return aic + 2.0 * k * (nobs / (nobs - k - 1.0) - 1.0) if nobs - k - 1 != 0 else math.inf
    if name == "bic":
        return -2.0 * llf + k * math.log(nobs_effective)
    if name == "hqic":
        return -2.0 * llf + 2.0 * k * math.log(math.log(nobs_effective))
    raise ValueError(f"information criterion must be aic, aicc, bic or hqic, got {name!r}")


def _max_inverse_root(poly: np.ndarray) -> float:
    """Largest modulus of the inverse roots of ``poly`` (coefficients by increasing power)."""
    c = np.trim_zeros(np.asarray(poly, dtype=float), "b")
    if c.size <= 1:
        return 0.0
    return float(np.max(np.abs(1.0 / np.polynomial.polynomial.polyroots(c))))


def layout(mod: Any, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """What :func:`_loglike` needs of a statsmodels ``SARIMAX``: the design vector, the
    transition matrix and selection vector with the ARMA coefficients' places zeroed (the
    likelihood fills them), and the size of the differencing block. ``params``: any valid
    parameters (they fill the matrices' fixed entries)."""
    k_diff, k = mod._k_states_diff, mod.k_states
    mod.update(params)
    design = np.ascontiguousarray(mod.ssm["design"].reshape(k), dtype=float)
    T0 = np.array(mod.ssm["transition"].reshape(k, k), dtype=float)
    T0[k_diff:, k_diff] = 0.0
    R0 = np.array(mod.ssm["selection"].reshape(k), dtype=float)
    R0[k_diff + 1 :] = 0.0
    return design, T0, R0, k_diff


def fit_candidate(
    y: np.ndarray,
    order: tuple[int, int, int],
    seasonal_order: tuple[int, int, int, int],
    constant: bool,
    criterion: str,
) -> MLFit:
    """Fit one candidate as pmdarima's ``ARIMA(order, seasonal_order,
    with_intercept=constant).fit(y)`` does; raises what statsmodels raises for a model it
    cannot set up (``ValueError``, ``LinAlgError``)."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    p, _, q = order
    P, _, Q, m = seasonal_order
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' start-parameter warnings, as pmdarima
        mod = SARIMAX(
            y, order=order, seasonal_order=seasonal_order, trend="c" if constant else None
        )
        start = mod.start_params
        x0 = mod.untransform_params(start)
    design, T0, R0, k_diff = layout(mod, start)
    yv = np.ascontiguousarray(y, dtype=float)
    nobs = yv.shape[0]
    burn = int(mod.loglikelihood_burn)
    init_var = float(mod.ssm.initial_variance)
    model = (yv, design, T0, R0, k_diff, p, q, P, Q, max(m, 1), constant, burn, init_var)

    xopt, fopt, info = fmin_l_bfgs_b(_objective, x0, args=(LBFGS_EPSILON, *model), maxiter=MAXITER)
    params = np.asarray(mod.transform_params(xopt), dtype=float)
    llf = -float(fopt) * nobs
    n_params = params.shape[0]
    ic = _criterion(criterion, llf, n_params, nobs, nobs - burn)
    c0 = int(constant)
    ar, ma, sar, sma = _coefficients(np.ascontiguousarray(xopt[c0:-1]), p, q, P, Q)
    return MLFit(
        params=params,
        llf=llf,
        ic=ic if np.isfinite(llf) else math.inf,
        max_inv_ar_root=_max_inverse_root(_lag_poly(ar, sar, max(m, 1), -1.0)),
        max_inv_ma_root=_max_inverse_root(_lag_poly(ma, sma, max(m, 1), 1.0)),
        converged=int(info["warnflag"]) == 0,
    )


@dataclass(frozen=True)
class MLCandidate:
    """One model of the search: orders, constant, criterion after pmdarima's root test (``inf``
    when the fit failed or a root is too close to the unit circle) and the fit itself."""

    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    constant: bool
    ic: float
    fit: MLFit | None = None


def root_test(fit: MLFit, order: tuple[int, int, int], sorder: tuple[int, int, int, int]) -> float:
    """pmdarima's ``_root_test``: the criterion, or ``inf`` when the largest inverse root is
    above 0.99. As in pmdarima, a model with an MA part is judged by its MA roots only."""
    p, _, q = order
    P, _, Q, _ = sorder
    inv = 0.0
    if p + P > 0:
        inv = fit.max_inv_ar_root
    if q + Q > 0 and np.isfinite(fit.ic):
        inv = fit.max_inv_ma_root
    return math.inf if inv > 1.0 - 1e-2 else fit.ic


def ml_search(
    y: np.ndarray,
    d: int,
    D: int,
    m: int,
    start: tuple[int, int, int, int],
    maxima: tuple[int, int, int, int],
    constant: bool,
    criterion: str,
) -> list[MLCandidate]:
    """pmdarima's stepwise search (:func:`models._arima_search.search`, the constant toggled
    whatever ``d + D``) on ``y`` itself, each candidate fitted by :func:`fit_candidate`; the
    usable candidates, best criterion first. ``m`` is 1 for non-seasonal data."""
    from models._arima_search import search

    seasonal = m > 1

    def fit(orders: tuple[int, int, int, int], c: bool) -> MLCandidate:
        p, q, P, Q = orders
        order = (p, d, q)
        sorder = (P, D, Q, m) if seasonal else (0, 0, 0, 0)
        try:
            res = fit_candidate(y, order, sorder, c, criterion)
        except (ValueError, np.linalg.LinAlgError):
            return MLCandidate(order, sorder, c, math.inf)
        return MLCandidate(order, sorder, c, root_test(res, order, sorder), res)

    visited = search(fit, seasonal, start, maxima, constant, toggle_constant=True)
    return sorted((c for c in visited if np.isfinite(c.ic)), key=lambda c: c.ic)
