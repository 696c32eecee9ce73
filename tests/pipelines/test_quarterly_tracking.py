"""The quarterly run end to end, written to a temporary MLflow store and read back."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from features.errors import InputError
from pipelines import tracking
from pipelines.quarterly import run_quarterly


def _config(
    tmp_path: Path, models: str = "[snaive, sarimax]", series: str = "[c26_output]"
) -> Path:
    p = tmp_path / "run.yml"
    p.write_text(
        f"series: {series}\nmodels: {models}\nhorizon: 4\n"
        "backtest: {horizon: 2, origins: 3}\nn_jobs: 1\n",
        encoding="utf-8",
    )
    return p


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    uri = f"sqlite:///{tmp}/mlruns/mlflow.db"
    summary = run_quarterly(None, uri, _config(tmp), tmp / "reports")
    return tmp, uri, summary


def test_summary_and_report(finished):
    tmp, _, summary = finished
    assert summary["quarter"] == "2025Q4"
    res = summary["series"]["c26_output"]
    assert res["champion"] in {"snaive", "sarimax"}
    assert [r["period"] for r in res["forecast"]] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    report = tmp / "reports" / "2025Q4"
    assert (report / "summary.md").read_text().startswith("# sanctioncast quarterly run 2025Q4")
    assert (report / "fan_c26_output.png").stat().st_size > 10_000
    assert json.loads((report / "run.json").read_text())["quarter"] == "2025Q4"
    assert not [
        p for p in report.parent.iterdir() if p.name.startswith(".")
    ]  # no temp folders left


def test_runs_in_mlflow(finished):
    _, uri, summary = finished
    runs = tracking.read_runs(uri)
    assert set(runs["status"]) == {"FINISHED"}
    parent = runs[runs["run_id"] == summary["run_id"]].iloc[0]
    assert parent["tags.quarter"] == "2025Q4"
    assert parent["tags.data_vintage"] == "2026-02-06"
    assert parent["tags.code_version"].startswith("0.")
    children = runs[runs["tags.mlflow.parentRunId"] == summary["run_id"]]
    assert sorted(children["tags.mlflow.runName"]) == ["c26_output/sarimax", "c26_output/snaive"]
    sar = children[children["tags.model"] == "sarimax"].iloc[0]
    assert sar["params.order"] == "(0, 1, 1)"
    assert sar["params.backtest_origins"] == "3"
    assert sar["metrics.mase"] == pytest.approx(
        summary["series"]["c26_output"]["models"]["sarimax"]["mase"]
    )
    assert "metrics.mase_h2" in children.columns
    client = MlflowClient(uri)
    arts = {a.path for a in client.list_artifacts(sar["run_id"])}
    assert {"backtest.csv", "forecast.csv", "fan_chart.png"} <= arts
    assert "report" in {a.path for a in client.list_artifacts(summary["run_id"])}
    run = client.get_run(sar["run_id"])
    ds = run.inputs.dataset_inputs[0].dataset
    assert ds.name == "c26_output"
    assert ds.digest == summary["data"]["c26_output"]["digest"][:36]
    assert run.inputs.dataset_inputs[0].tags[0].value == "training"
    # where the run comes from, as on the parent (what ``start_run(nested=True)`` would tag)
    source = {
        k: v for k, v in parent.items() if k.startswith(("tags.mlflow.source.", "tags.mlflow.user"))
    }
    assert {"tags.mlflow.source.name", "tags.mlflow.user"} <= set(source)
    assert {k: sar[k] for k in source} == source


def test_failed_model_child_is_failed_not_running(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    cfg = tmp_path / "run.yml"
    # 11 annual growth rates: horizon 4 leaves sarimax (needs 8) no origin to train at -> it fails
    cfg.write_text(
        "series: [c26_growth_annual]\nmodels: [snaive, sarimax]\nhorizon: 2\nbacktest: {horizon: 4, origins: 3}\n"
    )
    summary = run_quarterly(None, uri, cfg, tmp_path / "reports")
    runs = tracking.read_runs(uri)
    assert "RUNNING" not in set(runs["status"])
    failed = runs[runs["status"] == "FAILED"]
    assert list(failed["tags.model"]) == ["sarimax"]
    assert "sarimax" in failed.iloc[0]["tags.error"]
    assert summary["series"]["c26_growth_annual"]["models"]["sarimax"]["status"] == "failed"


def _tracker(mode: str, uri: str) -> tracking.Tracker:
    """The calls made here (``run_quarterly``'s default) or by a process of their own (what
    ``sanctioncast run`` passes); forked, that process has the test's monkeypatches."""
    return tracking.Tracker.start(uri) if mode == "process" else tracking.Tracker()


def _crashed_run(tmp_path, monkeypatch, where: str, message: str, mode: str):
    """A quarterly run whose ``tracking.<where>`` raises ``message``; returns the store's runs."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"

    def boom(*a, **k):
        raise RuntimeError(message)

    monkeypatch.setattr(tracking, where, boom)
    cfg = _config(tmp_path, models="[snaive]")
    with _tracker(mode, uri) as tracker, pytest.raises(RuntimeError, match=message):
        run_quarterly(None, uri, cfg, tmp_path / "reports", tracker=tracker)
    return tracking.read_runs(uri)


@pytest.mark.parametrize("mode", ["here", "process"])
def test_crash_inside_parent_marks_it_failed(tmp_path, monkeypatch, mode):
    runs = _crashed_run(tmp_path, monkeypatch, "log_artifacts", "disk full", mode)
    assert "RUNNING" not in set(runs["status"])
    assert "FAILED" in set(runs["status"])
    assert mlflow.active_run() is None


@pytest.mark.parametrize("mode", ["here", "process"])
def test_crash_while_logging_children_leaves_no_report(tmp_path, monkeypatch, mode):
    """The report is written while the child runs are logged; a failure there leaves neither a
    report folder nor a run left RUNNING. In a process of its own the error is raised here at
    the wait before the report goes in place, and no call after it is made."""
    runs = _crashed_run(tmp_path, monkeypatch, "log_child", "store locked", mode)
    assert list(runs["status"]) == ["FAILED"]
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def _runs_by_name(uri: str):
    runs = tracking.read_runs(uri)
    runs["name"] = runs["tags.mlflow.runName"].str.replace(r"^quarterly-.*", "parent", regex=True)
    return runs.set_index("name").sort_index()


def test_a_tracker_process_logs_the_runs_it_would_log_here(tmp_path):
    """The same quarterly run, its MLflow calls made here and by a process of their own: the
    same runs, statuses, params, metrics and artifacts; the process's time is the run's
    ``tracking`` stage."""
    cfg = _config(tmp_path, models="[snaive, ets]")
    got = {}
    for mode in ("here", "process"):
        uri = f"sqlite:///{tmp_path}/{mode}/mlflow.db"
        with _tracker(mode, uri) as tracker:
            summary = run_quarterly(None, uri, cfg, tmp_path / mode, tracker=tracker)
        runs = _runs_by_name(uri)
        assert summary["run_id"] == runs.loc["parent", "run_id"]
        assert summary["cpu_timings"]["tracking"] > 0
        assert set(runs["status"]) == {"FINISHED"}
        client = MlflowClient(uri)
        files = {
            name: sorted(a.path for a in client.list_artifacts(rid))
            for name, rid in runs["run_id"].items()
        }
        keep = [c for c in runs.columns if c.startswith(("metrics.", "params.", "tags.status"))]
        got[mode] = (runs[keep].drop(columns=["params.run_date"], errors="ignore"), files)
    assert got["here"][1] == got["process"][1]
    assert len(got["here"][1]) == 3  # the parent and two child runs
    assert got["here"][0].equals(got["process"][0])


def test_a_tracker_process_ends_a_parent_its_caller_left_open(tmp_path):
    """A caller that stops without ending its parent run (it died, or closed the tracker first):
    the run ends FAILED, not RUNNING."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    tracker = tracking.Tracker.start(uri)
    tracker.call("open_parent", uri, "left", {"kind": "test"})
    tracker.sync()
    assert tracker.run_id is not None
    tracker.close()
    runs = tracking.read_runs(uri)
    assert list(runs["status"]) == ["FAILED"]


def test_ctrl_c_leaves_the_parent_run_to_the_caller(tmp_path):
    """Ctrl-C reaches every process of the terminal's group: the tracker's process goes on, so
    the caller, which stops, ends the parent run (FAILED) through it."""
    import os
    import signal

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    with tracking.Tracker.start(uri) as tracker:
        tracker.sync()  # its process is taking calls (Ctrl-C ignored from then on)
        os.kill(tracker._process.pid, signal.SIGINT)
        with pytest.raises(KeyboardInterrupt), tracker.parent_run(uri, "p", {"kind": "test"}):
            tracker.call("log_run", {"done": 1.0})
            raise KeyboardInterrupt
    runs = tracking.read_runs(uri)
    assert list(runs["status"]) == ["FAILED"] and list(runs["metrics.done"]) == [1.0]


def test_a_tracker_process_that_dies_is_one_clear_error(tmp_path):
    """The MLflow process killed (out of memory, say): the caller's next call or wait raises
    that it ended, and ending the parent run through it does not hide that error."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    tracker = tracking.Tracker.start(uri)
    tracker._process.kill()
    tracker._process.join()
    with pytest.raises(RuntimeError, match="MLflow process ended unexpectedly"):
        tracker.call("log_run", {"m": 1.0})
    tracker.close()
    tracker = tracking.Tracker.start(uri)
    with (
        tracker,
        pytest.raises(RuntimeError, match="MLflow process ended unexpectedly"),
        tracker.parent_run(uri, "p", {"kind": "test"}),
    ):
        tracker._process.kill()
        tracker._process.join()
        tracker.sync()


def test_an_error_that_cannot_be_pickled_reaches_the_caller_by_type_and_message():
    import pickle

    class StoreError(Exception):  # a local class: not picklable
        pass

    try:
        raise StoreError("table locked")
    except StoreError as exc:
        data, where = tracking._error(exc)
    back = pickle.loads(data)
    assert isinstance(back, RuntimeError) and str(back) == "StoreError: table locked"
    assert "raise StoreError" in where


def test_quarter_cut_and_bad_quarter(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    summary = run_quarterly(
        "2024Q4", uri, _config(tmp_path, models="[snaive]"), tmp_path / "reports"
    )
    assert summary["data"]["c26_output"]["end"] == "2024Q4"
    assert summary["series"]["c26_output"]["forecast"][0]["period"] == "2025Q1"
    with pytest.raises(InputError, match="2026Q3"):
        run_quarterly("2026Q3", uri, _config(tmp_path, models="[snaive]"), tmp_path / "reports")
    with pytest.raises(InputError, match="not a quarter"):
        run_quarterly("2024-13", uri, _config(tmp_path, models="[snaive]"), tmp_path / "reports")


def test_bad_config_names_file_and_field(tmp_path):
    cfg = tmp_path / "bad.yml"
    cfg.write_text("series: [c26_output]\nhorizon: zero\n")
    with pytest.raises(InputError, match=r"bad.yml: field 'horizon'"):
        run_quarterly(None, f"sqlite:///{tmp_path}/m.db", cfg, tmp_path / "r")
    cfg.write_text("series: [c26_output]\nmodels: [nosuchmodel]\n")
    with pytest.raises(InputError, match="nosuchmodel"):
        run_quarterly(None, f"sqlite:///{tmp_path}/m.db", cfg, tmp_path / "r")
    cfg.write_text("series: [c26_output]\nn_jobs: 0\n")
    with pytest.raises(InputError, match=r"bad.yml: field 'n_jobs'.*0 workers"):
        run_quarterly(None, f"sqlite:///{tmp_path}/m.db", cfg, tmp_path / "r")


def test_tracking_uri_resolution(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.resolve_tracking_uri() == "sqlite:///mlruns/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///x.db")
    assert tracking.resolve_tracking_uri() == "sqlite:///x.db"
    assert tracking.resolve_tracking_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
    with pytest.raises(InputError, match="file store"):
        tracking.resolve_tracking_uri("mlruns")


def test_a_child_run_that_cannot_be_logged_ends_failed_and_fails_its_parent(tmp_path, monkeypatch):
    """Logging a child's params and metrics fails: the child ends FAILED, not RUNNING, with the
    tags it was created with, and the error reaches the parent, which ends FAILED too."""

    def refused(*a, **k):
        raise RuntimeError("store locked")

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setattr(tracking, "log_batch", refused)
    with (
        pytest.raises(RuntimeError, match="store locked"),
        tracking.parent_run(uri, "p", {"kind": "test"}) as parent_id,
    ):
        tracking.log_child(
            tracking.ChildRecord(
                "c26_output/naive", "ok", {"h": 4}, {"mase": 1.0}, {"model": "naive"}
            )
        )
    runs = tracking.read_runs(uri).set_index("tags.mlflow.runName")
    assert runs["status"].to_dict() == {"p": "FAILED", "c26_output/naive": "FAILED"}
    child = runs.loc["c26_output/naive"]
    assert child["tags.mlflow.parentRunId"] == parent_id
    assert (child["tags.model"], child["tags.status"]) == ("naive", "ok")
    assert mlflow.active_run() is None


def test_mlflow_reports_no_telemetry_unless_the_user_lets_it():
    """MLflow 3 sends usage telemetry by default; importing the tracking module turns it off,
    unless the user's environment says otherwise. Run in a fresh interpreter, outside any CI
    marker (which MLflow honours itself), with a proxy that refuses any connection."""
    import os
    import subprocess
    import sys

    # the variables by which MLflow 3.17 knows CI (``mlflow.telemetry.utils``)
    markers = {
        *("CI", "PYTEST_CURRENT_TEST", "GITHUB_ACTIONS", "CIRCLECI", "GITLAB_CI", "JENKINS_URL"),
        *("TRAVIS", "TF_BUILD", "BITBUCKET_BUILD_NUMBER", "CODEBUILD_BUILD_ARN", "BUILDKITE"),
        *("TEAMCITY_VERSION", "CLOUD_RUN_EXECUTION", "RUNBOT_HOST_URL", "RUNBOT_BUILD_NAME"),
        "RUNBOT_WORKER_ID",
    }
    env = {
        k: v for k, v in os.environ.items() if k not in markers and k != "MLFLOW_DISABLE_TELEMETRY"
    }
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="")
    code = (
        "import os, pipelines.tracking, mlflow\n"
        "from mlflow.telemetry.client import get_telemetry_client\n"
        "from mlflow.telemetry.utils import _is_ci_env_or_testing\n"
        "print(os.environ['MLFLOW_DISABLE_TELEMETRY'], _is_ci_env_or_testing(), get_telemetry_client())"
    )
    root = str(Path(tracking.__file__).parents[1])
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["true", "False", "None"]
    # the user's own setting wins (MLflow is not imported here: it would try to reach its server)
    env["MLFLOW_DISABLE_TELEMETRY"] = "false"
    code = "import os, pipelines.tracking; print(os.environ['MLFLOW_DISABLE_TELEMETRY'])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "false"


def test_secrets_never_logged(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    with tracking.parent_run(uri, "secret-test", {"api_key": "s3cr3t", "kind": "test"}) as run_id:
        tracking.log_batch(run_id, params={"COMTRADE_API_KEY": "s3cr3t", "horizon": 4})
    run = MlflowClient(uri).get_run(run_id)
    assert "s3cr3t" not in json.dumps({**run.data.params, **run.data.tags})
    assert run.data.params["horizon"] == "4"


def test_the_shipped_run_settings_are_valid():
    from pipelines.quarterly import load_config

    cfg = load_config(None)  # conf/quarterly.yml, as `make run` reads it
    spec = cfg.spec()
    assert spec.refit_every == 4 and spec.refit_params
    assert spec.as_params()["backtest_refit"] == "every:4"


def test_with_workers_the_run_overlaps_and_gives_the_same_results(tmp_path):
    """With ``n_jobs: 2`` the backtest and the final fits run on worker processes while this
    process runs the scenarios, draws their charts and opens the store; nothing changes."""

    def config(n_jobs: int) -> Path:
        p = tmp_path / f"run{n_jobs}.yml"
        p.write_text(
            "series: [c26_output]\nmodels: [snaive, theta, ensemble]\nhorizon: 4\n"
            f"backtest: {{horizon: 2, origins: 3}}\nn_jobs: {n_jobs}\n"
            "scenarios: [baseline, loophole_squeeze]\nscenario_draws: 200\n",
            encoding="utf-8",
        )
        return p

    uri = f"sqlite:///{tmp_path}/two/mlflow.db"
    one = run_quarterly(None, f"sqlite:///{tmp_path}/one/mlflow.db", config(1), tmp_path / "r1")
    two = run_quarterly(None, uri, config(2), tmp_path / "r2")
    for key in ("series", "data", "scenarios"):
        assert two[key] == one[key]
    assert {"backtest", "scenarios", "report", "tracking"} <= set(two["timings"])
    report = tmp_path / "r2" / "2025Q4"
    assert {"scenario_baseline.png", "scenarios.csv", "fan_c26_output.png"} <= {
        p.name for p in report.iterdir()
    }
    runs = tracking.read_runs(uri)
    assert set(runs["status"]) == {"FINISHED"}
    assert len(runs) == 1 + 3 + 2  # the parent, a child per model and per scenario


def test_the_clock_pauses_an_outer_stage(monkeypatch):
    from pipelines import quarterly

    now = [0.0]
    monkeypatch.setattr(quarterly.time, "perf_counter", lambda: now[0])
    monkeypatch.setattr(quarterly.time, "thread_time", lambda: now[0] / 2)
    clock = quarterly._Clock()
    with clock("tracking"):
        now[0] += 1.0
        with clock("charts"):
            now[0] += 5.0
        now[0] += 2.0
    with clock("charts"):
        now[0] += 0.5
    assert clock.seconds == {"tracking": 3.0, "charts": 5.5}
    assert clock.cpu == {"tracking": 1.5, "charts": 2.75}


def test_the_sqlite_store_writes_ahead_and_other_databases_do_not(tmp_path):
    import sqlite3

    from sqlalchemy import create_engine, text

    uri = f"sqlite:///{tmp_path}/store/mlflow.db"
    with tracking.parent_run(uri, "wal", {"kind": "test"}) as run_id:
        tracking.log_batch(run_id, metrics={"mase": 1.0})
    with sqlite3.connect(tmp_path / "store" / "mlflow.db") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other = create_engine(f"sqlite:///{tmp_path}/other.db")
    with other.connect() as con:
        assert con.execute(text("PRAGMA journal_mode")).scalar() == "delete"
        assert con.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL, sqlite's default
    other.dispose()
    assert tracking.read_runs(uri)["metrics.mase"].tolist() == [1.0]


def test_untracked_run_writes_the_report_and_leaves_mlflow_alone(finished, monkeypatch):
    tmp, _, tracked = finished
    store = tmp / "untracked" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    summary = run_quarterly(None, None, _config(tmp), tmp / "untracked-reports", track=False)
    assert not store.parent.exists()  # no store opened, none created
    assert summary["run_id"] is None and summary["tracking_uri"] is None
    assert summary["series"] == tracked["series"]  # the same backtest, champion and forecast
    report = tmp / "untracked-reports" / "2025Q4"
    assert (report / "fan_c26_output.png").stat().st_size > 10_000
    assert json.loads((report / "run.json").read_text())["tracking_uri"] is None
    with pytest.raises(InputError, match="--tracking-uri goes with tracking"):
        run_quarterly(None, "sqlite:///x.db", _config(tmp), tmp / "r", track=False)


def _two_series_with_workers(tmp_path: Path) -> Path:
    p = tmp_path / "run2.yml"
    p.write_text(
        "series: [c26_output, c27_output]\nmodels: [snaive, theta]\nhorizon: 4\n"
        "backtest: {horizon: 2, origins: 3}\nn_jobs: 2\n",
        encoding="utf-8",
    )
    return p


def _backtest_calling_back(monkeypatch, after_series):
    """``quarterly.backtest`` whose ``on_series`` runs ``after_series(series_id)`` in the
    backtest's thread once the run has been passed the series."""
    from pipelines import quarterly

    real = quarterly.backtest

    def backtest(*args, on_series, **kwargs):
        def passed(sid, part):
            on_series(sid, part)
            after_series(sid)

        return real(*args, on_series=passed, **kwargs)

    monkeypatch.setattr(quarterly, "backtest", backtest)


def test_a_series_child_runs_are_logged_while_the_backtest_goes_on(tmp_path, monkeypatch):
    """With workers, the first series' child runs are logged before the backtest ends: here the
    backtest waits (up to a minute) after the first series for one of its child runs."""
    import threading

    logged = threading.Event()
    waited: dict[str, bool] = {}
    real_log_child = tracking.log_child

    def log_child(record):
        run_id = real_log_child(record)
        if record.tags.get("series") == "c26_output":
            logged.set()
        return run_id

    def after_series(sid):
        if sid == "c26_output":
            waited[sid] = logged.wait(60)

    monkeypatch.setattr(tracking, "log_child", log_child)
    _backtest_calling_back(monkeypatch, after_series)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    summary = run_quarterly(None, uri, _two_series_with_workers(tmp_path), tmp_path / "reports")
    assert waited == {"c26_output": True}
    runs = tracking.read_runs(uri)
    assert set(runs["status"]) == {"FINISHED"} and len(runs) == 1 + 2 * 2
    assert set(summary["series"]) == {"c26_output", "c27_output"}


def test_a_backtest_failing_after_logged_children_fails_the_parent(tmp_path, monkeypatch):
    """The first series' child runs are logged, then the backtest fails: the parent ends
    FAILED, no run is left RUNNING and no report is written."""

    def after_series(sid):
        if sid == "c26_output":
            raise RuntimeError("worker lost")

    _backtest_calling_back(monkeypatch, after_series)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    with pytest.raises(RuntimeError, match="worker lost"):
        run_quarterly(None, uri, _two_series_with_workers(tmp_path), tmp_path / "reports")
    runs = tracking.read_runs(uri)
    parent = runs[runs["tags.mlflow.parentRunId"].isna()]
    assert list(parent["status"]) == ["FAILED"]
    assert "RUNNING" not in set(runs["status"])
    assert mlflow.active_run() is None
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())
