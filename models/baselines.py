"""Benchmark forecasters: naive, random walk with drift, and the mean.

Every forecast that matters must beat these. Point forecasts and Gaussian prediction intervals
follow Hyndman & Athanasopoulos, *Forecasting: Principles and Practice* (3rd ed., section 5.5,
Table 5.2, "multi-step forecast standard deviation for the four benchmark methods"), with
``sigma`` the residual standard deviation and ``T`` the number of observations:

* mean: forecast ``mean(y)``, standard deviation ``sigma * sqrt(1 + 1/T)``;
* naive: forecast ``y_T``, standard deviation ``sigma * sqrt(h)``;
* drift: forecast ``y_T + h * (y_T - y_1) / (T - 1)``, standard deviation
  ``sigma * sqrt(h * (1 + h / (T - 1)))``.

The residual scales are those of R's ``forecast`` package (``meanf``, ``rwf``), the reference
implementation of the book: the mean method uses the sample standard deviation (one parameter);
naive the root mean square of the ``T-1`` one-step differences; drift the standard deviation of
the differences around their mean (one parameter, ``T-2`` degrees of freedom). The drift
interval adds the variance of the estimated drift, ``sigma^2 / (T-1)``, scaled by ``h^2``, which
is where ``h/(T-1)`` comes from. Seasonal naive lives in :mod:`models.snaive`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.base import BaseForecaster, normal_intervals


class Naive(BaseForecaster):
    """Naive (random walk) forecast: every future period repeats the last observation.

    Intervals: ``sigma * sqrt(h)`` (FPP3 Table 5.2), ``sigma`` the root mean square of the
    one-step changes.
    """

    name = "naive"
    _tags = {
        "seasonal": False,
        "requires:min_obs": 4,  # three changes: >= 3 degrees of freedom for the error scale
        "complexity": 1,
        "family": "baseline",
    }

    def __init__(self) -> None:
        pass

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        arr = y.to_numpy()
        self.last_ = float(arr[-1])
        self.sigma_ = float(np.sqrt(np.mean(np.diff(arr) ** 2)))

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        steps = np.arange(1, h + 1)
        return normal_intervals(np.full(h, self.last_), self.sigma_ * np.sqrt(steps), levels)


class Drift(BaseForecaster):
    """Random walk with drift: the line through the first and last observations, extended.

    Intervals: ``sigma * sqrt(h * (1 + h / (T - 1)))`` (FPP3 Table 5.2), which includes the
    uncertainty of the estimated drift.
    """

    name = "drift"
    _tags = {
        "seasonal": False,
        "requires:min_obs": 5,  # four changes: the drift, and 3 degrees of freedom around it
        "complexity": 1,
        "family": "baseline",
    }

    def __init__(self) -> None:
        pass

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        arr = y.to_numpy()
        diffs = np.diff(arr)
        self.last_ = float(arr[-1])
        self.drift_ = float(diffs.mean())
        self.sigma_ = float(diffs.std(ddof=1))

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        steps = np.arange(1, h + 1)
        n_diffs = self.n_obs_ - 1
        sd = self.sigma_ * np.sqrt(steps * (1.0 + steps / n_diffs))
        return normal_intervals(self.last_ + self.drift_ * steps, sd, levels)


class Mean(BaseForecaster):
    """Mean forecast: every future period equals the average of the training data.

    Intervals: ``sigma * sqrt(1 + 1/T)`` (FPP3 Table 5.2), ``sigma`` the sample standard
    deviation. R's ``meanf`` uses Student-t quantiles; the book, and this model, the normal ones.
    """

    name = "mean"
    _tags = {
        "seasonal": False,
        "requires:min_obs": 4,  # >= 3 degrees of freedom for the standard deviation
        "complexity": 1,
        "family": "baseline",
    }

    def __init__(self) -> None:
        pass

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        arr = y.to_numpy()
        self.mean_ = float(arr.mean())
        self.sigma_ = float(arr.std(ddof=1))

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        sd = np.full(h, self.sigma_ * np.sqrt(1.0 + 1.0 / self.n_obs_))
        return normal_intervals(np.full(h, self.mean_), sd, levels)
