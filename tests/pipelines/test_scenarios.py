"""The scenario engine: exact conditioning, monotone propagation, converging bands, MLflow, CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from scipy.stats import norm

from features import scenarios as S
from pipelines import scenarios as P
from pipelines import tracking
from pipelines.cli import main

DRAWS = 2000
EXAMPLE = S.scenarios_dir() / "examples" / "chips_40pct_below.yml"
HEADER = """\
name: {name}
description: a scenario written by a test
rationale:
  summary: testing
"""


@pytest.fixture(scope="module")
def engine() -> P.Engine:
    return P.fit_engine(n_draws=DRAWS)


def run(engine: P.Engine, ref: str | Path) -> P.ScenarioResult:
    return P.run_scenario(engine, S.resolve(S.load_scenario(ref), engine.ends))


def write(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / f"{name}.yml"
    p.write_text(HEADER.format(name=name) + textwrap.dedent(body), encoding="utf-8")
    return p


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


# --- conditions ---------------------------------------------------------------------------------


def test_conditioned_path_reproduced_exactly(engine):
    base = run(engine, "baseline")
    res = run(engine, EXAMPLE)
    (cond,) = res.resolved.conditions
    fc = res.forecasts["chip_imports"]
    target = 0.6 * base.forecasts["chip_imports"].loc[list(cond.periods), "mean"]
    for p in cond.periods:
        # every draw sits on the condition, so the mean and both intervals are the value itself
        row = fc.loc[p]
        assert row["mean"] == target[p]
        assert (row[["lo_80", "hi_80", "lo_95", "hi_95"]] == target[p]).all()
    col = [fc.index.get_loc(p) for p in cond.periods]
    draws = res.draws["chip_imports"][:, col]
    assert np.array_equal(draws, np.broadcast_to(target.to_numpy(), draws.shape))
    pct = res.pct_differences["chip_imports"].loc[list(cond.periods), "mean"]
    np.testing.assert_allclose(pct, -40.0, rtol=0, atol=1e-9)


def test_kalman_smoother_gives_the_conditional_mean_and_variance(engine):
    res = run(engine, EXAMPLE)
    (cond,) = res.resolved.conditions
    sm = res.smoothed["chip_imports"]
    fc = res.forecasts["chip_imports"]
    # the smoother reproduces the conditioned values (log scale) with zero variance
    for p in cond.periods:
        assert sm.loc[p, "mean_log"] == pytest.approx(np.log(fc.loc[p, "mean"]), abs=1e-9)
        assert sm.loc[p, "sd_log"] < 1e-6
    # elsewhere the conditioned draws have the smoother's mean and sd (Monte Carlo error only)
    logd = np.log(res.draws["chip_imports"])
    free = [i for i, p in enumerate(fc.index) if p not in cond.periods]
    mc = 4 * sm["sd_log"].to_numpy()[free] / np.sqrt(DRAWS)
    assert np.all(np.abs(logd[:, free].mean(axis=0) - sm["mean_log"].to_numpy()[free]) < mc + 1e-3)
    np.testing.assert_allclose(logd[:, free].std(axis=0), sm["sd_log"].to_numpy()[free], rtol=0.08)
    # the quarter before the condition is pulled towards it (smoothing), the gap barely
    before = cond.periods[0] - 1
    assert (
        fc.loc[before, "mean"]
        < run(engine, "baseline").forecasts["chip_imports"].loc[before, "mean"]
    )


def test_output_condition_and_bound(engine, tmp_path):
    p = write(
        tmp_path,
        "cond_output",
        """\
        conditions:
          - {series: c26_output, kind: fix, relative_to: level, value: 300, period: 4, assumption: t}
          - {series: chip_imports, kind: max, relative_to: level, value: 450, period: 2, assumption: t}
        """,
    )
    res = run(engine, p)
    q4 = engine.ends.origin + 3
    assert res.forecasts["c26_output"].loc[q4, "mean"] == 300.0
    assert res.forecasts["c26_output"].loc[q4, "hi_95"] == 300.0
    q2 = engine.ends.origin + 1
    col = res.forecasts["chip_imports"].index.get_loc(q2)
    chips = res.draws["chip_imports"][:, col]
    assert chips.max() <= 450.0 + 1e-9
    base = res.draws["chip_imports_baseline"][:, col]
    kept = base <= 450.0
    # draws that met the bound are left alone; the others move below it
    np.testing.assert_allclose(chips[kept], base[kept])
    assert kept.mean() < 0.5


# --- propagation ---------------------------------------------------------------------------------


def test_link_falls_back_to_the_labelled_assumption(engine):
    res = run(engine, "loophole_squeeze")
    assert engine.link.check.startswith(("passed", "failed"))
    if not engine.link.passed:
        assert res.link["method"] == "calibrated"
        assert res.link["label"] == "assumption"
        assert res.link["elasticity"]["low"] >= 0
        assert any("assumption" in n for n in res.notes)


@pytest.mark.parametrize("name", ["loophole_squeeze", "china_compliance", "escalation"])
def test_a_squeeze_never_raises_imports_or_output(engine, name):
    res = run(engine, name)
    assert res.link["elasticity"]["central"] >= 0  # a link with a positive sign
    for sid in ("chip_imports", "c26_output"):
        s, b = res.draws[sid], res.draws[f"{sid}_baseline"]
        assert np.all(s <= b * (1 + 1e-12)), sid  # draw by draw, every quarter
        assert (res.differences[sid]["mean"] < 0).any()
    for sid, d in res.differences.items():
        assert (d["hi_95"] <= 1e-9).all(), sid


def test_relaxation_never_lowers_them(engine):
    res = run(engine, "relaxation")
    for sid in ("chip_imports", "c26_output"):
        assert np.all(res.draws[sid] >= res.draws[f"{sid}_baseline"] * (1 - 1e-12))


def test_elasticity_range_widens_the_output_band(engine, tmp_path):
    body = """\
    shocks:
      - {driver: enforcement, channel: china_hk, mode: scale, value: 0.6, start: 1, assumption: t}
    link:
      mode: calibrated
      elasticity: {central: 0.3, low: %s, high: %s, source: test}
    """
    narrow = run(engine, write(tmp_path, "narrow", body % (0.3, 0.3)))
    wide = run(engine, write(tmp_path, "wide", body % (0.0, 1.0)))
    p = engine.ends.origin + 3
    width = {
        k: r.pct_differences["c26_output"].loc[p, "hi_80"]
        - r.pct_differences["c26_output"].loc[p, "lo_80"]
        for k, r in (("narrow", narrow), ("wide", wide))
    }
    assert width["narrow"] < 1e-9 < width["wide"]
    # a fixed elasticity e: output moves by exactly (chip ratio)^e
    chip_ratio = 0.4 * engine.shares["china_hk"]
    assert narrow.pct_differences["c26_output"].loc[p, "mean"] == pytest.approx(
        100 * ((1 - chip_ratio) ** 0.3 - 1), rel=1e-9
    )


def test_simulated_bands_converge_to_the_exact_ones(engine):
    """statsmodels ``simulate`` bands approach the model's exact Gaussian quantiles."""
    res = engine.chips.fitted.result_
    h = 8
    exog = engine.base_exog[:h] if engine.chips.drivers else None
    fc = res.get_forecast(h, exog=exog)
    mu, sd = np.asarray(fc.predicted_mean), np.sqrt(np.asarray(fc.var_pred_mean))
    probs = np.array([0.025, 0.1, 0.9, 0.975])
    exact = np.exp(mu[None, :] + norm.ppf(probs)[:, None] * sd[None, :])
    errors = []
    for n in (100, 400, 3200):
        draws = np.exp(P._simulate(res, h, n, np.random.default_rng(11), exog))
        band = np.quantile(draws, probs, axis=0)
        errors.append(float(np.max(np.abs(band / exact - 1))))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.05


# --- MLflow ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quarterly(engine, tmp_path_factory):
    """One quarterly run with two scenarios (the engine is the module's, memoised)."""
    from pipelines.quarterly import run_quarterly

    tmp = tmp_path_factory.mktemp("qrun")
    cfg = tmp / "run.yml"
    cfg.write_text(
        "series: [c26_output]\nmodels: [snaive]\nhorizon: 4\n"
        "backtest: {horizon: 2, origins: 2}\nn_jobs: 1\n"
        f"scenarios: [baseline, loophole_squeeze]\nscenario_draws: {DRAWS}\n",
        encoding="utf-8",
    )
    uri = f"sqlite:///{tmp}/mlruns/mlflow.db"
    summary = run_quarterly(None, uri, cfg, tmp / "reports")
    return tmp, uri, summary


def test_quarterly_run_has_scenario_children_and_report(quarterly):
    tmp, uri, summary = quarterly
    runs = tracking.read_runs(uri)
    assert set(runs["status"]) == {"FINISHED"}
    kids = runs[runs["tags.mlflow.parentRunId"] == summary["run_id"]]
    scen = kids[kids["tags.kind"] == "scenario"].set_index("tags.scenario")
    assert sorted(scen.index) == ["baseline", "loophole_squeeze"]
    row = scen.loc["loophole_squeeze"]
    assert row["tags.mlflow.runName"] == "scenario/loophole_squeeze"
    assert row["tags.reconstructed"] == "true"
    assert row["tags.link_elasticity_label"] in ("assumption", "estimate")
    assert row["metrics.c26_output_h4_diff_pct"] < 0
    parent = runs[runs["run_id"] == summary["run_id"]].iloc[0]
    assert parent["tags.scenarios"] == "baseline,loophole_squeeze"
    report = tmp / "reports" / summary["quarter"]
    text = (report / "summary.md").read_text()
    assert "## Scenarios" in text and "RECONSTRUCTED" in text and "ASSUMPTION" in text
    assert "| loophole_squeeze | chip_imports (reconstructed) |" in text
    for f in ("scenarios_comparison.png", "scenario_loophole_squeeze.png", "scenarios.csv"):
        assert (report / f).stat().st_size > 1000, f
    assert json.loads((report / "run.json").read_text())["scenarios"]["table"]


def test_scenario_file_round_trips_through_mlflow(quarterly, tmp_path):
    _, uri, _ = quarterly
    runs = tracking.read_runs(uri)
    run_id = runs[runs["tags.mlflow.runName"] == "scenario/loophole_squeeze"]["run_id"].iloc[0]
    client = MlflowClient(uri)
    tags = client.get_run(run_id).data.tags
    arts = {a.path for a in client.list_artifacts(run_id)}
    assert {"loophole_squeeze.yml", "forecast.csv", "driver_paths.csv", "fan_chart.png"} <= arts
    local = tracking.download_artifacts(uri, run_id, "loophole_squeeze.yml", tmp_path / "dl")
    back = S.load_scenario(local)
    original = S.load_scenario("loophole_squeeze")
    assert back.sha256 == tags["scenario_sha256"] == original.sha256
    assert back.spec == original.spec
    S.validate(local)


# --- CLI -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("series", ["chip_imports", "c26_output"])
def test_forecast_scenario_json(capsys, series):
    code, out, err = run_cli(
        capsys, "forecast", "--series", series, "--scenario", "loophole_squeeze", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    sc = doc["scenario"]
    assert sc["name"] == "loophole_squeeze" and len(sc["sha256"]) == 64
    assert sc["link"]["label"] in ("assumption", "estimate")
    res = doc["series"][series]
    assert res["model"] == P.ENGINE_MODEL
    assert res["reconstructed"] is series.startswith("chip_imports")
    fc = res["forecast"]
    assert fc[-1]["period"] == sc["last_period"]
    first = "2024Q3" if series == "chip_imports" else sc["first_period"]
    assert fc[0]["period"] == first
    for r in fc:
        assert r["lo_95"] <= r["lo_80"] <= r["mean"] <= r["hi_80"] <= r["hi_95"]
    diff = res["difference_from_baseline"]
    assert len(diff) == len(fc) and diff[-1]["mean"] < 0 and diff[-1]["hi_95"] <= 0


def test_forecast_scenario_exogenous_route(capsys):
    code, out, err = run_cli(
        capsys,
        "forecast",
        "--series",
        "c27_output",
        "--scenario",
        "escalation",
        "--models",
        "sarimax",
        "--json",
    )
    assert code == 0, err
    res = json.loads(out)["series"]["c27_output"]
    assert res["model"] == "sarimax" and res["route"] == "exogenous paths"
    assert len(res["forecast"]) == 8 and set(res["difference_from_baseline"][0]) == {
        "period",
        "mean",
    }


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["forecast", "--series", "c26_output", "--scenario", "nope"], "not a built-in"),
        (
            ["forecast", "--series", "c26_output", "--scenario", "baseline", "--horizon", "4"],
            "--horizon",
        ),
        (
            ["forecast", "--series", "c27_output", "--scenario", "baseline", "--models", "ets"],
            "'ets'",
        ),
    ],
)
def test_forecast_scenario_errors_exit_2(capsys, args, needle):
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and needle in err and err.count("\n") == 1


def test_scenarios_list_show_validate(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "scenarios", "list", "--json")
    assert code == 0
    assert [r["name"] for r in json.loads(out)["scenarios"]][:5] == list(S.BUILTINS)
    code, out, _ = run_cli(capsys, "scenarios", "show", "china_compliance", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["shocks"][0]["channel"] == "china_hk"
    assert doc["paths"][0]["period"] == doc["first_period"] and doc["paths"][0]["shocked"]
    code, out, _ = run_cli(capsys, "scenarios", "validate", str(EXAMPLE), "--json")
    assert code == 0 and json.loads(out)["valid"] is True
    bad = write(
        tmp_path,
        "bad",
        "shocks:\n  - {driver: gas, mode: add, value: 1, start: 1, assumption: t}\n",
    )
    code, out, err = run_cli(capsys, "scenarios", "validate", str(bad))
    assert code == 2 and out == ""
    assert (
        err
        == f"error: {bad}: field 'shocks.0.driver': unknown driver 'gas'; known: {', '.join(S.DRIVERS)}\n"
    )


def test_long_table_and_rows(engine):
    results = [run(engine, n) for n in ("baseline", "china_compliance")]
    rows = P.table_rows(results)
    assert {(r["scenario"], r["series"], r["h"]) for r in rows} >= {
        ("china_compliance", "c26_output", 8)
    }
    assert all(r["diff"] == 0 for r in rows if r["scenario"] == "baseline")
    table = P.long_table(results)
    assert table["reconstructed"].eq(table["series"].str.startswith("chip_imports")).all()
    assert isinstance(table, pd.DataFrame) and len(table)
