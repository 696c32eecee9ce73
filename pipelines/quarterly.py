"""The quarterly run: load the catalogued series, backtest every model, pick champions, forecast,
write the report and track it all in MLflow.

Computation happens first and touches nothing outside memory; the report folder is then written
atomically, and only then is MLflow written (parent run + one child per series and model).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from joblib import Parallel, delayed
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
from pipelines.backtest import BacktestSpec, SeriesInput, backtest, parse_refit
from pipelines.forecast import final_fits, forecast_records
from pipelines.launch import DEFAULT_CONFIG  # the run's settings by default (conf/quarterly.yml)
from pipelines.metrics import champion, score_all, summary_row
from pipelines.plots import error_by_horizon, fan_chart
from pipelines.report import atomic_folder, write_summary

log = logging.getLogger(__name__)


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
    n_jobs: int = 1
    #: scenario names or files run after the forecasts (pipelines.scenarios); none by default
    scenarios: list[str] = Field(default_factory=list)
    scenario_draws: int = Field(2000, ge=100)

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
) -> dict[str, Any]:
    """Run the quarterly forecast; returns the summary that ``run --json`` prints."""
    cfg = load_config(config_path)
    uri = tracking.resolve_tracking_uri(tracking_uri)
    models = resolve_models(None if cfg.models == "all" else ",".join(cfg.models))
    data = {sid: load(sid) for sid in cfg.series}
    q, cut = _as_of(data, quarter)
    spec = cfg.spec()
    inputs = [SeriesInput(sid, y) for sid, y in cut.items()]

    clock = _Clock()
    with clock("backtest"):
        bt = backtest(inputs, models, spec, n_jobs=cfg.n_jobs)
    scores = score_all(bt.table)
    complexity = {m: int(REGISTRY[m].get_tag("complexity")) for m in models}

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
    forecasts: dict[tuple[str, str], pd.DataFrame] = {}
    fitted_params: dict[tuple[str, str], dict[str, Any]] = {}
    with clock("final_fits"):
        final = final_fits(
            [(s, m) for s in inputs for m in models if bt.ok(s.id, m)], cfg.horizon, cfg.n_jobs
        )
    for s in inputs:
        meta = data[s.id].metadata()
        meta.update(end=str(s.y.index[-1]), n_obs=len(s.y))
        summary["data"][s.id] = meta
        per_model = {}
        for m in models:
            st = dict(bt.status[(s.id, m)])
            if st["status"] == "ok":
                got = final[(s.id, m)]
                if isinstance(got, tuple):
                    fitted_params[(s.id, m)], forecasts[(s.id, m)] = got
                else:
                    st = {
                        "status": "failed",
                        "error": got,
                        "n_origins": st["n_origins"],
                    }
                    bt.status[(s.id, m)] = st
            per_model[m] = summary_row(scores.get((s.id, m), {}), st)
        ok_scores = {m: scores[(s.id, m)] for m in models if (s.id, m) in scores and bt.ok(s.id, m)}
        champ = champion(ok_scores, complexity)
        summary["series"][s.id] = {
            "champion": champ,
            "models": per_model,
            "forecast": forecast_records(forecasts[(s.id, champ)]) if champ else [],
            "chart": f"fan_{s.id}.png" if champ else None,
        }

    with tempfile.TemporaryDirectory() as td, ThreadPoolExecutor(max_workers=1) as pool:
        root = Path(td)
        # the child runs' fan charts are drawn on the worker processes while this process runs
        # the scenarios, writes the report and opens the MLflow store (see `_child_charts`)
        charts = pool.submit(_child_charts, inputs, summary, forecasts, root, cfg.n_jobs)
        if _charts_in_process(cfg.n_jobs, len(forecasts)):
            # matplotlib is not thread-safe: drawn in this process, they are drawn first
            with clock("charts"):
                charts.result()
        # as of the latest data (no --quarter) the drivers keep their newer months (Brent, USD/RUB)
        with clock("scenarios"):
            engine, scenario_results, scenario_error = _scenarios(
                cfg, None if quarter is None else q
            )
        reports_root = reports_dir or (PROJECT_ROOT / "reports")
        report_dir = reports_root / str(q)
        summary["timings"] = clock.seconds  # filled in as the stages end; final in run.json too
        with clock("report"), atomic_folder(report_dir) as tmp:
            if engine is not None:
                summary["scenarios"] = scen.write_report(tmp, engine, scenario_results)
            elif scenario_error:
                summary["scenarios"] = {"error": scenario_error}
            _write_report(tmp, summary, cut, data, bt.table, forecasts)
        summary["report"] = str(report_dir / "summary.md")

        vintage = max(m["vintage"] for m in summary["data"].values())
        tags = {
            "kind": "quarterly",
            "quarter": str(q),
            "data_vintage": vintage,
            "code_version": summary["code_version"],
            "series": ",".join(cfg.series),
            "reconstructed_inputs": ",".join(
                s for s, m in summary["data"].items() if m["reconstructed"]
            )
            or "none",
            "scenarios": ",".join(r.name for r in scenario_results) or "none",
        }
        with clock("tracking"):  # the store's tables and the experiment, made on first use
            tracking.configure(uri)
        with clock("charts"):  # what is left of them
            charts.result()
        with clock("tracking"), tracking.parent_run(uri, f"quarterly-{q}", tags) as parent_id:
            summary["run_id"] = parent_id
            tracking.log_batch(
                parent_id,
                params={**spec.as_params(), "horizon": cfg.horizon, "models": ",".join(models)},
            )
            for s in inputs:
                meta = summary["data"][s.id]
                tracking.log_dataset(_frame(s.y), s.id, meta["file"], meta["digest"])
            for s in inputs:
                meta = summary["data"][s.id]
                for m in models:
                    rec = _child_record(s, m, meta, bt, scores, fitted_params, spec, root)
                    tracking.log_child(rec)
            for r in scenario_results:
                assert engine is not None
                chart = scen.fan_chart_path(report_dir, r.name)
                tracking.log_child(scen.child_record(r, engine, root, chart))
            tracking.log_artifacts(report_dir, "report")
    return summary


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
    """Wall seconds per stage of the run (``summary["timings"]``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - t0
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + spent, 2)


def _frame(y: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"period": [str(p) for p in y.index], "value": y.to_numpy()})


def _write_report(
    folder: Path,
    summary: dict[str, Any],
    cut: dict[str, pd.Series],
    data: dict[str, SeriesData],
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
    inputs: list[SeriesInput],
    summary: dict[str, Any],
    forecasts: dict[tuple[str, str], pd.DataFrame],
    root: Path,
    n_jobs: int,
) -> None:
    """Each child run's folder under ``root`` (``<series>__<model>``) with its forecast table
    and fan chart; the charts are drawn on ``n_jobs`` worker processes (:func:`_charts_in_process`
    says when they are drawn here instead)."""
    history = {s.id: s.y for s in inputs}
    jobs = []
    for (sid, m), fc in forecasts.items():
        meta = summary["data"][sid]
        folder = root / f"{sid}__{m}"
        folder.mkdir(parents=True, exist_ok=True)
        fc.reset_index().assign(period=lambda d: d["period"].astype(str)).to_csv(
            folder / "forecast.csv", index=False
        )
        jobs.append(
            delayed(fan_chart)(
                history[sid],
                fc,
                folder / "fan_chart.png",
                title=f"{meta['title']}\n{m} forecast",
                subtitle=f"Source: {meta['source']}; vintage {meta['vintage']}",
                reconstructed=bool(meta["reconstructed"]),
            )
        )
    Parallel(n_jobs=1 if _charts_in_process(n_jobs, len(jobs)) else n_jobs)(jobs)


def _charts_in_process(n_jobs: int, n_charts: int) -> bool:
    """Whether the child charts are drawn in this process: one job, or too few charts to be
    worth the worker processes."""
    return n_jobs == 1 or n_charts < 8


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
