"""Log / Box-Cox / seasonal-difference wrapper: transforms, back-transforms, bias adjustment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from models.base import ModelRefusal
from models.registry import get_model
from models.snaive import SeasonalNaive
from models.transform import (
    Transformed,
    bias_adjusted_mean,
    boxcox,
    guerrero_lambda,
    inv_boxcox,
)
from tests.conftest import regressors, seasonal_series
from tests.models._data import airpassengers

Z80 = norm.ppf(0.9)


@pytest.mark.parametrize("lmbda", [-0.5, 0.0, 0.3, 1.0, 1.7])
def test_boxcox_round_trip(lmbda):
    y = np.array([0.5, 1.0, 7.3, 120.0, 4000.0])
    np.testing.assert_allclose(inv_boxcox(boxcox(y, lmbda), lmbda), y, rtol=1e-12)


def test_boxcox_special_cases():
    y = np.array([1.0, 2.0, 10.0])
    np.testing.assert_allclose(boxcox(y, 0.0), np.log(y))
    np.testing.assert_allclose(boxcox(y, 1.0), y - 1.0)
    assert inv_boxcox(np.array([-3.0]), 0.5)[0] == 0.0  # below the range: 0, not NaN


def test_guerrero_matches_r_forecast():
    # R forecast::BoxCox.lambda(AirPassengers) (method "guerrero", bounds -1..2) = -0.2947
    assert guerrero_lambda(airpassengers().to_numpy(), 12) == pytest.approx(-0.2947, abs=1e-3)


def test_log_bias_adjustment_matches_the_formula():
    y = seasonal_series(24)
    m = Transformed(SeasonalNaive(), "log").fit(y)
    fc = m.predict(6)
    # the inner model is the seasonal naive on log(y): mean = last season of log(y) and
    # sd = sigma * sqrt(floor((h - 1) / 4) + 1) (FPP3 5.5) with sigma from the log residuals
    logy = np.log(y.to_numpy())
    sigma = np.sqrt(np.mean((logy[4:] - logy[:-4]) ** 2))
    steps = np.arange(6)
    mu = logy[-4:][steps % 4]
    sd = sigma * np.sqrt(steps // 4 + 1)
    np.testing.assert_allclose(fc["mean"].to_numpy(), np.exp(mu + sd**2 / 2), rtol=1e-10)
    # quantiles back-transform directly
    np.testing.assert_allclose(fc["hi_80"].to_numpy(), np.exp(mu + Z80 * sd), rtol=1e-10)
    np.testing.assert_allclose(fc["lo_95"].to_numpy(), np.exp(mu - norm.ppf(0.975) * sd))
    # without the adjustment: the back-transformed median
    med = Transformed(SeasonalNaive(), "log", bias_adjust=False).fit(y).predict(6)
    np.testing.assert_allclose(med["mean"].to_numpy(), np.exp(mu), rtol=1e-10)


def test_boxcox_bias_adjustment_is_fpp3_formula():
    mu, sigma, lam = np.array([10.0]), np.array([0.8]), 0.5
    base = lam * mu + 1
    expected = base ** (1 / lam) * (1 + sigma**2 * (1 - lam) / (2 * base**2))
    np.testing.assert_allclose(bias_adjusted_mean(mu, sigma, lam, log=False), expected)
    np.testing.assert_allclose(
        bias_adjusted_mean(mu, sigma, 0.0, log=True), np.exp(mu + sigma**2 / 2)
    )


def test_boxcox_fixed_lambda_forecasts_on_the_transformed_scale():
    y = seasonal_series(24)
    m = Transformed(SeasonalNaive(), "boxcox", lmbda=0.5).fit(y)
    assert m.lambda_ == 0.5
    inner = m.inner_.predict(3)
    fc = m.predict(3)
    np.testing.assert_allclose(fc["lo_80"], inv_boxcox(inner["lo_80"].to_numpy(), 0.5))
    sd = (inner["hi_80"] - inner["lo_80"]).to_numpy() / (2 * Z80)
    np.testing.assert_allclose(
        fc["mean"], bias_adjusted_mean(inner["mean"].to_numpy(), sd, 0.5, log=False)
    )
    assert Transformed(SeasonalNaive(), "boxcox").fit(y).lambda_ != 0.5  # Guerrero estimate


def test_seasonal_difference_is_undone():
    # z = y exactly seasonal plus a step: the seasonal naive on w = y[t] - y[t-4] repeats the last
    # year's changes, so the forecast is last year's level plus last year's change
    y = seasonal_series(20)
    m = Transformed(SeasonalNaive(), None, seasonal_diff=True).fit(y)
    yv = y.to_numpy()
    w_last = yv[-4:] - yv[-8:-4]
    fc = m.predict(8)
    expected = np.concatenate([yv[-4:] + w_last, yv[-4:] + 2 * w_last])
    np.testing.assert_allclose(fc["mean"].to_numpy(), expected)
    # bounds: distances from the mean add up over the seasons (comonotone errors)
    inner = m.inner_.predict(8)
    d = (inner["hi_95"] - inner["mean"]).to_numpy()
    np.testing.assert_allclose((fc["hi_95"] - fc["mean"]).to_numpy()[4:], d[4:] + d[:4])
    assert m.min_obs(4) == SeasonalNaive().min_obs(4) + 4


def test_log_refuses_non_positive_data():
    y = seasonal_series(24) - 150.0
    with pytest.raises(ModelRefusal, match="needs positive data"):
        Transformed("snaive", "log").fit(y)


def test_params_rebuild_and_registered_shortcuts():
    m = Transformed("ets", "boxcox", lmbda=0.2, seasonal_diff=True)
    assert type(m)(**m.get_params()).get_params() == m.get_params()
    assert get_model("ets_log").get_params()["inner"] == "ets"
    assert get_model("sarimax_log").get_params()["transform"] == "log"


def test_exogenous_is_required_only_when_the_inner_model_uses_it():
    y = seasonal_series(36)
    X = regressors(y.index)
    assert Transformed("snaive", "log").fit(y, X).exog_columns_ == []
    m = Transformed("sarimax", "log").fit(y.iloc[:32], X.iloc[:32])
    assert m.exog_columns_ == ["x1", "x2"]
    with pytest.raises(ValueError, match="future values"):
        m.predict(4)
    assert len(m.predict(4, X.iloc[32:])) == 4


def test_inputs_not_mutated():
    y = seasonal_series(24)
    y0 = y.copy()
    Transformed("snaive", "boxcox", seasonal_diff=True).fit(y).predict(5)
    pd.testing.assert_series_equal(y, y0)


def test_update_keeps_lambda_and_forecasts_like_a_fit_with_it():
    y = seasonal_series(28)
    m = Transformed(SeasonalNaive(), "boxcox", seasonal_diff=True).fit(y.iloc[:20])
    lam = m.lambda_
    m.update(y)
    assert m.lambda_ == lam and m.cutoff_ == y.index[-1]
    fresh = Transformed(SeasonalNaive(), "boxcox", lmbda=lam, seasonal_diff=True).fit(y)
    pd.testing.assert_frame_equal(m.predict(6), fresh.predict(6))
