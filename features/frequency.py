"""Mixed frequencies: temporal aggregation and temporal disaggregation.

Aggregation (high -> low frequency, :func:`aggregate`)
    Monthly -> quarterly or annual, quarterly -> annual. The conversion follows the unit:
    flows are summed (``"sum"``), rates and prices averaged (``"mean"``), stocks take the last
    value (``"last"``; ``"first"`` also exists). :data:`HOW_BY_KIND` maps a unit kind to its
    conversion. A low-frequency period with a missing or absent high-frequency value is
    *incomplete*: it is dropped (default), kept as NaN, or raises, never summed over what is there.

Disaggregation (low -> high frequency)
    Both methods return values whose aggregate (sum, mean, first or last, as asked) equals the
    low-frequency series exactly; indicator periods outside the low-frequency span are
    extrapolated (the conversion matrix gets zero columns there, as in R ``tempdisagg``).

    * :func:`denton_cholette` -- movement preservation (Denton 1971, modified by Cholette 1984;
      Dagum and Cholette 2006, eq. 6.8). With indicator ``x`` and conversion matrix ``C``, the
      series ``y`` minimises ``(y - x)' A (y - x)`` subject to ``C y = y_l``, where ``A = D_1'D_1``
      and ``D_1`` is the ``h``-th difference operator without its first ``h`` rows (Cholette's
      modification removes Denton's start-up condition), applied to ``(y - x) / x * mean(x)``
      for the proportional criterion or to ``y - x`` for the additive one. Solved as one KKT
      system. A constant indicator gives the smoothest path that meets the annual totals.
    * :func:`chow_lin` -- regression with AR(1) residuals (Chow and Lin 1971).
      ``y = X b + u`` at high frequency with ``u ~ AR(1)``, ``Var(u) = s2 Q``,
      ``Q_ij = rho^|i-j| / (1 - rho^2)``. Only ``y_l = C y`` is observed, so ``b`` is the GLS
      estimate of ``y_l = (C X) b + C u`` with ``Var(C u) = s2 C Q C'`` and
      ``y = X b + Q C' (C Q C')^-1 (y_l - C X b)``. ``rho`` maximises the concentrated
      Gaussian log-likelihood (``"maxlog"``, R's default ``chow-lin-maxlog``) or minimises the
      generalised RSS (``"minrss-quilis"`` with ``Q``, ``"minrss-ecotrim"`` with the correlation
      matrix ``rho^|i-j|``), over ``(-0.999, 0.999)``; an estimate below ``truncated_rho``
      (default 0) is set to it, as R does. Standard errors use ``s2 = RSS / (n_l - k)``.

Why not the ``tempdisagg`` package on PyPI (0.2.13, checked 2026): its regression methods
reshape the indicators to one column (no intercept, no second indicator), its max-likelihood
objective omits the concentrated variance (so ``rho`` depends on the units: on a simulated
annual/quarterly pair its estimate moved from 0.83 to the 0.99 bound when ``y`` and ``x`` were
multiplied by 1000; :func:`chow_lin` gives the same ``rho`` for both), and its
Denton-Cholette ignores the indicator and adds an identity ridge; on R's published
``td(sales.a ~ 1, to = "quarterly", method = "denton-cholette")`` example it is off by up to
4.9 index points. The two methods are short, so they are implemented here and pinned to R's
published output in ``tests/features/test_frequency.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.linalg as sla
from scipy.optimize import minimize_scalar
from threadpoolctl import threadpool_limits

from features.errors import InputError
from features.periods import PANDAS_FREQ, check_freq, freq_code

How = Literal["sum", "mean", "first", "last"]
Incomplete = Literal["drop", "nan", "raise"]
RhoMethod = Literal["maxlog", "minrss-quilis", "minrss-ecotrim"]

#: unit kind -> conversion used when aggregating to a lower frequency
HOW_BY_KIND: dict[str, How] = {
    "flow": "sum",
    "rate": "mean",
    "price": "mean",
    "index": "mean",
    "stock": "last",
}

_ORDER = {"M": 0, "Q": 1, "A": 2}
_PER_YEAR = {"M": 12, "Q": 4, "A": 1}


def how_for(kind: str) -> How:
    """The conversion for a unit kind (``flow``, ``rate``, ``price``, ``index``, ``stock``)."""
    try:
        return HOW_BY_KIND[kind.strip().lower()]
    except KeyError:
        raise InputError(
            f"unit kind {kind!r} is not one of {', '.join(sorted(HOW_BY_KIND))}"
        ) from None


def _check_how(how: str) -> How:
    if how not in ("sum", "mean", "first", "last"):
        raise InputError(f"conversion {how!r} is not one of sum, mean, first, last")
    return how  # type: ignore[return-value]


def _ratio(high: str, low: str) -> int:
    if _ORDER[high] >= _ORDER[low]:
        raise InputError(f"cannot aggregate frequency {high} to {low}: target must be lower")
    return _PER_YEAR[high] // _PER_YEAR[low]


def aggregate(series: pd.Series, to: str, how: str, incomplete: Incomplete = "drop") -> pd.Series:
    """Aggregate a monthly or quarterly series to a lower frequency.

    Parameters
    ----------
    series : float series on a monthly or quarterly ``PeriodIndex``.
    to : target frequency code, ``"Q"`` or ``"A"``.
    how : ``"sum"`` (flows), ``"mean"`` (rates, prices), ``"last"`` (stocks) or ``"first"``.
    incomplete : what to do with a target period that lacks a value (absent or NaN):
        ``"drop"`` it, keep it as ``"nan"``, or ``"raise"`` an :class:`InputError`.

    Returns
    -------
    pd.Series on the target ``PeriodIndex``. :func:`count_per_period` gives the number of
    values found in each target period, for reports that flag incomplete ones.
    """
    if not isinstance(series.index, pd.PeriodIndex):
        raise InputError("aggregate: the series needs a PeriodIndex")
    how = _check_how(how)
    if incomplete not in ("drop", "nan", "raise"):
        raise InputError(f"incomplete={incomplete!r} is not one of drop, nan, raise")
    high = freq_code(series.index)
    low = check_freq(to)
    ratio = _ratio(high, low)
    idx = series.index
    target = idx.asfreq(PANDAS_FREQ[low])
    # position of each high-frequency period inside its target period (0 .. ratio - 1)
    pos = (idx.asi8 - target.asfreq(idx.freq, how="start").asi8).astype(int)
    periods = pd.PeriodIndex(sorted(set(target)), freq=PANDAS_FREQ[low])
    grid = np.full((len(periods), ratio), np.nan)
    row = periods.get_indexer(target)
    grid[row, pos] = series.to_numpy(dtype=float)
    n_obs = np.isfinite(grid).sum(axis=1)
    complete = n_obs == ratio
    with np.errstate(invalid="ignore"):
        if how == "sum":
            vals = grid.sum(axis=1)
        elif how == "mean":
            vals = grid.mean(axis=1)
        elif how == "first":
            vals = grid[:, 0]
        else:
            vals = grid[:, -1]
    if not complete.all():
        if incomplete == "raise":
            i = int(np.argmin(complete))
            raise InputError(
                f"aggregate: {periods[i]} has {int(n_obs[i])} of {ratio} values; "
                "use incomplete='drop' or 'nan' to handle incomplete periods"
            )
        vals = np.where(complete, vals, np.nan)
        if incomplete == "drop":
            periods, vals = periods[complete], vals[complete]
    return pd.Series(vals, index=periods, name=series.name, dtype=float)


def count_per_period(series: pd.Series, to: str) -> pd.Series:
    """Number of non-missing values of ``series`` in each period of frequency ``to``."""
    if not isinstance(series.index, pd.PeriodIndex):
        raise InputError("count_per_period: the series needs a PeriodIndex")
    _ratio(freq_code(series.index), check_freq(to))
    target = series.index.asfreq(PANDAS_FREQ[check_freq(to)])
    return series.notna().groupby(target).sum().astype(int)


# ---------------------------------------------------------------------------------------------
# conversion matrices


def _weights(how: How, ratio: int) -> np.ndarray:
    if how == "sum":
        return np.ones(ratio)
    if how == "mean":
        return np.full(ratio, 1.0 / ratio)
    w = np.zeros(ratio)
    w[0 if how == "first" else -1] = 1.0
    return w


def conversion_matrix(
    low_index: pd.PeriodIndex, high_index: pd.PeriodIndex, how: str = "sum"
) -> np.ndarray:
    """The ``n_low x n_high`` matrix ``C`` with ``C @ y_high`` = the low-frequency aggregate.

    Every low period must be fully covered by ``high_index``; high periods outside the low
    span get zero columns (they are extrapolated by the disaggregation methods).
    """
    how = _check_how(how)
    low, high = freq_code(low_index), freq_code(high_index)
    ratio = _ratio(high, low)
    owner = high_index.asfreq(PANDAS_FREQ[low])
    C = np.zeros((len(low_index), len(high_index)))
    w = _weights(how, ratio)
    for i, p in enumerate(low_index):
        cols = np.flatnonzero(owner == p)
        if len(cols) != ratio or np.any(np.diff(cols) != 1):
            raise InputError(
                f"the indicator does not cover {p} fully ({len(cols)} of {ratio} periods)"
            )
        C[i, cols] = w
    return C


def _high_index(
    y_low: pd.Series, indicator: pd.Series | pd.DataFrame | None, to: str | None
) -> pd.PeriodIndex:
    if indicator is not None:
        idx = indicator.index
        if not isinstance(idx, pd.PeriodIndex):
            raise InputError("the indicator needs a PeriodIndex")
        return idx
    if to is None:
        raise InputError("give an indicator or a target frequency 'to'")
    code = check_freq(to)
    freq = PANDAS_FREQ[code]
    start = y_low.index[0].asfreq(freq, how="start")
    end = y_low.index[-1].asfreq(freq, how="end")
    return pd.period_range(start, end, freq=freq)


def _check_low(y_low: pd.Series) -> np.ndarray:
    if not isinstance(y_low.index, pd.PeriodIndex):
        raise InputError("the low-frequency series needs a PeriodIndex")
    arr = y_low.to_numpy(dtype=float)
    if not np.isfinite(arr).all():
        raise InputError("the low-frequency series has missing or infinite values")
    return arr


# ---------------------------------------------------------------------------------------------
# Denton-Cholette


def denton_cholette(
    y_low: pd.Series,
    indicator: pd.Series | None = None,
    *,
    to: str | None = None,
    conversion: str = "sum",
    h: int = 1,
    criterion: Literal["proportional", "additive"] = "proportional",
) -> pd.Series:
    """Denton-Cholette benchmarking of an indicator (or a constant) to low-frequency totals.

    Parameters
    ----------
    y_low : low-frequency series (annual or quarterly ``PeriodIndex``), no gaps.
    indicator : high-frequency indicator; ``None`` means a constant (then ``to`` is required).
    to : target frequency when there is no indicator.
    conversion : ``"sum"``, ``"mean"``, ``"first"`` or ``"last"``.
    h : order of differencing (1: preserve period-to-period movement).
    criterion : ``"proportional"`` (preserve growth rates of the indicator; the indicator must be
        non-zero) or ``"additive"`` (preserve differences).

    Returns
    -------
    pd.Series on the indicator's index whose aggregate equals ``y_low``.
    """
    yl = _check_low(y_low)
    hidx = _high_index(y_low, indicator, to)
    n = len(hidx)
    x = np.ones(n) if indicator is None else indicator.to_numpy(dtype=float)
    if not np.isfinite(x).all():
        raise InputError("the indicator has missing or infinite values")
    if h < 0 or h >= n:
        raise InputError(f"order of differencing h={h} must be in 0..{n - 1}")
    C = conversion_matrix(y_low.index, hidx, conversion)
    D0 = np.eye(n)
    for _ in range(h):
        D0 = _diff(D0)
    if criterion == "proportional":
        if np.any(x == 0):
            raise InputError("proportional Denton-Cholette needs a non-zero indicator")
        D0 = D0 @ np.diag(np.mean(x) / x)
    elif criterion != "additive":
        raise InputError(f"criterion {criterion!r} is not proportional or additive")
    A = D0.T @ D0
    n_l = len(yl)
    kkt = np.block([[A, C.T], [C, np.zeros((n_l, n_l))]])
    rhs = np.concatenate([np.zeros(n), yl - C @ x])
    with threadpool_limits(limits=1, user_api="blas"):
        delta = np.linalg.solve(kkt, rhs)[:n]
    return pd.Series(x + delta, index=hidx, name=y_low.name)


def _diff(M: np.ndarray) -> np.ndarray:
    """First difference of the rows of ``M`` (drops the first row: Cholette's modification)."""
    return M[1:] - M[:-1]


# ---------------------------------------------------------------------------------------------
# Chow-Lin


@dataclass(frozen=True)
class GLSFit:
    """GLS of ``y`` on ``X`` with error covariance ``s2 * V`` (``V`` known up to scale)."""

    coefficients: np.ndarray
    std_errors: np.ndarray
    rss: float
    loglik: float
    sigma2_ml: float
    sigma2_gls: float
    r_squared: float
    adj_r_squared: float
    v_inv: np.ndarray


def gls(y: np.ndarray, X: np.ndarray, V: np.ndarray, stats: bool = True) -> GLSFit:
    """GLS with concentrated Gaussian log-likelihood, as R ``tempdisagg``'s ``CalcGLS``.

    ``loglik = -m/2 (1 + log 2 pi + log(RSS/m)) - log|V| / 2``; standard errors use
    ``RSS / (m - k)``; R-squared is against the GLS mean. ``stats=False`` skips the standard
    errors, R-squared and ``V^-1`` (NaN / empty), for use inside an optimiser.
    """
    m, k = X.shape
    if m <= k:
        raise InputError(f"not enough low-frequency observations ({m}) for {k} coefficients")
    L = np.linalg.cholesky(V)
    yw = sla.solve_triangular(L, y, lower=True)
    Xw = sla.solve_triangular(L, X, lower=True)
    beta, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
    resid = yw - Xw @ beta
    rss = float(resid @ resid)
    logdet = 2.0 * float(np.sum(np.log(np.diag(L))))
    s2_ml = rss / m
    loglik = -m / 2 * (1 + np.log(2 * np.pi) + np.log(s2_ml)) - logdet / 2
    s2 = rss / (m - k)
    if not stats:
        nan = float("nan")
        return GLSFit(beta, np.full(k, nan), rss, float(loglik), s2_ml, s2, nan, nan, np.empty(0))
    xtx_inv = np.linalg.inv(Xw.T @ Xw)
    se = np.sqrt(np.diag(s2 * xtx_inv))
    ew = sla.solve_triangular(L, np.ones(m), lower=True)
    ybar = float(ew @ yw) / float(ew @ ew)
    dev = yw - ybar * ew
    tss = float(dev @ dev)
    r2 = 1 - rss / tss
    adj = 1 - rss * (m - 1) / (tss * (m - k))
    v_inv = sla.cho_solve((L, True), np.eye(m))
    return GLSFit(beta, se, rss, float(loglik), s2_ml, s2, r2, adj, v_inv)


@dataclass(frozen=True)
class ChowLinResult:
    """A Chow-Lin disaggregation: values, regression statistics and the AR(1) parameter."""

    values: pd.Series
    fitted_low: pd.Series
    residuals_low: pd.Series
    coefficients: pd.Series
    std_errors: pd.Series
    rho: float
    truncated: bool
    method: str
    conversion: str
    loglik: float
    rss: float
    adj_r_squared: float


def ar1_q(rho: float, n: int, corr_only: bool = False) -> np.ndarray:
    """``Q_ij = rho^|i-j| / (1 - rho^2)``: covariance of a unit-innovation AR(1).

    ``corr_only`` drops the ``1 / (1 - rho^2)`` factor (the correlation matrix).
    """
    Q = sla.toeplitz(rho ** np.arange(n, dtype=float))
    return Q if corr_only else Q / (1.0 - rho**2)


def chow_lin(
    y_low: pd.Series,
    indicators: pd.Series | pd.DataFrame,
    *,
    conversion: str = "sum",
    intercept: bool = True,
    method: RhoMethod = "maxlog",
    rho: float | None = None,
    truncated_rho: float = 0.0,
    bounds: tuple[float, float] = (-0.999, 0.999),
) -> ChowLinResult:
    """Chow-Lin temporal disaggregation (regression on indicators, AR(1) residuals).

    Parameters
    ----------
    y_low : low-frequency series, no gaps.
    indicators : high-frequency indicator(s) covering every ``y_low`` period; may extend
        beyond it (those periods are extrapolated).
    conversion : ``"sum"``, ``"mean"``, ``"first"`` or ``"last"``.
    intercept : add a constant column (R's formula default ``y ~ x``).
    method : how ``rho`` is estimated when ``rho`` is not given (see module docstring).
    rho : a fixed AR(1) parameter (R's ``chow-lin-fixed``); ``0`` gives OLS on the
        aggregates with residuals spread evenly (``sum``) over the sub-periods.
    truncated_rho : lower bound applied to an estimated ``rho`` (R: ``truncated.rho``);
        ``-1`` switches truncation off.
    bounds : search interval for ``rho``.
    """
    yl = _check_low(y_low)
    X_df = indicators.to_frame() if isinstance(indicators, pd.Series) else indicators.copy()
    if not isinstance(X_df.index, pd.PeriodIndex):
        raise InputError("the indicators need a PeriodIndex")
    X_df = X_df.astype(float)
    if intercept:
        X_df.insert(0, "(Intercept)", 1.0)
    X = X_df.to_numpy()
    if not np.isfinite(X).all():
        raise InputError("the indicators have missing or infinite values")
    C = conversion_matrix(y_low.index, X_df.index, conversion)
    X_l = C @ X
    n = X.shape[0]

    def objective(r: float) -> float:
        if method == "maxlog":
            return -gls(yl, X_l, C @ ar1_q(r, n) @ C.T, stats=False).loglik
        if method == "minrss-quilis":
            return gls(yl, X_l, C @ ar1_q(r, n) @ C.T, stats=False).rss
        if method == "minrss-ecotrim":
            return gls(yl, X_l, C @ ar1_q(r, n, corr_only=True) @ C.T, stats=False).rss
        raise InputError(f"method {method!r} is not maxlog, minrss-quilis or minrss-ecotrim")

    # small dense matrices: BLAS threads only contend with each other (10x slower on 2 cores)
    with threadpool_limits(limits=1, user_api="blas"):
        truncated = False
        if rho is None:
            lo, hi = bounds
            # coarse grid first, so a local optimum at the edge of the interval is not taken
            grid = np.linspace(lo, hi, 41)
            vals = [objective(float(g)) for g in grid]
            i = int(np.argmin(vals))
            a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
            res = minimize_scalar(
                objective, bounds=(a, b), method="bounded", options={"xatol": 1e-10}
            )
            r_used = float(res.x) if res.fun <= vals[i] else float(grid[i])
            if r_used < truncated_rho:
                r_used, truncated = truncated_rho, True
        else:
            if not -1.0 < rho < 1.0:
                raise InputError(f"rho={rho} must be in (-1, 1)")
            r_used = float(rho)
        Q = ar1_q(r_used, n)
        fit = gls(yl, X_l, C @ Q @ C.T)
        p = X @ fit.coefficients
        u_l = yl - C @ p
        y_hat = p + Q @ C.T @ fit.v_inv @ u_l
    names = list(X_df.columns.astype(str))
    return ChowLinResult(
        values=pd.Series(y_hat, index=X_df.index, name=y_low.name),
        fitted_low=pd.Series(C @ p, index=y_low.index),
        residuals_low=pd.Series(u_l, index=y_low.index),
        coefficients=pd.Series(fit.coefficients, index=names),
        std_errors=pd.Series(fit.std_errors, index=names),
        rho=r_used,
        truncated=truncated,
        method=f"chow-lin-{method}" if rho is None else "chow-lin-fixed",
        conversion=conversion,
        loglik=fit.loglik,
        rss=fit.rss,
        adj_r_squared=fit.adj_r_squared,
    )
