"""Shipped reference datasets and accuracy measures for the model tests.

Every dataset here ships inside an installed package (pmdarima, statsmodels) or is copied, with
its source, from one; nothing is downloaded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def airpassengers() -> pd.Series:
    """Box & Jenkins' monthly airline passengers, 1949-01..1960-12 (R's ``AirPassengers``)."""
    from pmdarima.datasets import load_airpassengers

    values = load_airpassengers().astype(float)
    return pd.Series(values, index=pd.period_range("1949-01", periods=len(values), freq="M"))


def ausbeer(last: int = 32) -> pd.Series:
    """Quarterly Australian beer production (R's ``fpp::ausbeer``), its ``last`` valid quarters.

    pmdarima ships 1956Q1..2008Q3 with 2008Q3 missing; the last valid quarter is 2008Q2.
    """
    from pmdarima.datasets import load_ausbeer

    values = load_ausbeer().astype(float)
    full = pd.Series(values, index=pd.period_range("1956Q1", periods=len(values), freq="Q"))
    return full.dropna().iloc[-last:]


def macro() -> pd.DataFrame:
    """statsmodels' US macrodata, 1959Q1..2009Q3: logs of real GDP, consumption, investment."""
    import statsmodels.api as sm

    data = sm.datasets.macrodata.load_pandas().data
    index = pd.period_range("1959Q1", periods=len(data), freq="Q")
    logs = np.log(data[["realgdp", "realcons", "realinv"]].to_numpy(dtype=float))
    return pd.DataFrame(logs, index=index, columns=["gdp", "cons", "inv"])


# International visitor nights in Australia, 2005Q1..2015Q4: R's fpp2::austourists from 2005,
# the window of FPP2 section 7.6. Values copied from statsmodels' test fixture
# statsmodels/tsa/tests/test_exponential_smoothing.py::austourists (1999Q1..2015Q4), items 24-67.
AUSTOURISTS_2005 = [
    42.20566386, 24.64917133, 32.66733514, 37.25735401, 45.24246027, 29.35048127,
    36.34420728, 41.78208136, 49.27659843, 31.27540139, 37.85062549, 38.83704413,
    51.23690034, 31.83855162, 41.32342126, 42.79900337, 55.70835836, 33.40714492,
    42.31663797, 45.15712257, 59.57607996, 34.83733016, 44.84168072, 46.97124960,
    60.01903094, 38.37117851, 46.97586413, 50.73379646, 61.64687319, 39.29956937,
    52.67120908, 54.33231689, 66.83435838, 40.87118847, 51.82853579, 57.49190993,
    65.25146985, 43.06120822, 54.76075713, 59.83447494, 73.25702747, 47.69662373,
    61.09776802, 66.05576122,
]  # fmt: skip


def austourists() -> pd.Series:
    return pd.Series(
        AUSTOURISTS_2005, index=pd.period_range("2005Q1", periods=len(AUSTOURISTS_2005), freq="Q")
    )


def mase(train: pd.Series, actual: pd.Series, forecast: pd.Series | np.ndarray, m: int) -> float:
    """Mean absolute scaled error (Hyndman & Koehler, 2006), scaled by the in-sample MAE of the
    seasonal naive forecast with period ``m`` (``m = 1``: naive)."""
    y = train.to_numpy(dtype=float)
    scale = float(np.mean(np.abs(y[m:] - y[:-m])))
    err = actual.to_numpy(dtype=float) - np.asarray(forecast, dtype=float)
    return float(np.mean(np.abs(err)) / scale)


def holdout(y: pd.Series, h: int) -> tuple[pd.Series, pd.Series]:
    """The first ``len(y) - h`` observations to train on and the last ``h`` to test on."""
    return y.iloc[:-h], y.iloc[-h:]
