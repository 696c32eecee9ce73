"""The backtest engine: refit policies, windows, backends and real-time data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features.errors import InputError
from models.base import BaseForecaster, ModelRefusal
from models.sarimax import SARIMAX
from pipelines.backtest import (
    BacktestSpec,
    SeriesInput,
    backtest,
    catalog_vintages,
    combine,
    parse_refit,
    with_vintages,
)
from tests.conftest import seasonal_series

CALLS: list[tuple[str, str, int]] = []


class Recorder(BaseForecaster):
    """Naive forecaster that records what it was fitted or updated on."""

    name = "recorder"
    _tags = {"requires:min_obs": 2}

    def __init__(self) -> None:
        pass

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        CALLS.append(("fit", str(y.index[0]), len(y)))
        self.last_ = float(y.iloc[-1])

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        CALLS.append(("update_params" if refit_params else "update", str(y.index[0]), len(y)))
        self.last_ = float(y.iloc[-1])

    def _predict(self, h, X, levels):
        mean = np.full(h, self.last_)
        out = {"mean": mean}
        for lv in levels:
            out[f"lo_{int(lv)}"] = mean - lv / 10
            out[f"hi_{int(lv)}"] = mean + lv / 10
        return out


class Refuser(Recorder):
    """Refuses the window of ``at`` observations, when fitted or updated."""

    name = "refuser"

    def __init__(self, at: int = 35) -> None:
        self.at = at

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        if len(y) == self.at:
            raise ModelRefusal(f"{len(y)} observations")
        super()._fit(y, X)

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        if len(y) == self.at:
            raise ModelRefusal(f"{len(y)} observations")
        super()._update(y, X, refit_params)


def _calls(spec: BacktestSpec, n: int = 20) -> list[tuple[str, str, int]]:
    CALLS.clear()
    y = pd.Series(np.arange(n, dtype=float), index=pd.period_range("2000", periods=n, freq="Y"))
    backtest([SeriesInput("s", y)], [Recorder()], spec)
    return list(CALLS)


def test_refit_policy_parsing_and_params():
    assert parse_refit("always") == 1
    assert parse_refit("every:3") == 3
    assert parse_refit("never") is None
    for bad in ("sometimes", "every:0", "every:x"):
        with pytest.raises(InputError, match="refit policy"):
            BacktestSpec(refit=bad)
    params = BacktestSpec(refit="every:2", refit_params=True).as_params()
    assert params["backtest_refit"] == "every:2" and params["backtest_refit_params"] is True


def test_policies_fit_and_update_at_the_right_origins():
    spec = {"horizon": 2, "origins": 5}
    assert _calls(BacktestSpec(**spec)) == [("fit", "2000", n) for n in (14, 15, 16, 17, 18)]
    assert _calls(BacktestSpec(**spec, refit="every:2")) == [
        ("fit", "2000", 14),
        ("update", "2000", 15),
        ("fit", "2000", 16),
        ("update", "2000", 17),
        ("fit", "2000", 18),
    ]
    assert _calls(BacktestSpec(**spec, refit="never", refit_params=True)) == [
        ("fit", "2000", 14),
        *[("update_params", "2000", n) for n in (15, 16, 17, 18)],
    ]


def test_sliding_windows_fit_on_the_window_and_update_from_its_start():
    spec = BacktestSpec(horizon=2, origins=4, window="sliding", window_length=5, refit="every:2")
    assert _calls(spec) == [
        ("fit", "2010", 5),  # window 2010..2014 for the first cutoff, 2014
        ("update", "2010", 6),  # the same start, one more observation
        ("fit", "2012", 5),  # the next full fit: the window again
        ("update", "2012", 6),
    ]


def test_every_policy_matches_a_manual_loop_where_theory_says_so():
    y = seasonal_series(36, seed=3)
    spec = BacktestSpec(horizon=3, origins=4)
    s = SeriesInput("a", y)
    model = SARIMAX(order=(1, 0, 0), seasonal_order=(0, 1, 0))
    always = backtest([s], [model], spec).table
    # always: a fresh fit per origin
    for k, cutoff in enumerate(range(29, 33)):  # the last leaves 3 observations after it
        fc = model.clone().fit(y.iloc[: cutoff + 1]).predict(3)
        np.testing.assert_allclose(always["mean"].to_numpy()[3 * k : 3 * k + 3], fc["mean"])
    # never (filter-only): the first origin's parameters, the data up to each cutoff filtered
    never = backtest([s], [model], BacktestSpec(horizon=3, origins=4, refit="never")).table
    first = model.clone().fit(y.iloc[:30])
    for k, cutoff in enumerate(range(29, 33)):
        res = first.result_.apply(y.iloc[: cutoff + 1].to_numpy())
        np.testing.assert_allclose(
            never["mean"].to_numpy()[3 * k : 3 * k + 3], res.forecast(3), rtol=1e-10
        )
    # the first origin is a full fit under every policy
    np.testing.assert_allclose(never["mean"].to_numpy()[:3], always["mean"].to_numpy()[:3])
    # a model without its own update gives the same table under every policy
    a = backtest([s], ["snaive"], spec).table
    n = backtest([s], ["snaive"], BacktestSpec(horizon=3, origins=4, refit="never")).table
    pd.testing.assert_frame_equal(a, n)


def test_dask_and_joblib_tables_identical():
    distributed = pytest.importorskip("distributed")
    inputs = [
        SeriesInput("a", seasonal_series(28, seed=1)),
        SeriesInput("b", seasonal_series(28, seed=2)),
    ]
    models = ["snaive", "sarimax"]
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",  # a real address string, on the loopback only
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        always = BacktestSpec(horizon=3, origins=3)
        local = backtest(inputs, models, always)  # joblib, in process
        on_dask = backtest(inputs, models, always, backend="dask", scheduler=client)
        pd.testing.assert_frame_equal(local.table, on_dask.table)
        assert local.status == on_dask.status
        never = BacktestSpec(horizon=3, origins=3, refit="never")
        local = backtest(inputs, models, never, n_jobs=1)
        by_address = backtest(
            inputs, models, never, backend="dask", scheduler=cluster.scheduler_address
        )
        pd.testing.assert_frame_equal(local.table, by_address.table)


def test_dask_backend_needs_a_scheduler():
    s = SeriesInput("a", seasonal_series(20))
    with pytest.raises(InputError, match="--scheduler"):
        backtest([s], ["snaive"], BacktestSpec(horizon=2, origins=2), backend="dask")
    with pytest.raises(InputError, match="backend"):
        backtest([s], ["snaive"], BacktestSpec(horizon=2, origins=2), backend="spark")


def test_real_time_uses_the_vintage_published_then_and_scores_on_the_latest():
    # c26_growth_annual: latest release 2026-02-06 has 2023 = 139.4; the 2024-02-03 vintage
    # holds Rosstat's first estimate, 132.8. Origin 2023 + 45 days -> 2024-02-14 -> that vintage.
    from features.catalog import load

    vintages = catalog_vintages("c26_growth_annual")
    assert dt.date(2024, 2, 3) in vintages and dt.date(2026, 2, 6) in vintages
    latest = load("c26_growth_annual").values
    inputs = with_vintages([SeriesInput("c26_growth_annual", latest)])
    spec = {"horizon": 2, "origins": 1}
    rt = backtest(inputs, ["naive"], BacktestSpec(**spec, real_time=True))
    plain = backtest(inputs, ["naive"], BacktestSpec(**spec))
    assert rt.table["cutoff"].tolist() == ["2023", "2023"]
    np.testing.assert_allclose(rt.table["mean"], [132.8, 132.8])  # the first estimate
    np.testing.assert_allclose(plain.table["mean"], [139.4, 139.4])  # the revised value
    np.testing.assert_allclose(rt.table["y"], [126.4, 111.7])  # scored on the latest data
    assert rt.status[("c26_growth_annual", "naive")]["vintages"] == {"2023": "2024-02-03"}
    # origin 2024: + 45 days -> 2025-02-14; the newest release then is still 2024-02-03, which
    # ends in 2023: the forecast for 2025 is two steps from 2023, reported as h=1 from 2024.
    # origin 2022: nothing was released by 2023-02-14; the oldest vintage stands in, flagged.
    rt2 = backtest(inputs, ["naive"], BacktestSpec(horizon=1, origins=3, real_time=True))
    assert rt2.table["period"].tolist() == ["2023", "2024", "2025"]
    np.testing.assert_allclose(rt2.table["mean"], [109.4, 132.8, 132.8])
    assert rt2.status[("c26_growth_annual", "naive")]["vintages"] == {
        "2022": "2024-02-03 (oldest available)",
        "2023": "2024-02-03",
        "2024": "2024-02-03",
    }
    # a publication lag shorter than the release delay: the 2024-02-03 vintage is not out yet
    early = backtest(inputs, ["naive"], BacktestSpec(**spec, real_time=True, publication_lag=30))
    assert early.status[("c26_growth_annual", "naive")]["vintages"] == {
        "2023": "2024-02-03 (oldest available)"
    }


@pytest.mark.parametrize(("refit", "fits"), [("always", 3), ("never", 1)])
def test_an_ensemble_shares_the_fits_of_members_that_also_run(refit, fits):
    from models.ensemble import Ensemble

    y = seasonal_series(n=24)
    spec = BacktestSpec(horizon=2, origins=3, refit=refit)
    ens = Ensemble(members=(Recorder(), "naive"))
    CALLS.clear()
    both = backtest([SeriesInput("s", y)], [Recorder(), "naive", ens], spec, n_jobs=1)
    assert [c[0] for c in CALLS].count("fit") == fits  # one fit per window, not two
    CALLS.clear()
    alone = backtest([SeriesInput("s", y)], [ens], spec, n_jobs=1)
    assert [c[0] for c in CALLS].count("fit") == fits  # the ensemble's own member fit
    got = both.table[both.table["model"] == "ensemble"].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, alone.table)
    assert list(both.status) == [("s", "recorder"), ("s", "naive"), ("s", "ensemble")]
    # the members' own rows are those of a run without the ensemble
    solo = backtest([SeriesInput("s", y)], [Recorder(), "naive"], spec, n_jobs=1).table
    pd.testing.assert_frame_equal(
        both.table[both.table["model"] != "ensemble"].reset_index(drop=True), solo
    )


def test_final_fits_share_member_fits_with_the_ensemble(monkeypatch):
    from models.theta import Theta

    calls: list[int] = []
    original = Theta._fit

    def counting(self, y, X):
        calls.append(len(y))
        return original(self, y, X)

    monkeypatch.setattr(Theta, "_fit", counting)
    s = SeriesInput("s", seasonal_series(n=32))
    spec = BacktestSpec(horizon=4, origins=2)
    both = backtest([s], ["theta", "naive", "ensemble"], spec, final_horizon=4)
    # theta fitted once per window, for itself and as the ensemble's member: two origins and
    # the whole series
    assert calls == [27, 28, 32]
    assert list(both.final) == [("s", "theta"), ("s", "naive"), ("s", "ensemble")]
    alone = backtest([s], ["ensemble"], spec, final_horizon=4)
    pd.testing.assert_frame_equal(
        both.final[("s", "ensemble")][1], alone.final[("s", "ensemble")][1]
    )


@pytest.mark.parametrize("refit", ["always", "every:2"])
def test_final_fits_are_fits_to_the_whole_series(refit):
    """The published forecast computed in the backtest's tasks is ``fit_forecast``'s, whatever
    the policy and the number of workers; a model that failed at an origin gets none."""
    from pipelines.forecast import fit_forecast

    s = SeriesInput("s", seasonal_series(n=40))
    models = ["theta", "ets", "ridge_lags", Refuser()]
    spec = BacktestSpec(horizon=4, origins=3, refit=refit)
    serial = backtest([s], models, spec, final_horizon=6)
    parallel = backtest([s], models, spec, n_jobs=2, final_horizon=6)
    assert list(serial.final) == [("s", "theta"), ("s", "ets"), ("s", "ridge_lags")]
    assert serial.status[("s", "refuser")]["status"] == "failed"
    for name in ("theta", "ets", "ridge_lags"):
        fitted, expected = fit_forecast(s, name, 6)
        params, fc = serial.final[("s", name)]
        assert params == fitted.get_params()
        pd.testing.assert_frame_equal(fc, expected)
        pd.testing.assert_frame_equal(parallel.final[("s", name)][1], expected)
    assert backtest([s], ["theta"], spec).final == {}  # no horizon, no final fits


def test_a_refused_final_fit_is_reported(monkeypatch):
    from models.theta import Theta

    original = Theta._fit

    def refuse_the_whole_series(self, y, X):
        if len(y) == 40:
            raise ModelRefusal("too long")
        return original(self, y, X)

    monkeypatch.setattr(Theta, "_fit", refuse_the_whole_series)
    s = SeriesInput("s", seasonal_series(n=40))
    res = backtest([s], ["theta"], BacktestSpec(horizon=4, origins=2), final_horizon=4)
    assert res.ok("s", "theta")
    assert res.final[("s", "theta")] == "forecast: ModelRefusal: too long"


def test_conformal_calibrations_are_shared_across_origins_with_unchanged_tables(monkeypatch):
    """A lag reduction refits at every origin (its ``update`` is a fresh fit), so ``every:K``
    must give the table of ``always``; inside one task the calibration copies of successive
    origins are reused (``models.conformal.calibration_memo``), so it fits far fewer of them."""
    from models.ridge_lags import RidgeLags

    fits: list[int] = []
    original = RidgeLags._fit

    def counting(self, y, X):
        fits.append(len(y))
        return original(self, y, X)

    monkeypatch.setattr(RidgeLags, "_fit", counting)
    s = SeriesInput("s", seasonal_series(n=40))
    base = {"horizon": 3, "origins": 6}
    always = backtest([s], ["ridge_lags"], BacktestSpec(**base), n_jobs=1)
    n_always = len(fits)
    fits.clear()
    seq = backtest([s], ["ridge_lags"], BacktestSpec(**base, refit="every:3"), n_jobs=1)
    pd.testing.assert_frame_equal(seq.table, always.table)
    assert seq.status == always.status
    # per origin: the model and its calibration copies (8 origins + 2 more cutoffs for steps
    # 2-3); in one sequence the later origins add the model and one new calibration copy
    assert n_always == 6 * (1 + 10)
    assert len(fits) == (1 + 10) + 5 * (1 + 1)
    # the whole-series fit in the same task reuses the copies of the last origins: 3 periods
    # later than the last origin, it adds itself and 3 calibration copies, not 1 + 10
    fits.clear()
    fin = backtest(
        [s], ["ridge_lags"], BacktestSpec(**base, refit="every:3"), n_jobs=1, final_horizon=3
    )
    pd.testing.assert_frame_equal(fin.table, seq.table)
    assert len(fits) == (1 + 10) + 5 * (1 + 1) + (1 + 3)


def test_started_worker_processes_give_the_serial_results():
    """``workers``: the quarterly run's own process pool (forked once) runs the tasks."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    s = SeriesInput("s", seasonal_series(n=40))
    spec = BacktestSpec(horizon=4, origins=3, refit="every:2", refit_params=True)
    models = ["theta", "ets", "ensemble"]
    serial = backtest([s], models, spec, final_horizon=4)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = backtest([s], models, spec, final_horizon=4, workers=pool)
    pd.testing.assert_frame_equal(pooled.table, serial.table)
    assert pooled.status == serial.status
    for key, (params, fc) in serial.final.items():
        assert pooled.final[key][0] == params
        pd.testing.assert_frame_equal(pooled.final[key][1], fc)


def _same_result(a, b) -> None:
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.status == b.status
    assert a.final.keys() == b.final.keys()
    for key, got in a.final.items():
        assert b.final[key][0] == got[0]
        pd.testing.assert_frame_equal(b.final[key][1], got[1])


@pytest.mark.parametrize("refit", ["always", "every:2"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_each_series_is_passed_on_as_soon_as_its_tasks_end(monkeypatch, refit, n_jobs):
    """``on_series``: each series' own result, in series order, before the next series' tasks
    run (serially: checked on the task calls); together they are the whole result. A series
    too short for a model (``b`` for sarimax) keeps that model's failed status."""
    import pipelines.backtest as bt_module

    events: list[tuple[str, str]] = []
    run_task = bt_module._run_task

    def recorded(task):
        events.append(("task", task[1].id))
        return run_task(task)

    if n_jobs == 1:
        monkeypatch.setattr(bt_module, "_run_task", recorded)
    inputs = [
        SeriesInput("a", seasonal_series(n=32, seed=1)),
        SeriesInput("b", seasonal_series(n=14, seed=2)),
        SeriesInput("c", seasonal_series(n=30, seed=3)),
    ]
    spec = BacktestSpec(horizon=4, origins=3, refit=refit)
    models = ["naive", "theta", "sarimax"]
    parts = []

    def on_series(sid, part):
        events.append(("series", sid))
        parts.append(part)

    whole = backtest(inputs, models, spec, n_jobs, final_horizon=4, on_series=on_series)
    assert [e for e in events if e[0] == "series"] == [("series", s.id) for s in inputs]
    for (_, sid), part in zip([e for e in events if e[0] == "series"], parts, strict=True):
        assert {k[0] for k in part.status} == {sid} and set(part.table["series"]) <= {sid}
        assert [k[1] for k in part.status] == models
    assert whole.status[("b", "sarimax")]["status"] == "failed"
    if n_jobs == 1:  # a series' tasks, then the series passed on, then the next series'
        groups = [[e for e in events if e[1] == s.id] for s in inputs]
        assert events == [e for g in groups for e in g]
        assert all(
            g[-1] == ("series", s.id) and len(g) > 1 for g, s in zip(groups, inputs, strict=True)
        )
    _same_result(whole, combine(parts, spec))
    separate = [backtest([s], models, spec, final_horizon=4) for s in inputs]
    _same_result(whole, combine(separate, spec))
