"""The CLI contract: --json shapes, exit codes, one-line errors, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_data_list_json(capsys):
    code, out, _ = run_cli(capsys, "data", "list", "--json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)["series"]}
    c26 = rows["c26_output"]
    assert c26["frequency"] == "Q" and c26["start"] == "2020Q1" and c26["vintage"] == "2026-02-06"
    assert c26["reconstructed"] is False
    assert {"c27_output", "manufacturing_output", "industry_output"} <= set(rows)


def test_data_show_json(capsys):
    code, out, _ = run_cli(capsys, "data", "show", "c26_output", "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["metadata"]["licence"].startswith("Rosstat")
    assert doc["values"][0]["period"] == "2020Q1"
    assert len(doc["values"]) == 24


def test_data_show_any_okved_code(capsys):
    code, out, _ = run_cli(capsys, "data", "show", "okved2_q:27.1", "--json")
    assert code == 0
    assert json.loads(out)["metadata"]["title"].endswith("OKVED2 27.1, quarterly level")


def test_unknown_okved_code_exit_2_names_code(capsys):
    code, out, err = run_cli(capsys, "data", "show", "okved2_q:99.9")
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and "'99.9'" in err and err.count("\n") == 1


def test_models_list_json(capsys):
    code, out, _ = run_cli(capsys, "models", "list", "--json")
    models = {m["name"]: m for m in json.loads(out)["models"]}
    assert code == 0
    assert {"snaive", "ets", "sarimax"} <= set(models)
    assert models["sarimax"]["tags"]["capability:exogenous"] is True
    assert models["snaive"]["params"] == {"sp": None}


def test_backtest_series_json_shape(capsys):
    code, out, _ = run_cli(
        capsys,
        "backtest",
        "--series",
        "c26_output",
        "--models",
        "snaive,sarimax",
        "--origins",
        "3",
        "--json",
    )
    assert code == 0
    res = json.loads(out)["series"]["c26_output"]
    assert set(res) == {"models", "champion"}
    for name in ("snaive", "sarimax"):
        row = res["models"][name]
        assert set(row) == {
            "mase",
            "smape",
            "rmse",
            "coverage_80",
            "coverage_95",
            "winkler_80",
            "pinball",
            "dm_pvalue_vs_snaive",
            "in_mcs",
            "n_origins",
            "status",
            "error",
        }
        assert row["status"] == "ok" and row["n_origins"] == 3 and row["error"] is None
    assert res["champion"] in {"snaive", "sarimax"}


def test_forecast_csv_long_with_exog_json(capsys, tmp_path):
    lines = ["series,period,value,oil"]
    for sid, base in (("a", 10.0), ("b", 50.0)):
        for i in range(16):
            lines.append(f"{sid},{2020 + i // 4}Q{i % 4 + 1},{base + i + (i % 4)},{60 + i}")
        lines += [f"{sid},2024Q1,,80", f"{sid},2024Q2,,81"]
    p = tmp_path / "long.csv"
    p.write_text("\n".join(lines) + "\n")
    code, out, err = run_cli(
        capsys,
        "forecast",
        "--csv",
        str(p),
        "--freq",
        "Q",
        "--models",
        "sarimax",
        "--horizon",
        "2",
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)["series"]
    assert set(doc) == {"a", "b"}
    assert doc["a"]["model"] == "sarimax"
    assert [r["period"] for r in doc["a"]["forecast"]] == ["2024Q1", "2024Q2"]
    assert set(doc["a"]["forecast"][0]) == {"period", "mean", "lo_80", "hi_80", "lo_95", "hi_95"}


def test_forecast_exog_without_future_values_exit_2(capsys, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text(
        "period,value,oil\n"
        + "".join(f"{2020 + i // 4}Q{i % 4 + 1},{10 + i},{60 + i}\n" for i in range(16))
    )
    code, _, err = run_cli(
        capsys, "forecast", "--csv", str(p), "--freq", "Q", "--models", "sarimax", "--horizon", "2"
    )
    assert code == 2
    assert "future values" in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("period,value\n2020Q1,1\n2020Q2,abc\n", "row 3, column 'value'"),
        ("period,amount\n2020Q1,1\n", "missing column 'value'"),
        ("period,value\n2020Q1,1\nlater,2\n", "row 3, column 'period'"),
        ("period,value\n2020Q1,1\n2020Q1,2\n", "repeats"),
        ("period,value\n2020Q1,1\n2020Q3,2\n", "2020Q2 is missing"),
        ("", "not a readable CSV"),
    ],
)
def test_malformed_csv_exit_2(capsys, tmp_path, content, needle):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    code, out, err = run_cli(capsys, "backtest", "--csv", str(p), "--freq", "Q", "--json")
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and needle in err and "bad.csv" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["backtest"], "exactly one of --series"),
        (["backtest", "--csv", "x.csv"], "--freq"),
        (["backtest", "--series", "c26_output", "--models", "nope"], "'nope'"),
        (["backtest", "--series", "nosuch"], "unknown series 'nosuch'"),
        (["backtest", "--series", "c26_output", "--horizon", "0"], "--horizon"),
        (["backtest", "--bogus"], "--bogus"),
        (["run", "--quarter", "2030Q1", "--tracking-uri", "sqlite:////nonexistent/x.db"], "2030Q1"),
        (["data", "show", "c26_output", "--vintage", "yesterday"], "'yesterday'"),
    ],
)
def test_usage_and_input_errors_exit_2(capsys, args, needle):
    code, out, err = run_cli(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and needle in err, err
    assert err.count("\n") == 1


def test_ctrl_c_is_exit_130_with_one_line(capsys, monkeypatch):
    """Ctrl-C in a command: exit 130 and ``error: aborted`` (typer returns the code, not raises)."""
    import features.catalog

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(features.catalog, "load", interrupted)
    code, out, err = run_cli(capsys, "data", "show", "c26_output")
    assert (code, out, err) == (130, "", "error: aborted\n")


def test_console_script_no_traceback(tmp_path):
    exe = Path(sys.executable).with_name("sanctioncast")
    p = tmp_path / "bad.csv"
    p.write_text("period,value\n2020Q1,x\n")
    r = subprocess.run(
        [str(exe), "backtest", "--csv", str(p), "--freq", "Q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("error:")


def test_run_json(capsys, tmp_path, monkeypatch):
    """``run`` makes its MLflow calls in a process of its own, started for the run's URI."""
    from pipelines import tracking

    started: list[str] = []
    trackers: list[tracking.Tracker] = []
    start = tracking.Tracker.start

    def spy(uri: str) -> tracking.Tracker:
        started.append(uri)
        trackers.append(start(uri))
        return trackers[-1]

    monkeypatch.setattr(tracking.Tracker, "start", staticmethod(spy))
    cfg = tmp_path / "run.yml"
    cfg.write_text(
        "series: [c26_output, industry_output]\nmodels: [snaive]\nhorizon: 2\nbacktest: {horizon: 2, origins: 2}\n"
    )
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    code, out, err = run_cli(
        capsys,
        "run",
        "--config",
        str(cfg),
        "--tracking-uri",
        uri,
        "--reports-dir",
        str(tmp_path / "r"),
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["quarter"] == "2025Q4" and doc["run_id"]
    assert started == [uri]
    # the stage's CPU counts the MLflow process's (its calls, and its imports when they were
    # not already made in this test process before it was forked)
    assert doc["cpu_timings"]["tracking"] >= trackers[0].cpu > 0
    assert doc["series"]["industry_output"]["champion"] == "snaive"
    assert Path(doc["report"]).exists()


def test_run_no_track(capsys, tmp_path, monkeypatch):
    cfg = tmp_path / "run.yml"
    cfg.write_text(
        "series: [c26_output]\nmodels: [snaive]\nhorizon: 2\nbacktest: {horizon: 2, origins: 2}\n"
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/store/mlflow.db")
    args = ["run", "--config", str(cfg), "--reports-dir", str(tmp_path / "r"), "--no-track"]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "Not logged to MLflow (--no-track)" in out
    assert not (tmp_path / "store").exists()
    code, _, err = run_cli(capsys, *args, "--tracking-uri", f"sqlite:///{tmp_path}/x.db")
    assert code == 2 and "--tracking-uri goes with tracking" in err and err.count("\n") == 1


def test_fetch_only_series_listed_as_not_fetched(capsys, tmp_path, monkeypatch):
    import shutil

    from features.catalog import catalog_path

    shutil.copy(catalog_path(), tmp_path / "catalog.yml")  # a data folder with nothing fetched
    monkeypatch.setenv("SANCTIONCAST_DATA_DIR", str(tmp_path))
    code, _, err = run_cli(capsys, "data", "show", "mirror_8542_china")
    assert code == 2
    assert "sanctioncast data fetch comtrade" in err and err.count("\n") == 1


def test_data_list_marks_unfetched_series(capsys):
    code, out, _ = run_cli(capsys, "data", "list", "--json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)["series"]}
    mirror = rows["mirror_8542_china"]
    assert mirror["available"] is False and "data fetch comtrade" in mirror["note"]
    assert rows["c26_output"]["available"] is True


def test_console_script_bad_quarter_is_one_line_exit_2():
    exe = Path(sys.executable).with_name("sanctioncast")
    r = subprocess.run(
        [str(exe), "run", "--quarter", "1999Q9"], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 2
    assert r.stderr == "error: --quarter '1999Q9' is not a quarter like 2025Q4\n"
