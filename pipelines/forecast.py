"""Fit on the full history and forecast ahead, in the contract's frame shape."""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from models.base import DEFAULT_LEVELS, BaseForecaster, ModelRefusal, shared_fits
from models.registry import get_model
from pipelines.backtest import SeriesInput, share_groups


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


def _final_group(
    series: SeriesInput, models: list[str], horizon: int
) -> list[tuple[dict[str, Any], pd.DataFrame] | str]:
    with shared_fits() if len(models) > 1 else contextlib.nullcontext():
        return [_final_fit(series, m, horizon) for m in models]


def final_fits(
    pairs: list[tuple[SeriesInput, str]], horizon: int, n_jobs: int = 1
) -> dict[tuple[str, str], tuple[dict[str, Any], pd.DataFrame] | str]:
    """:func:`fit_forecast` for every (series, model) pair, in parallel with joblib when
    ``n_jobs != 1``: ``(hyperparameters, forecast)``, or the refusal's message. As in the
    backtest, an ensemble is fitted in one task with those of its members that are also in
    ``pairs`` and takes copies of their fits (:func:`pipelines.backtest.share_groups`)."""
    by_series: dict[str, tuple[SeriesInput, list[str]]] = {}
    for s, m in pairs:
        by_series.setdefault(s.id, (s, []))[1].append(m)
    groups = [
        (s, [names[i] for i in g])
        for s, names in by_series.values()
        for g in share_groups([get_model(n) for n in names])
    ]
    if n_jobs == 1 or len(groups) <= 1:
        res = [_final_group(s, ms, horizon) for s, ms in groups]
    else:
        res = list(
            Parallel(n_jobs=n_jobs)(delayed(_final_group)(s, ms, horizon) for s, ms in groups)
        )
    out = {
        (s.id, m): r
        for (s, ms), rs in zip(groups, res, strict=True)
        for m, r in zip(ms, rs, strict=True)
    }
    return {(s.id, m): out[(s.id, m)] for s, m in pairs}


def forecast_records(fc: pd.DataFrame) -> list[dict[str, Any]]:
    """The JSON shape of a forecast: ``[{"period": "2026Q1", "mean": …, "lo_80": …}, …]``."""
    out = []
    for period, row in fc.iterrows():
        rec: dict[str, Any] = {"period": str(period)}
        rec.update({k: float(v) for k, v in row.items()})
        out.append(rec)
    return out
