"""Forecasts under a scenario: driver paths, conditional forecasts and chip -> output propagation.

Two routes (the analyst's account is ``scenarios/README.md``):

Scenario engine (``chip_imports``, its channels and ``c26_output``)
    1. **Chip model**: ``log chip_imports`` on the quarterly drivers, a regression with AR(1)
       errors and a constant (statsmodels SARIMAX through :class:`models.sarimax.SARIMAX`),
       fitted on the reconstructed series (2019Q1-2024Q2). Drivers enter as
       ``sanctions_intensity`` (level), ``log brent``, ``log usd_rub``, each with a prior sign
       (-, +, -); a driver whose estimate has the wrong sign is dropped (the one with the largest
       wrong-sign t first) and the model refitted, so a scenario never moves chips the wrong way
       because of a fitted coefficient.
    2. **Channels**: the latest annual share of each channel with evidence
       (:func:`features.chips.channel_shares`; the rest of the total is "other third
       countries"); an enforcement shock multiplies its channel's flow, so the total is
       ``F_t (s_other + sum_c s_c m_ct)`` with ``F`` the chip model's flow.
    3. **Output model**: ``log c26_output``, the airline model ARIMA(0,1,1)(0,1,1)_4, fitted on
       2020Q1 to the last quarter; it is the scenario baseline for output.
    4. **Link**: an ARDL(1, 0) of ``log c26_output`` on ``log chip_imports`` with seasonal
       dummies, estimated on the overlap of the two series (2020Q1-2024Q2, 18 quarters). Its
       short-run elasticity must pass the prior check (>= 0, one-sided 5% significant, stable
       lag); otherwise (``link.mode: auto``) a calibrated elasticity with a range is used,
       labelled as an assumption (:data:`features.scenarios.DEFAULT_ELASTICITY`). Output in a
       scenario is the baseline draw times ``exp(effect)``, ``effect_t = e (log chips_scen,t -
       log chips_base,t)`` (calibrated, static) or the fitted ARDL's dynamic multiplier.
    5. **Overlap**: chips end 2024Q2 and output runs to 2025Q4, so chips are forecast from their
       own end (2024Q3) with observed drivers through the gap, and scenario shocks start at the
       earliest in the first quarter after output's last observation; the chip deviation from
       baseline is therefore zero until the scenario window, and output's baseline uses all of
       its data (the link needs only the overlap).

    Uncertainty by simulation with common random numbers: ``n_draws`` baseline paths of both
    models (statsmodels ``simulate``, anchored at the end of each sample, seeded), the chip
    model's driver coefficients drawn from their estimated normal distribution (truncated at
    zero on the side the prior sign excludes), and the
    elasticity drawn from its range, all shared by every scenario. A scenario's draws are the
    baseline draws moved by the scenario (exact for these linear models), so each difference
    from baseline has its own interval.

    **Conditions** (``fix``, ``max``, ``min``) are imposed in state-space form: the conditioned
    future values go into the model's data, every other future value stays missing, and the
    Kalman smoother gives the conditional mean and variance (Waggoner and Zha 1999; exact for a
    linear Gaussian model). The smoother's response to each conditioned value gives the gain
    ``K``; each draw is then conditioned by ``z + K (v - z_A)`` (Matheron's rule, exact for the
    model's Gaussian draws), so a fixed path is reproduced exactly by every draw. A bound keeps
    the draws that meet it and moves the others to a value drawn from the truncated normal of
    that quarter (exact for one bound; several bounds are met by repeated passes).

Exogenous-path route (any other series, ``--csv``, or ``--models`` given)
    Registered models that take future regressors (``sarimax``, ``ardl``, ``ridge_lags``,
    ``gbm_lags``, ...) are fitted on the drivers' history and forecast on the scenario's driver
    paths and on the baseline paths; the difference of the two means is reported (no interval:
    it depends only on the fitted coefficients). Enforcement has no history and conditions need
    the engine, so neither acts here.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import truncnorm

from features.catalog import get_catalog, load, pick_vintage
from features.chips import CHANNELS, reconstruct
from features.errors import InputError
from features.scenarios import (
    MAX_HORIZON,
    OBSERVED_DRIVERS,
    QFREQ,
    DataEnds,
    DriverHistory,
    DriverPaths,
    Elasticity,
    LoadedScenario,
    ResolvedScenario,
    baseline_paths,
    driver_history,
    driver_paths,
    enforcement_column,
    resolve,
    sources_not_in_evidence,
)
from models.ardl import ARDL
from models.base import ModelRefusal, _fmt_level
from models.registry import REGISTRY, get_model
from models.sarimax import SARIMAX
from pipelines.backtest import BacktestSpec, SeriesInput, backtest
from pipelines.forecast import forecast_records
from pipelines.metrics import champion, score_all

log = logging.getLogger(__name__)

DEFAULT_DRAWS = 2000
DEFAULT_SEED = 20260101
LEVELS: tuple[int, ...] = (80, 95)
CHIP_SERIES: tuple[str, ...] = ("chip_imports", *(f"chip_imports_{c}" for c in CHANNELS))
ENGINE_SERIES: tuple[str, ...] = (*CHIP_SERIES, "c26_output")
ENGINE_MODEL = "scenario_engine"
#: chip-model drivers: (transform, prior sign of the coefficient)
CHIP_DRIVERS: dict[str, tuple[str, int]] = {
    "sanctions_intensity": ("level", -1),
    "brent": ("log", 1),
    "usd_rub": ("log", -1),
}
CHIP_ORDER = (1, 0, 0)
#: one-sided 5% critical value of the prior check on the fitted short-run elasticity
PRIOR_Z = 1.6448536269514722
#: table horizons (quarters into the scenario window)
TABLE_HORIZONS = (4, 8)
MAX_BOUND_PASSES = 50


# --- the fitted engine ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChipModel:
    """The fitted chip model and what its driver selection did."""

    fitted: SARIMAX
    drivers: tuple[str, ...]
    coef: dict[str, tuple[float, float]]
    dropped: dict[str, str]

    def describe(self) -> dict[str, Any]:
        terms = ", ".join(_term(d) for d in self.drivers) or "no driver"
        return {
            "model": f"log chip_imports = c + {terms} + AR(1) errors (SARIMAX{CHIP_ORDER})",
            "drivers": {
                d: {"coef": c, "se": s, "term": _term(d)} for d, (c, s) in self.coef.items()
            },
            "dropped": dict(self.dropped),
            "sample": f"{self.fitted.start_}-{self.fitted.cutoff_}",
        }


@dataclass(frozen=True)
class LinkEstimate:
    """The ARDL(1, 0) link of log output on log chip imports over the overlap, and its check."""

    short_run: float
    se: float
    ar: float
    n_obs: int
    sample: str
    passed: bool
    check: str

    def record(self) -> dict[str, Any]:
        return {
            "model": "ARDL(1,0): log c26_output on its lag, log chip_imports and seasonal dummies",
            "short_run_elasticity": self.short_run,
            "se": self.se,
            "lag_coefficient": self.ar,
            "n_obs": self.n_obs,
            "sample": self.sample,
            "prior_check": self.check,
        }


@dataclass(frozen=True)
class Engine:
    """Everything fitted once and shared by all scenarios (and their common random numbers)."""

    history: DriverHistory
    chip_y: pd.Series
    c26_y: pd.Series
    chip_meta: dict[str, Any]
    c26_meta: dict[str, Any]
    chips: ChipModel
    c26: SARIMAX
    link: LinkEstimate
    shares: dict[str, float]
    share_years: dict[str, int]
    chip_index: pd.PeriodIndex
    c26_index: pd.PeriodIndex
    base_exog: np.ndarray
    base_chips: np.ndarray
    base_c26: np.ndarray
    beta: np.ndarray
    u_elasticity: np.ndarray
    z_link: np.ndarray
    n_draws: int
    seed: int

    @property
    def ends(self) -> DataEnds:
        return self.history.ends

    @property
    def other_share(self) -> float:
        return 1.0 - sum(self.shares.values())

    def describe(self) -> dict[str, Any]:
        return {
            "origin": str(self.ends.origin),
            "chip_data_end": str(self.ends.series["chip_imports"]),
            "c26_data_end": str(self.ends.series["c26_output"]),
            "chip_model": self.chips.describe(),
            "c26_model": "log c26_output: airline ARIMA(0,1,1)(0,1,1)_4 (SARIMAX)",
            "link_estimate": self.link.record(),
            "channel_shares": {
                c: {"share": s, "year": self.share_years[c]} for c, s in self.shares.items()
            },
            "other_share": self.other_share,
            "draws": self.n_draws,
            "seed": self.seed,
        }


def _term(driver: str) -> str:
    how, _ = CHIP_DRIVERS[driver]
    return f"log {driver}" if how == "log" else driver


def _transform(frame: pd.DataFrame, drivers: tuple[str, ...]) -> np.ndarray:
    cols = []
    for d in drivers:
        v = frame[d].to_numpy(dtype=float)
        cols.append(np.log(v) if CHIP_DRIVERS[d][0] == "log" else v)
    return np.column_stack(cols) if cols else np.empty((len(frame), 0))


def fit_chip_model(y_log: pd.Series, drivers: pd.DataFrame) -> ChipModel:
    """Sign-restricted driver selection (module docstring, step 1)."""
    keep = [d for d in CHIP_DRIVERS if d in drivers.columns]
    dropped: dict[str, str] = {}
    while True:
        X = pd.DataFrame(_transform(drivers, tuple(keep)), index=y_log.index, columns=keep)
        m = SARIMAX(order=CHIP_ORDER, seasonal_order=(0, 0, 0), trend="c")
        m.fit(y_log, X if keep else None)
        params = np.asarray(m.result_.params, dtype=float)
        bse = np.asarray(m.result_.bse, dtype=float)
        # statsmodels' order: trend, exog, ar, sigma2
        coef = {d: (float(params[1 + i]), float(bse[1 + i])) for i, d in enumerate(keep)}
        wrong = {
            d: c / s if s > 0 else np.inf
            for d, (c, s) in coef.items()
            if np.sign(c) == -CHIP_DRIVERS[d][1]
        }
        if not wrong:
            return ChipModel(m, tuple(keep), coef, dropped)
        worst = max(wrong, key=lambda d: abs(wrong[d]))
        c, s = coef[worst]
        sign = "positive" if CHIP_DRIVERS[worst][1] > 0 else "negative"
        dropped[worst] = (
            f"wrong sign: {_term(worst)} coefficient {c:.4g} (se {s:.3g}); the prior is {sign}"
        )
        keep.remove(worst)


def fit_link(c26_log: pd.Series, chip_log: pd.Series) -> LinkEstimate:
    """ARDL(1, 0) on the overlap and the prior check (module docstring, step 4)."""
    overlap = c26_log.index.intersection(chip_log.index)
    y = c26_log.loc[overlap].rename("c26")
    X = pd.DataFrame({"chips": chip_log.loc[overlap].to_numpy()}, index=overlap)
    sample = f"{overlap[0]}-{overlap[-1]}"
    try:
        m = ARDL(lags=1, order=0, select=False, trend="c", seasonal=True).fit(y, X)
    except (ModelRefusal, InputError) as exc:
        return LinkEstimate(np.nan, np.nan, np.nan, len(overlap), sample, False, f"failed: {exc}")
    params, bse = m.result_.params, m.result_.bse
    b, se = float(params["chips.L0"]), float(bse["chips.L0"])
    ar = float(params["c26.L1"]) if "c26.L1" in params else 0.0
    if b < 0:
        check = f"failed: short-run elasticity {b:.3f} (se {se:.3f}) is negative; the prior is >= 0"
    elif not b / se >= PRIOR_Z:
        check = (
            f"failed: short-run elasticity {b:.3f} (se {se:.3f}) not identified "
            f"(t = {b / se:.2f} < {PRIOR_Z:.3f})"
        )
    elif abs(ar) >= 1:
        check = f"failed: output lag coefficient {ar:.3f} makes the link unstable"
    else:
        check = "passed"
    return LinkEstimate(b, se, ar, len(overlap), sample, check == "passed", check)


def _latest_shares(as_of_year: int) -> tuple[dict[str, float], dict[str, int]]:
    table = reconstruct().shares
    shares, years = {}, {}
    for ch in CHANNELS:
        rows = table[(table["channel"] == ch) & (table["year"] <= as_of_year)]
        if len(rows):
            row = rows.loc[rows["year"].idxmax()]
            shares[ch], years[ch] = float(row["share"]), int(row["year"])
        else:
            shares[ch], years[ch] = 0.0, 0
    return shares, years


def _simulate(
    result: Any, h: int, n: int, rng: np.random.Generator, exog: Any = None
) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sims = result.simulate(h, repetitions=n, anchor="end", exog=exog, rng=rng)
    # C order: every later array shares it, so means over draws add in the same order
    return np.ascontiguousarray(np.asarray(sims, dtype=float).reshape(h, n).T)


def _data_key() -> tuple[str, ...]:
    cat = get_catalog()
    return tuple(
        pick_vintage(cat.sources[cat.series[s].source]).release.isoformat()
        for s in (*OBSERVED_DRIVERS, "chip_imports", "c26_output")
    )


def fit_engine(
    as_of: pd.Period | str | None = None, n_draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED
) -> Engine:
    """Fit the scenario engine once; every scenario then runs on it (memoised per process).

    Parameters
    ----------
    as_of : cut every series at this quarter (``None``: all data, including the months of
        Brent and USD/RUB published after the last output quarter).
    n_draws : simulated paths shared by every scenario (>= 100).
    seed : seed of every random stream (paths, coefficient and elasticity draws).

    Returns
    -------
    Engine
        The fitted chip model, output model and link, the channel shares and the baseline draws.
    """
    if n_draws < 100:
        raise InputError(f"draws must be >= 100 for stable bands, got {n_draws}")
    return _fit_engine(None if as_of is None else str(as_of), int(n_draws), int(seed), _data_key())


@lru_cache(maxsize=4)
def _fit_engine(as_of: str | None, n_draws: int, seed: int, key: tuple[str, ...]) -> Engine:
    history = driver_history(as_of)
    ends = history.ends
    chip_data, c26_data = load("chip_imports"), load("c26_output")
    chip_y = chip_data.values[chip_data.values.index <= ends.series["chip_imports"]]
    c26_y = c26_data.values[c26_data.values.index <= ends.series["c26_output"]]
    chip_log, c26_log = np.log(chip_y), np.log(c26_y)
    chips = fit_chip_model(chip_log, history.values.loc[chip_y.index])
    c26 = SARIMAX().fit(c26_log)
    link = fit_link(c26_log, chip_log)
    last = ends.origin + (MAX_HORIZON - 1)
    chip_index = pd.period_range(chip_y.index[-1] + 1, last, freq=QFREQ)
    c26_index = pd.period_range(ends.origin, last, freq=QFREQ)
    base, _ = baseline_paths(history, last)
    base_exog = _transform(base.loc[chip_index], chips.drivers)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    base_chips = _simulate(
        chips.fitted.result_,
        len(chip_index),
        n_draws,
        streams[0],
        base_exog if chips.drivers else None,
    )
    base_c26 = _simulate(c26.result_, len(c26_index), n_draws, streams[1])
    k = len(chips.drivers)
    if k:
        cov = np.asarray(chips.fitted.result_.cov_params(), dtype=float)[1 : 1 + k, 1 : 1 + k]
        mean = np.array([chips.coef[d][0] for d in chips.drivers])
        beta = streams[2].multivariate_normal(mean, cov, size=n_draws, method="eigh")
        # the sign restriction holds draw by draw too: a draw past zero is set to zero
        prior = np.array([CHIP_DRIVERS[d][1] for d in chips.drivers])
        beta = np.where(prior > 0, np.maximum(beta, 0.0), np.minimum(beta, 0.0))
    else:
        beta = np.empty((n_draws, 0))
    shares, years = _latest_shares(int(ends.origin.year) - 1)
    return Engine(
        history=history,
        chip_y=chip_y,
        c26_y=c26_y,
        chip_meta=chip_data.metadata(),
        c26_meta=c26_data.metadata(),
        chips=chips,
        c26=c26,
        link=link,
        shares=shares,
        share_years=years,
        chip_index=chip_index,
        c26_index=c26_index,
        base_exog=base_exog,
        base_chips=base_chips,
        base_c26=base_c26,
        beta=beta,
        u_elasticity=streams[3].uniform(size=n_draws),
        z_link=streams[4].standard_normal(n_draws),
        n_draws=n_draws,
        seed=seed,
    )


# --- conditioning -----------------------------------------------------------------------------------


def smoothed(result: Any, y: np.ndarray, exog: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Kalman-smoothed mean and variance of the model's future observations given ``y``.

    Parameters
    ----------
    result : fitted statsmodels state-space results (SARIMAX).
    y : the ``h`` future periods: conditioned values, NaN elsewhere (missing observations).
    exog : future exogenous values for those periods, or ``None``.

    Returns
    -------
    (mean, variance)
        Per future period. The model is extended by these periods with its parameters fixed, so
        the smoother conditions on the whole history and on the conditioned values; a
        conditioned period has its value as mean and zero variance.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ext = result.extend(y, exog=exog)
        pred = ext.get_prediction(start=0, end=len(y) - 1, information_set="smoothed")
    return np.asarray(pred.predicted_mean, dtype=float), np.asarray(pred.var_pred_mean, dtype=float)


def smoother_gain(
    result: Any, exog: np.ndarray | None, h: int, fixed: list[int], vary: list[int]
) -> np.ndarray:
    """``d E[path | conditions] / d value`` for each period in ``vary`` (``fixed`` held), by
    the smoother: the conditional mean is affine in the conditioned values."""
    y = np.full(h, np.nan)
    y[fixed + vary] = 0.0
    m0, _ = smoothed(result, y, exog)
    cols = []
    for c in vary:
        y1 = y.copy()
        y1[c] = 1.0
        cols.append(smoothed(result, y1, exog)[0] - m0)
    return np.column_stack(cols) if cols else np.empty((h, 0))


@dataclass(frozen=True)
class Target:
    """One conditioned quarter on the model's log scale."""

    column: int
    kind: str
    value: float
    label: str
    #: the target on the series' own scale (a fixed level is written back exactly after exp)
    level: float = np.nan


def condition_draws(
    draws: np.ndarray,
    targets: list[Target],
    result: Any,
    exog: np.ndarray | None,
    rng: np.random.Generator,
    where: str,
) -> np.ndarray:
    """Impose ``fix`` / ``max`` / ``min`` targets on simulated log-scale paths.

    Parameters
    ----------
    draws : ``(n_draws, h)`` unconditional paths on the model's scale (plus any fixed offset).
    targets : conditioned quarters (column, kind, value on the scale of ``draws``).
    result, exog : the state-space model whose smoother gives the gains.
    rng : random stream for the truncated-normal draws of bounds.
    where : file and field prefix for an error.

    Returns
    -------
    np.ndarray
        Conditioned paths: ``z + K (v - z_A)`` for ``fix`` (every path reproduces ``v``
        exactly); for a bound, paths that break it move to a truncated-normal value.
    """
    if not targets:
        return draws
    out = draws.copy()
    h = out.shape[1]
    eq = [t for t in targets if t.kind == "fix"]
    A = [t.column for t in eq]
    v = np.array([t.value for t in eq])
    if eq:
        K = smoother_gain(result, exog, h, [], A)
        out += (v[None, :] - out[:, A]) @ K.T
        out[:, A] = v  # the smoother reproduces them to rounding; make it exact
    bounds = [t for t in targets if t.kind != "fix"]
    if not bounds:
        return out
    gains = {t.column: smoother_gain(result, exog, h, A, [t.column])[:, 0] for t in bounds}
    stats = {
        t.column: (float(out[:, t.column].mean()), float(out[:, t.column].std())) for t in bounds
    }
    for _ in range(MAX_BOUND_PASSES):
        moved = False
        for t in bounds:
            col = out[:, t.column]
            bad = col > t.value if t.kind == "max" else col < t.value
            if not bad.any():
                continue
            moved = True
            mu, sd = stats[t.column]
            sd = max(sd, 1e-9)
            a, b = (
                (-np.inf, (t.value - mu) / sd) if t.kind == "max" else ((t.value - mu) / sd, np.inf)
            )
            w = truncnorm.rvs(a, b, loc=mu, scale=sd, size=int(bad.sum()), random_state=rng)
            out[bad] += (w - col[bad])[:, None] * gains[t.column][None, :]
            if A:
                out[:, A] = v
        if not moved:
            return out
    raise InputError(
        f"{where}: the bounds cannot all be met together (checked {MAX_BOUND_PASSES} passes)"
    )


# --- one scenario ---------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    """A scenario's forecasts (contract frames), differences from baseline and what was used."""

    resolved: ResolvedScenario
    paths: DriverPaths
    forecasts: dict[str, pd.DataFrame]
    differences: dict[str, pd.DataFrame]
    pct_differences: dict[str, pd.DataFrame]
    link: dict[str, Any]
    notes: list[str]
    #: Kalman-smoothed conditional mean and sd (log scale, parameters at their estimates) of
    #: each conditioned series
    smoothed: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: level draws of chip_imports and c26_output (n_draws x periods) and of their baselines
    draws: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.resolved.name

    @property
    def loaded(self) -> LoadedScenario:
        return self.resolved.loaded


def summarize(
    draws: np.ndarray,
    index: pd.PeriodIndex,
    levels: tuple[int, ...] = LEVELS,
    mean: np.ndarray | None = None,
) -> pd.DataFrame:
    """Mean and equal-tailed intervals of draws, in the forecast contract's columns.

    ``mean`` overrides the draws' mean (percent differences: the difference of the means over
    the baseline mean); an interval is widened to contain it if needed, so intervals nest.
    """
    if mean is None:
        spread = np.ptp(draws, axis=0)
        mean = np.where(spread == 0, draws[0], draws.mean(axis=0))
    out = {"mean": mean}
    for lv in levels:
        tail = (100 - lv) / 200.0
        lo, hi = np.quantile(draws, [tail, 1 - tail], axis=0)
        out[f"lo_{_fmt_level(lv)}"] = np.minimum(lo, mean)
        out[f"hi_{_fmt_level(lv)}"] = np.maximum(hi, mean)
    frame = pd.DataFrame(out, index=index)
    frame.index.name = "period"
    return frame


def elasticity_draws(e: Elasticity, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws of the calibrated elasticity from common uniforms ``u``."""
    lo, mode, hi = e.low, e.central, e.high
    if hi <= lo:
        return np.full_like(u, lo)
    if e.distribution == "uniform":
        return lo + u * (hi - lo)
    c = (mode - lo) / (hi - lo)
    return np.where(
        u < c,
        lo + np.sqrt(u * (hi - lo) * (mode - lo)),
        hi - np.sqrt((1 - u) * (hi - lo) * (hi - mode)),
    )


def _link_choice(engine: Engine, resolved: ResolvedScenario) -> dict[str, Any]:
    spec = resolved.spec.link
    est = engine.link
    method = spec.mode
    if method == "auto":
        method = "fitted" if est.passed else "calibrated"
    if method == "fitted" and not np.isfinite(est.short_run):
        raise InputError(
            f"{resolved.loaded.path}: field 'link.mode': the link could not be fitted ({est.check})"
        )
    e = spec.elasticity
    out: dict[str, Any] = {"mode": spec.mode, "method": method, "estimate": est.record()}
    if method == "calibrated":
        mean = (
            (e.low + e.central + e.high) / 3
            if e.distribution == "triangular"
            else (e.low + e.high) / 2
        )
        out.update(
            label="assumption" if e.basis == "assumption" else "calibrated (published)",
            elasticity={
                "central": e.central,
                "low": e.low,
                "high": e.high,
                "distribution": e.distribution,
                "mean": mean,
                "basis": e.basis,
                "source": e.source,
            },
        )
    else:
        out.update(
            label="estimate",
            elasticity={
                "central": est.short_run,
                "se": est.se,
                "lag_coefficient": est.ar,
                "basis": "estimate",
                "source": f"ARDL(1,0) on {est.sample}; prior check {est.check}",
            },
        )
    return out


def _targets(
    resolved: ResolvedScenario,
    series: str,
    index: pd.PeriodIndex,
    base_levels: np.ndarray,
    offset: np.ndarray,
) -> list[Target]:
    """The scenario's conditions on ``series`` as log-scale targets of the model (``offset``:
    what the scenario adds to the model's log path outside the model, e.g. channel shocks)."""
    out = []
    base_mean = base_levels.mean(axis=0)
    for c in resolved.conditions:
        if c.series != series:
            continue
        for p in c.periods:
            col = index.get_loc(p)
            assert isinstance(col, int)
            level = (
                base_mean[col] * (1 + c.value / 100.0) if c.relative_to == "baseline" else c.value
            )
            out.append(
                Target(
                    col, c.kind, float(np.log(level)) - float(offset[col]), f"{series} {p}", level
                )
            )
    return out


def run_scenario(engine: Engine, resolved: ResolvedScenario) -> ScenarioResult:
    """Forecasts of chip imports (total, channels) and C26 output under one scenario.

    Parameters
    ----------
    engine : the fitted engine (:func:`fit_engine`).
    resolved : the scenario placed against the engine's data ends
        (:func:`features.scenarios.resolve`).

    Returns
    -------
    ScenarioResult
        Contract-shaped forecast frames per series, differences from baseline in levels and in
        percent (each with 80% and 95% intervals), the driver paths, the link used and notes.
    """
    paths = driver_paths(resolved, engine.history)
    last = resolved.last
    chip_idx = engine.chip_index[engine.chip_index <= last]
    c26_idx = engine.c26_index[engine.c26_index <= last]
    hc, hq = len(chip_idx), len(c26_idx)
    rng = np.random.default_rng(np.random.SeedSequence([engine.seed, 7]))
    notes: list[str] = []

    # chips: the model's flow under the scenario's drivers, then the channel multipliers
    drivers = engine.chips.drivers
    scen_exog = _transform(paths.scenario.loc[chip_idx], drivers)
    d_exog = scen_exog - engine.base_exog[:hc]
    base_log = engine.base_chips[:, :hc]
    mult = paths.scenario.loc[chip_idx, [enforcement_column(c) for c in CHANNELS]].to_numpy(
        dtype=float
    )
    share = np.array([engine.shares[c] for c in CHANNELS])
    # s_other + sum_c s_c m_c with s_other = 1 - sum_c s_c, written so that the baseline
    # (every m = 1) is exactly 1
    mix = 1.0 + (mult - 1.0) @ share
    log_mix = np.log(np.maximum(mix, 1e-12))
    z = base_log + engine.beta @ d_exog.T + log_mix[None, :]
    where = f"{resolved.loaded.path}: conditions"
    chip_res = engine.chips.fitted.result_
    exog_k = scen_exog if drivers else None
    targets = _targets(resolved, "chip_imports", chip_idx, np.exp(base_log), log_mix)
    smoothed_out: dict[str, pd.DataFrame] = {}
    if targets:
        z = condition_draws(z, [_shift(t, log_mix) for t in targets], chip_res, exog_k, rng, where)
        smoothed_out["chip_imports"] = _smoothed_frame(
            chip_res, targets, hc, exog_k, log_mix, chip_idx
        )
    chip_levels = _exact(np.exp(z), targets)
    chip_base_levels = np.exp(base_log)

    # output: baseline draws moved by the chip deviation through the link
    link = _link_choice(engine, resolved)
    dev = (z - base_log)[:, chip_idx.get_indexer(c26_idx)]
    if link["method"] == "calibrated":
        eps = elasticity_draws(resolved.spec.link.elasticity, engine.u_elasticity)
        effect = eps[:, None] * dev
    else:
        b = np.maximum(0.0, engine.link.short_run + engine.link.se * engine.z_link)
        effect = np.zeros_like(dev)
        for t in range(hq):
            prev = effect[:, t - 1] if t else 0.0
            effect[:, t] = engine.link.ar * prev + b * dev[:, t]
    base_q = engine.base_c26[:, :hq]
    w = base_q + effect
    q_targets = _targets(resolved, "c26_output", c26_idx, np.exp(base_q), np.zeros(hq))
    if q_targets:
        w = condition_draws(w, q_targets, engine.c26.result_, None, rng, where)
        smoothed_out["c26_output"] = _smoothed_frame(
            engine.c26.result_, q_targets, hq, None, np.zeros(hq), c26_idx
        )
    c26_levels = _exact(np.exp(w), q_targets)
    c26_base_levels = np.exp(base_q)

    forecasts: dict[str, pd.DataFrame] = {}
    diffs: dict[str, pd.DataFrame] = {}
    pcts: dict[str, pd.DataFrame] = {}

    def add(sid: str, lev: np.ndarray, base: np.ndarray, idx: pd.PeriodIndex) -> None:
        forecasts[sid] = summarize(lev, idx)
        diffs[sid] = summarize(lev - base, idx)
        # percent: the mean is the difference of the means over the baseline mean (a fixed
        # "40% below baseline" reads -40); the interval is the draw-by-draw percent difference
        pct_mean = 100.0 * (lev.mean(axis=0) / base.mean(axis=0) - 1.0)
        pcts[sid] = summarize(100.0 * (lev / base - 1.0), idx, mean=pct_mean)

    add("chip_imports", chip_levels, chip_base_levels, chip_idx)
    for j, ch in enumerate(CHANNELS):
        if engine.share_years[ch] == 0:
            continue
        part = share[j] * mult[:, j] / mix
        add(
            f"chip_imports_{ch}", chip_levels * part[None, :], chip_base_levels * share[j], chip_idx
        )
    add("c26_output", c26_levels, c26_base_levels, c26_idx)

    shocked = {s.driver for s in resolved.shocks}
    for d in sorted(shocked & set(OBSERVED_DRIVERS)):
        if d not in drivers:
            why = engine.chips.dropped.get(d, "not in the model")
            notes.append(
                f"{d}: not in the fitted chip model ({why}), so its shock moves neither chip "
                "imports nor output in the engine (it does in the exogenous-path route)"
            )
    if link["method"] == "calibrated" and resolved.shocks + resolved.conditions:
        e = link["elasticity"]
        notes.append(
            f"output responds to chips through a calibrated elasticity {e['central']:g} "
            f"(range {e['low']:g}-{e['high']:g}, {e['distribution']}), an assumption: the fitted "
            f"link {engine.link.check}"
        )
    return ScenarioResult(
        resolved=resolved,
        paths=paths,
        forecasts=forecasts,
        differences=diffs,
        pct_differences=pcts,
        link=link,
        notes=notes,
        smoothed=smoothed_out,
        draws={
            "chip_imports": chip_levels,
            "chip_imports_baseline": chip_base_levels,
            "c26_output": c26_levels,
            "c26_output_baseline": c26_base_levels,
        },
    )


def _exact(levels: np.ndarray, targets: list[Target]) -> np.ndarray:
    """Fixed targets written back on the level scale (``exp(log(x))`` can miss ``x`` by an ulp)."""
    for t in targets:
        if t.kind == "fix":
            levels[:, t.column] = t.level
    return levels


def _shift(t: Target, offset: np.ndarray) -> Target:
    """A model-scale target back on the scale of the draws (which include ``offset``)."""
    return Target(t.column, t.kind, t.value + float(offset[t.column]), t.label, t.level)


def _smoothed_frame(
    result: Any,
    targets: list[Target],
    h: int,
    exog: np.ndarray | None,
    offset: np.ndarray,
    index: pd.PeriodIndex,
) -> pd.DataFrame:
    """The Kalman smoother's conditional mean and sd given the ``fix`` targets (log scale)."""
    y = np.full(h, np.nan)
    for t in targets:
        if t.kind == "fix":
            y[t.column] = t.value
    mean, var = smoothed(result, y, exog)
    return pd.DataFrame(
        {"mean_log": mean + offset, "sd_log": np.sqrt(np.clip(var, 0, None))}, index=index
    )


def run_scenarios(
    refs: Sequence[str | Path | LoadedScenario],
    as_of: pd.Period | str | None = None,
    n_draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> tuple[Engine, list[ScenarioResult]]:
    """Fit the engine once and run every scenario on it."""
    from features.scenarios import load_scenario

    engine = fit_engine(as_of, n_draws, seed)
    out = []
    for ref in refs:
        loaded = ref if isinstance(ref, LoadedScenario) else load_scenario(ref)
        out.append(run_scenario(engine, resolve(loaded, engine.ends)))
    return engine, out


# --- the exogenous-path route ---------------------------------------------------------------------


def exog_capable(name: str) -> bool:
    tags = REGISTRY[name].get_tags()
    return bool(tags["capability:exogenous"] and tags["exogenous:future_required"])


def driver_frame(index: pd.PeriodIndex, paths: pd.DataFrame, what: str) -> pd.DataFrame:
    """The observed drivers (history or scenario path) over ``index``."""
    if index.freqstr != paths.index.freqstr:
        raise InputError(f"{what}: scenarios are quarterly; the series is {index.freqstr}")
    missing = index.difference(paths.index)
    if len(missing):
        raise InputError(
            f"{what}: the drivers have no values for {missing[0]} "
            f"(they cover {paths.index[0]}-{paths.index[-1]})"
        )
    return paths.loc[index, list(OBSERVED_DRIVERS)].astype(float)


def exog_route(
    series: SeriesInput, model: str, resolved: ResolvedScenario, history: DriverHistory
) -> dict[str, Any]:
    """The exogenous-path route for one series.

    Parameters
    ----------
    series : the series (without regressors of its own).
    model : a registered model that takes future regressors (:func:`exog_capable`).
    resolved, history : the scenario and the drivers' history.

    Returns
    -------
    dict
        ``model``, ``forecast`` (on the scenario's paths), ``baseline`` (on the baseline paths)
        and ``difference`` (of the means).
    """
    if series.X is not None:
        raise InputError(
            f"{series.id}: with --scenario the regressors are the scenario's drivers "
            f"({', '.join(OBSERVED_DRIVERS)}); remove the CSV's own regressor columns "
            f"({', '.join(map(str, series.X.columns))})"
        )
    if resolved.conditions:
        raise InputError(
            f"{resolved.loaded.path}: field 'conditions': conditions act through the scenario "
            f"engine ({', '.join(ENGINE_SERIES)} without --models), not on {series.id!r} with {model}"
        )
    if model not in REGISTRY or not exog_capable(model):
        ok = [m for m in REGISTRY if exog_capable(m)]
        raise InputError(
            f"model {model!r} does not forecast on given driver paths; with --scenario use one of "
            f"{', '.join(ok)}"
        )
    paths = driver_paths(resolved, history)
    y = series.y
    fut = (
        pd.period_range(y.index[-1] + 1, resolved.last, freq=QFREQ)
        if y.index[-1] < resolved.last
        else None
    )
    if fut is None:
        raise InputError(
            f"{series.id}: the data end {y.index[-1]}, at or after the scenario's last quarter {resolved.last}"
        )
    X = driver_frame(y.index, paths.baseline, series.id)
    fitted = get_model(model).fit(y, X)
    X_s = driver_frame(fut, paths.scenario, series.id)
    X_b = driver_frame(fut, paths.baseline, series.id)
    need = fitted.exog_columns_
    fc_s = fitted.predict(len(fut), X_s if need else None, level=LEVELS)
    fc_b = fitted.predict(len(fut), X_b if need else None, level=LEVELS)
    return {
        "model": model,
        "forecast": fc_s,
        "baseline": fc_b,
        "difference": (fc_s["mean"] - fc_b["mean"]).to_frame("mean"),
    }


def champion_exog(
    series: SeriesInput, models: list[str], resolved: ResolvedScenario, history: DriverHistory
) -> str:
    """Backtest exogenous-capable models on the drivers' history; the champion's name."""
    if len(models) == 1:
        return models[0]
    paths = driver_paths(resolved, history)
    s = SeriesInput(series.id, series.y, driver_frame(series.y.index, paths.baseline, series.id))
    bt = backtest([s], models, BacktestSpec(horizon=4))
    scores = score_all(bt.table)
    ok = {m: scores[(s.id, m)] for m in models if bt.ok(s.id, m) and (s.id, m) in scores}
    complexity = {m: int(REGISTRY[m].get_tag("complexity")) for m in models}
    best = champion(ok, complexity)
    if best is None:
        raise ModelRefusal(
            f"{series.id}: no model could be backtested on the drivers; try --models sarimax"
        )
    return best


# --- documents, tables ------------------------------------------------------------------------------


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return forecast_records(frame)


def scenario_doc(
    resolved: ResolvedScenario, result: ScenarioResult | None = None, engine: Engine | None = None
) -> dict[str, Any]:
    """The ``"scenario"`` block of ``forecast --scenario --json`` and of the run summary."""
    spec, loaded = resolved.spec, resolved.loaded
    doc: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "file": loaded.file,
        "sha256": loaded.sha256,
        "builtin": loaded.builtin,
        "horizon": spec.horizon,
        "first_period": str(resolved.first),
        "last_period": str(resolved.last),
        "rationale": spec.rationale.summary,
        "sources": [s.model_dump() for s in spec.rationale.sources],
        "sources_not_in_evidence": sources_not_in_evidence(spec),
        "shocks": [s.record() for s in resolved.shocks],
        "conditions": [c.record() for c in resolved.conditions],
    }
    if result is not None:
        doc["link"] = result.link
        doc["notes"] = list(result.notes)
    if engine is not None:
        doc["engine"] = engine.describe()
    return doc


def engine_series_doc(result: ScenarioResult, sid: str, reconstructed: bool) -> dict[str, Any]:
    """One engine series in ``forecast --scenario --json``."""
    if sid not in result.forecasts:
        raise InputError(
            f"{sid}: the chip evidence gives this channel no share; no scenario forecast"
        )
    return {
        "model": ENGINE_MODEL,
        "route": "propagation",
        "reconstructed": reconstructed,
        "forecast": _records(result.forecasts[sid]),
        "difference_from_baseline": _records(result.differences[sid]),
        "pct_difference_from_baseline": _records(result.pct_differences[sid]),
    }


def table_rows(
    results: list[ScenarioResult], series: tuple[str, ...] = ("c26_output", "chip_imports")
) -> list[dict[str, Any]]:
    """Level and difference from baseline at 4 and 8 quarters into the window, with intervals."""
    rows = []
    for r in results:
        for sid in series:
            fc, df, pc = r.forecasts[sid], r.differences[sid], r.pct_differences[sid]
            for h in TABLE_HORIZONS:
                if h > r.resolved.spec.horizon:
                    continue
                p = r.resolved.first + (h - 1)
                if p not in fc.index:
                    continue
                lv, d, q = fc.loc[p], df.loc[p], pc.loc[p]
                rows.append(
                    {
                        "scenario": r.name,
                        "series": sid,
                        "reconstructed": sid.startswith("chip_imports"),
                        "h": h,
                        "period": str(p),
                        "level": float(lv["mean"]),
                        "level_lo_80": float(lv["lo_80"]),
                        "level_hi_80": float(lv["hi_80"]),
                        "level_lo_95": float(lv["lo_95"]),
                        "level_hi_95": float(lv["hi_95"]),
                        "diff": float(d["mean"]),
                        "diff_lo_80": float(d["lo_80"]),
                        "diff_hi_80": float(d["hi_80"]),
                        "diff_lo_95": float(d["lo_95"]),
                        "diff_hi_95": float(d["hi_95"]),
                        "diff_pct": float(q["mean"]),
                        "diff_pct_lo_80": float(q["lo_80"]),
                        "diff_pct_hi_80": float(q["hi_80"]),
                        "diff_pct_lo_95": float(q["lo_95"]),
                        "diff_pct_hi_95": float(q["hi_95"]),
                    }
                )
    return rows


def long_table(results: list[ScenarioResult]) -> pd.DataFrame:
    """Every scenario forecast and difference in one long table (``scenarios.csv``)."""
    frames = []
    for r in results:
        for sid, fc in r.forecasts.items():
            f = fc.reset_index()
            f["period"] = f["period"].astype(str)
            d = r.differences[sid].add_prefix("diff_").reset_index(drop=True)
            p = r.pct_differences[sid].add_prefix("diff_pct_").reset_index(drop=True)
            block = pd.concat([f, d, p], axis=1)
            block.insert(0, "reconstructed", sid.startswith("chip_imports"))
            block.insert(0, "series", sid)
            block.insert(0, "scenario", r.name)
            frames.append(block)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def metrics(result: ScenarioResult) -> dict[str, float]:
    """Scenario metrics for MLflow: level and difference at 4 and 8 quarters into the window."""
    out: dict[str, float] = {}
    for row in table_rows([result]):
        pre = f"{row['series']}_h{row['h']}"
        out[f"{pre}_level"] = row["level"]
        out[f"{pre}_diff"] = row["diff"]
        for k in (
            "diff_pct",
            "diff_pct_lo_80",
            "diff_pct_hi_80",
            "diff_pct_lo_95",
            "diff_pct_hi_95",
        ):
            out[f"{pre}_{k}"] = row[k]
    return out


# --- report folder, MLflow child runs, the CLI's document ---------------------------------------------


def fan_chart_path(folder: Path, name: str) -> Path:
    return folder / f"scenario_{name}.png"


def _chart_panels(
    engine: Engine, result: ScenarioResult
) -> list[tuple[str, pd.Series, pd.DataFrame, pd.Series | None, bool]]:
    base_chip = result.draws["chip_imports_baseline"].mean(axis=0)
    base_q = result.draws["c26_output_baseline"].mean(axis=0)
    fc_chip, fc_q = result.forecasts["chip_imports"], result.forecasts["c26_output"]
    return [
        (
            f"Chip imports through third countries, {engine.chip_meta['unit']}",
            engine.chip_y,
            fc_chip,
            pd.Series(base_chip, index=fc_chip.index),
            True,
        ),
        (
            f"C26 output (computers, electronics, optics), {engine.c26_meta['unit']}",
            engine.c26_y,
            fc_q,
            pd.Series(base_q, index=fc_q.index),
            False,
        ),
    ]


def write_report(folder: Path, engine: Engine, results: list[ScenarioResult]) -> dict[str, Any]:
    """Fan chart per scenario, the comparison chart and ``scenarios.csv`` into ``folder``;
    returns the ``"scenarios"`` block of the run summary (what the report's section shows)."""
    from pipelines.plots import scenario_comparison_chart, scenario_fan_chart

    link_note = ""
    items: dict[str, Any] = {}
    for r in results:
        e = r.link["elasticity"]
        link_note = (
            f"output elasticity to chips {e['central']:.3g} ({r.link['label']}"
            + (f", range {e['low']:g}-{e['high']:g}" if "low" in e else "")
            + ")"
        )
        chart = fan_chart_path(folder, r.name)
        scenario_fan_chart(
            _chart_panels(engine, r),
            chart,
            title=f"Scenario {r.name}: {r.resolved.first}-{r.resolved.last} vs baseline",
            subtitle=f"{r.loaded.file} (sha256 {r.loaded.sha256[:12]}); {link_note}; "
            f"{engine.n_draws} draws",
        )
        items[r.name] = {**scenario_doc(r.resolved, r), "chart": chart.name}
    comparison = folder / "scenarios_comparison.png"
    if results:

        def frames(sid: str, what: str) -> dict[str, pd.DataFrame]:
            return {r.name: getattr(r, what)[sid] for r in results}

        scenario_comparison_chart(
            [
                (
                    f"Chip imports through third countries, {engine.chip_meta['unit']}",
                    engine.chip_y,
                    frames("chip_imports", "forecasts"),
                    frames("chip_imports", "pct_differences"),
                    True,
                ),
                (
                    f"C26 output, {engine.c26_meta['unit']}",
                    engine.c26_y,
                    frames("c26_output", "forecasts"),
                    frames("c26_output", "pct_differences"),
                    False,
                ),
            ],
            comparison,
            title="All scenarios",
            subtitle=link_note,
        )
        long_table(results).to_csv(folder / "scenarios.csv", index=False)
    return {
        "engine": engine.describe(),
        "items": items,
        "table": table_rows(results),
        "comparison_chart": comparison.name if results else None,
        "table_file": "scenarios.csv" if results else None,
    }


def child_record(
    result: ScenarioResult, engine: Engine, root: Path, chart: Path | None = None
) -> Any:
    """The MLflow child run of one scenario (a :class:`pipelines.tracking.ChildRecord`): tags
    with the scenario's name and file hash and the link's assumption, the file itself, the
    forecasts, the driver paths and the fan chart as artifacts."""
    import shutil

    from pipelines import tracking  # lazy: MLflow is slow to import and only needed here

    loaded = result.loaded
    folder = root / f"scenario__{result.name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / loaded.path.name).write_bytes(loaded.path.read_bytes())
    long_table([result]).to_csv(folder / "forecast.csv", index=False)
    paths = result.paths.scenario.loc[result.paths.scenario.index >= engine.chip_index[0]]
    paths.reset_index(names="period").assign(period=lambda d: d["period"].astype(str)).to_csv(
        folder / "driver_paths.csv", index=False
    )
    if chart is not None and chart.exists():
        shutil.copyfile(chart, folder / "fan_chart.png")
    link = result.link
    e = link["elasticity"]
    spec = result.resolved.spec
    chip_series = [s for s in result.forecasts if s.startswith("chip_imports")]
    tags = {
        "kind": "scenario",
        "scenario": result.name,
        "scenario_sha256": loaded.sha256,
        "scenario_file": loaded.file,
        "scenario_builtin": str(loaded.builtin).lower(),
        "reconstructed": "true",
        "reconstructed_series": ",".join(chip_series),
        "link_method": link["method"],
        "link_elasticity_label": link["label"],
        "link_elasticity": f"{e['central']:.4g}",
        "link_elasticity_range": f"{e['low']:g}-{e['high']:g}"
        if "low" in e
        else f"se {e['se']:.3g}",
        "link_elasticity_source": e["source"],
        "link_prior_check": engine.link.check,
        "chip_model_drivers": ",".join(engine.chips.drivers) or "none",
        "chip_model_dropped": ",".join(engine.chips.dropped) or "none",
        "data_vintage": max(engine.chip_meta["vintage"], engine.c26_meta["vintage"]),
        "first_period": str(result.resolved.first),
        "last_period": str(result.resolved.last),
    }
    params = {
        "horizon": spec.horizon,
        "draws": engine.n_draws,
        "seed": engine.seed,
        "n_shocks": len(spec.shocks),
        "n_conditions": len(spec.conditions),
        "link_mode": spec.link.mode,
        "elasticity_central": spec.link.elasticity.central,
        "elasticity_low": spec.link.elasticity.low,
        "elasticity_high": spec.link.elasticity.high,
        "elasticity_distribution": spec.link.elasticity.distribution,
    }
    return tracking.ChildRecord(
        name=f"scenario/{result.name}",
        status="ok",
        params=params,
        metrics=metrics(result),
        tags=tags,
        artifacts=folder,
    )


def forecast_doc(
    inputs: list[SeriesInput], models: list[str] | None, ref: str, catalog: bool
) -> dict[str, Any]:
    """The document ``forecast --scenario --json`` prints.

    Parameters
    ----------
    inputs : the series asked for.
    models : ``--models`` (``None``: engine series through the engine, others with ``sarimax``).
    ref : a built-in scenario name or a file.
    catalog : the inputs are catalogued series (``--series``), not a user's CSV.

    Returns
    -------
    dict
        ``{"series": {id: {"model", "route", "forecast", "difference_from_baseline", ...}},
        "scenario": {...}}``.
    """
    from features.scenarios import load_scenario

    loaded = load_scenario(ref)
    use_engine = {s.id for s in inputs if catalog and models is None and s.id in ENGINE_SERIES}
    engine: Engine | None = None
    result: ScenarioResult | None = None
    if use_engine:
        engine = fit_engine()
        resolved = resolve(loaded, engine.ends)
        result = run_scenario(engine, resolved)
        history = engine.history
    else:
        history = driver_history()
        resolved = resolve(loaded, history.ends)
    doc: dict[str, Any] = {"series": {}}
    for s in inputs:
        if s.id in use_engine:
            assert result is not None
            doc["series"][s.id] = engine_series_doc(result, s.id, s.id.startswith("chip_imports"))
            continue
        names = models or ["sarimax"]
        for m in names:
            if m not in REGISTRY or not exog_capable(m):
                ok = [k for k in REGISTRY if exog_capable(k)]
                raise InputError(
                    f"model {m!r} does not forecast on given driver paths; with --scenario use "
                    f"one of {', '.join(ok)}"
                )
        chosen = champion_exog(s, names, resolved, history)
        out = exog_route(s, chosen, resolved, history)
        doc["series"][s.id] = {
            "model": chosen,
            "route": "exogenous paths",
            "forecast": _records(out["forecast"]),
            "baseline": _records(out["baseline"]),
            "difference_from_baseline": _records(out["difference"]),
        }
    doc["scenario"] = scenario_doc(resolved, result, engine)
    return doc
