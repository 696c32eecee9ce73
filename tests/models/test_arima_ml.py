"""The compiled ARIMA likelihood (models._arima_ml) against statsmodels, and the search it drives
against pmdarima's own ``auto_arima``."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pmdarima as pm
import pytest
from statsmodels.tsa.statespace.sarimax import SARIMAX

from features.catalog import load
from features.errors import InputError
from models._arima_ml import _loglike, _objective, fit_candidate, layout, root_test
from models.auto_arima import AutoARIMA
from tests.models._data import ausbeer

#: (order, seasonal order, constant): differencing of each kind, both constants, AR and MA
#: parts of each kind, and a monthly period
MODELS = [
    ((0, 0, 0), (0, 0, 0, 0), True),
    ((1, 0, 0), (0, 0, 0, 0), True),
    ((2, 1, 1), (1, 1, 1, 4), True),
    ((0, 1, 1), (0, 1, 1, 4), False),
    ((1, 0, 2), (2, 0, 0, 4), True),
    ((3, 1, 0), (0, 1, 2, 4), False),
    ((1, 2, 1), (0, 0, 0, 0), False),
    ((0, 1, 0), (1, 1, 0, 4), True),
    ((2, 0, 2), (1, 0, 1, 12), True),
]


def _series(n: int = 48, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=n)) + 0.3 * np.tile([1.0, -2.0, 0.5, 0.5], n // 4) + 50.0


@pytest.mark.parametrize(("order", "sorder", "const"), MODELS)
def test_loglike_equals_statsmodels_sarimax(order, sorder, const):
    # the reference: statsmodels' SARIMAX.loglike at unconstrained parameters (what the
    # optimizer sees), at random points of the parameter space
    y = _series()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod = SARIMAX(y, order=order, seasonal_order=sorder, trend="c" if const else None)
        design, T0, R0, kd = layout(mod, mod.start_params)
    rng = np.random.default_rng(7)
    for _ in range(4):
        x = rng.normal(size=len(mod.param_names)) * 0.7
        ref = mod.loglike(x, transformed=False)
        got = _loglike(
            x,
            y,
            design,
            T0,
            R0,
            kd,
            order[0],
            order[2],
            sorder[0],
            sorder[2],
            max(sorder[3], 1),
            const,
            int(mod.loglikelihood_burn),
            float(mod.ssm.initial_variance),
        )
        assert got == pytest.approx(ref, rel=1e-7)


def test_objective_gradient_is_scipys_forward_difference():
    # L-BFGS-B with approx_grad=True, epsilon=1e-5 differences f at x + 1e-5 e_i
    y = _series()
    order, sorder = (1, 1, 1), (0, 1, 1, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod = SARIMAX(y, order=order, seasonal_order=sorder)
        design, T0, R0, kd = layout(mod, mod.start_params)
    args = (y, design, T0, R0, kd, 1, 1, 0, 1, 4, False, int(mod.loglikelihood_burn), 1e6)
    x = np.array([0.3, -0.2, 0.1, 1.1])
    f0, g = _objective(x, 1e-5, *args)
    assert f0 == pytest.approx(-mod.loglike(x, transformed=False) / len(y), rel=1e-9)
    for i in range(len(x)):
        xh = x.copy()
        xh[i] += 1e-5
        step = xh[i] - x[i]
        expected = (-_loglike(xh, *args) / len(y) - f0) / step
        assert g[i] == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("order", "sorder", "const", "flat"),
    [
        ((1, 1, 0), (0, 1, 1, 4), False, False),
        ((2, 0, 0), (1, 0, 0, 4), True, True),
        ((0, 1, 1), (0, 0, 0, 0), True, False),
    ],
)
def test_candidate_fit_matches_pmdarima(order, sorder, const, flat):
    # the same model, start values and optimizer settings as pmdarima's statsmodels fit: the
    # same maximum, estimates and criterion to the optimizer's tolerance (likelihoods within
    # 2e-9). Where the likelihood is flat (the AR(2)(1) model with a constant) L-BFGS-B's path
    # turns on the last bits of each evaluation, which differ between CPUs (vectorized and fused
    # arithmetic, in our compiled code and in the BLAS under statsmodels): the fits then stop,
    # converged or at pmdarima's 50 iterations, at different points of the same flat top
    # (likelihoods 4e-4 apart on one machine, 0.06 on another, the estimates up to 6% apart).
    y = ausbeer().to_numpy(dtype=float)
    ours = fit_candidate(y, order, sorder, const, "aicc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pm.ARIMA(order, sorder, with_intercept=const, suppress_warnings=True).fit(y)
    # tolerances: likelihood and criterion, estimates, largest inverse AR root
    rel, rtol, root = (1e-3, 0.1, 1e-2) if flat else (1e-5, 2e-3, 1e-3)
    assert ours.llf == pytest.approx(ref.arima_res_.llf, rel=rel)
    assert ours.ic == pytest.approx(ref.aicc(), rel=rel)
    np.testing.assert_allclose(ours.params, ref.params(), rtol=rtol, atol=2e-3)
    if not flat:
        assert ours.converged and ref.arima_res_.mle_retvals["converged"]
    if order[0] + sorder[0]:
        ar = max(abs(1.0 / ref.arroots()))
        assert ours.max_inv_ar_root == pytest.approx(ar, rel=root)


def test_root_test_is_pmdarimas():
    # pmdarima's _root_test: inverse roots above 0.99 disqualify; with an MA part only the MA
    # roots are looked at (as pmdarima does)
    y = ausbeer().to_numpy(dtype=float)
    fit = fit_candidate(y, (1, 1, 1), (0, 0, 0, 0), False, "aicc")
    near = type(fit)(fit.params, fit.llf, fit.ic, 0.995, 0.5, True)
    assert root_test(near, (1, 1, 1), (0, 0, 0, 0)) == fit.ic  # AR judged by MA
    assert math.isinf(root_test(near, (1, 1, 0), (0, 0, 0, 0)))
    ma_near = type(fit)(fit.params, fit.llf, fit.ic, 0.5, 0.995, True)
    assert math.isinf(root_test(ma_near, (0, 1, 1), (0, 0, 0, 0)))


def _choice(model: AutoARIMA) -> tuple[object, ...]:
    return model.order_, model.seasonal_order_, model.with_intercept_


@pytest.mark.parametrize("sid", ["c26_output", "industry_output"])
def test_search_chooses_what_pmdarima_chooses_on_the_run_series(sid):
    # the quarterly run's series, whole and at a backtest origin: same order, same constant,
    # and the same forecasts (the chosen order is fitted by pmdarima in both)
    y = load(sid).values
    for cut in (y, y.iloc[:-4]):
        fast = AutoARIMA().fit(cut)
        ref = AutoARIMA(engine="pmdarima").fit(cut)
        assert (fast.search_engine_, ref.search_engine_) == ("numba", "pmdarima")
        assert _choice(fast) == _choice(ref)
        pd.testing.assert_frame_equal(fast.predict(4), ref.predict(4))


def test_search_on_ausbeer_and_a_nonseasonal_series():
    # seasonal (ausbeer) and non-seasonal data, where pmdarima's constant rule counts D as -1
    beer = ausbeer().iloc[:60]
    rng = np.random.default_rng(3)
    for d in (0, 1):
        v = rng.normal(0.5, 1.0, 40)
        annual = pd.Series(
            np.cumsum(v) if d else 10.0 + v, index=pd.period_range("1980", periods=40, freq="Y")
        )
        fast = AutoARIMA().fit(annual)
        assert fast.search_engine_ == "numba"
        assert _choice(fast) == _choice(AutoARIMA(engine="pmdarima").fit(annual))
    fast = AutoARIMA().fit(beer)
    assert fast.search_engine_ == "numba"
    assert _choice(fast) == _choice(AutoARIMA(engine="pmdarima").fit(beer))


def test_unknown_engine_or_criterion_is_refused():
    with pytest.raises(InputError, match="engine must be one of numba, pmdarima, got 'R'"):
        AutoARIMA(engine="R").fit(ausbeer())
    with pytest.raises(InputError, match="information_criterion must be one of aicc, aic, bic"):
        AutoARIMA(information_criterion="oob").fit(ausbeer())
