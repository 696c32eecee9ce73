"""The conformance suite: every registered model honours the forecaster contract.

Adding a model to ``models/registry.py`` puts it under every test here automatically
(sktime's ``check_estimator`` idea).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from features.errors import InputError
from models.base import BASE_TAGS, BaseForecaster, ModelRefusal, NotFittedError
from models.registry import REGISTRY, get_model, model_names
from tests.conftest import regressors, seasonal_series

H = 6
N = 40


def _data() -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    y = seasonal_series(N)
    full = regressors(pd.period_range(y.index[0], periods=N + H, freq=y.index.freq))
    return y, full.iloc[:N], full.iloc[N:]


def _needs_x(name: str) -> bool:
    tags = REGISTRY[name].get_tags()
    return bool(tags["requires:exogenous"] or tags["capability:multivariate"])


@cache
def _fitted(name: str) -> tuple[BaseForecaster, pd.DataFrame]:
    y, X, Xf = _data()
    m = get_model(name)
    m.fit(y, X if _needs_x(name) else None)
    fc = m.predict(H, Xf if m.exog_columns_ else None)
    return m, fc


ALL = model_names()


def test_registry_names_unique_and_tags_known():
    assert len(ALL) == len(set(ALL))
    for name in ALL:
        cls = REGISTRY[name]
        assert cls.name == name
        assert set(cls.get_tags()) >= set(BASE_TAGS)
        unknown = set(cls._tags) - set(BASE_TAGS)
        assert not unknown or all(":" in k for k in unknown), f"{name}: undeclared tags {unknown}"


@pytest.mark.parametrize("name", ALL)
def test_forecast_shape_and_index(name):
    _, fc = _fitted(name)
    _, _, Xf = _data()
    assert list(fc.columns) == ["mean", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert len(fc) == H
    assert fc.index.equals(Xf.index)
    assert fc.index.name == "period"
    assert np.isfinite(fc.to_numpy()).all()


@pytest.mark.parametrize("name", ALL)
def test_intervals_nest(name):
    _, fc = _fitted(name)
    tol = 1e-8
    assert (fc["lo_95"] <= fc["lo_80"] + tol).all()
    assert (fc["lo_80"] <= fc["mean"] + tol).all()
    assert (fc["mean"] <= fc["hi_80"] + tol).all()
    assert (fc["hi_80"] <= fc["hi_95"] + tol).all()


@pytest.mark.parametrize("name", ALL)
def test_custom_levels(name):
    m, _ = _fitted(name)
    _, _, Xf = _data()
    fc = m.predict(2, Xf.iloc[:2] if m.exog_columns_ else None, level=(50, 90))
    assert list(fc.columns) == ["mean", "lo_50", "hi_50", "lo_90", "hi_90"]
    assert (fc["lo_90"] <= fc["lo_50"] + 1e-8).all()


@pytest.mark.parametrize("name", ALL)
def test_inputs_not_mutated(name):
    y, X, Xf = _data()
    y0, X0, Xf0 = y.copy(), X.copy(), Xf.copy()
    m = get_model(name).fit(y, X if _needs_x(name) else None)
    m.predict(H, Xf if m.exog_columns_ else None)
    pd.testing.assert_series_equal(y, y0)
    pd.testing.assert_frame_equal(X, X0)
    pd.testing.assert_frame_equal(Xf, Xf0)


@pytest.mark.parametrize("name", ALL)
def test_unfitted_predict_raises(name):
    with pytest.raises(NotFittedError):
        get_model(name).predict(3)


@pytest.mark.parametrize("name", ALL)
def test_params_rebuild_model(name):
    m = get_model(name)
    params = m.get_params()
    assert type(m)(**params).get_params() == params
    fitted, _ = _fitted(name)
    assert fitted.get_params() == params  # fit does not change hyperparameters


@pytest.mark.parametrize("name", ALL)
def test_fitted_state_ends_in_underscore(name):
    m, _ = _fitted(name)
    params = set(m.get_params())
    for attr in vars(m):
        assert attr in params or attr.endswith("_") or attr.startswith("_"), f"{name}.{attr}"


@pytest.mark.parametrize("name", ALL)
def test_too_short_refuses_with_reason(name):
    y = seasonal_series(3)
    X = regressors(y.index) if _needs_x(name) else None
    with pytest.raises(ModelRefusal, match=name.split("_")[0]):
        get_model(name).fit(y, X)


@pytest.mark.parametrize("name", ALL)
def test_deterministic(name):
    _, fc = _fitted(name)
    y, X, Xf = _data()
    m = get_model(name).fit(y, X if _needs_x(name) else None)
    fc2 = m.predict(H, Xf if m.exog_columns_ else None)
    pd.testing.assert_frame_equal(fc, fc2)


@pytest.mark.parametrize("name", [n for n in ALL if REGISTRY[n].get_tag("requires:exogenous")])
def test_exogenous_required_when_declared(name):
    with pytest.raises(ModelRefusal, match="exogenous"):
        get_model(name).fit(seasonal_series(N))


@pytest.mark.parametrize("name", [n for n in ALL if REGISTRY[n].get_tag("capability:exogenous")])
def test_future_exogenous_required(name):
    y, X, _ = _data()
    m = get_model(name).fit(y, X)
    if not m.future_exog_columns_:
        pytest.skip(f"{name} keeps no regressor that must be known in the future")
    with pytest.raises(InputError, match="future values"):
        m.predict(H)


@pytest.mark.parametrize("name", ALL)
def test_bad_horizon_and_levels(name):
    m, _ = _fitted(name)
    for h in (0, -1, 1.5):
        with pytest.raises(InputError):
            m.predict(h)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        m.predict(2, level=(80, 120))


def test_y_must_be_regular_and_finite():
    y = seasonal_series(20)
    with pytest.raises(InputError, match="missing or infinite"):
        get_model("snaive").fit(y.where(y.index != y.index[5]))
    with pytest.raises(InputError, match="regular"):
        get_model("snaive").fit(y.drop(y.index[5]))
    with pytest.raises(InputError, match="PeriodIndex"):
        get_model("snaive").fit(pd.Series(y.to_numpy()))
