"""Dynamic optimised theta model, DOTM (Fiorucci, Pellegrini, Louzada, Petropoulos & Koehler 2016,
"Models for optimising the theta method and their relationship to state space models",
IJF 32:1151-1161).

The classical theta method extrapolates a fixed linear trend (fitted once to the whole series)
and exponentially smoothed data, mixed with weight ``theta = 2``. DOTM revises the trend as data
arrive and estimates ``theta``. In the paper's notation, for ``t = 1..n``::

    mu_t  = l_{t-1} + (1 - 1/theta) * ((1 - alpha)^(t-1) A_{t-1} + (1 - (1 - alpha)^t) / alpha B_{t-1})
    Y_t   = mu_t + e_t,   e_t ~ N(0, sigma^2)
    l_t   = alpha Y_t + (1 - alpha) l_{t-1}
    A_t, B_t = intercept and slope of the least-squares line through Y_1..Y_t
               (B_1 = 0, A_1 = Y_1; the paper writes them as recursions in the running mean)

with ``mu_1 = Y_1``. Forecasts run the same recursions with ``Y`` replaced by ``mu``.

Estimation minimizes the sum of squared one-step errors (the Gaussian likelihood) over the
initial level ``l_0``, ``alpha`` in [0.1, 0.99] and ``theta >= 1`` (the reference
implementations' bounds, R's ``forecTheta`` and statsforecast's ``DynamicOptimizedTheta``; like
them it leaves out the first three errors, while the trend line rests on one to three points).
``l_0`` is kept within the data's range widened by its width on each side (the references
allow +-1e10): unbounded, at ``alpha`` near 0.99 its weight in the first error used is about
1e-6, and the least-squares ``l_0`` runs to 1e8 on data of 1e4 to absorb that one error.
``A_t`` and ``B_t`` depend on the data only and, for a fixed ``alpha``, the one-step errors are
linear in ``l_0`` and ``1 - 1/theta``: those two come from a bounded least-squares solve, and
only ``alpha`` is searched (a grid, then a bounded scalar minimization around the best point).
The estimate is therefore the global minimum over ``l_0`` and ``theta`` for each ``alpha``;
``tests/models/test_dotm.py`` checks it is never worse than statsforecast's Nelder-Mead
estimate on the same data, and that with statsforecast's parameters the forecasts are its.

Every recursion is linear in the data, so the ``h``-step forecast is a linear function of the
future errors and its distribution is exactly Gaussian: the intervals use that variance
(``sigma^2`` times the sum of squared error weights), not simulation. ``sigma^2`` is the mean
squared one-step error over the errors used in estimation, with three degrees of freedom taken
for the three parameters.

Seasonal data (``sp > 1``) are first tested for seasonality at the 90% level as in the M3 theta
method (the lag-``sp`` autocorrelation against its standard error under the hypothesis of no
seasonality, Bartlett's formula), and if seasonal are divided by classical multiplicative
seasonal indices (additive when the data are not all positive or an index is below 0.01); the
forecasts and their bounds are reseasonalized with the last cycle of indices.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.signal import lfilter
from statsmodels.tsa.seasonal import seasonal_decompose
from statsmodels.tsa.stattools import acf

from models.base import BaseForecaster, ModelRefusal, normal_intervals

#: estimation bounds (forecTheta, statsforecast)
ALPHA_BOUNDS = (0.1, 0.99)
THETA_MAX = 1e10
#: one-step errors left out of the objective at the start (trend line on one to three points)
BURN_IN = 3
_ALPHA_GRID = np.linspace(ALPHA_BOUNDS[0], ALPHA_BOUNDS[1], 46)


def trend_lines(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``A_t`` and ``B_t`` for ``t = 1..n``: intercept and slope of the least-squares line of
    ``Y_1..Y_t`` on ``1..t`` (``B_1 = 0``, ``A_1 = Y_1``), from cumulative sums."""
    n = len(y)
    t = np.arange(1, n + 1, dtype=float)
    mean_y = np.cumsum(y) / t
    mean_t = (t + 1.0) / 2.0
    sxx = t * (t * t - 1.0) / 12.0  # sum over s <= t of (s - mean_t)^2
    sxy = np.cumsum(t * y) - t * mean_t * mean_y
    slope = np.divide(sxy, sxx, out=np.zeros(n), where=sxx > 0)
    return mean_y - slope * mean_t, slope


def _design(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-step errors ``e_t = r_t - l0 * w_t - k * d_t`` (``k = 1 - 1/theta``) for
    ``t = 2..n``: returns ``r``, ``w``, ``d``."""
    beta = 1.0 - alpha
    smooth = lfilter([alpha], [1.0, -beta], y)  # l_t with l_0 = 0
    i = np.arange(1, len(y), dtype=float)  # t - 1 for t = 2..n
    w = beta**i  # weight of l_0 in l_{t-1}
    d = w * a[:-1] + (1.0 - beta ** (i + 1.0)) / alpha * b[:-1]
    return y[1:] - smooth[:-1], w, d


def _solve(
    r: np.ndarray, w: np.ndarray, d: np.ndarray, l0_bounds: tuple[float, float]
) -> tuple[float, float, float]:
    """Least squares of ``r`` on ``w`` (``l0`` in ``l0_bounds``) and ``d`` (``k`` in
    ``[0, 1 - 1/THETA_MAX]``): ``(l0, k, sse)``. The objective is a convex quadratic, so the
    box-constrained minimum is the unconstrained one when that is inside the box, otherwise
    the best of the four edges' one-variable minima."""
    k_max = 1.0 - 1.0 / THETA_MAX
    ww, dd, wd = float(w @ w), float(d @ d), float(w @ d)
    wr, dr = float(w @ r), float(d @ r)

    def sse(l0: float, k: float) -> float:
        e = r - l0 * w - k * d
        return float(e @ e)

    candidates = []
    det = ww * dd - wd * wd
    if det > 1e-12 * ww * dd:
        l0, k = (dd * wr - wd * dr) / det, (ww * dr - wd * wr) / det
        if l0_bounds[0] <= l0 <= l0_bounds[1] and 0.0 <= k <= k_max:
            return l0, k, sse(l0, k)
    for l0 in l0_bounds:
        k = min(max((dr - l0 * wd) / dd, 0.0), k_max) if dd > 0 else 0.0
        candidates.append((l0, k))
    for k in (0.0, k_max):
        l0 = (wr - k * wd) / ww if ww > 0 else 0.0
        candidates.append((min(max(l0, l0_bounds[0]), l0_bounds[1]), k))
    best = min(candidates, key=lambda c: sse(*c))
    return best[0], best[1], sse(*best)


def l0_bounds(y: np.ndarray) -> tuple[float, float]:
    """The initial level's range: the data's range widened by its width on both sides."""
    lo, hi = float(np.min(y)), float(np.max(y))
    width = max(hi - lo, 1e-8 * max(abs(lo), abs(hi), 1.0))
    return lo - width, hi + width


def estimate(y: np.ndarray) -> dict[str, float]:
    """Least-squares DOTM parameters for ``y`` (at least ``BURN_IN + 3`` values): ``alpha``,
    ``theta``, ``l0``, ``sse`` and ``n_errors`` (the one-step errors in the objective)."""
    a, b = trend_lines(y)
    cut = BURN_IN - 1  # errors e_2.. are r[0..]; leave out e_1 (zero by definition) .. e_BURN_IN
    bounds = l0_bounds(y)

    def sse_at(alpha: float) -> float:
        r, w, d = _design(y, a, b, alpha)
        return _solve(r[cut:], w[cut:], d[cut:], bounds)[2]

    grid = np.array([sse_at(al) for al in _ALPHA_GRID])
    j = int(np.argmin(grid))
    lo = _ALPHA_GRID[max(j - 1, 0)]
    hi = _ALPHA_GRID[min(j + 1, len(_ALPHA_GRID) - 1)]
    res = minimize_scalar(sse_at, bounds=(lo, hi), method="bounded", options={"xatol": 1e-7})
    alpha = float(res.x) if res.fun <= grid[j] else float(_ALPHA_GRID[j])
    r, w, d = _design(y, a, b, alpha)
    l0, k, sse = _solve(r[cut:], w[cut:], d[cut:], bounds)
    return {
        "alpha": alpha,
        "theta": 1.0 / (1.0 - k),
        "l0": l0,
        "sse": sse,
        "n_errors": float(len(r) - cut),
    }


def one_step_errors(y: np.ndarray, alpha: float, theta: float, l0: float) -> np.ndarray:
    """``e_1..e_n`` of the model with these parameters (``e_1 = 0``)."""
    a, b = trend_lines(y)
    r, w, d = _design(y, a, b, alpha)
    return np.concatenate([[0.0], r - l0 * w - (1.0 - 1.0 / theta) * d])


def forecast_weights(
    y: np.ndarray, alpha: float, theta: float, l0: float, h: int
) -> tuple[np.ndarray, np.ndarray]:
    """Point forecasts ``mu_{n+1..n+h}`` and the weights ``psi`` (``h x h``) of the future errors
    in ``Y_{n+1..n+h}``: ``Y_{n+j} = mu_{n+j} + sum_i psi[j, i] e_{n+1+i}``.

    The states are carried as affine functions of the future errors: column 0 is the constant,
    column ``1 + i`` the coefficient of ``e_{n+1+i}``.
    """
    n = len(y)
    beta = 1.0 - alpha
    k = 1.0 - 1.0 / theta
    a, b = trend_lines(y)
    level = np.zeros(h + 1)
    level[0] = lfilter([alpha], [1.0, -beta], y)[-1] + beta**n * l0
    mean_y = np.zeros(h + 1)
    mean_y[0] = float(np.mean(y))
    a_t = np.zeros(h + 1)
    a_t[0] = a[-1]
    b_t = np.zeros(h + 1)
    b_t[0] = b[-1]
    mean = np.empty(h)
    psi = np.zeros((h, h))
    for j in range(h):
        t = n + j + 1  # the period forecast
        mu = level + k * (beta ** (t - 1) * a_t + (1.0 - beta**t) / alpha * b_t)
        y_t = mu.copy()
        y_t[1 + j] += 1.0
        mean[j] = mu[0]
        psi[j] = y_t[1:]
        level = alpha * y_t + beta * level
        prev_mean = mean_y
        mean_y = ((t - 1) * prev_mean + y_t) / t
        b_t = ((t - 2) * b_t + 6.0 * (y_t - prev_mean) / t) / (t + 1)
        a_t = mean_y - b_t * (t + 1) / 2.0
    return mean, psi


def seasonality_test(y: np.ndarray, sp: int, z: float = 1.6448536269514722) -> bool:
    """The M3 theta method's test: ``|r_sp|`` above ``z`` standard errors (Bartlett's formula
    with the autocorrelations below lag ``sp``); 90% two-sided by default."""
    if np.ptp(y) == 0.0:
        return False  # a constant series has no autocorrelations
    r = acf(y, nlags=sp, fft=False)[1:]
    se = math.sqrt((1.0 + 2.0 * float(np.sum(r[:-1] ** 2))) / len(y))
    return bool(abs(r[-1]) / se > z)


class DOTM(BaseForecaster):
    """Dynamic optimised theta model (Fiorucci et al. 2016), least squares, exact intervals.

    Parameters
    ----------
    sp : seasonal period; ``None`` takes it from the data's frequency.
    deseasonalize : test for seasonality and deseasonalize seasonal data (``sp > 1``).
    decomposition : ``"multiplicative"`` (falls back to additive for data that are not all
        positive, or an index below 0.01) or ``"additive"``.
    """

    name = "dotm"
    _tags = {
        "seasonal": True,
        "requires:min_obs": BURN_IN + 5,
        "requires:seasonal_cycles": 2,  # classical decomposition needs two full cycles
        "complexity": 2,
        "family": "exponential smoothing",
    }

    def __init__(
        self,
        sp: int | None = None,
        deseasonalize: bool = True,
        decomposition: str = "multiplicative",
    ) -> None:
        self.sp = sp
        self.deseasonalize = deseasonalize
        self.decomposition = decomposition

    def _deseasonalized(self, y: np.ndarray, method: str | None) -> np.ndarray:
        """``y`` without the seasonal indices of ``method`` (``None``: as is); sets
        ``seasonal_`` (one cycle of indices following the data) and ``decomposition_``."""
        self.decomposition_ = method
        self.seasonal_ = np.empty(0)
        if method is None:
            return y
        if method == "multiplicative" and np.min(y) <= 0:
            method = "additive"
        seasonal = seasonal_decompose(y, model=method, period=self.sp_).seasonal
        if method == "multiplicative" and np.min(seasonal) < 0.01:
            method = "additive"
            seasonal = seasonal_decompose(y, model=method, period=self.sp_).seasonal
        self.decomposition_ = method
        n, sp = len(y), self.sp_
        # indices are periodic; the next cycle starts at position n mod sp
        self.seasonal_ = np.asarray(seasonal[n - sp : n], dtype=float)
        return y / seasonal if method == "multiplicative" else y - seasonal

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        if self.decomposition not in ("multiplicative", "additive"):
            raise ModelRefusal(
                f"dotm: decomposition must be 'multiplicative' or 'additive', "
                f"got {self.decomposition!r}"
            )
        arr = y.to_numpy(dtype=float)
        seasonal = bool(self.deseasonalize and self.sp_ > 1 and seasonality_test(arr, self.sp_))
        self._estimate(arr, self.decomposition if seasonal else None)

    def _estimate(self, arr: np.ndarray, method: str | None) -> None:
        self.y_adjusted_ = self._deseasonalized(arr, method)
        if np.ptp(self.y_adjusted_) == 0.0:
            # a constant series: every parameter fits it exactly; the forecast is the constant
            # (theta = 1: the trend terms vanish; the level stays at the constant)
            self.params_ = {"alpha": 0.5, "theta": 1.0, "l0": float(self.y_adjusted_[0])}
            self.sigma2_ = 0.0
            return
        est = estimate(self.y_adjusted_)
        self.params_ = {k: est[k] for k in ("alpha", "theta", "l0")}
        dof = max(est["n_errors"] - 3.0, 1.0)
        self.sigma2_ = est["sse"] / dof

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        """Keep the seasonal choice; re-estimate (``refit_params``) or run the data through the
        fitted ``alpha``, ``theta`` and ``l0``."""
        arr = y.to_numpy(dtype=float)
        if refit_params:
            self._estimate(arr, self.decomposition if self.decomposition_ else None)
            return
        self.y_adjusted_ = self._deseasonalized(arr, self.decomposition_)
        if self.sigma2_ > 0.0:
            p = self.params_
            e = one_step_errors(self.y_adjusted_, p["alpha"], p["theta"], p["l0"])[BURN_IN:]
            self.sigma2_ = float(e @ e) / max(len(e) - 3.0, 1.0)

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        p = self.params_
        mean, psi = forecast_weights(self.y_adjusted_, p["alpha"], p["theta"], p["l0"], h)
        sd = np.sqrt(self.sigma2_ * np.sum(psi**2, axis=1))
        out = normal_intervals(mean, sd, levels)
        if self.decomposition_ is None:
            return out
        season = np.resize(self.seasonal_, h)
        mult = self.decomposition_ == "multiplicative"
        return {k: v * season if mult else v + season for k, v in out.items()}
