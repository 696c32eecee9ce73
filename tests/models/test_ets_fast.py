"""The compiled ETS objective against statsmodels: sums, objective, gradient, estimates."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize._numdiff import approx_derivative
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from models._ets_fast import (
    _objective,
    _objective_and_gradient,
    _pairwise_sum,
    fit_params,
    sum_plan,
)
from tests.models._data import airpassengers, austourists

# (error, trend, damped, seasonal): every smoothing recursion statsmodels has (additive or
# multiplicative trend x additive or multiplicative season) under both error types
CONFIGS = [
    ("add", None, False, None),
    ("add", "add", True, "add"),
    ("mul", "add", False, "mul"),
    ("mul", None, False, "add"),
    ("add", "mul", False, "add"),
    ("mul", "mul", True, "mul"),
]


@pytest.mark.parametrize("n", [1, 7, 8, 9, 100, 128, 129, 255, 256, 300, 1000, 4099])
def test_pairwise_sum_is_numpys_bit_for_bit(n):
    a = np.random.default_rng(n).normal(size=n) * 10.0 ** np.random.default_rng(0).uniform(-6, 6, n)
    assert _pairwise_sum(a, *sum_plan(n)) == np.add.reduce(a)


def _setup(model: ETSModel) -> tuple[np.ndarray, tuple, object]:
    """Free internal start values, the compiled functions' arguments, statsmodels' objective."""
    start = model._convert_and_bound_start_params(model.start_params)
    bounds = model._setup_bounds()
    start[1] /= start[0]  # starred parameters, as fit() uses them without user bounds
    start[2] /= 1 - start[0]
    k = model._k_params_internal
    is_fixed = np.array([b[0] == b[1] for b in bounds], dtype=np.int64)
    fixed = np.array([b[0] if f else 0.0 for b, f in zip(bounds, is_fixed, strict=True)])
    free = [i for i in range(k) if not is_fixed[i]]
    x0 = start[free]
    lb = np.array([bounds[i][0] for i in free], dtype=float)
    ub = np.array([bounds[i][1] for i in free], dtype=float)
    y = np.asarray(model.endog, dtype=float)
    n = len(y)
    args = (y, is_fixed, fixed, True, True, model.error == "mul", model.trend == "mul")
    args += (model.seasonal == "mul", np.zeros(n), np.zeros((n, model._k_states_internal)))
    args += (np.empty(n), *sum_plan(n))

    def statsmodels_f(x: np.ndarray) -> float:  # what LikelihoodModel.fit minimizes
        yhat = np.zeros(n)
        xhat = np.zeros((n, model._k_states_internal))
        return -model._loglike_internal(x, yhat, xhat, is_fixed, fixed, True, True) / n

    return x0, (lb, ub, *args), statsmodels_f


@pytest.mark.parametrize("config", CONFIGS)
def test_objective_and_gradient_match_statsmodels_and_scipy(config):
    e, t, d, s = config
    model = ETSModel(
        austourists(), error=e, trend=t, damped_trend=d, seasonal=s,
        seasonal_periods=4 if s else None, initialization_method="estimated",
    )  # fmt: skip
    x0, args, f = _setup(model)
    rng = np.random.default_rng(1)
    lb, ub = args[0], args[1]
    for x in (x0, np.clip(x0 * (1 + 0.05 * rng.normal(size=x0.size)), lb, ub)):
        assert _objective(x, *args[2:]) == pytest.approx(f(x), rel=1e-13)
        value, grad = _objective_and_gradient(x, lb, ub, args[2:])
        ref = approx_derivative(f, x, method="2-point", abs_step=1e-8, bounds=(lb, ub))
        assert value == pytest.approx(f(x), rel=1e-13)
        np.testing.assert_allclose(grad, ref, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("config", CONFIGS)
def test_estimates_are_statsmodels_fit(config):
    # the same optimizer from the same start: the same estimates up to rounding, the same llf
    e, t, d, s = config
    for y, m in ((austourists(), 4), (pd.Series(airpassengers().to_numpy()), 12)):
        model = ETSModel(
            y, error=e, trend=t, damped_trend=d, seasonal=s,
            seasonal_periods=m if s else None, initialization_method="estimated",
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = model.fit(disp=False, maxiter=2000, return_params=True)
        ours = fit_params(model, maxiter=2000)
        assert model.loglike(ours) == pytest.approx(model.loglike(ref), abs=1e-4)
        # the estimates agree where the likelihood is curved; along its flat directions (the
        # initial states of a damped seasonal model) rounding can move them by ~0.5%, while
        # the forecasts stay within 0.1%
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc_ours = np.asarray(model.smooth(ours).forecast(8))
            fc_ref = np.asarray(model.smooth(ref).forecast(8))
        np.testing.assert_allclose(fc_ours, fc_ref, rtol=1e-3)
        np.testing.assert_allclose(ours[:4], ref[:4], rtol=1e-3, atol=1e-4)  # smoothing, damping


@pytest.mark.parametrize("config", [("add", "add", True, "add"), ("mul", None, False, "mul")])
def test_warm_started_estimates_are_statsmodels_fit(config):
    # ETS.update(refit_params=True): start from the estimates on the shorter history, as
    # ``model.fit(start_params=...)`` does
    e, t, d, s = config
    y = austourists()

    def model_of(data):
        return ETSModel(
            data, error=e, trend=t, damped_trend=d, seasonal=s,
            seasonal_periods=4 if s else None, initialization_method="estimated",
        )  # fmt: skip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = model_of(y.iloc[:-4]).fit(disp=False, maxiter=2000, return_params=True)
        model = model_of(y)
        ref = model.fit(start_params=start, disp=False, maxiter=2000, return_params=True)
        ours = fit_params(model, maxiter=2000, start_params=start)
        assert model.loglike(ours) == pytest.approx(model.loglike(ref), abs=1e-4)
        np.testing.assert_allclose(
            np.asarray(model.smooth(ours).forecast(8)),
            np.asarray(model.smooth(ref).forecast(8)),
            rtol=1e-3,
        )
    np.testing.assert_allclose(ours[:4], ref[:4], rtol=1e-3, atol=1e-4)
    assert not np.allclose(start, model.start_params)  # a warm start, not statsmodels' default
