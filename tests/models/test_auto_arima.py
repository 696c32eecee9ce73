"""auto_arima: the order R's auto.arima picks, exposed state, exogenous use, accuracy bound."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.catalog import load
from features.errors import InputError
from models.auto_arima import AutoARIMA
from tests.conftest import regressors, seasonal_series
from tests.models._data import airpassengers, ausbeer, holdout, mase


def test_order_matches_r_auto_arima_on_airpassengers():
    # R: forecast::auto.arima(AirPassengers) -> ARIMA(2,1,1)(0,1,0)[12] (default ic = "aicc",
    # stepwise). Pinned as R-equivalence by pmdarima itself:
    # pmdarima/arima/tests/test_auto.py::test_r_equivalency ("model <- auto.arima(AirPassengers,
    # trace=TRUE)"). The slowest model test (~5 s on an idle core).
    m = AutoARIMA().fit(airpassengers())
    assert m.order_ == (2, 1, 1)
    assert m.seasonal_order_ == (0, 1, 0, 12)
    assert not m.with_intercept_


def test_nonseasonal_data_search_no_seasonal_terms():
    y = pd.Series(
        np.cumsum(np.random.default_rng(3).normal(1.0, 1.0, 30)),
        index=pd.period_range("1990", periods=30, freq="Y"),
    )
    m = AutoARIMA().fit(y)
    assert m.seasonal_order_ == (0, 0, 0, 0)
    assert len(m.order_) == 3


def test_exogenous_forecasts_need_future_x():
    y = seasonal_series(40)
    X = regressors(pd.period_range(y.index[0], periods=44, freq=y.index.freq))
    m = AutoARIMA(max_p=1, max_q=1, max_P=1, max_Q=1).fit(y, X.iloc[:40])  # plumbing, not search
    fc = m.predict(4, X.iloc[40:])
    assert len(fc) == 4 and np.isfinite(fc.to_numpy()).all()
    with pytest.raises(InputError, match="future values"):
        m.predict(4)
    with pytest.raises(InputError, match="no row for 2020Q4"):
        m.predict(4, X.iloc[40:43])


def test_auto_arima_accuracy_bound():
    # ausbeer, 24 quarters to train, 8 to test (see test_baselines); measured MASE 0.480
    train, test = holdout(ausbeer(), 8)
    fc = AutoARIMA().fit(train).predict(8)
    assert mase(train, test, fc["mean"], 4) < 0.53


def test_seasonal_test_falls_back_to_ch_when_ocsb_fails():
    # pmdarima's OCSB regression raises a shape error on 13 quarters of C26 (a real case: the
    # first backtest origin); the Canova-Hansen test still decides the seasonal differencing
    y = load("c26_output").values.iloc[:13].to_numpy()
    m = AutoARIMA()
    m.sp_ = 4
    assert m._seasonal_d(y) in (0, 1)
    assert m.seasonal_test_ == "ch"
    m16 = AutoARIMA()
    m16.sp_ = 4
    assert m16._seasonal_d(np.asarray(load("c26_output").values.iloc[:20])) == 1
    assert m16.seasonal_test_ == "ocsb"
    given = AutoARIMA(D=0)
    given.sp_ = 4
    assert given._seasonal_d(y) == 0 and given.seasonal_test_ == "given"
