"""ARDL: distributed-lag forecasts driven by future X, missing-X errors, accuracy bound."""

from __future__ import annotations

import numpy as np
import pytest

from features.errors import InputError
from models.ardl import ARDL
from tests.models._data import macro, mase

N_TRAIN, H = 184, 8  # US macrodata: train 1959Q1..2004Q4, test 2005Q1..2006Q4


def _fit() -> ARDL:
    d = macro()
    # macrodata is seasonally adjusted: no seasonal dummies
    return ARDL(seasonal=False).fit(d.gdp.iloc[:N_TRAIN], d[["cons", "inv"]].iloc[:N_TRAIN])


def test_ardl_accuracy_bound_with_known_drivers():
    # log real GDP given the realised paths of log consumption and investment ("perfect
    # foresight" scenario); MASE scaled by the in-sample naive MAE. Measured: ARDL(1, 2, 1) by
    # AIC, MASE 0.133 (drift: 0.639).
    d = macro()
    m = _fit()
    assert m.ardl_order_ == (1, 2, 1)
    test = d.iloc[N_TRAIN : N_TRAIN + H]
    fc = m.predict(H, test[["cons", "inv"]])
    assert mase(d.gdp.iloc[:N_TRAIN], test.gdp, fc["mean"], 1) < 0.15


def test_forecast_responds_to_the_driver_path():
    d = macro()
    m = _fit()
    future = d[["cons", "inv"]].iloc[N_TRAIN : N_TRAIN + H]
    base = m.predict(H, future)
    shocked = m.predict(H, future.assign(cons=future["cons"] + 0.01))  # consumption +1%
    impact = m.result_.params["cons.L0"] * 0.01
    assert shocked["mean"].iloc[0] - base["mean"].iloc[0] == pytest.approx(impact, rel=1e-8)
    # intervals are conditional on X: same widths whatever the path
    np.testing.assert_allclose(shocked["hi_95"] - shocked["lo_95"], base["hi_95"] - base["lo_95"])


def test_missing_future_x_is_an_input_error_naming_what_is_missing():
    d = macro()
    m = _fit()
    future = d[["cons", "inv"]].iloc[N_TRAIN : N_TRAIN + H]
    with pytest.raises(InputError, match=r"future values for 2005Q1\.\.2006Q4"):
        m.predict(H)
    with pytest.raises(InputError, match="no column 'inv'"):
        m.predict(H, future[["cons"]])
    with pytest.raises(InputError, match="no row for 2006Q4"):
        m.predict(H, future.iloc[:-1])
    with pytest.raises(InputError, match=r"'cons' is missing at 2005Q3"):
        m.predict(H, future.assign(cons=future["cons"].where(future.index != future.index[2])))


def test_short_sample_lowers_the_orders():
    d = macro().iloc[160:184]  # 24 quarters, as in the Rosstat data
    m = ARDL(lags=2, order=2).fit(d.gdp, d[["cons", "inv"]])
    n_params = len(m.result_.params)
    assert 2 * n_params <= 24 - max(m.ardl_order_)
