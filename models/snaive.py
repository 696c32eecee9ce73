"""Seasonal naive: each future period repeats the value one season earlier.

Intervals follow Hyndman & Athanasopoulos, *Forecasting: Principles and Practice* (3rd ed.,
section 5.5): with residual standard deviation ``sigma`` from the in-sample seasonal-naive errors,
the ``h``-step standard deviation is ``sigma * sqrt(k + 1)``, ``k = floor((h - 1) / m)``.
With ``m = 1`` (annual data) this is the plain naive forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.base import BaseForecaster, normal_intervals


class SeasonalNaive(BaseForecaster):
    """Seasonal naive forecaster.

    Parameters
    ----------
    sp : seasonal period; ``None`` takes it from the data's frequency (12, 4 or 1).
    """

    name = "snaive"
    _tags = {
        "seasonal": True,
        "requires:min_obs": 2,
        "complexity": 1,
        "family": "baseline",
    }

    def __init__(self, sp: int | None = None) -> None:
        self.sp = sp

    def min_obs(self, sp: int) -> int:
        return sp + 1  # one full season plus one period to estimate the error scale

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        arr = y.to_numpy()
        m = self.sp_
        resid = arr[m:] - arr[:-m]
        self.last_season_ = arr[-m:].copy()
        self.sigma_ = float(np.sqrt(np.mean(resid**2)))

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        m = self.sp_
        steps = np.arange(h)
        mean = self.last_season_[steps % m]
        sd = self.sigma_ * np.sqrt(steps // m + 1)
        return normal_intervals(mean, sd, levels)
