"""Complex exponential smoothing, CES (Svetunkov, Kourentzes & Ord 2022, "Complex exponential
smoothing", Naval Research Logistics 69(8):1108-1123), with the automatic choice of the seasonal
form of R's ``smooth::auto.ces`` and statsforecast's ``AutoCES``.

The level ``l`` and an unobserved "information potential" ``c`` form the complex variable
``l + i c``, smoothed with the complex parameter ``a0 + i a1``. In state-space form, with the
one-step errors ``e_t ~ N(0, sigma^2)`` (the paper's equations, for ``t = 1..n``)::

    N (none)     y_t = l_{t-1} + e_t
                 l_t = l_{t-1} - (1 - a1) c_{t-1} + (a0 - a1) e_t
                 c_t = l_{t-1} + (1 - a0) c_{t-1} + (a0 + a1) e_t
    S (simple)   the same pair with lag m: l_{t-m}, c_{t-m} in place of l_{t-1}, c_{t-1}
    P (partial)  y_t = l_{t-1} + s_{t-m} + e_t; the pair (l, c) as in N, and
                 s_t = s_{t-m} + b0 e_t
    F (full)     y_t = l_{t-1} + s_{t-m} + e_t; the pair (l, c) as in N, and a seasonal
                 complex pair with parameter b0 + i b1:
                 s_t   = s_{t-m} - (1 - b1) cs_{t-m} + (b0 - b1) e_t
                 cs_t  = s_{t-m} + (1 - b0) cs_{t-m} + (b0 + b1) e_t

Initial states are statsforecast's (``statsforecast.ces.initstate``, after R's ``smooth``):
N: ``l_0`` the mean of the first ``min(10, n)`` observations; S: ``l_{1-m..0}`` the first
``m`` observations; P and F: every ``l`` the mean of the first ``m`` observations and ``s`` the
additive seasonal figure of ``statsmodels.tsa.seasonal.seasonal_decompose`` (one per position,
from the first observation); every imaginary part (``c``, ``cs``) is its real part / 1.1. They
are then refined by backcasting, as statsforecast does (R's ``smooth`` default
``initial="backcasting"``): the data are filtered forward from them, then backward (the same
recursions over the reversed data, started from the states propagated ``M`` periods past the
end, latest first), then forward again from the states the backward pass propagated before the
first observation. The one-step errors, states and likelihood are those of the last pass
(``init_states_`` are its initial states). Fitted values, states and forecasts at fixed
parameters equal statsforecast 2.1's to ~1e-13 (``tests/models/test_ces.py``).

Estimation minimizes ``n log(SSE / n)`` (-2 times the Gaussian log-likelihood up to constants;
statsforecast's ``"lik"`` is ``n log(SSE)``) with scipy's bounded Nelder-Mead (tolerance 1e-4
on parameters and objective, restarted around its optimum until a restart gains less than
that, at most four runs), from statsforecast's start values (``a0 = 1.3, a1 = 1``; P: ``b0 = 0.1``; F:
``b0 = 1.3, b1 = 1``) within its bounds (``a0`` in [0.01, 1.8], ``a1`` in [0.01, 1.9], the
``b``'s in [0.01, 1.5]). On top of them the parameters must be admissible, as in R's ``smooth``
(its default ``bounds="admissible"``): for each lag's block the discount matrix ``F - g w'`` has
its eigenvalues within the unit circle (for the complex pair ``(a0, a1)`` the paper's stability
region; P's seasonal block ``1 - b0`` always is). statsforecast uses the box alone and can end
outside (on 32 quarters of ausbeer its N estimate has a discount eigenvalue 1.09: an explosive
filter whose weights on old observations grow). As in ``smooth`` the lag blocks are checked
separately: the lag-expanded model's discount matrix of P has the eigenvalue 1 at ``a1 = 1``
(F: at ``a1 = b1 = 1``), where a constant moved from the seasonal states to the level leaves
every forecast unchanged (the unit eigenvalue of ETS(A,N,A)); estimates lie near there, with
that eigenvalue on either side of 1 (1.003 and 1.007 for P and F on austourists).

Selection (``season="auto"``): N, and S, P and F when ``sp > 1`` and ``n >= 2 sp``
(statsforecast's rule), by the information criterion with ``k`` = smoothing parameters + 1
(statsforecast's ``n_components + 1``): ``aicc = -2 loglik + 2k + 2k(k + 1)/(n - k - 1)``. Our
``loglik`` is the Gaussian one, ``-n/2 (log(2 pi SSE / n) + 1)``, so every criterion is
statsforecast's plus ``n (log(2 pi / n) + 1)``, the same for every candidate: the same choice.
``sigma^2 = SSE / (n - k - 1)`` as in statsforecast.

The model is linear with a single source of error: with ``v`` the lag-expanded state vector
(the pair and, with seasons, the states of the last ``m`` periods), ``y_t = w'v_{t-1} + e_t`` and
``v_t = F v_{t-1} + g e_t``, so ``y_{n+h}`` is its point forecast plus ``sum_{j<h} psi_j
e_{n+h-j}`` with ``psi_0 = 1`` and ``psi_j = w'F^(j-1) g``; the intervals are the exact Gaussian
ones, ``Var(h) = sigma^2 sum_{j<h} psi_j^2`` (statsforecast simulates by perturbing the final
states instead). The ``psi_j`` are the impulse response of the recursions (zero states, one unit
error), which equals ``w'F^(j-1) g`` for every lag structure without building ``F``.

The recursions and the objective are compiled with numba (:mod:`models._ces_fast`); the
optimizer's own steps cost most of a fit. Fitting the automatic model (four candidates) takes
26 ms on 100 quarters of ausbeer (N 5, S 5, P 8, F 10 ms) and 34 ms on the 144 months of
AirPassengers (median of 30 fits on a 2-core machine, numba's compilation cached).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from features.errors import InputError
from models.base import BaseForecaster, ModelRefusal, normal_intervals

log = logging.getLogger(__name__)

SEASONS = ("N", "S", "P", "F")
_SEASON_OPTIONS = ("auto", *SEASONS)
_CODE = {"N": 0, "S": 1, "P": 2, "F": 3}
#: smoothing parameters of each season type, in optimizer order
PARAMS: dict[str, tuple[str, ...]] = {
    "N": ("a0", "a1"),
    "S": ("a0", "a1"),
    "P": ("a0", "a1", "b0"),
    "F": ("a0", "a1", "b0", "b1"),
}
#: statsforecast's start values and box bounds
START: dict[str, tuple[float, ...]] = {
    "N": (1.3, 1.0),
    "S": (1.3, 1.0),
    "P": (1.3, 1.0, 0.1),
    "F": (1.3, 1.0, 1.3, 1.0),
}
BOUNDS = {"a0": (0.01, 1.8), "a1": (0.01, 1.9), "b0": (0.01, 1.5), "b1": (0.01, 1.5)}
#: state columns of each season type
N_COMPONENTS = {"N": 2, "S": 2, "P": 3, "F": 4}
#: imaginary parts of the initial states are the real parts divided by this (smooth's C[1])
_INIT_RATIO = 1.1
_CRITERIA = ("aicc", "aic", "bic")
#: objective of parameters outside the admissible region
_PENALTY = 1e10
#: Nelder-Mead's tolerance on the parameters and on the objective ``n log(SSE / n)``
_TOL = 1e-4
#: Nelder-Mead runs at most: each restarts from a fresh simplex around the best point so far,
#: until a restart gains less than ``_TOL`` (a first run can stop early: 27.6 log-likelihood
#: units short on AirPassengers' P model)
_MAX_RUNS = 4
#: smallest variance ``SSE / n`` (a series fitted exactly, e.g. a constant)
_TINY = 1e-300


def lag(season: str, sp: int) -> int:
    """Rows of initial states, ``M``: 1 for N, the seasonal period otherwise."""
    return 1 if season == "N" else sp


def n_params(season: str) -> int:
    """``k`` of the information criteria: smoothing parameters + 1 (statsforecast's
    ``n_components + 1``; the backcast initial states are not counted)."""
    return N_COMPONENTS[season] + 1


def initial_states(y: np.ndarray, sp: int, season: str) -> np.ndarray:
    """statsforecast's ``initstate``: the ``M x components`` initial states before backcasting
    (module docstring)."""
    M = lag(season, sp)
    out = np.zeros((M, N_COMPONENTS[season]))
    if season == "N":
        out[0, 0] = np.mean(y[: min(10, len(y))])
    elif season == "S":
        out[:, 0] = y[:M]
    else:
        from statsmodels.tsa.seasonal import seasonal_decompose

        out[:, 0] = np.mean(y[:M])
        out[:, 2] = np.asarray(seasonal_decompose(y, period=M).seasonal[:M], dtype=float)
        if season == "F":
            out[:, 3] = out[:, 2] / _INIT_RATIO
    out[:, 1] = out[:, 0] / _INIT_RATIO
    return out


def admissible(season: str, params: dict[str, float]) -> bool:
    """Every lag block's discount matrix has its eigenvalues within the unit circle (R
    ``smooth``'s ``bounds="admissible"``; module docstring)."""
    from models._ces_fast import admissible as _admissible

    return bool(_admissible(_CODE[season], *_full(params)))


def _full(params: dict[str, float]) -> tuple[float, float, float, float]:
    return (params["a0"], params["a1"], params.get("b0", 0.0), params.get("b1", 0.0))


@dataclass
class CESFit:
    """One season type fitted to ``y``: parameters, backcast initial states, the states (``n +
    2M`` rows: initial, one per observation, ``M`` propagated past the data with zero errors)
    and the one-step errors."""

    season: str
    sp: int
    params: dict[str, float]
    init_states: np.ndarray
    states: np.ndarray
    residuals: np.ndarray

    @property
    def n(self) -> int:
        return len(self.residuals)

    @property
    def sse(self) -> float:
        return float(self.residuals @ self.residuals)

    @property
    def k(self) -> int:
        return n_params(self.season)

    @property
    def loglik(self) -> float:
        """Gaussian log-likelihood at the maximum-likelihood variance ``SSE / n``."""
        n = self.n
        return -0.5 * n * (math.log(2.0 * math.pi * _variance(self.sse, n)) + 1.0)

    def criteria(self) -> dict[str, float]:
        n, k = self.n, self.k
        aic = -2.0 * self.loglik + 2.0 * k
        dof = n - k - 1
        return {
            "aic": aic,
            "aicc": aic + 2.0 * k * (k + 1) / dof if dof > 0 else math.inf,
            "bic": -2.0 * self.loglik + math.log(n) * k,
        }

    @property
    def sigma2(self) -> float:
        """``SSE / (n - k - 1)``, statsforecast's."""
        return self.sse / max(self.n - self.k - 1, 1)

    def last_states(self) -> np.ndarray:
        """The ``M`` latest states (periods ``n - M + 1 .. n``), which the forecasts start from."""
        M = lag(self.season, self.sp)
        return self.states[self.n : self.n + M]


def _variance(sse: float, n: int) -> float:
    """``SSE / n``, kept positive for data fitted exactly (a constant series)."""
    return max(sse / n, _TINY)


def _filter(
    y: np.ndarray, sp: int, season: str, init: np.ndarray, params: dict[str, float]
) -> CESFit:
    from models._ces_fast import backcast_filter

    M = lag(season, sp)
    states = np.empty((len(y) + 2 * M, N_COMPONENTS[season]))
    resid = np.empty(len(y))
    backcast_filter(y, init, M, _CODE[season], *_full(params), states, resid, np.empty_like(states))
    return CESFit(season, sp, dict(params), states[:M].copy(), states, resid)


def fixed_fit(y: np.ndarray, sp: int, season: str, params: dict[str, float]) -> CESFit:
    """``season`` with the given parameters over ``y`` (initial states from ``y``, backcast):
    statsforecast's ``cesmodel`` (and ``forward_ces``) with every parameter fixed."""
    y = np.ascontiguousarray(y, dtype=float)
    return _filter(y, sp, season, initial_states(y, sp, season), params)


def _simplex(x0: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Nelder-Mead's first simplex: ``x0`` and, per coordinate, ``x0`` moved by 5% of its value
    (scipy's default step), inwards at a bound so that no coordinate is stuck there."""
    k = len(x0)
    simplex = np.tile(x0, (k + 1, 1))
    for i in range(k):
        step = 0.05 * max(abs(x0[i]), 0.05)
        simplex[i + 1, i] = x0[i] + step if x0[i] + step <= hi[i] else x0[i] - step
    return np.clip(simplex, lo, hi)


def estimate(y: np.ndarray, sp: int, season: str, start: dict[str, float] | None = None) -> CESFit:
    """Maximum-likelihood parameters of ``season`` for ``y`` (admissible, within the bounds),
    from statsforecast's start values or ``start``."""
    from models._ces_fast import objective

    y = np.ascontiguousarray(y, dtype=float)
    n = len(y)
    names = PARAMS[season]
    init = initial_states(y, sp, season)
    M = lag(season, sp)
    states = np.empty((n + 2 * M, N_COMPONENTS[season]))
    work = np.empty_like(states)
    args = (y, init, M, _CODE[season], states, np.empty(n), work, _PENALTY, _TINY)
    lo = np.array([BOUNDS[p][0] for p in names])
    hi = np.array([BOUNDS[p][1] for p in names])
    x = np.array(START[season] if start is None else [start[p] for p in names], dtype=float)
    best_x = np.clip(x, lo, hi)
    best_f = float(objective(best_x, *args))
    for run in range(_MAX_RUNS):
        res = minimize(
            objective,
            best_x,
            args=args,
            method="Nelder-Mead",
            bounds=list(zip(lo, hi, strict=True)),
            options={
                "initial_simplex": _simplex(best_x, lo, hi),
                "xatol": _TOL,
                "fatol": _TOL,
                "maxiter": 400 * len(names),
            },
        )
        gain = best_f - float(res.fun)
        if gain > 0.0:
            best_x, best_f = np.asarray(res.x, dtype=float), float(res.fun)
        if run > 0 and gain <= _TOL:
            break
    params = dict(zip(names, (float(v) for v in best_x), strict=True))
    return _filter(y, sp, season, init, params)


def forecast_mean(fit: CESFit, h: int) -> np.ndarray:
    """Point forecasts of the ``h`` periods after the data."""
    from models._ces_fast import propagate

    M = lag(fit.season, fit.sp)
    return propagate(fit.last_states(), M, _CODE[fit.season], *_full(fit.params), np.zeros(h))


def psi_weights(season: str, sp: int, params: dict[str, float], h: int) -> np.ndarray:
    """``psi_0..psi_{h-1}``: the response of ``y_{n+1+j}`` to a unit error ``e_{n+1}``
    (``psi_0 = 1``, ``psi_j = w'F^(j-1) g``)."""
    from models._ces_fast import propagate

    M = lag(season, sp)
    impulse = np.zeros(h)
    impulse[0] = 1.0
    zero = np.zeros((M, N_COMPONENTS[season]))
    return propagate(zero, M, _CODE[season], *_full(params), impulse)


class CES(BaseForecaster):
    """Complex exponential smoothing (Svetunkov et al. 2022), seasonal form by AICc, exact intervals.

    Parameters
    ----------
    season : ``"auto"`` (the best of N, S, P, F by ``ic``; N alone without two full seasonal
        cycles) or one of ``"N"`` (none), ``"S"`` (simple: the complex pair with lag ``sp``),
        ``"P"`` (partial: an additive seasonal component), ``"F"`` (full: a seasonal complex pair).
    ic : information criterion of the automatic choice: ``"aicc"``, ``"aic"`` or ``"bic"``.
    sp : seasonal period; ``None`` takes it from the data's frequency.

    Fitted: ``season_``; ``params_`` (the season type's parameters only: ``a0``, ``a1``, and
    ``b0`` for P, ``b0``, ``b1`` for F); ``sigma2_``; ``loglik_``, ``aic_``, ``aicc_``,
    ``bic_``; ``candidates_`` (each season type tried and its criterion); ``init_states_``
    (backcast), ``states_`` and ``residuals_`` (layout in :mod:`models._ces_fast`).
    """

    name = "ces"
    _tags = {
        "capability:exogenous": False,
        "capability:pred_int": True,
        "requires:min_obs": 6,  # N's three parameters with two degrees of freedom left
        "seasonal": True,
        "complexity": 3,
        "family": "exponential smoothing",
    }

    def __init__(self, season: str = "auto", ic: str = "aicc", sp: int | None = None) -> None:
        self.season = season
        self.ic = ic
        self.sp = sp

    def _candidates(self, n: int) -> list[str]:
        m = self.sp_
        seasonal_ok = m > 1 and n >= 2 * m

        def fits(season: str) -> bool:  # sigma^2 and AICc need n - k - 1 > 0
            return n - n_params(season) - 1 > 0 and (season == "N" or seasonal_ok)

        if self.season == "auto":
            return [s for s in SEASONS if fits(s)]
        if not fits(self.season):
            raise ModelRefusal(
                f"ces: season {self.season!r} needs a seasonal period above 1 and two full "
                f"cycles (sp={m}) and more than {n_params(self.season) + 1} observations, "
                f"got {n}"
            )
        return [self.season]

    def _check_options(self) -> None:
        if self.season not in _SEASON_OPTIONS:
            raise InputError(f"ces: season must be one of {_SEASON_OPTIONS}, got {self.season!r}")
        if self.ic not in _CRITERIA:
            raise InputError(f"ces: ic must be one of {_CRITERIA}, got {self.ic!r}")

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        self._check_options()
        arr = y.to_numpy(dtype=float)
        fits: list[tuple[float, CESFit]] = []
        for season in self._candidates(len(arr)):
            fit = estimate(arr, self.sp_, season)
            score = fit.criteria()[self.ic]
            log.debug("ces %s: %s=%.4f params=%s", season, self.ic, score, fit.params)
            if math.isfinite(score):
                fits.append((score, fit))
        if not fits:
            raise ModelRefusal("ces: no season type could be fitted")
        self.candidates_ = {fit.season: score for score, fit in fits}
        # strict "<": on a tie the earlier (simpler) candidate stays, as in statsforecast
        best = fits[0]
        for cand in fits[1:]:
            if cand[0] < best[0]:
                best = cand
        self._store(best[1])

    def _store(self, fit: CESFit) -> None:
        self.fit_ = fit
        self.season_ = fit.season
        self.params_ = dict(fit.params)
        self.init_states_ = fit.init_states
        self.states_ = fit.states
        self.residuals_ = fit.residuals
        self.sigma2_ = fit.sigma2
        self.loglik_ = fit.loglik
        crit = fit.criteria()
        self.aic_, self.aicc_, self.bic_ = crit["aic"], crit["aicc"], crit["bic"]

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        """Keep the season type; filter ``y`` with the fitted parameters fixed (initial states
        from ``y`` and backcast, as statsforecast's ``forward_ces``) or re-estimate them starting
        from the fitted ones."""
        arr = y.to_numpy(dtype=float)
        if refit_params:
            fit = estimate(arr, self.sp_, self.season_, start=self.params_)
        else:
            fit = fixed_fit(arr, self.sp_, self.season_, self.params_)
        self._store(fit)

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        mean = forecast_mean(self.fit_, h)
        psi = psi_weights(self.season_, self.sp_, self.params_, h)
        sd = np.sqrt(self.sigma2_ * np.cumsum(psi**2))
        return normal_intervals(mean, sd, levels)
