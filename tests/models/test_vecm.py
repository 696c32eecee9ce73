"""VECM: Johansen rank, joint forecasts without future X, exogenous columns, accuracy bound."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.vector_ar.vecm import VECM as SMVECM

from features.errors import InputError
from models.vecm import VECM
from tests.models._data import macro, mase

N_TRAIN, H = 184, 8  # US macrodata: train 1959Q1..2004Q4, test 2005Q1..2006Q4


def test_vecm_rank_lags_and_accuracy_bound():
    # log real GDP, consumption, investment: one cointegrating relation by Johansen's trace test
    # at 5% (det_order 0), one lagged difference by AIC. MASE scaled by the in-sample naive
    # MAE; measured 0.712 (drift: 0.639).
    d = macro()
    train, test = d.iloc[:N_TRAIN], d.iloc[N_TRAIN : N_TRAIN + H]
    m = VECM(seasonal=False).fit(train.gdp, train[["cons", "inv"]])
    assert (m.coint_rank_, m.k_ar_diff_) == (1, 1)
    assert m.future_exog_columns_ == []
    fc = m.predict(H)
    assert mase(train.gdp, test.gdp, fc["mean"], 1) < 0.79
    # the adapter is thin: statsmodels' numbers for the chosen rank and lags
    res = SMVECM(train.to_numpy(), k_ar_diff=1, coint_rank=1, deterministic="ci").fit()
    mean, _, hi = res.predict(steps=H, alpha=0.2)
    np.testing.assert_allclose(fc["mean"], mean[:, 0])
    np.testing.assert_allclose(fc["hi_80"], hi[:, 0])


def test_vecm_exogenous_column_needs_future_values():
    d = macro()
    train, future = d.iloc[:N_TRAIN], d.iloc[N_TRAIN : N_TRAIN + H]
    m = VECM(endog_columns=("cons",), seasonal=False).fit(train.gdp, train[["cons", "inv"]])
    assert m.future_exog_columns_ == ["inv"]
    assert np.isfinite(m.predict(H, future[["inv"]]).to_numpy()).all()
    with pytest.raises(InputError, match=r"exogenous \['inv'\]; future values"):
        m.predict(H)
    gap = future[["inv"]].copy()
    gap.iloc[1, 0] = np.nan
    with pytest.raises(InputError, match=r"'inv' is missing at 2005Q2"):
        m.predict(H, gap)


def test_vecm_on_short_seasonal_data():
    d = macro().iloc[160:184]
    m = VECM(coint_rank=1).fit(d.gdp, d[["cons", "inv"]])
    assert m.coint_rank_ == 1
    assert np.isfinite(m.predict(4).to_numpy()).all()
