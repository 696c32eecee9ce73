"""``update``: the contract's checks, and each model's update against what theory says it equals.

Filter-only updates must equal statsmodels' own filter of the extended data with the fitted
parameters fixed (the same computation, so to rounding); warm-started re-estimation must reach
the same maximum of the likelihood as a fresh fit of the same structure (to the optimizer's
tolerance) on a well-identified model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.statespace.sarimax import SARIMAX as SMSARIMAX

from features.errors import InputError
from models.base import NotFittedError
from models.ets import ETS
from models.registry import REGISTRY, get_model, model_names
from models.sarimax import SARIMAX
from tests.conftest import regressors, seasonal_series


def _ar1(n: int = 120, phi: float = 0.6, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    e = rng.normal(0, 1.0, n)
    y = np.empty(n)
    y[0] = 10.0
    for t in range(1, n):
        y[t] = 4.0 + phi * y[t - 1] + e[t]
    return pd.Series(y, index=pd.period_range("1990Q1", periods=n, freq="Q"))


def test_update_checks_state_and_input():
    y = seasonal_series(24)
    with pytest.raises(NotFittedError):
        get_model("snaive").update(y)
    m = get_model("snaive").fit(y.iloc[:20])
    with pytest.raises(InputError, match="start"):
        m.update(y.iloc[1:])
    with pytest.raises(InputError, match="extend"):
        m.update(y.iloc[:18])
    before = y.copy()
    m.update(y)
    pd.testing.assert_series_equal(y, before)  # not mutated
    assert m.cutoff_ == y.index[-1] and m.n_obs_ == 24
    assert m.predict(2).index[0] == y.index[-1] + 1


def test_default_update_is_a_fresh_fit():
    y = seasonal_series(30, seed=4)
    for name in ("snaive", "theta", "drift"):
        up = get_model(name).fit(y.iloc[:24]).update(y).predict(5)
        fresh = get_model(name).fit(y).predict(5)
        pd.testing.assert_frame_equal(up, fresh)


def test_sarimax_filter_update_equals_statsmodels_filter_with_fixed_params():
    y = _ar1()
    m = SARIMAX(order=(1, 0, 0), seasonal_order=(0, 0, 0), trend="c").fit(y.iloc[:80])
    params = np.asarray(m.result_.params).copy()
    fc = m.update(y).predict(4)
    ref = SMSARIMAX(y.to_numpy(), order=(1, 0, 0), trend="c").filter(params).get_forecast(4)
    np.testing.assert_allclose(fc["mean"], ref.predicted_mean, rtol=1e-10)
    np.testing.assert_allclose(fc["lo_95"], ref.conf_int(alpha=0.05)[:, 0], rtol=1e-10)
    np.testing.assert_array_equal(m.result_.params, params)  # parameters kept


def test_sarimax_refit_params_update_equals_fresh_fit():
    y = _ar1()
    spec = {"order": (1, 0, 0), "seasonal_order": (0, 0, 0), "trend": "c"}
    up = SARIMAX(**spec).fit(y.iloc[:80]).update(y, refit_params=True)
    fresh = SARIMAX(**spec).fit(y)
    np.testing.assert_allclose(up.result_.params, fresh.result_.params, rtol=1e-3)
    np.testing.assert_allclose(up.predict(4)["mean"], fresh.predict(4)["mean"], rtol=1e-5)


def test_ets_keeps_its_selection_and_filters_with_fixed_params():
    y = seasonal_series(40, seed=2)
    m = ETS().fit(y.iloc[:32])
    cfg = dict(m.selected_)
    params = np.asarray(m.result_.params, dtype=float).copy()
    fc = m.update(y).predict(4)
    assert m.selected_ == cfg
    mod = m.result_.model
    ref = ETSModel(
        pd.Series(y.to_numpy()),
        error=mod.error,
        trend=mod.trend,
        damped_trend=mod.damped_trend,
        seasonal=mod.seasonal,
        seasonal_periods=mod.seasonal_periods if mod.seasonal else None,
        initialization_method="estimated",
    ).smooth(params)
    np.testing.assert_allclose(fc["mean"], ref.forecast(4), rtol=1e-10)


def test_ets_refit_params_update_equals_fresh_fit_of_the_same_configuration():
    y = seasonal_series(60, seed=5)
    spec = {"error": "add", "trend": "add", "damped_trend": False, "seasonal": "add"}
    up = ETS(**spec).fit(y.iloc[:52]).update(y, refit_params=True)
    fresh = ETS(**spec).fit(y)
    np.testing.assert_allclose(up.predict(4)["mean"], fresh.predict(4)["mean"], rtol=2e-3)
    assert up.result_.llf >= fresh.result_.llf - 1e-3 * abs(fresh.result_.llf)


def test_auto_arima_update_keeps_the_orders_and_filters():
    y = seasonal_series(44, seed=6)
    m = get_model("auto_arima").fit(y.iloc[:36])
    order, sorder = m.order_, m.seasonal_order_
    params = np.asarray(m.result_.arima_res_.params).copy()
    fc = m.update(y).predict(4)
    assert (m.order_, m.seasonal_order_) == (order, sorder)
    ref = (
        SMSARIMAX(
            y.to_numpy(),
            order=order,
            seasonal_order=sorder,
            trend="c" if m.with_intercept_ else None,
        )
        .filter(params)
        .get_forecast(4)
    )
    np.testing.assert_allclose(fc["mean"], ref.predicted_mean, rtol=1e-8)
    m.update(y, refit_params=True)
    assert (m.result_.order, m.result_.seasonal_order) == (order, sorder)


@pytest.mark.parametrize("name", model_names())
def test_every_model_updates_to_the_extended_data(name):
    y = seasonal_series(40)  # the conformance suite's data
    full = regressors(pd.period_range(y.index[0], periods=44, freq=y.index.freq))
    tags = REGISTRY[name].get_tags()
    needs_x = tags["requires:exogenous"] or tags["capability:multivariate"]
    X = full.iloc[:40] if needs_x else None
    m = get_model(name).fit(y.iloc[:36], None if X is None else X.iloc[:36])
    m.update(y, X)
    fc = m.predict(4, full.iloc[40:] if m.future_exog_columns_ else None)
    assert list(fc.index) == list(full.index[40:])
    assert np.isfinite(fc.to_numpy()).all()


def test_shared_fits_fit_once_and_hand_out_independent_copies():
    from models.base import ModelRefusal, shared_fits
    from models.registry import get_model
    from tests.conftest import seasonal_series

    y = seasonal_series(n=24)
    with shared_fits():
        a = get_model("sarimax").fit(y)
        b = get_model("sarimax").fit(y)
        assert b.result_ is not a.result_  # a copy, not the same object
        pd.testing.assert_frame_equal(a.predict(4), b.predict(4))
        longer = seasonal_series(n=26)
        b.update(longer)  # updating the copy leaves the first fit alone
        assert a.n_obs_ == 24 and b.n_obs_ == 26
        c = get_model("sarimax").fit(y.iloc[:-1])  # other data: a fit of its own
        assert c.n_obs_ == 23
        with pytest.raises(ModelRefusal):
            get_model("sarimax").fit(y.iloc[:5])
        with pytest.raises(ModelRefusal):  # the refusal is kept and raised again
            get_model("sarimax").fit(y.iloc[:5])
    # outside the block nothing is kept
    d = get_model("sarimax").fit(y)
    assert d.result_ is not a.result_
