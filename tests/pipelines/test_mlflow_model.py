"""Pyfunc round trip: a logged forecaster loads back and forecasts exactly as in memory."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from features.errors import InputError
from models.sarimax import SARIMAX
from models.snaive import SeasonalNaive
from models.transform import Transformed
from pipelines import tracking
from pipelines.mlflow_model import _log_forecaster_impl, predict_frame
from tests.conftest import regressors, seasonal_series

COLUMNS = ["period", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]


@pytest.fixture
def store(tmp_path):
    """A temporary sqlite tracking store whose artifacts stay under ``tmp_path``."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    exp_id = MlflowClient(uri).create_experiment(
        "pyfunc-test", artifact_location=(tmp_path / "artifacts").as_uri()
    )
    yield exp_id
    mlflow.set_tracking_uri(previous)


def _in_memory(fitted, h: int, X: pd.DataFrame | None = None) -> pd.DataFrame:
    out = fitted.predict(h, X).reset_index()
    out["period"] = out["period"].astype(str)
    return out


def test_round_trip_without_regressors(store):
    y = seasonal_series(28)
    fitted = Transformed(SeasonalNaive(), "log").fit(y)
    with mlflow.start_run(experiment_id=store):
        info = _log_forecaster_impl(fitted, "snaive_log", pd.DataFrame({"h": [4]}))
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    got = loaded.predict(pd.DataFrame({"h": [6]}))
    assert list(got.columns) == COLUMNS
    pd.testing.assert_frame_equal(got, _in_memory(fitted, 6), check_exact=True)
    sig = info.signature
    assert sig.inputs.input_names() == ["h"]
    assert sig.outputs.input_names() == COLUMNS
    assert info.metadata["sanctioncast_model"] == "transformed"


def test_round_trip_with_a_scenario_path(store):
    idx = pd.period_range("2015Q1", periods=40, freq="Q")
    y = seasonal_series(36, start="2015Q1")
    X = regressors(idx)
    fitted = SARIMAX().fit(y, X.iloc[:36])
    scenario = X.iloc[36:].reset_index(names="period")
    scenario["period"] = scenario["period"].astype(str)
    with mlflow.start_run(experiment_id=store):
        info = tracking.log_forecaster(fitted, "sarimax", scenario)
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    got = loaded.predict(scenario)
    expected = _in_memory(fitted, 4, X.iloc[36:])
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["period"].tolist() == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert info.signature.inputs.input_names() == ["period", "x1", "x2"]
    # a different scenario through the same loaded model: the regressors reach the forecast
    shifted = scenario.assign(x1=scenario["x1"] + 5.0)
    moved = loaded.predict(shifted)
    assert not np.allclose(moved["mean"], got["mean"])
    pd.testing.assert_frame_equal(
        moved, _in_memory(fitted, 4, X.iloc[36:].assign(x1=X["x1"].iloc[36:] + 5.0))
    )


def test_input_checks():
    y = seasonal_series(24)
    fitted = SeasonalNaive().fit(y)
    with pytest.raises(InputError, match="column 'h' or a column 'period'"):
        predict_frame(fitted, pd.DataFrame({"x": [1]}))
    with pytest.raises(InputError, match="periods after 2015Q4"):
        predict_frame(fitted, pd.DataFrame({"period": ["2016Q2", "2016Q3"]}))
    # periods alone work for a model without regressors
    assert predict_frame(fitted, pd.DataFrame({"period": ["2016Q1", "2016Q2"]}))[
        "period"
    ].tolist() == ["2016Q1", "2016Q2"]
    X = regressors(y.index)
    with_x = SARIMAX().fit(y, X)
    with pytest.raises(InputError, match="uses regressors"):
        predict_frame(with_x, pd.DataFrame({"h": [2]}))
