"""UCM: step interventions at break dates, forecasts with X, accuracy bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.errors import InputError
from models.ucm import UCM
from tests.models._data import ausbeer, holdout, macro, mase


def _broken_series() -> pd.Series:
    """40 quarters: trend + seasonal + noise, and a level drop of 15 from 2022Q1 on."""
    idx = pd.period_range("2014Q1", periods=40, freq="Q")
    t = np.arange(40)
    season = np.tile([-6.0, 2.0, 1.0, 3.0], 10)
    step = np.where(idx >= pd.Period("2022Q1", freq="Q"), -15.0, 0.0)
    noise = np.random.default_rng(42).normal(0, 1.0, 40)
    return pd.Series(100 + 0.5 * t + season + step + noise, index=idx)


def test_step_intervention_estimates_the_break_and_persists():
    y = _broken_series()
    m = UCM(breaks=("2022Q1",)).fit(y)
    assert m.breaks_used_ == [pd.Period("2022Q1", freq="Q")]
    params = dict(zip(m.result_.param_names, m.result_.params, strict=True))
    assert params["beta.step_2022Q1"] == pytest.approx(-15.0, abs=1.5)
    fc = m.predict(4)
    # truth for 2024Q1 (t = 40): 100 + 20 - 6 - 15 = 99; the step dummy stays at 1
    assert fc["mean"].iloc[0] == pytest.approx(99.0, abs=1.5)
    assert (fc["lo_95"] < 99.0).iloc[0] and (fc["hi_95"] > 99.0).iloc[0]


def test_breaks_outside_the_data_are_left_out_and_bad_ones_rejected():
    y = _broken_series()
    assert UCM(breaks=("2014Q1", "2030Q1")).fit(y).breaks_used_ == []
    with pytest.raises(InputError, match="'spring 2022'"):
        UCM(breaks=("spring 2022",)).fit(y)


def test_ucm_with_x_needs_future_x_and_accuracy_bound():
    # log real GDP on log consumption and investment (seasonally adjusted: no seasonal),
    # realised future X; MASE scaled by the in-sample naive MAE, measured 0.325 (drift: 0.639)
    d = macro()
    train, test = d.iloc[:184], d.iloc[184:192]
    m = UCM(seasonal=False).fit(train.gdp, train[["cons", "inv"]])
    fc = m.predict(8, test[["cons", "inv"]])
    assert mase(train.gdp, test.gdp, fc["mean"], 1) < 0.36
    with pytest.raises(InputError, match=r"future values for 2005Q1\.\.2006Q4"):
        m.predict(8)
    with pytest.raises(InputError, match="no row for 2006Q4"):
        m.predict(8, test[["cons", "inv"]].iloc[:7])


def test_ucm_accuracy_bound():
    # ausbeer, 24 quarters to train, 8 to test (see test_baselines); measured MASE 0.398
    train, test = holdout(ausbeer(), 8)
    fc = UCM().fit(train).predict(8)
    assert mase(train, test, fc["mean"], 4) < 0.44
