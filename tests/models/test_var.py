"""VAR: companions forecast jointly (no future X), truly exogenous columns need future X."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.api import VAR as SMVAR

from features.errors import InputError
from models.var import VAR
from tests.models._data import macro, mase

N_TRAIN, H = 184, 8  # US macrodata: train 1959Q1..2004Q4, test 2005Q1..2006Q4


def test_var_forecasts_companions_jointly_without_future_x():
    assert VAR.get_tag("exogenous:future_required") is False
    assert VAR.get_tag("capability:multivariate") is True
    d = macro()
    train = d.iloc[:N_TRAIN]
    m = VAR(seasonal=False).fit(train.gdp, train[["cons", "inv"]])
    assert m.endog_columns_ == ["cons", "inv"]
    assert m.exog_columns_ == ["cons", "inv"]  # used in fit ...
    assert m.future_exog_columns_ == []  # ... but not needed to forecast
    fc = m.predict(H)
    # the adapter is thin: the same numbers as statsmodels' VAR with the chosen lag order
    res = SMVAR(train.to_numpy()).fit(m.lag_order_, trend="c")
    mean, lo, _ = res.forecast_interval(train.to_numpy()[-m.lag_order_ :], H, alpha=0.05)
    np.testing.assert_allclose(fc["mean"], mean[:, 0])
    np.testing.assert_allclose(fc["lo_95"], lo[:, 0])


def test_var_accuracy_bound():
    # log real GDP with log consumption and investment, lag order by AIC (2); MASE scaled by
    # the in-sample naive MAE. Measured 0.621 (drift: 0.639).
    d = macro()
    train, test = d.iloc[:N_TRAIN], d.iloc[N_TRAIN : N_TRAIN + H]
    m = VAR(seasonal=False).fit(train.gdp, train[["cons", "inv"]])
    assert m.lag_order_ == 2
    assert mase(train.gdp, test.gdp, m.predict(H)["mean"], 1) < 0.69


def test_truly_exogenous_columns_need_future_values():
    d = macro()
    train, future = d.iloc[:N_TRAIN], d.iloc[N_TRAIN : N_TRAIN + H]
    m = VAR(endog_columns=("cons",), seasonal=False).fit(train.gdp, train[["cons", "inv"]])
    assert m.future_exog_columns_ == ["inv"]
    fc = m.predict(H, future[["inv"]])
    assert np.isfinite(fc.to_numpy()).all()
    # future companions may be absent or unknown: only 'inv' is read
    fc2 = m.predict(H, future[["cons", "inv"]].assign(cons=np.nan))
    np.testing.assert_allclose(fc2.to_numpy(), fc.to_numpy())
    with pytest.raises(InputError, match=r"exogenous \['inv'\]; future values for 2005Q1"):
        m.predict(H)
    with pytest.raises(InputError, match="no column 'inv'"):
        m.predict(H, future[["cons"]])
    with pytest.raises(InputError, match="no row for 2006Q3"):
        m.predict(H, future[["inv"]].iloc[:6])


def test_unknown_endog_column_is_an_input_error():
    d = macro().iloc[:40]
    with pytest.raises(InputError, match="'gdp_deflator'"):
        VAR(endog_columns=("gdp_deflator",)).fit(d.gdp, d[["cons", "inv"]])


def test_lag_order_capped_by_short_data():
    # 24 quarters, 3 variables, constant + 3 seasonal dummies: 2 (3p + 4) <= 24 - p -> p <= 2
    d = macro().iloc[160:184]
    m = VAR(maxlags=8).fit(d.gdp, d[["cons", "inv"]])
    assert 1 <= m.lag_order_ <= 2
    assert np.isfinite(m.predict(4).to_numpy()).all()
