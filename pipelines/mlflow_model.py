"""MLflow pyfunc "model from code" that serves any fitted sanctioncast forecaster.

This file is the ``python_model`` given to ``mlflow.pyfunc.log_model``: MLflow stores it with the
logged model and runs it to load the model (under a generated module name, which is when
``mlflow.models.set_model`` below registers :class:`ForecasterModel`). The fitted forecaster
itself is a joblib artifact, read in ``load_context``. The ``models`` and ``features`` packages
are logged with it (``code_paths``), so a logged model loads without a sanctioncast checkout.

Input to ``predict`` (a DataFrame):

* one row with column ``h``: forecast ``h`` periods (models fitted without regressors);
* one row per forecast period, with a ``period`` column (``2026Q1``) and one column per
  exogenous regressor: a scenario path. ``h`` is the number of rows; the periods must be the
  ``h`` periods right after the training data.

Output: the contract's forecast frame with the period as a column of labels:
``period`` (string), ``mean``, ``lo_80``, ``hi_80``, ``lo_95``, ``hi_95``.

:func:`_log_forecaster_impl` logs a fitted forecaster; the tracking module exposes it as
:func:`pipelines.tracking.log_forecaster`, since every MLflow call belongs there.
"""

from __future__ import annotations

import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

from features.errors import InputError
from features.periods import freq_code, future_periods, parse_period
from models.base import DEFAULT_LEVELS, BaseForecaster, interval_columns

#: artifact key of the dumped forecaster
ARTIFACT_KEY = "forecaster"
#: packages a logged model needs (pinned to the versions it was logged with)
REQUIREMENTS = (
    "mlflow",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "statsmodels",
    "pmdarima",
    "joblib",
    "threadpoolctl",
)
_PROJECT_ROOT = Path(__file__).resolve().parents[1]


def predict_frame(forecaster: BaseForecaster, model_input: pd.DataFrame) -> pd.DataFrame:
    """Forecast for a pyfunc input frame (see the module docstring); the frame MLflow returns."""
    if not isinstance(model_input, pd.DataFrame):
        model_input = pd.DataFrame(model_input)
    exog = list(forecaster.future_exog_columns_)
    cutoff = forecaster.cutoff_
    X: pd.DataFrame | None = None
    if "period" in model_input.columns:
        code = freq_code(pd.PeriodIndex([cutoff]))
        try:
            periods = pd.PeriodIndex([parse_period(p, code) for p in model_input["period"]])
        except ValueError as exc:
            raise InputError(f"input column 'period': {exc}") from None
        h = len(periods)
        expected = future_periods(cutoff, h)
        if h == 0 or not periods.equals(expected):
            raise InputError(
                f"input periods must be the {h} periods after {cutoff} "
                f"({expected[0]}..{expected[-1]}) in order"
                if h
                else "input has no rows"
            )
        missing = [c for c in exog if c not in model_input.columns]
        if missing:
            raise InputError(f"input has no column for regressor {missing[0]!r}")
        if exog:
            X = pd.DataFrame(model_input[exog].to_numpy(dtype=float), index=periods, columns=exog)
    elif "h" in model_input.columns:
        if exog:
            raise InputError(
                f"model uses regressors {exog}: give one row per period with 'period' and them"
            )
        if len(model_input) != 1:
            raise InputError(f"give 'h' in one row, got {len(model_input)} rows")
        h = int(model_input["h"].iloc[0])
    else:
        raise InputError("input needs a column 'h' or a column 'period' (one row per period)")
    fc = forecaster.predict(h, X)
    out = fc.reset_index()
    out["period"] = out["period"].astype(str)
    return out


class ForecasterModel(PythonModel):
    """Pyfunc wrapper: loads the fitted forecaster artifact, forecasts with :func:`predict_frame`."""

    def load_context(self, context: Any) -> None:
        self.forecaster = joblib.load(context.artifacts[ARTIFACT_KEY])

    # MLflow reads the hint on model_input: a DataFrame hint means "no schema from hints",
    # the signature logged with the model describes the input
    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Forecast frame for ``model_input`` (see the module docstring)."""
        return predict_frame(self.forecaster, model_input)


def default_input_example(fitted: BaseForecaster) -> pd.DataFrame:
    """``{"h": [one seasonal cycle]}``; models with regressors need a scenario example instead."""
    if fitted.future_exog_columns_:
        raise InputError(
            f"{fitted.name} uses regressors {fitted.future_exog_columns_}: pass an input_example with "
            "'period' and their future values"
        )
    return pd.DataFrame({"h": [max(int(fitted.sp_), 1)]})


def forecaster_signature(fitted: BaseForecaster) -> Any:
    """Input and output schema of a fitted forecaster's pyfunc model."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    if fitted.future_exog_columns_:
        exog = fitted.future_exog_columns_
        inputs = Schema([ColSpec("string", "period"), *[ColSpec("double", c) for c in exog]])
    else:
        inputs = Schema([ColSpec("long", "h")])
    outputs = Schema(
        [
            ColSpec("string", "period"),
            *[ColSpec("double", c) for c in interval_columns(DEFAULT_LEVELS)],
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def _requirements() -> list[str]:
    out = []
    for pkg in REQUIREMENTS:
        try:
            out.append(f"{pkg}=={metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            out.append(pkg)
    return out


def _log_forecaster_impl(
    fitted: BaseForecaster, name: str, input_example: pd.DataFrame | None = None
) -> Any:
    """Log ``fitted`` to the active MLflow run as a pyfunc model from code; return its ModelInfo.

    The input example (default ``{"h": [sp]}``) is forecast once first, so a bad example fails
    here with an :class:`InputError` rather than inside MLflow. Requirements are pinned to the
    installed versions (no dependency inference, which would load the model in a subprocess).
    """
    if not fitted.is_fitted:
        raise InputError(f"{fitted.name}: fit the model before logging it")
    example = input_example if input_example is not None else default_input_example(fitted)
    predict_frame(fitted, example)
    meta = {
        "sanctioncast_model": fitted.name,
        "cutoff": str(fitted.cutoff_),
        "exog_columns": list(fitted.future_exog_columns_),
        "params": {k: repr(v) for k, v in fitted.get_params().items()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "forecaster.joblib"
        joblib.dump(fitted.self_contained(), path)  # nothing read from this machine's cache
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(Path(__file__).resolve()),
            artifacts={ARTIFACT_KEY: str(path)},
            code_paths=[str(_PROJECT_ROOT / "models"), str(_PROJECT_ROOT / "features")],
            signature=forecaster_signature(fitted),
            input_example=example,
            pip_requirements=_requirements(),
            metadata=meta,
        )


if __name__ != "pipelines.mlflow_model":  # run by MLflow as the logged model's code file
    mlflow.models.set_model(ForecasterModel())
