"""Compiled recursions of complex exponential smoothing (numba), used by :mod:`models.ces`.

Season types are coded ``0`` (N), ``1`` (S), ``2`` (P), ``3`` (F). States live in a matrix
with one row per period: row ``M - 1 + t`` holds the states after observation ``t``
(``t = 1..n``), rows ``0..M-1`` the initial states (periods ``1 - M..0``) and the last ``M``
rows the states propagated ``M`` periods past the data with zero errors; ``M = 1`` for N and the
seasonal period ``m`` otherwise. Columns: level ``l``, its complex (imaginary) part ``c``, then
for P the seasonal ``s``, for F the seasonal pair ``s``, ``c_s``. The non-seasonal pair of P and
F is read one row back, the pair of S and every seasonal state ``M`` rows back.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _step(
    S: np.ndarray,
    i: int,
    M: int,
    season: int,
    a0: float,
    a1: float,
    b0: float,
    b1: float,
    err: float,
) -> None:
    """Row ``i`` of ``S`` from the rows before it and the one-step error ``err``."""
    p = i - M if season == 1 else i - 1
    level, pot = S[p, 0], S[p, 1]
    S[i, 0] = level - (1.0 - a1) * pot + (a0 - a1) * err
    S[i, 1] = level + (1.0 - a0) * pot + (a0 + a1) * err
    if season == 2:
        S[i, 2] = S[i - M, 2] + b0 * err
    elif season == 3:
        s, cs = S[i - M, 2], S[i - M, 3]
        S[i, 2] = s - (1.0 - b1) * cs + (b0 - b1) * err
        S[i, 3] = s + (1.0 - b0) * cs + (b0 + b1) * err


@njit(cache=True)
def _one_step(S: np.ndarray, i: int, M: int, season: int) -> float:
    """The one-step forecast of the period of row ``i`` from the rows before it."""
    p = i - M if season == 1 else i - 1
    f = S[p, 0]
    if season >= 2:
        f += S[i - M, 2]
    return f


@njit(cache=True)
def _pass(
    y: np.ndarray,
    S: np.ndarray,
    e: np.ndarray,
    M: int,
    season: int,
    a0: float,
    a1: float,
    b0: float,
    b1: float,
) -> float:
    """One pass over ``y`` from the initial rows ``S[:M]``: fills the other rows of ``S`` and the
    one-step errors ``e``; returns their sum of squares."""
    n = y.shape[0]
    sse = 0.0
    for i in range(M, n + M):
        err = y[i - M] - _one_step(S, i, M, season)
        e[i - M] = err
        sse += err * err
        _step(S, i, M, season, a0, a1, b0, b1, err)
    for i in range(n + M, n + 2 * M):
        _step(S, i, M, season, a0, a1, b0, b1, 0.0)
    return sse


@njit(cache=True)
def backcast_filter(
    y: np.ndarray,
    init: np.ndarray,
    M: int,
    season: int,
    a0: float,
    a1: float,
    b0: float,
    b1: float,
    S: np.ndarray,
    e: np.ndarray,
    work: np.ndarray,
) -> float:
    """Filter ``y`` with backcast initial states; returns the sum of squared one-step errors.

    Three passes: forward from ``init``; backward over the reversed data, starting from the
    last ``M`` rows of the forward pass in reverse order (the states propagated past the end,
    latest first); forward again from the last ``M`` rows of the backward pass in reverse
    order. ``S`` (``n + 2M`` rows) and ``e`` (``n``) hold the final forward pass, ``work`` (of
    ``S``'s shape) the backward one.
    """
    n = y.shape[0]
    rows = n + 2 * M
    S[:M] = init
    _pass(y, S, e, M, season, a0, a1, b0, b1)
    R = work
    for j in range(M):
        R[j] = S[rows - 1 - j]
    _pass(y[::-1], R, e, M, season, a0, a1, b0, b1)
    for j in range(M):
        S[j] = R[rows - 1 - j]
    return _pass(y, S, e, M, season, a0, a1, b0, b1)


@njit(cache=True)
def propagate(
    last: np.ndarray,
    M: int,
    season: int,
    a0: float,
    a1: float,
    b0: float,
    b1: float,
    errors: np.ndarray,
) -> np.ndarray:
    """Observations of the ``len(errors)`` periods after the states ``last`` (the ``M`` latest
    rows): one-step forecast plus the given error, which then updates the states.

    Zero errors give the point forecasts; zero states with errors ``1, 0, 0, ...`` give the
    impulse response of the model (its ``psi`` weights, ``psi_0 = 1``).
    """
    h = errors.shape[0]
    T = np.zeros((M + h, last.shape[1]))
    T[:M] = last
    out = np.empty(h)
    for j in range(h):
        i = M + j
        out[j] = _one_step(T, i, M, season) + errors[j]
        _step(T, i, M, season, a0, a1, b0, b1, errors[j])
    return out


@njit(cache=True)
def pair_radius(a0: float, a1: float) -> float:
    """Spectral radius of the discount matrix of a complex pair with parameter ``a0 + i a1``:
    ``[[1, a1 - 1], [1, 1 - a0]] - [a0 - a1, a0 + a1]' [1, 0]``."""
    d11, d12 = 1.0 - a0 + a1, a1 - 1.0
    d21, d22 = 1.0 - a0 - a1, 1.0 - a0
    half_trace = 0.5 * (d11 + d22)
    det = d11 * d22 - d12 * d21
    disc = half_trace * half_trace - det
    if disc >= 0.0:
        return abs(half_trace) + np.sqrt(disc)
    return np.sqrt(det)  # complex pair: |lambda|^2 = det


@njit(cache=True)
def admissible(season: int, a0: float, a1: float, b0: float, b1: float) -> bool:
    """Every lag block's discount matrix has its eigenvalues within the unit circle."""
    if pair_radius(a0, a1) > 1.0:
        return False
    if season == 2:
        return abs(1.0 - b0) <= 1.0
    if season == 3:
        return pair_radius(b0, b1) <= 1.0
    return True


@njit(cache=True)
def objective(
    x: np.ndarray,
    y: np.ndarray,
    init: np.ndarray,
    M: int,
    season: int,
    S: np.ndarray,
    e: np.ndarray,
    work: np.ndarray,
    penalty: float,
    tiny: float,
) -> float:
    """``n log(SSE / n)`` at the free parameters ``x`` (``a0, a1[, b0[, b1]]``); ``penalty``
    outside the admissible region or when the filter overflows; ``SSE / n`` at least ``tiny``."""
    a0, a1 = x[0], x[1]
    b0 = x[2] if x.shape[0] > 2 else 0.0
    b1 = x[3] if x.shape[0] > 3 else 0.0
    if not admissible(season, a0, a1, b0, b1):
        return penalty
    sse = backcast_filter(y, init, M, season, a0, a1, b0, b1, S, e, work)
    if not np.isfinite(sse):
        return penalty
    n = y.shape[0]
    return n * np.log(max(sse / n, tiny))
