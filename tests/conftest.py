"""Shared fixtures: small real and synthetic series, temporary MLflow stores."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas() -> Iterator[None]:
    """statsmodels fits many tiny matrices: BLAS threads only contend on a shared 2-core box."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def seasonal_series(
    n: int = 40, freq: str = "Q-DEC", sp: int = 4, seed: int = 0, start: str = "2010Q1"
) -> pd.Series:
    """A positive trending seasonal series with noise (deterministic)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = np.tile(np.linspace(-1.0, 1.0, sp), n // sp + 1)[:n] * 8.0
    y = 100.0 + 0.8 * t + season + rng.normal(0, 1.5, n)
    return pd.Series(y, index=pd.period_range(start, periods=n, freq=freq), name="y")


def regressors(index: pd.PeriodIndex, seed: int = 1) -> pd.DataFrame:
    """Two smooth positive regressors on ``index``."""
    rng = np.random.default_rng(seed)
    n = len(index)
    return pd.DataFrame(
        {
            "x1": 50.0 + np.cumsum(rng.normal(0.2, 1.0, n)),
            "x2": 10.0 + np.sin(np.arange(n) / 3.0) + rng.normal(0, 0.1, n),
        },
        index=index,
    )


@pytest.fixture
def tmp_tracking_uri(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/mlruns/mlflow.db"
