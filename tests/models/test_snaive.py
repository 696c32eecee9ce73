"""Seasonal naive: point forecasts and interval widths against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from models.snaive import SeasonalNaive


def test_snaive_by_hand():
    # two years of quarterly data; residuals y_t - y_{t-4} = 1, 1, 3, -1 -> sigma = sqrt(12/4)
    y = pd.Series(
        [10.0, 20, 30, 40, 11, 21, 33, 39], index=pd.period_range("2020Q1", periods=8, freq="Q")
    )
    fc = SeasonalNaive().fit(y).predict(6)
    np.testing.assert_allclose(fc["mean"], [11, 21, 33, 39, 11, 21])
    sigma = np.sqrt(3.0)
    z80 = norm.ppf(0.9)
    # FPP3 5.5: k = floor((h-1)/m); sd = sigma * sqrt(k+1)
    np.testing.assert_allclose(fc["hi_80"] - fc["mean"], z80 * sigma * np.sqrt([1, 1, 1, 1, 2, 2]))
    assert str(fc.index[0]) == "2022Q1"


def test_snaive_annual_is_naive():
    y = pd.Series([1.0, 2, 4], index=pd.period_range("2020", periods=3, freq="Y"))
    fc = SeasonalNaive().fit(y).predict(2)
    np.testing.assert_allclose(fc["mean"], [4, 4])
    sigma = np.sqrt((1 + 4) / 2)
    np.testing.assert_allclose(fc["hi_95"] - fc["mean"], norm.ppf(0.975) * sigma * np.sqrt([1, 2]))
