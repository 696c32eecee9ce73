"""The quarterly run: load the catalogued series, backtest every model, pick champions, forecast,
write the report and track it all in MLflow.

Computation touches nothing outside memory and a temporary folder until the end: the report
is written there and moved into place whole (atomically). Runs are written to MLflow as the
results come: the parent run and the scenarios' child runs before the backtest ends, each
(series, model) child run as soon as its series is done, the report at the end; the parent
ends FAILED if anything fails, and the report folder is then left as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import multiprocessing
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from features.catalog import PROJECT_ROOT, SeriesData, load
from features.config import load_yaml_model
from features.errors import InputError
from features.periods import PANDAS_FREQ
from features.scenarios import load_scenario
from models.base import ModelRefusal
from models.registry import REGISTRY, get_model, resolve_models
from pipelines import scenarios as scen
from pipelines import tracking
from pipelines.backtest import (
    BacktestResult,
    BacktestSpec,
    SeriesInput,
    backtest,
    combine,
    parse_refit,
)
from pipelines.forecast import forecast_records
from pipelines.metrics import champion, score_all, summary_row
from pipelines.plots import error_by_horizon, fan_chart, fan_charts
from pipelines.report import atomic_folder, write_summary

log = logging.getLogger(__name__)

#: the run's settings by default
DEFAULT_CONFIG = PROJECT_ROOT / "conf" / "quarterly.yml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BacktestConfig(_Strict):
    horizon: int = Field(4, ge=1)
    origins: int = Field(8, ge=1)
    step: int = Field(1, ge=1)
    window: Literal["expanding", "sliding"] = "expanding"
    window_length: int | None = Field(None, ge=2)
    refit: str = "always"  # always | every:K | never (pipelines.backtest)
    refit_params: bool = False

    @field_validator("refit")
    @classmethod
    def _refit(cls, v: str) -> str:
        try:
            parse_refit(v)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return v


class RunConfig(_Strict):
    series: list[str] = Field(min_length=1)
    models: Literal["all"] | list[str] = "all"
    horizon: int = Field(8, ge=1)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    #: worker processes, as joblib counts them (-1: one per core); 1 runs everything here
    n_jobs: int = 1
    #: scenario names or files run after the forecasts (pipelines.scenarios); none by default
    scenarios: list[str] = Field(default_factory=list)
    scenario_draws: int = Field(2000, ge=100)

    @field_validator("n_jobs")
    @classmethod
    def _n_jobs(cls, v: int) -> int:
        if v == 0:
            raise ValueError(
                "0 workers: use 1 (no worker processes), 2 or more, or -1 (every core)"
            )
        return v

    def spec(self) -> BacktestSpec:
        b = self.backtest
        return BacktestSpec(
            b.horizon,
            b.origins,
            b.step,
            b.window,
            b.window_length,
            refit=b.refit,
            refit_params=b.refit_params,
        )


def load_config(path: Path | None = None) -> RunConfig:
    """Safe-load and validate the run configuration; errors name the file and field."""
    path = path or DEFAULT_CONFIG
    cfg = load_yaml_model(path, RunConfig)
    if cfg.models != "all":
        resolve_models(",".join(cfg.models))
    for ref in cfg.scenarios:
        load_scenario(ref)  # a bad scenario file fails the run before any work, naming its field
    return cfg


def parse_quarter(text: str) -> pd.Period:
    try:
        return pd.Period(text.strip().upper().replace("-", ""), freq=PANDAS_FREQ["Q"])
    except ValueError:
        raise InputError(f"--quarter {text!r} is not a quarter like 2025Q4") from None


def _as_of(
    data: dict[str, SeriesData], quarter: str | None
) -> tuple[pd.Period, dict[str, pd.Series]]:
    """The run's quarter and each series cut at it (default: the latest quarter in the data)."""
    ends = {sid: d.values.index[-1].asfreq(PANDAS_FREQ["Q"]) for sid, d in data.items()}
    latest = max(ends.values())
    q = latest if quarter is None else parse_quarter(quarter)
    if q > latest:
        raise InputError(
            f"--quarter {q}: the data end in {latest}; nothing is published for {q} yet"
        )
    cut = {}
    for sid, d in data.items():
        v = d.values[d.values.index.asfreq(PANDAS_FREQ["Q"]) <= q]
        if len(v) == 0:
            raise InputError(f"--quarter {q}: series {sid!r} starts after it ({d.values.index[0]})")
        cut[sid] = v
    return q, cut


def run_quarterly(
    quarter: str | None = None,
    tracking_uri: str | None = None,
    config_path: Path | None = None,
    reports_dir: Path | None = None,
    track: bool = True,
    tracker: tracking.Tracker | None = None,
) -> dict[str, Any]:
    """Run the quarterly forecast; returns the summary that ``run --json`` prints.

    ``track=False`` (``run --no-track``) writes the report and logs nothing to MLflow (no
    store is opened; ``run_id`` and ``tracking_uri`` are ``None``): a what-if run that leaves
    the experiment as it was.

    With worker processes (``n_jobs`` other than 1) the backtest and the final fits run on
    them, series by series, while this process does what does not depend on them: the
    scenarios, their part of the report, the parent run and the scenarios' child runs. Then, as
    each series' tasks end, it scores the series and logs its child runs (their charts drawn
    here while the backtest still runs, on the workers after it). A worker writes the report
    while the last series is logged. The stages' seconds (``timings``) overlap: they do not add
    up to the wall time.

    The MLflow calls go through ``tracker`` (:class:`pipelines.tracking.Tracker`): by default
    they are made here, in turn (importing MLflow and opening its store with the first);
    ``sanctioncast run`` passes one with a process of its own, started before the models are
    imported, which makes them while this process goes on (the ``tracking`` stage then adds
    that process's seconds). Every child run is logged before the report goes in place.
    """
    cfg = load_config(config_path)
    if tracking_uri is not None and not track:
        raise InputError("--tracking-uri goes with tracking: drop --no-track or the URI")
    if tracker is not None and not track:
        raise ValueError("a tracker goes with track=True")
    uri = tracking.resolve_tracking_uri(tracking_uri) if track else None
    models = resolve_models(None if cfg.models == "all" else ",".join(cfg.models))
    data = {sid: load(sid) for sid in cfg.series}
    q, cut = _as_of(data, quarter)
    if uri is not None and tracker is None:
        tracker = tracking.Tracker()
    spec = cfg.spec()
    inputs = [SeriesInput(sid, y) for sid, y in cut.items()]
    clock = _Clock()
    summary = _summary_head(q, uri, cfg, spec, data, inputs)
    reports_root = reports_dir or (PROJECT_ROOT / "reports")
    report_dir = reports_root / str(q)

    with (
        _worker_processes(cfg.n_jobs) as workers,
        tempfile.TemporaryDirectory() as td,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        # each series' result as its tasks end; ``None`` once the backtest has ended or failed
        arrived: queue.Queue[tuple[str, BacktestResult] | None] = queue.Queue()

        def fits() -> BacktestResult:
            try:
                with clock("backtest"):  # with the final fits, in the same tasks
                    return backtest(
                        inputs,
                        models,
                        spec,
                        cfg.n_jobs,
                        final_horizon=cfg.horizon,
                        workers=workers,
                        on_series=lambda sid, part: arrived.put((sid, part)),
                    )
            finally:
                arrived.put(None)

        root = Path(td)
        staged = root / "report"  # the report, written here and moved in whole at the end
        staged.mkdir()
        # in a thread only to wait for the workers: with n_jobs 1 the fits run here, first
        running = pool.submit(fits) if workers is not None else None
        if running is None:
            fits()
        # as of the latest data (no --quarter) the drivers keep their newer months (Brent, USD/RUB)
        with clock("scenarios"):
            engine, scenario_results, scenario_error = _scenarios(
                cfg, None if quarter is None else q
            )
        with clock("report"):
            if engine is not None:
                summary["scenarios"] = scen.write_report(staged, engine, scenario_results)
            elif scenario_error:
                summary["scenarios"] = {"error": scenario_error}
        # The parent run stays open until the report is in place and logged: a failure anywhere
        # below ends it FAILED and leaves no report (the report folder appears whole or not).
        with contextlib.ExitStack() as parent:
            if tracker is not None:
                assert uri is not None
                with clock("tracking"):  # MLflow's import, the store's tables, the parent run
                    parent.enter_context(
                        tracker.parent_run(
                            uri, f"quarterly-{q}", _parent_tags(summary, cfg, scenario_results)
                        )
                    )
                    _log_parent(tracker, cfg, spec, models, inputs, summary)
                    # the scenarios' child runs, from their staged charts: now, while the
                    # workers run the backtest, rather than after it, when nothing else runs
                    for r in scenario_results:
                        assert engine is not None
                        chart = scen.fan_chart_path(staged, r.name)
                        tracker.call("log_child", scen.child_record(r, engine, root, chart))
            scores: dict[tuple[str, str], dict[str, float]] = {}
            parts: list[BacktestResult] = []
            forecasts: dict[tuple[str, str], pd.DataFrame] = {}
            fitted_params: dict[tuple[str, str], dict[str, Any]] = {}
            job: Future[None] | None = None
            while (got := arrived.get()) is not None:
                sid, part = got
                s = next(i for i in inputs if i.id == sid)
                part_scores = score_all(part.table)
                scores.update(part_scores)
                summary["series"][sid] = _series_summary(s, models, part, part_scores)
                parts.append(part)
                # the models that passed and were fitted to the whole series (a failed final
                # fit is marked failed by ``_series_summary``)
                fitted = {k: fin for k, fin in part.final.items() if isinstance(fin, tuple)}
                series_forecasts = {k: fc for k, (_, fc) in fitted.items()}
                forecasts.update(series_forecasts)
                fitted_params.update({k: params for k, (params, _) in fitted.items()})
                last = len(parts) == len(inputs)
                if last:  # the parts as updated above (not the backtest's own result)
                    bt = combine(parts, spec)
                    summary["timings"], summary["cpu_timings"] = clock.seconds, clock.cpu
                    write = functools.partial(
                        _write_report, staged, summary, cut, bt.table, forecasts
                    )
                    # with worker processes, written there while this process logs the last
                    # series' child runs
                    if workers is not None and tracker is not None:
                        job = workers.submit(write)
                if tracker is not None:
                    # while the backtest runs its workers are busy: the charts are drawn here
                    busy = running is not None and not running.done() and not last
                    with clock("charts"):  # only when drawn in this process
                        charts = _child_charts(
                            s,
                            summary,
                            series_forecasts,
                            root,
                            None if busy else workers,
                        )
                    with clock("tracking"):
                        for m in models:
                            if (sid, m) in charts:
                                with clock("charts"):
                                    charts[(sid, m)].result()
                            tracker.call(
                                "log_child",
                                _child_record(
                                    s,
                                    m,
                                    summary["data"][sid],
                                    part,
                                    scores,
                                    fitted_params,
                                    spec,
                                    root,
                                ),
                            )
            if running is not None:
                running.result()  # the backtest's error, if it failed
            assert len(parts) == len(inputs)
            if tracker is not None:
                with clock("tracking"):  # every child run logged: the report can go in place
                    tracker.sync()
            with clock("report"):
                if job is None:
                    write()
                else:
                    job.result()
                with atomic_folder(report_dir) as tmp:
                    for f in staged.iterdir():  # the temporary folder may be on another device
                        shutil.move(f, tmp / f.name)
            summary["report"] = str(report_dir / "summary.md")
            if tracker is not None:
                with clock("tracking"):
                    tracker.call("log_artifacts", report_dir, "report")
        # the parent run has ended (its process's calls all made: the block syncs)
        summary["run_id"] = tracker.run_id if tracker is not None else None
        if tracker is not None:
            clock.add("tracking", tracker.seconds, tracker.cpu)
    return summary


def _parent_tags(
    summary: dict[str, Any], cfg: RunConfig, scenarios: list[scen.ScenarioResult]
) -> dict[str, Any]:
    data = summary["data"]
    return {
        "kind": "quarterly",
        "quarter": summary["quarter"],
        "data_vintage": max(m["vintage"] for m in data.values()),
        "code_version": summary["code_version"],
        "series": ",".join(cfg.series),
        "reconstructed_inputs": ",".join(s for s, m in data.items() if m["reconstructed"])
        or "none",
        "scenarios": ",".join(r.name for r in scenarios) or "none",
    }


def _log_parent(
    tracker: tracking.Tracker,
    cfg: RunConfig,
    spec: BacktestSpec,
    models: list[str],
    inputs: list[SeriesInput],
    summary: dict[str, Any],
) -> None:
    """The parent run's params and datasets."""
    params = {**spec.as_params(), "horizon": cfg.horizon, "models": ",".join(models)}
    tracker.call("log_run", None, params)
    for s in inputs:
        meta = summary["data"][s.id]
        tracker.call("log_dataset", _frame(s.y), s.id, meta["file"], meta["digest"])


def _summary_head(
    q: pd.Period,
    uri: str | None,
    cfg: RunConfig,
    spec: BacktestSpec,
    data: dict[str, SeriesData],
    inputs: list[SeriesInput],
) -> dict[str, Any]:
    """The run's summary (what ``run --json`` prints) before any result: the run's settings
    and the data; :func:`_series_summary` adds each series' scores, champion and forecast."""
    summary: dict[str, Any] = {
        "quarter": str(q),
        "code_version": tracking.code_version(),
        "tracking_uri": uri,
        "backtest": {
            "horizon": spec.horizon,
            "origins": spec.origins,
            "window": spec.window,
            "refit": spec.refit,
        },
        "horizon": cfg.horizon,
        "data": {},
        "series": {},
    }
    for s in inputs:
        meta = data[s.id].metadata()
        meta.update(end=str(s.y.index[-1]), n_obs=len(s.y))
        summary["data"][s.id] = meta
    return summary


def _series_summary(
    s: SeriesInput,
    models: list[str],
    bt: BacktestResult,
    scores: dict[tuple[str, str], dict[str, float]],
) -> dict[str, Any]:
    """One series' part of the summary: scores per model, the champion and its forecast. A
    model whose final fit failed is marked failed (``bt``'s status is updated)."""
    complexity = {m: int(REGISTRY[m].get_tag("complexity")) for m in models}
    per_model = {}
    for m in models:
        st = dict(bt.status[(s.id, m)])
        got = bt.final.get((s.id, m))
        if st["status"] == "ok" and isinstance(got, str):
            st = {"status": "failed", "error": got, "n_origins": st["n_origins"]}
            bt.status[(s.id, m)] = st
        per_model[m] = summary_row(scores.get((s.id, m), {}), st)
    ok_scores = {m: scores[(s.id, m)] for m in models if (s.id, m) in scores and bt.ok(s.id, m)}
    champ = champion(ok_scores, complexity)
    fc = bt.final[(s.id, champ)] if champ else None
    return {
        "champion": champ,
        "models": per_model,
        "forecast": forecast_records(fc[1]) if isinstance(fc, tuple) else [],
        "chart": f"fan_{s.id}.png" if champ else None,
    }


def _scenarios(
    cfg: RunConfig, q: pd.Period | None
) -> tuple[scen.Engine | None, list[scen.ScenarioResult], str | None]:
    """Run the configured scenarios as of the run's quarter; an engine that cannot be fitted
    (data too short at an early ``--quarter``) is reported, not fatal."""
    if not cfg.scenarios:
        return None, [], None
    try:
        engine, results = scen.run_scenarios(list(cfg.scenarios), q, cfg.scenario_draws)
    except ModelRefusal as exc:
        log.warning("scenarios not run: %s", exc)
        return None, [], f"the scenario engine could not be fitted: {exc}"
    return engine, results, None


class _Clock:
    """Seconds per stage of the run: wall (``summary["timings"]``) and the CPU of the thread
    that ran it (``summary["cpu_timings"]``; the worker processes' CPU is not in it). A stage
    entered inside another (a wait for a chart while logging) pauses the outer one; stages in
    different threads (the backtest while the scenarios run) overlap."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._open = threading.local()  # this thread's open stages: [stage, wall, cpu]

    def add(self, stage: str, wall: float, cpu: float) -> None:
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + wall, 2)
        self.cpu[stage] = round(self.cpu.get(stage, 0.0) + cpu, 2)

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        stack: list[list[Any]] = self._open.__dict__.setdefault("stack", [])
        now, cpu = time.perf_counter(), time.thread_time()
        if stack:  # the outer stage pauses
            self.add(stack[-1][0], now - stack[-1][1], cpu - stack[-1][2])
        stack.append([stage, now, cpu])
        try:
            yield
        finally:
            _, started, cpu_started = stack.pop()
            now, cpu = time.perf_counter(), time.thread_time()
            self.add(stage, now - started, cpu - cpu_started)
            if stack:
                stack[-1][1:] = [now, cpu]


def _frame(y: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"period": [str(p) for p in y.index], "value": y.to_numpy()})


def _write_report(
    folder: Path,
    summary: dict[str, Any],
    cut: dict[str, pd.Series],
    table: pd.DataFrame,
    forecasts: dict[tuple[str, str], pd.DataFrame],
) -> None:
    rows = []
    for (sid, m), fc in forecasts.items():
        rows.append(
            fc.reset_index().assign(series=sid, model=m, period=lambda d: d["period"].astype(str))
        )
    if rows:
        pd.concat(rows, ignore_index=True).to_csv(folder / "forecasts.csv", index=False)
    table.to_csv(folder / "backtest.csv", index=False)
    for sid, res in summary["series"].items():
        meta = summary["data"][sid]
        if res["champion"]:
            fan_chart(
                cut[sid],
                forecasts[(sid, res["champion"])],
                folder / f"fan_{sid}.png",
                title=f"{meta['title']}\n{res['champion']} forecast, {summary['quarter']} run",
                subtitle=f"Source: {meta['source']}; vintage {meta['vintage']}; unit: {meta['unit']}",
                reconstructed=bool(meta["reconstructed"]),
            )
        sub = table[table["series"] == sid]
        if len(sub):
            error_by_horizon(
                sub, folder / f"error_by_horizon_{sid}.png", f"{sid}: backtest MASE by horizon"
            )
    (folder / "run.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    write_summary(folder, summary)


def _child_charts(
    s: SeriesInput,
    summary: dict[str, Any],
    forecasts: dict[tuple[str, str], pd.DataFrame],
    root: Path,
    workers: Executor | None,
) -> dict[tuple[str, str], Future[list[Path]]]:
    """Each child run's folder of series ``s`` under ``root`` (``<series>__<model>``) with its
    forecast table and fan chart. The series' charts share their axes and are drawn together
    (:func:`pipelines.plots.fan_charts`), as one task on the worker processes; each child's
    future is that task's. Without workers, or when :func:`_charts_in_process`, they are drawn
    here, before this returns."""
    charts: dict[Path, tuple[pd.DataFrame, str]] = {}
    for (sid, m), fc in forecasts.items():
        folder = root / f"{sid}__{m}"
        folder.mkdir(parents=True, exist_ok=True)
        fc.reset_index().assign(period=lambda d: d["period"].astype(str)).to_csv(
            folder / "forecast.csv", index=False
        )
        charts[folder / "fan_chart.png"] = (fc, f"{summary['data'][sid]['title']}\n{m} forecast")
    meta = summary["data"][s.id]
    draw = functools.partial(
        fan_charts,
        s.y,
        charts,
        subtitle=f"Source: {meta['source']}; vintage {meta['vintage']}",
        reconstructed=bool(meta["reconstructed"]),
    )
    done: Future[list[Path]]
    if workers is not None and not _charts_in_process(len(forecasts)):
        done = workers.submit(draw)
    else:
        done = Future()
        done.set_result(draw())
    return dict.fromkeys(forecasts, done)


@contextlib.contextmanager
def _worker_processes(n_jobs: int) -> Iterator[Executor | None]:
    """The run's worker processes (``None`` for ``n_jobs: 1``), started when the block opens
    and kept until it ends: the backtest's tasks and then the child charts run on them. On
    Linux they are forked from this process before any other thread starts, so they begin with
    every module imported (the models are not imported a second time); elsewhere they start
    with the platform's default method."""
    if n_jobs == 1:
        yield None
        return
    method = "fork" if sys.platform == "linux" else None
    n = n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)  # joblib's -k
    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context(method)) as workers:
        workers.submit(int).result()  # the processes start now, from this thread
        yield workers


def _charts_in_process(n_charts: int) -> bool:
    """Whether the child charts are drawn in this process even with worker processes: too few
    to be worth sending."""
    return n_charts < 8


def _child_record(
    s: SeriesInput,
    m: str,
    meta: dict[str, Any],
    bt: Any,
    scores: dict[tuple[str, str], dict[str, float]],
    fitted_params: dict[tuple[str, str], dict[str, Any]],
    spec: BacktestSpec,
    root: Path,
) -> tracking.ChildRecord:
    st = bt.status[(s.id, m)]
    folder = root / f"{s.id}__{m}"  # forecast and chart already there (``_child_charts``)
    folder.mkdir(exist_ok=True)
    sub = bt.table[(bt.table["series"] == s.id) & (bt.table["model"] == m)]
    if len(sub):
        sub.to_csv(folder / "backtest.csv", index=False)
    params = fitted_params.get((s.id, m)) or get_model(m).get_params()
    return tracking.ChildRecord(
        name=f"{s.id}/{m}",
        status=st["status"],
        params={**params, **spec.as_params()},
        metrics=scores.get((s.id, m), {}),
        tags={
            "series": s.id,
            "model": m,
            "model_family": REGISTRY[m].get_tag("family"),
            "data_vintage": meta["vintage"],
            "reconstructed": str(bool(meta["reconstructed"])).lower(),
            "n_origins": st.get("n_origins", 0),
            "run_date": dt.date.today().isoformat(),
        },
        artifacts=folder,
        dataset=(_frame(s.y), s.id, meta["file"], meta["digest"]),
        error=st.get("error"),
    )
