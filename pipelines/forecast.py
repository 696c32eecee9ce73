"""Fit on the full history and forecast ahead, in the contract's frame shape."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from threadpoolctl import threadpool_limits

from models.base import DEFAULT_LEVELS, BaseForecaster
from models.registry import get_model

if TYPE_CHECKING:
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


def forecast_records(fc: pd.DataFrame) -> list[dict[str, Any]]:
    """The JSON shape of a forecast: ``[{"period": "2026Q1", "mean": …, "lo_80": …}, …]``."""
    out = []
    for period, row in fc.iterrows():
        rec: dict[str, Any] = {"period": str(period)}
        rec.update({k: float(v) for k, v in row.items()})
        out.append(rec)
    return out
