"""``sanctioncast backtest``: run the engine, score and compare, and optionally track in MLflow.

With tracking, MLflow gets one parent run ``backtest-<UTC time>`` (``kind: backtest``; params:
the backtest settings, the models, the series, the backend; metrics: wall seconds of the
backtest and of the tracking itself) and one child run per (series, model) named
``<series>/<model>`` whose metric names are the same in every run (``mase``, ``mase_h1`` …
``mase_hH``, ``smape``, ``coverage_80``, ``winkler_80``, ``pinball``, ``dm_pvalue_vs_snaive``,
``in_mcs``, … see :mod:`pipelines.metrics`), so runs compare side by side. Each child's
artifacts: its slice of the long backtest table (``backtest.csv``), an error-by-horizon chart
and a forecast-vs-actual chart. Every run's params, metrics and tags go in one ``log_batch``.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from models.registry import REGISTRY
from pipelines import tracking
from pipelines.backtest import BacktestResult, BacktestSpec, SeriesInput, backtest
from pipelines.metrics import champion, score_all, summary_row
from pipelines.plots import error_by_horizon, forecast_vs_actual

log = logging.getLogger(__name__)


def run_backtest(
    inputs: list[SeriesInput],
    names: list[str],
    spec: BacktestSpec,
    n_jobs: int = 1,
    backend: str = "joblib",
    scheduler: Any = None,
    track: bool = False,
    tracking_uri: str | None = None,
) -> dict[str, Any]:
    """Backtest, score, compare, pick champions; the document ``backtest --json`` prints.

    With ``track`` the runs are logged to MLflow (``tracking_uri`` resolved as everywhere) and
    the document gains ``run_id``, ``tracking_uri`` and ``seconds`` (backtest, tracking).
    """
    uri = tracking.resolve_tracking_uri(tracking_uri) if track else None
    t0 = time.perf_counter()
    bt = backtest(inputs, names, spec, n_jobs=n_jobs, backend=backend, scheduler=scheduler)
    t_backtest = time.perf_counter() - t0
    scores = score_all(bt.table)
    complexity = {m: int(REGISTRY[m].get_tag("complexity")) for m in names}
    doc: dict[str, Any] = {"series": {}}
    for s in inputs:
        rows = {m: summary_row(scores.get((s.id, m), {}), bt.status[(s.id, m)]) for m in names}
        ok = {m: scores[(s.id, m)] for m in names if bt.ok(s.id, m) and (s.id, m) in scores}
        doc["series"][s.id] = {"models": rows, "champion": champion(ok, complexity)}
    if uri is not None:
        t1 = time.perf_counter()
        doc["run_id"] = track_backtest(
            uri, inputs, names, spec, bt, scores, doc, backend, n_jobs, t_backtest
        )
        doc["tracking_uri"] = uri
        doc["seconds"] = {"backtest": t_backtest, "tracking": time.perf_counter() - t1}
    return doc


def track_backtest(
    uri: str,
    inputs: list[SeriesInput],
    names: list[str],
    spec: BacktestSpec,
    bt: BacktestResult,
    scores: dict[tuple[str, str], dict[str, float]],
    doc: dict[str, Any],
    backend: str,
    n_jobs: int,
    seconds: float,
) -> str:
    """Log the parent backtest run and a child per (series, model); returns the parent id.

    The MLflow calls are made by a process of their own (:class:`pipelines.tracking.Tracker`),
    in order, while this one draws the child runs' charts."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tags = {
        "kind": "backtest",
        "code_version": tracking.code_version(),
        "series": ",".join(s.id for s in inputs),
        "champions": ",".join(f"{sid}:{r['champion']}" for sid, r in doc["series"].items()),
    }
    params = {
        **spec.as_params(),
        "models": ",".join(names),
        "backend": backend,
        "n_jobs": n_jobs,
    }
    with tempfile.TemporaryDirectory() as td, tracking.Tracker.start(uri) as tracker:
        root = Path(td)
        # the MLflow process logs each child run while the next one's charts are drawn here
        with tracker.parent_run(uri, f"backtest-{stamp}", tags):
            tracker.call("log_run", {"backtest_seconds": seconds}, params)
            for s in inputs:
                for m in names:
                    tracker.call("log_child", _child(root, s, m, spec, bt, scores, doc))
            parent_dir = root / "_parent"
            parent_dir.mkdir()
            bt.table.to_csv(parent_dir / "backtest.csv", index=False)
            tracker.call("log_artifacts", parent_dir)
    assert tracker.run_id is not None
    return tracker.run_id


def _child(
    root: Path,
    s: SeriesInput,
    m: str,
    spec: BacktestSpec,
    bt: BacktestResult,
    scores: dict[tuple[str, str], dict[str, float]],
    doc: dict[str, Any],
) -> tracking.ChildRecord:
    st = bt.status[(s.id, m)]
    folder = root / f"{s.id}__{m}"
    folder.mkdir()
    sub = bt.table[(bt.table["series"] == s.id) & (bt.table["model"] == m)]
    if len(sub):
        sub.to_csv(folder / "backtest.csv", index=False)
        error_by_horizon(sub, folder / "error_by_horizon.png", f"{s.id} / {m}: MASE by horizon")
        forecast_vs_actual(
            sub, s.y, folder / "forecast_vs_actual.png", f"{s.id} / {m}: backtest forecasts"
        )
    tags: dict[str, Any] = {
        "kind": "backtest",
        "series": s.id,
        "model": m,
        "model_family": REGISTRY[m].get_tag("family"),
        "n_origins": st.get("n_origins", 0),
        "champion": str(doc["series"][s.id]["champion"] == m).lower(),
    }
    if "vintages" in st:
        tags["vintages"] = ";".join(f"{k}={v}" for k, v in st["vintages"].items())
    metrics = dict(scores.get((s.id, m), {}))
    metrics["backtest_seconds"] = bt.seconds.get((s.id, m), float("nan"))
    return tracking.ChildRecord(
        name=f"{s.id}/{m}",
        status=st["status"],
        params={**REGISTRY[m]().get_params(), **spec.as_params()},
        metrics=metrics,
        tags=tags,
        artifacts=folder,
        error=st.get("error"),
    )


def table_frame(doc: dict[str, Any]) -> pd.DataFrame:
    """The per-model rows of a backtest document as one frame (for reports and benchmarks)."""
    rows = []
    for sid, res in doc["series"].items():
        for m, r in res["models"].items():
            rows.append({"series": sid, "model": m, **r, "champion": res["champion"] == m})
    return pd.DataFrame(rows)
