"""Accuracy, calibration and model comparison computed from the long backtest table.

Point and interval scores (``e = y - mean``; each row is one (origin, h) forecast):

* ``mase``: mean(|e| / scale), scale = in-sample seasonal-naive MAE of each origin's training
  window (Hyndman & Koehler 2006), averaged over origins and horizons;
* ``smape``: mean(200 |e| / (|y| + |mean|)), in percent (the M3 competition's definition);
* ``mape``: mean(100 |e| / |y|) over rows with ``y != 0``, in percent;
* ``rmse``: sqrt(mean(e^2)); ``mae``: mean(|e|); ``bias``: mean(mean - y);
* ``coverage_L``: share of actuals inside the L% interval;
* ``winkler_L``: the interval (Winkler 1972) score of the L% interval, ``alpha = 1 - L/100``:
  ``(hi - lo) + (2/alpha)(lo - y) 1{y < lo} + (2/alpha)(y - hi) 1{y > hi}`` (Gneiting &
  Raftery 2007, eq. 43), in the series' units; lower is better;
* ``pinball``: the quantile (pinball) loss ``(y - q)(tau - 1{y < q})`` of the interval bounds
  read as quantiles, ``lo_L`` at ``tau = alpha/2`` and ``hi_L`` at ``1 - alpha/2``, averaged
  over every bound of every level and every row.

Each is reported averaged over all horizons and per horizon (``mase_h1`` ... ``mase_hH``).

Comparison of the models backtested on one series (:func:`compare`), on one loss: the absolute
error scaled by the origin's MASE scale (``ase = |e| / scale``, the terms whose mean is MASE),
so the tests judge what the champion rule ranks. Loss series are per (origin, h) rows, aligned
across models on (``cutoff``, ``period``) and ordered by cutoff then period; rows a model lacks
(an origin dropped for too short a window) are left out of that comparison.

* ``dm_stat_vs_snaive``, ``dm_pvalue_vs_snaive``: Diebold & Mariano (1995) test of equal
  expected loss against the seasonal-naive benchmark, statsmodels' ``diebold_mariano_test``
  with ``criterion="mae"`` on ``y / scale`` and ``mean / scale`` (= the ase loss), ``horizon``
  = the largest h in the table and the Harvey, Leybourne & Newbold (1997) small-sample
  correction (Student t with T-1 df). Forecasts from nearby origins overlap, so the loss
  differential is serially correlated; the Newey-West variance uses statsmodels' default
  ``max(H - 1, ceil(T^(1/3)))`` lags. A negative statistic means a lower loss than the
  benchmark. With a handful of origins the p-value is indicative only.
* ``in_mcs`` (1/0), ``mcs_pvalue``: Hansen, Lunde & Nason (2011) model confidence set,
  ``arch.bootstrap.MCS`` at size 0.10 on the T x k matrix of ase losses (the "R" statistic,
  stationary bootstrap with mean block length H, 1000 replications, seed 0: reproducible).
  With fewer than two models or too few common rows (< 2 H) no model is excluded.

Champion rule (:func:`champion`): among the models inside the confidence set, the lowest mean
MASE; a tie (to 1e-9) goes to the simpler model (lower ``complexity`` tag), then the name.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

POINT_METRICS = ("mase", "smape", "mape", "rmse", "mae", "bias")
BENCHMARK = "snaive"
MCS_SIZE = 0.10
MCS_REPS = 1000
MCS_SEED = 0


def _mean_or_nan(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(a.mean()) if len(a) else float("nan")


def _scores(df: pd.DataFrame, levels: list[str]) -> dict[str, float]:
    y = df["y"].to_numpy(dtype=float)
    f = df["mean"].to_numpy(dtype=float)
    e = y - f
    scale = df["mase_scale"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.abs(y) + np.abs(f)
        smape = np.where(denom > 0, 200.0 * np.abs(e) / denom, 0.0)
        mase = np.abs(e) / scale
        ape = np.where(y != 0, 100.0 * np.abs(e) / np.abs(y), np.nan)
    out = {
        "mase": _mean_or_nan(mase),
        "smape": float(np.mean(smape)),
        "mape": _mean_or_nan(ape),
        "rmse": float(np.sqrt(np.mean(e**2))),
        "mae": float(np.mean(np.abs(e))),
        "bias": float(np.mean(f - y)),
    }
    pinball = []
    for lv in levels:
        lo = df[f"lo_{lv}"].to_numpy(dtype=float)
        hi = df[f"hi_{lv}"].to_numpy(dtype=float)
        alpha = 1.0 - float(lv.replace("_", ".")) / 100.0
        out[f"coverage_{lv}"] = float(np.mean((y >= lo) & (y <= hi)))
        out[f"winkler_{lv}"] = float(np.mean(winkler(y, lo, hi, alpha)))
        pinball += [pinball_loss(y, lo, alpha / 2.0), pinball_loss(y, hi, 1.0 - alpha / 2.0)]
    if pinball:
        out["pinball"] = float(np.mean(np.concatenate(pinball)))
    return out


def winkler(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, alpha: float) -> np.ndarray:
    """Interval score of ``[lo, hi]`` as a ``1 - alpha`` interval, per observation."""
    return (
        (hi - lo)
        + (2.0 / alpha) * np.clip(lo - y, 0.0, None)
        + (2.0 / alpha) * np.clip(y - hi, 0.0, None)
    )


def pinball_loss(y: np.ndarray, q: np.ndarray, tau: float) -> np.ndarray:
    """Quantile loss of ``q`` as the ``tau`` quantile, per observation."""
    d = y - q
    return np.maximum(tau * d, (tau - 1.0) * d)


def interval_levels(table: pd.DataFrame) -> list[str]:
    return [c[3:] for c in table.columns if c.startswith("lo_")]


def score(table: pd.DataFrame) -> dict[str, float]:
    """Scores of one (series, model) slice of the table: averaged and per horizon."""
    if table.empty:
        return {}
    levels = interval_levels(table)
    out = _scores(table, levels)
    for h, grp in table.groupby("h", sort=True):
        for k, v in _scores(grp, levels).items():
            out[f"{k}_h{int(h)}"] = v
    return out


def score_all(
    table: pd.DataFrame, compare_models: bool = True, benchmark: str = BENCHMARK
) -> dict[tuple[str, str], dict[str, float]]:
    """Scores for every (series, model) in the table, with the comparison metrics of
    :func:`compare` merged in (``compare_models=False`` leaves them out)."""
    out = {
        (str(s), str(m)): score(grp)
        for (s, m), grp in table.groupby(["series", "model"], sort=False)
    }
    if compare_models:
        for key, extra in compare(table, benchmark).items():
            out.setdefault(key, {}).update(extra)
    return out


# -- comparison ----------------------------------------------------------------------------------
def loss_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """ase losses of one series' table: rows (cutoff, period) common to every model, columns the
    models in table order, sorted by cutoff then period."""
    if table.empty:
        return pd.DataFrame()
    df = table.assign(ase=(table["y"] - table["mean"]).abs() / table["mase_scale"])
    wide = df.pivot_table(index=["cutoff", "period"], columns="model", values="ase", sort=True)
    models = list(dict.fromkeys(table["model"]))
    return wide.reindex(columns=models).dropna(how="any")


def diebold_mariano(
    table: pd.DataFrame, model: str, benchmark: str = BENCHMARK
) -> dict[str, float]:
    """DM test of ``model`` against ``benchmark`` on one series' table (module docstring)."""
    from statsmodels.tsa.stattools import diebold_mariano_test

    keys = ["cutoff", "period"]
    a = table[table["model"] == model].set_index(keys)
    b = table[table["model"] == benchmark].set_index(keys)
    common = a.index.intersection(b.index).sort_values()
    if len(common) < 3:
        return {}
    a, b = a.loc[common], b.loc[common]
    scale = a["mase_scale"].to_numpy(dtype=float)
    y = a["y"].to_numpy(dtype=float) / scale
    fa = a["mean"].to_numpy(dtype=float) / scale
    fb = b["mean"].to_numpy(dtype=float) / scale
    if not (np.isfinite(y).all() and np.isfinite(fa).all() and np.isfinite(fb).all()):
        return {}
    if np.allclose(np.abs(y - fa), np.abs(y - fb), rtol=0, atol=1e-12):
        return {"dm_stat_vs_snaive": 0.0, "dm_pvalue_vs_snaive": 1.0}
    horizon = int(table["h"].max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = diebold_mariano_test(y, fa, fb, criterion="mae", horizon=horizon, harvey_adj=True)
    stat, p = float(res.statistic), float(res.pvalue)
    if not np.isfinite(p):
        return {}
    return {"dm_stat_vs_snaive": stat, "dm_pvalue_vs_snaive": p}


def model_confidence_set(
    losses: pd.DataFrame, horizon: int, size: float = MCS_SIZE, seed: int = MCS_SEED
) -> dict[str, dict[str, float]]:
    """``{model: {"in_mcs": 1.0|0.0, "mcs_pvalue": p}}`` from a T x k loss matrix."""
    models = list(losses.columns)
    everyone = {m: {"in_mcs": 1.0} for m in models}
    if len(models) < 2 or len(losses) < 2 * max(horizon, 1):
        return everyone
    from arch.bootstrap import MCS

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            mcs = MCS(losses, size=size, reps=MCS_REPS, block_size=max(horizon, 1), seed=seed)
            mcs.compute()
        pvals = mcs.pvalues["Pvalue"]
        included = set(mcs.included)
    except (ValueError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        log.info("model confidence set not computed: %s", exc)
        return everyone
    return {
        m: {"in_mcs": float(m in included), "mcs_pvalue": float(pvals.get(m, np.nan))}
        for m in models
    }


def compare(
    table: pd.DataFrame, benchmark: str = BENCHMARK
) -> dict[tuple[str, str], dict[str, float]]:
    """DM against ``benchmark`` and MCS membership of every (series, model) in the table."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for sid, sub in table.groupby("series", sort=False):
        models = list(dict.fromkeys(sub["model"]))
        horizon = int(sub["h"].max())
        for key, v in model_confidence_set(loss_matrix(sub), horizon).items():
            out[(str(sid), key)] = dict(v)
        for m in models:
            res = out.setdefault((str(sid), m), {"in_mcs": 1.0})
            if m != benchmark and benchmark in models:
                res.update(diebold_mariano(sub, m, benchmark))
    return out


def champion(
    scores: dict[str, dict[str, float]], complexity: dict[str, int], metric: str = "mase"
) -> str | None:
    """Lowest mean ``metric`` among the models inside the model confidence set (``in_mcs``; a
    model without it counts as inside); a tie (to 1e-9) goes to the simpler model (lower
    complexity tag), then the name.

    Models without a finite score are not eligible. Returns ``None`` when no model is eligible.
    """
    eligible = [
        (v[metric], complexity.get(m, 99), m)
        for m, v in scores.items()
        if np.isfinite(v.get(metric, np.nan)) and v.get("in_mcs", 1.0) >= 0.5
    ]
    if not eligible:
        return None
    best = min(e[0] for e in eligible)
    tied = [e for e in eligible if e[0] <= best + 1e-9]
    return min(tied, key=lambda e: (e[1], e[2]))[2]


def summary_row(scores: dict[str, float], status: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of one model's result in ``backtest --json``."""
    keys = [
        "mase",
        "smape",
        "rmse",
        "coverage_80",
        "coverage_95",
        "winkler_80",
        "pinball",
        "dm_pvalue_vs_snaive",
        "in_mcs",
    ]
    row: dict[str, Any] = {k: _finite_or_none(scores.get(k)) for k in keys}
    if row["in_mcs"] is not None:
        row["in_mcs"] = bool(row["in_mcs"])
    row["n_origins"] = int(status.get("n_origins", 0))
    row["status"] = status.get("status", "failed")
    row["error"] = status.get("error")
    return row


def _finite_or_none(v: float | None) -> float | None:
    return float(v) if v is not None and np.isfinite(v) else None
