"""Fit on the full history and forecast ahead, in the contract's frame shape."""

from __future__ import annotations

from typing import Any

import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from models.base import DEFAULT_LEVELS, BaseForecaster, ModelRefusal
from models.registry import get_model
from pipelines.backtest import SeriesInput


def fit_forecast(
    series: SeriesInput,
    model: str | BaseForecaster,
    horizon: int,
    level: tuple[int, ...] = DEFAULT_LEVELS,
) -> tuple[BaseForecaster, pd.DataFrame]:
    """Fit ``model`` to the whole series and forecast ``horizon`` periods.

    Regressors: the model sees ``series.X`` when it can use them; its forecast then needs
    ``series.X_future`` for the horizon.
    """
    m = get_model(model) if isinstance(model, str) else model.clone()
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: BLAS threads only contend
        m.fit(series.y, series.X)
        fc = m.predict(horizon, series.X_future if m.exog_columns_ else None, level=level)
    return m, fc


def _final_fit(
    series: SeriesInput, model: str, horizon: int
) -> tuple[dict[str, Any], pd.DataFrame] | str:
    try:
        fitted, fc = fit_forecast(series, model, horizon)
    except ModelRefusal as exc:
        return f"forecast: {exc}"
    return fitted.get_params(), fc


def final_fits(
    pairs: list[tuple[SeriesInput, str]], horizon: int, n_jobs: int = 1
) -> dict[tuple[str, str], tuple[dict[str, Any], pd.DataFrame] | str]:
    """:func:`fit_forecast` for every (series, model) pair, in parallel with joblib when
    ``n_jobs != 1``: ``(hyperparameters, forecast)``, or the refusal's message."""
    if n_jobs == 1 or len(pairs) <= 1:
        res = [_final_fit(s, m, horizon) for s, m in pairs]
    else:
        res = list(Parallel(n_jobs=n_jobs)(delayed(_final_fit)(s, m, horizon) for s, m in pairs))
    return {(s.id, m): r for (s, m), r in zip(pairs, res, strict=True)}


def forecast_records(fc: pd.DataFrame) -> list[dict[str, Any]]:
    """The JSON shape of a forecast: ``[{"period": "2026Q1", "mean": …, "lo_80": …}, …]``."""
    out = []
    for period, row in fc.iterrows():
        rec: dict[str, Any] = {"period": str(period)}
        rec.update({k: float(v) for k, v in row.items()})
        out.append(rec)
    return out
