"""Forecast a transformed series and transform back (sktime's ``TransformedTargetForecaster``).

``Transformed(inner, transform, lmbda, seasonal_diff, bias_adjust)`` fits ``inner`` to

1. ``z = log(y)`` (``transform="log"``) or the Box-Cox transform ``z = (y^λ - 1) / λ``
   (``"boxcox"``; ``λ = lmbda``, or Guerrero's (1993) estimate when ``lmbda=None``, as R's
   ``forecast::BoxCox.lambda``), or ``z = y`` (``None``); both need ``y > 0``;
2. then, with ``seasonal_diff=True``, ``w[t] = z[t] - z[t - m]`` (``m`` the seasonal period).

Back to the original scale:

* seasonal differences are undone step by step, ``z[T+j] = w[T+j] + z[T+j-m]``. The mean is exact.
  An interval bound adds its distance from the mean to that of the bound ``m`` steps earlier
  (exact for perfectly correlated errors, wider than the exact interval for jointly Gaussian
  ones), so intervals still nest;
* quantiles go through the inverse transform directly (it is increasing): interval bounds and
  nesting carry over exactly;
* the mean is bias-adjusted (Hyndman & Athanasopoulos, *FPP3* §5.6): with ``σ`` the forecast
  standard deviation on the transformed scale, read off the inner model's 80% interval as
  ``(hi_80 - lo_80) / (2 z_0.9)``, the log mean is ``exp(μ + σ²/2)`` (the lognormal mean) and the
  Box-Cox mean ``(λμ + 1)^(1/λ) [1 + σ² (1 - λ) / (2 (λμ + 1)²)]``. With ``bias_adjust=False``
  the back-transformed median ``inverse(μ)`` is returned instead.

Registered shortcuts (one line each; see :class:`ETSLog`): ``ets_log``, ``sarimax_log``. Any
other combination is built in Python, e.g. ``Transformed("ridge_lags", "boxcox")``, and can be
an ensemble member.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from features.errors import InputError
from models._wrapper import WrapperForecaster
from models.base import BaseForecaster, ModelRefusal, _fmt_level

#: interval level (percent) that gives the transformed-scale sd for the bias adjustment
SIGMA_LEVEL = 80.0
_TRANSFORMS = ("log", "boxcox", None)


def boxcox(y: np.ndarray, lmbda: float) -> np.ndarray:
    """Box-Cox transform; ``lmbda == 0`` is the natural log. Needs ``y > 0``."""
    y = np.asarray(y, dtype=float)
    return np.log(y) if lmbda == 0 else (np.power(y, lmbda) - 1.0) / lmbda


def inv_boxcox(z: np.ndarray, lmbda: float) -> np.ndarray:
    """Inverse Box-Cox. Below the transform's range (``λz + 1 <= 0``, ``λ > 0``) gives 0; beyond
    its asymptote (``λ < 0``) gives ``inf``."""
    z = np.asarray(z, dtype=float)
    if lmbda == 0:
        return np.exp(z)
    base = lmbda * z + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.power(np.where(base > 0, base, 0.0), 1.0 / lmbda)
    return out


def guerrero_lambda(y: np.ndarray, sp: int, bounds: tuple[float, float] = (-1.0, 2.0)) -> float:
    """Guerrero's (1993) Box-Cox parameter: the ``λ`` that makes ``sd / mean^(1-λ)`` most nearly
    constant across consecutive subseries of length ``max(sp, 2)`` (R ``forecast``'s default).

    The series is cut from its end, as R does; an incomplete first subseries is left out.
    """
    y = np.asarray(y, dtype=float)
    period = max(int(sp), 2)
    n_sub = len(y) // period
    if n_sub < 2:
        raise ModelRefusal(
            f"Box-Cox: Guerrero's λ needs two subseries of {period}, got {len(y)} observations"
        )
    sub = y[len(y) - n_sub * period :].reshape(n_sub, period)
    mu = sub.mean(axis=1)
    sd = sub.std(axis=1, ddof=1)

    def cv(lam: float) -> float:
        rat = sd / mu ** (1.0 - lam)
        return float(np.std(rat, ddof=1) / np.mean(rat))

    res = minimize_scalar(cv, bounds=bounds, method="bounded")
    return float(res.x)


def bias_adjusted_mean(mu: np.ndarray, sigma: np.ndarray, lmbda: float, log: bool) -> np.ndarray:
    """Mean on the original scale of a forecast with mean ``mu`` and sd ``sigma`` on the
    transformed scale (FPP3 §5.6; exact lognormal mean for ``log``)."""
    mu = np.asarray(mu, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    if log:
        return np.exp(mu + sigma**2 / 2.0)
    if lmbda == 0:
        return np.exp(mu) * (1.0 + sigma**2 / 2.0)
    base = lmbda * mu + 1.0
    return inv_boxcox(mu, lmbda) * (1.0 + sigma**2 * (1.0 - lmbda) / (2.0 * base**2))


class Transformed(WrapperForecaster):
    """An inner model fitted to a log / Box-Cox / seasonally differenced series.

    Parameters
    ----------
    inner : registered model name or unfitted instance.
    transform : ``"log"``, ``"boxcox"`` or ``None``.
    lmbda : Box-Cox parameter; ``None`` estimates it (Guerrero). Only with ``"boxcox"``.
    seasonal_diff : model ``z[t] - z[t - sp]`` instead of ``z``.
    bias_adjust : return the mean (``True``) or the median (``False``) on the original scale.
    """

    name = "transformed"
    _tags = {"complexity": 3}

    def __init__(
        self,
        inner: str | BaseForecaster = "ets",
        transform: str | None = "log",
        lmbda: float | None = None,
        seasonal_diff: bool = False,
        bias_adjust: bool = True,
    ) -> None:
        self.inner = inner
        self.transform = transform
        self.lmbda = lmbda
        self.seasonal_diff = seasonal_diff
        self.bias_adjust = bias_adjust

    def min_obs(self, sp: int) -> int:
        lag = sp if (self.seasonal_diff and sp > 1) else (1 if self.seasonal_diff else 0)
        need = self._inner_proto().min_obs(sp) + lag
        if self.transform == "boxcox" and self.lmbda is None:
            need = max(need, 2 * max(sp, 2))  # Guerrero needs two subseries
        return need

    def _lag(self) -> int:
        return (self.sp_ if self.sp_ > 1 else 1) if self.seasonal_diff else 0

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        if self.transform not in _TRANSFORMS:
            raise InputError(f"{self.name}: transform must be 'log', 'boxcox' or None")
        if self.lmbda is not None and self.transform != "boxcox":
            raise InputError(f"{self.name}: lmbda is only used with transform='boxcox'")
        self._check_positive(y)
        self.lambda_: float | None = None
        if self.transform == "log":
            self.lambda_ = 0.0
        elif self.transform == "boxcox":
            self.lambda_ = (
                float(self.lmbda)
                if self.lmbda is not None
                else guerrero_lambda(y.to_numpy(dtype=float), self.sp_)
            )
        w, self.z_tail_ = self._forward(y)
        X_w = X.iloc[self._lag() :] if X is not None else None
        self.inner_ = self._inner_proto().fit(w, X_w)
        self.exog_columns_ = list(self.inner_.exog_columns_)

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        """Keep ``λ`` and the inner model's structure: transform the extended data with the
        fitted ``λ`` and update the inner model (see ``BaseForecaster.update``)."""
        self._check_positive(y)
        w, z_tail = self._forward(y)
        X_w = X.iloc[self._lag() :] if X is not None else None
        self.inner_.update(w, X_w, refit_params)
        self.z_tail_ = z_tail

    def _check_positive(self, y: pd.Series) -> None:
        arr = y.to_numpy(dtype=float)
        if self.transform is not None and (arr <= 0).any():
            raise ModelRefusal(
                f"{self.name}: {self.transform} transform needs positive data; "
                f"{y.index[arr <= 0][0]} is {arr[arr <= 0][0]:g}"
            )

    def _forward(self, y: pd.Series) -> tuple[pd.Series, np.ndarray]:
        """The series the inner model sees (``w``) and the last ``m`` values of ``z``."""
        arr = y.to_numpy(dtype=float)
        z = boxcox(arr, self.lambda_) if self.lambda_ is not None else arr.copy()
        m = self._lag()
        w = z[m:] - z[:-m] if m else z
        return pd.Series(w, index=y.index[m:]), (z[len(z) - m :] if m else z[:0])

    def _undiff(self, w: np.ndarray, known: np.ndarray | None) -> np.ndarray:
        """``z[T+j] = w[T+j] + z[T+j-m]`` with known past ``z`` (``known``) or zero deviations."""
        m = self._lag()
        if not m:
            return w.copy()
        out = np.empty_like(w)
        for j in range(len(w)):
            prev = out[j - m] if j >= m else (known[j] if known is not None else 0.0)
            out[j] = w[j] + prev
        return out

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        need_sigma = self.transform is not None and self.bias_adjust
        inner_levels = sorted(set(levels) | ({SIGMA_LEVEL} if need_sigma else set()))
        X_in = X if self.inner_.future_exog_columns_ else None
        fc = self.inner_.predict(h, X_in, level=inner_levels)
        w_mean = fc["mean"].to_numpy(dtype=float)
        z_mean = self._undiff(w_mean, self.z_tail_)
        z_bounds: dict[str, np.ndarray] = {}
        for lv in inner_levels:
            for side in ("lo", "hi"):
                col = f"{side}_{_fmt_level(lv)}"
                dev = fc[col].to_numpy(dtype=float) - w_mean  # distance from the mean
                z_bounds[col] = z_mean + self._undiff(dev, None)
        if self.transform is None:
            out = {"mean": z_mean}
            out.update({k: v for k, v in z_bounds.items() if _level_of(k) in levels})
            return out
        lam = self.lambda_
        assert lam is not None  # set whenever transform is not None
        if need_sigma:
            lab = _fmt_level(SIGMA_LEVEL)
            z = float(norm.ppf(0.5 + SIGMA_LEVEL / 200.0))
            sigma = (z_bounds[f"hi_{lab}"] - z_bounds[f"lo_{lab}"]) / (2.0 * z)
            mean = bias_adjusted_mean(z_mean, sigma, lam, log=self.transform == "log")
        else:
            mean = inv_boxcox(z_mean, lam)
        out = {"mean": mean}
        for col, vals in z_bounds.items():
            if _level_of(col) in levels:
                out[col] = inv_boxcox(vals, lam)
        return out


def _level_of(col: str) -> float:
    return float(col[3:].replace("_", "."))


class ETSLog(Transformed):
    """ETS on the log of the series, bias-adjusted mean (a registered shortcut).

    Parameters
    ----------
    See :class:`Transformed`; ``inner`` defaults to ``"ets"``.
    """

    name = "ets_log"
    _tags = {"capability:exogenous": False, "complexity": 3, "family": "exponential smoothing"}

    def __init__(
        self,
        inner: str | BaseForecaster = "ets",
        transform: str | None = "log",
        lmbda: float | None = None,
        seasonal_diff: bool = False,
        bias_adjust: bool = True,
    ) -> None:
        super().__init__(inner, transform, lmbda, seasonal_diff, bias_adjust)


class SARIMAXLog(Transformed):
    """SARIMAX (airline model by default) on the log of the series: Box and Jenkins' classic
    treatment of growing seasonal swings. Exogenous columns act on the log scale."""

    name = "sarimax_log"
    _tags = {"complexity": 4, "family": "arima"}

    def __init__(
        self,
        inner: str | BaseForecaster = "sarimax",
        transform: str | None = "log",
        lmbda: float | None = None,
        seasonal_diff: bool = False,
        bias_adjust: bool = True,
    ) -> None:
        super().__init__(inner, transform, lmbda, seasonal_diff, bias_adjust)
