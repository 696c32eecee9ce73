"""``sanctioncast backtest`` with refit policies, backends, windows, real time and tracking."""

from __future__ import annotations

import json

import pytest
from mlflow.tracking import MlflowClient

from pipelines import tracking
from pipelines.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


BASE = ["backtest", "--series", "c26_output", "--models", "snaive,sarimax", "--origins", "3"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--refit", "sometimes"], "refit policy 'sometimes'"),
        (["--refit", "every:0"], "every:K"),
        (["--backend", "spark"], "--backend 'spark'"),
        (["--backend", "dask"], "--scheduler"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--backend dask"),
        (["--window", "rolling"], "--window 'rolling'"),
        (["--window", "sliding", "--window-length", "1"], "--window-length"),
        (["--tracking-uri", "sqlite:///x.db"], "--track"),
        (["--publication-lag", "-1"], "publication lag"),
    ],
)
def test_backtest_option_errors_exit_2(capsys, args, needle):
    code, out, err = run_cli(capsys, *BASE, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and needle in err, err
    assert err.count("\n") == 1


def test_backtest_refit_never_sliding_json(capsys):
    code, out, err = run_cli(
        capsys, *BASE, "--refit", "never", "--window", "sliding", "--window-length", "16", "--json"
    )
    assert code == 0, err
    res = json.loads(out)["series"]["c26_output"]
    assert res["models"]["sarimax"]["status"] == "ok"
    assert res["models"]["sarimax"]["n_origins"] == 3
    assert res["models"]["sarimax"]["in_mcs"] in (True, False)


def test_backtest_real_time_json(capsys):
    code, out, err = run_cli(
        capsys,
        "backtest",
        "--series",
        "c26_growth_annual",
        "--models",
        "naive",
        "--horizon",
        "2",
        "--origins",
        "1",
        "--real-time",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["series"]["c26_growth_annual"]["models"]["naive"]["status"] == "ok"


def test_backtest_track_logs_parent_and_children(capsys, tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    code, out, err = run_cli(
        capsys, *BASE, "--refit", "every:2", "--track", "--tracking-uri", uri, "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    runs = tracking.read_runs(uri)
    assert set(runs["status"]) == {"FINISHED"}
    parent = runs[runs["run_id"] == doc["run_id"]].iloc[0]
    assert parent["tags.kind"] == "backtest"
    assert parent["params.backtest_refit"] == "every:2"
    assert parent["metrics.backtest_seconds"] > 0
    assert {a.path for a in MlflowClient(uri).list_artifacts(doc["run_id"])} == {"backtest.csv"}
    children = runs[runs["tags.mlflow.parentRunId"] == doc["run_id"]]
    assert sorted(children["tags.mlflow.runName"]) == ["c26_output/sarimax", "c26_output/snaive"]
    sar = children[children["tags.model"] == "sarimax"].iloc[0]
    for metric in ("mase", "mase_h1", "mase_h4", "smape", "coverage_80", "winkler_80", "pinball"):
        assert f"metrics.{metric}" in children.columns
    assert sar["metrics.in_mcs"] in (0.0, 1.0)
    assert 0.0 <= sar["metrics.dm_pvalue_vs_snaive"] <= 1.0
    assert sar["metrics.mase"] == pytest.approx(
        doc["series"]["c26_output"]["models"]["sarimax"]["mase"]
    )
    arts = {a.path for a in MlflowClient(uri).list_artifacts(sar["run_id"])}
    assert {"backtest.csv", "error_by_horizon.png", "forecast_vs_actual.png"} <= arts
    assert doc["seconds"]["tracking"] > 0
