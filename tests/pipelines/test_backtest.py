"""The rolling-origin backtest and its scores, checked by hand on a short series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.errors import InputError
from models.splits import rolling_origins
from pipelines.backtest import BacktestSpec, SeriesInput, backtest, table_columns
from pipelines.metrics import champion, score, score_all


def _annual(values):
    return pd.Series(
        values, index=pd.period_range("2000", periods=len(values), freq="Y"), dtype=float
    )


def test_splits_expanding_and_sliding_index_the_right_observations():
    ex = rolling_origins(10, horizon=2, origins=3)
    assert [(s.train, s.test) for s in ex] == [
        (slice(0, 6), slice(6, 8)),
        (slice(0, 7), slice(7, 9)),
        (slice(0, 8), slice(8, 10)),
    ]
    sl = rolling_origins(10, horizon=2, origins=3, window="sliding", window_length=4)
    assert [(s.train, s.test) for s in sl] == [
        (slice(2, 6), slice(6, 8)),
        (slice(3, 7), slice(7, 9)),
        (slice(4, 8), slice(8, 10)),
    ]
    stepped = rolling_origins(10, horizon=1, origins=2, step=3)
    assert [s.cutoff for s in stepped] == [5, 8]


def test_splits_too_short_names_the_need():
    with pytest.raises(InputError, match="needs at least"):
        rolling_origins(5, horizon=4, origins=3, min_train=2)


def test_naive_backtest_by_hand():
    # annual data, so snaive is the naive forecast; last origin leaves h=2 to test
    y = _annual([1, 2, 4, 7, 11, 16])
    res = backtest([SeriesInput("toy", y)], ["snaive"], BacktestSpec(horizon=2, origins=2))
    t = res.table
    assert list(t.columns) == table_columns()
    assert res.status[("toy", "snaive")] == {"status": "ok", "error": None, "n_origins": 2}
    # origin 1: train [1,2,4,7], forecast 7,7 vs actual 11,16; origin 2: train [..,11] -> 11,11 vs 11? no: 16 and beyond
    assert t["cutoff"].tolist() == ["2002", "2002", "2003", "2003"]
    assert t["period"].tolist() == ["2003", "2004", "2004", "2005"]
    np.testing.assert_allclose(t["mean"], [4, 4, 7, 7])
    np.testing.assert_allclose(t["y"], [7, 11, 11, 16])
    # MASE scales: in-sample naive MAE of [1,2,4] = (1+2)/2 and of [1,2,4,7] = (1+2+3)/3
    np.testing.assert_allclose(t["mase_scale"], [1.5, 1.5, 2.0, 2.0])
    s = score(t)
    errors = np.array([3, 7, 4, 9.0])
    np.testing.assert_allclose(s["mae"], errors.mean())
    np.testing.assert_allclose(s["rmse"], np.sqrt((errors**2).mean()))
    np.testing.assert_allclose(s["mase"], np.mean(errors / np.array([1.5, 1.5, 2, 2])))
    np.testing.assert_allclose(s["bias"], -errors.mean())
    smape = 200 * errors / (np.array([7, 11, 11, 16]) + np.array([4, 4, 7, 7]))
    np.testing.assert_allclose(s["smape"], smape.mean())
    np.testing.assert_allclose(s["mase_h1"], np.mean([3 / 1.5, 4 / 2]))
    np.testing.assert_allclose(s["mase_h2"], np.mean([7 / 1.5, 9 / 2]))


def test_coverage_counts_actuals_inside():
    t = pd.DataFrame(
        {
            "series": "s", "model": "m", "cutoff": "2000", "period": ["2001", "2002", "2003", "2004"],
            "h": [1, 2, 3, 4], "y": [1.0, 5.0, 3.0, 10.0], "mean": [1.0, 2.0, 3.0, 4.0],
            "lo_80": [0.0, 1.0, 2.0, 3.0], "hi_80": [2.0, 3.0, 4.0, 5.0],
            "lo_95": [-1.0, 0.0, 1.0, 2.0], "hi_95": [3.0, 6.0, 5.0, 6.0], "mase_scale": 1.0,
        }
    )  # fmt: skip
    s = score(t)
    assert s["coverage_80"] == 0.5
    assert s["coverage_95"] == 0.75


def test_failed_model_is_reported_and_others_go_on():
    y = _annual([1, 2, 3, 4, 5, 6, 7])
    res = backtest(
        [SeriesInput("toy", y)], ["snaive", "sarimax"], BacktestSpec(horizon=2, origins=2)
    )
    assert res.status[("toy", "snaive")]["status"] == "ok"
    st = res.status[("toy", "sarimax")]
    assert st["status"] == "failed" and "sarimax" in st["error"]
    assert set(res.table["model"]) == {"snaive"}
    assert set(score_all(res.table)) == {("toy", "snaive")}


def test_parallel_and_serial_tables_identical():
    from tests.conftest import seasonal_series

    inputs = [
        SeriesInput("a", seasonal_series(28, seed=1)),
        SeriesInput("b", seasonal_series(28, seed=2)),
    ]
    spec = BacktestSpec(horizon=3, origins=3)
    serial = backtest(inputs, ["snaive", "sarimax"], spec, n_jobs=1)
    parallel = backtest(inputs, ["snaive", "sarimax"], spec, n_jobs=2)
    pd.testing.assert_frame_equal(serial.table, parallel.table)
    assert serial.status == parallel.status


def test_champion_rule_lowest_mase_ties_to_simpler():
    scores = {
        "ets": {"mase": 0.9},
        "snaive": {"mase": 0.9},
        "sarimax": {"mase": 1.2},
        "bad": {"mase": float("nan")},
    }
    assert champion(scores, {"ets": 3, "snaive": 1, "sarimax": 4}) == "snaive"
    assert champion({"x": {"mase": float("nan")}}, {}) is None
