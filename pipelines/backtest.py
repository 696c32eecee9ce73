"""Rolling-origin backtests that return one long table.

Every model, series and origin ends up in the same table (statsforecast's ``cross_validation``
shape), from which :mod:`pipelines.metrics` computes every score and the plots and MLflow
artifacts are drawn:

``series, model, cutoff, period, h, y, mean, lo_80, hi_80, lo_95, hi_95, mase_scale``

``cutoff`` and ``period`` are period labels (``2024Q3``); ``h`` counts steps ahead from 1;
``mase_scale`` is the in-sample seasonal-naive MAE of the training window at that cutoff, so the
table alone is enough to compute MASE.

Origins and windows
    :func:`models.splits.rolling_origins`: the ``origins`` most recent cutoffs, ``step`` apart,
    the last leaving exactly ``horizon`` observations; ``expanding`` windows start at the first
    observation, ``sliding`` ones keep ``window_length`` observations. Origins whose window is
    shorter than the model's ``min_obs`` are dropped for that model.

Refit policy (``BacktestSpec.refit``, logged to MLflow as ``backtest_refit``)
    ``"always"``
        at every origin a fresh copy of the model is fitted to the origin's window: structure
        selection (ETS components, ARIMA orders) and parameter estimation. The reference policy.
    ``"every:K"``
        a full fit at origins 0, K, 2K, ... (counted from the oldest); at the origins in between
        the last fitted model is brought forward with :meth:`models.base.BaseForecaster.update`.
    ``"never"``
        a full fit at the first origin only, then updates (``every:K`` with K >= origins).

    What an update does is the model's: state-space models (ETS, SARIMAX, auto-ARIMA, UCM) keep
    the selected structure and, by default, only filter the new observations with the parameters
    fixed at the last full fit (statsmodels ``MLEResults.apply`` / ``ETSModel.smooth``);
    with ``refit_params=True`` they re-estimate the parameters warm-started from the previous
    ones, the structure still kept. Models without a cheaper update (the baselines, theta, the
    regressions) fit from scratch, so their results are the same under every policy.
    With sliding windows a full fit uses the origin's window; the updates until the next full
    fit extend that window's data (an update keeps the fitted start), so parameters are
    estimated on a window of ``window_length`` and the state carries the data since its start.
    The accuracy cost of each policy is measured by ``make bench`` (``benchmarks/``).

Real-time backtests (``real_time=True``)
    For a series with vintages (:attr:`SeriesInput.vintages`, release date -> values as then
    published), each origin trains on the newest vintage released on or before the cutoff
    period's end plus ``publication_lag`` days, cut at the cutoff, while the forecasts are
    scored against the latest data (``SeriesInput.y``). A vintage that ends before the cutoff
    (the cutoff not yet published) makes the model forecast further ahead from its last
    period, and the rows keep the test periods and the ``h`` counted from the cutoff. Where no
    vintage was out yet, the oldest one is used and the status says so (``vintages``, marked
    ``"<date> (oldest available)"``).

Parallelism
    Tasks are (series, model) pairs, or (series, model, origin) triples under ``refit="always"``
    (origins are independent then). An ensemble and those of its members that also run on
    their own share a task, in which each member is fitted once per window and the ensemble
    takes a copy of that fit (:func:`models.base.shared_fits`); its wall seconds are then the
    combination's own cost. ``backend="joblib"`` runs them on ``n_jobs`` local
    processes; ``backend="dask"`` on an existing Dask cluster (``scheduler``: its address or a
    ``distributed.Client``). Each task limits BLAS to one thread (many small matrices: threads
    only contend). Tasks run series by series, the heavier models of a series first; a caller
    can take each series' result as soon as its tasks end (``on_series``; the quarterly run
    logs its child runs then). The table and statuses do not depend on the backend or the
    number of workers: results are put together in task order and every model is deterministic.

The published forecast (``final_horizon``)
    Given a horizon, each task also fits its models to the whole series and forecasts that far
    ahead (:func:`pipelines.forecast.fit_forecast`), after its origins and in the same task: the
    ensemble takes its members' full-history fits as it takes their backtest fits, and a
    conformally calibrated model reuses the calibration fits of the last origins (their
    calibration origins are mostly the same). :attr:`BacktestResult.final` holds
    ``(hyperparameters, forecast)`` per (series, model), or the reason it failed; a model that
    failed in the backtest gets no forecast. Under ``always`` the full-history fits are tasks
    of their own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from features.errors import InputError
from features.periods import future_periods, season_length
from models.base import DEFAULT_LEVELS, BaseForecaster, ModelRefusal, interval_columns, shared_fits
from models.conformal import calibration_memo
from models.registry import get_model
from models.splits import Split, mase_scale, rolling_origins
from pipelines.forecast import fit_forecast

log = logging.getLogger(__name__)

KEY_COLUMNS = ["series", "model", "cutoff", "period", "h", "y"]
BACKENDS = ("joblib", "dask")

#: failures of one model on one series that are reported as ``status: "failed"``
_MODEL_ERRORS = (ModelRefusal, InputError, np.linalg.LinAlgError, ValueError)


def parse_refit(refit: str) -> int | None:
    """Full-fit interval of a refit policy: ``"always"`` -> 1, ``"every:K"`` -> K, ``"never"``
    -> ``None``. Anything else is an :class:`InputError` naming the value."""
    text = str(refit).strip().lower()
    if text == "always":
        return 1
    if text == "never":
        return None
    if text.startswith("every:"):
        try:
            k = int(text.split(":", 1)[1])
        except ValueError:
            k = 0
        if k >= 1:
            return k
    raise InputError(f"refit policy {refit!r}: use 'always', 'every:K' (K >= 1) or 'never'")


@dataclass(frozen=True)
class BacktestSpec:
    """How to backtest: horizon, origins, spacing, window, refit policy and data vintages.

    See the module docstring for ``refit``, ``refit_params``, ``real_time`` and
    ``publication_lag`` (days after the cutoff period's end that data take to be published).
    """

    horizon: int = 4
    origins: int = 8
    step: int = 1
    window: Literal["expanding", "sliding"] = "expanding"
    window_length: int | None = None
    level: tuple[int, ...] = DEFAULT_LEVELS
    refit: str = "always"
    refit_params: bool = False
    real_time: bool = False
    publication_lag: int = 45

    def __post_init__(self) -> None:
        parse_refit(self.refit)
        if self.publication_lag < 0:
            raise InputError(f"publication lag must be >= 0 days, got {self.publication_lag}")

    @property
    def refit_every(self) -> int | None:
        return parse_refit(self.refit)

    def as_params(self) -> dict[str, Any]:
        return {
            "backtest_horizon": self.horizon,
            "backtest_origins": self.origins,
            "backtest_step": self.step,
            "backtest_window": self.window,
            "backtest_window_length": self.window_length,
            "backtest_refit": self.refit,
            "backtest_refit_params": self.refit_params,
            "backtest_real_time": self.real_time,
            "backtest_publication_lag": self.publication_lag,
        }


@dataclass(frozen=True)
class SeriesInput:
    """A series to backtest or forecast, with optional regressors (history and future).

    ``vintages`` maps release dates to the series as published then (used by real-time
    backtests); ``y`` is the latest data, which backtests score against.
    """

    id: str
    y: pd.Series
    X: pd.DataFrame | None = None
    X_future: pd.DataFrame | None = None
    vintages: Mapping[dt.date, pd.Series] | None = None


#: a model's published forecast: its fitted hyperparameters and forecast frame, or why it failed
Final = tuple[dict[str, Any], pd.DataFrame] | str


@dataclass
class BacktestResult:
    """The long table, a status per (series, model) and the wall seconds each took; with a
    ``final_horizon``, the forecast from the whole series per (series, model) that passed."""

    table: pd.DataFrame
    status: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)
    final: dict[tuple[str, str], Final] = field(default_factory=dict)

    def ok(self, series: str, model: str) -> bool:
        return self.status.get((series, model), {}).get("status") == "ok"


def table_columns(level: tuple[int, ...] = DEFAULT_LEVELS) -> list[str]:
    return [*KEY_COLUMNS, *interval_columns(level), "mase_scale"]


# -- one origin ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Origin:
    """What one origin produced: rows of the table, or the error that stopped the model."""

    frame: pd.DataFrame | None
    error: str | None = None
    vintage: str | None = None
    seconds: float = 0.0


def _splits(series: SeriesInput, model: BaseForecaster, spec: BacktestSpec) -> list[Split]:
    sp = getattr(model, "sp", None) or season_length(series.y.index)
    return rolling_origins(
        len(series.y),
        spec.horizon,
        spec.origins,
        spec.step,
        spec.window,
        spec.window_length,
        min_train=model.min_obs(sp),
    )


def _training_data(
    series: SeriesInput, s: Split, spec: BacktestSpec, start: int | None = None
) -> tuple[pd.Series, pd.DataFrame | None, str | None]:
    """The origin's training ``y`` (from ``start``, default the window start), its ``X`` and
    the vintage it was taken from (``None``: the latest data)."""
    y, X = series.y, series.X
    first = s.train_start if start is None else start
    if not (spec.real_time and series.vintages):
        train = y.iloc[first : s.cutoff + 1]
        return train, None if X is None else X.iloc[first : s.cutoff + 1], None
    cutoff = y.index[s.cutoff]
    as_of = cutoff.end_time.date() + dt.timedelta(days=spec.publication_lag)
    releases = sorted(series.vintages)
    eligible = [r for r in releases if r <= as_of]
    release = eligible[-1] if eligible else releases[0]
    label = release.isoformat() if eligible else f"{release.isoformat()} (oldest available)"
    v = series.vintages[release]
    v = v[(v.index >= y.index[first]) & (v.index <= cutoff)].astype(float)
    if len(v) == 0:
        raise InputError(f"vintage {release.isoformat()} has no data up to {cutoff}")
    X_train = None if X is None else X.loc[v.index]
    return v, X_train, label


def _forecast_rows(
    series: SeriesInput,
    model: BaseForecaster,
    fitted: BaseForecaster,
    s: Split,
    train: pd.Series,
    spec: BacktestSpec,
) -> pd.DataFrame:
    y, X = series.y, series.X
    test_index = y.index[s.test]
    gap = int((test_index[0] - fitted.cutoff_).n) - 1  # > 0: the vintage ends before the cutoff
    steps = gap + spec.horizon
    X_test = None
    if X is not None and fitted.exog_columns_:
        X_test = X.loc[future_periods(fitted.cutoff_, steps)]
    fc = fitted.predict(steps, X_test, level=spec.level).iloc[gap : gap + len(test_index)]
    n = len(test_index)
    out = fc.reset_index(drop=True)
    out.insert(0, "y", y.iloc[s.test].to_numpy(dtype=float))
    out.insert(0, "h", np.arange(1, n + 1))
    out.insert(0, "period", [str(p) for p in test_index])
    out.insert(0, "cutoff", str(y.index[s.cutoff]))
    out.insert(0, "model", model.name)
    out.insert(0, "series", series.id)
    out["mase_scale"] = mase_scale(train.to_numpy(), fitted.sp_)
    return out


def _run_origin(
    series: SeriesInput, model: BaseForecaster, s: Split, spec: BacktestSpec
) -> _Origin:
    """A full fit at one origin (the ``always`` policy's task)."""
    t0 = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            train, X_train, vintage = _training_data(series, s, spec)
            fitted = model.clone().fit(train, X_train)
            frame = _forecast_rows(series, model, fitted, s, train, spec)
        except _MODEL_ERRORS as exc:
            return _Origin(None, f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0)
    return _Origin(frame, None, vintage, time.perf_counter() - t0)


def _run_sequence(
    series: SeriesInput, model: BaseForecaster, splits: Sequence[Split], spec: BacktestSpec
) -> list[_Origin]:
    """All origins of one (series, model) in order: full fits every K origins, updates between."""
    every = spec.refit_every
    out: list[_Origin] = []
    fitted: BaseForecaster | None = None
    fit_start = 0
    with threadpool_limits(limits=1, user_api="blas"):
        for i, s in enumerate(splits):
            t0 = time.perf_counter()
            try:
                full = fitted is None or (every is not None and i % every == 0)
                if full:
                    train, X_train, vintage = _training_data(series, s, spec)
                    fitted = model.clone().fit(train, X_train)
                    fit_start = s.train_start
                else:
                    assert fitted is not None
                    train, X_train, vintage = _training_data(series, s, spec, start=fit_start)
                    if train.index[0] == fitted.start_ and len(train) >= fitted.n_obs_:
                        fitted.update(train, X_train, refit_params=spec.refit_params)
                    else:  # a vintage that starts later or is shorter: nothing to extend
                        fitted = model.clone().fit(train, X_train)
                window = train.iloc[max(0, len(train) - (s.cutoff + 1 - s.train_start)) :]
                frame = _forecast_rows(series, model, fitted, s, window, spec)
            except _MODEL_ERRORS as exc:
                out.append(_Origin(None, f"{type(exc).__name__}: {exc}"))
                break
            out.append(_Origin(frame, None, vintage, time.perf_counter() - t0))
    return out


def _final(series: SeriesInput, model: BaseForecaster, horizon: int, spec: BacktestSpec) -> Final:
    """The model fitted to the whole series and its forecast ``horizon`` periods ahead."""
    try:
        fitted, fc = fit_forecast(series, model, horizon, spec.level)
    except _MODEL_ERRORS as exc:
        return f"forecast: {type(exc).__name__}: {exc}"
    return fitted.get_params(), fc


def _run_task(task: tuple[Any, ...]) -> list[tuple[list[_Origin], Final | None]]:
    """Module-level entry point of one task (picklable for joblib's and Dask's workers): one
    series and a group of models, each with its splits (one origin under ``always``, all of
    them otherwise, none for a ``final`` task), then, given a ``final_horizon``, each model's
    forecast from the whole series (not for a model that failed at an origin). A group holds an
    ensemble with those of its members that also run on their own; inside the task they share
    fits (:func:`models.base.shared_fits`). Conformal calibrations of successive origins, and
    of the final fit, share their copies (:func:`models.conformal.calibration_memo`)."""
    kind, series, group, spec, final_horizon = task
    with shared_fits() if len(group) > 1 else contextlib.nullcontext(), calibration_memo():
        if kind == "origin":
            runs = [[_run_origin(series, model, splits[0], spec)] for model, splits in group]
        elif kind == "sequence":
            runs = [_run_sequence(series, model, splits, spec) for model, splits in group]
        else:  # "final": the full-history fits only
            runs = [[] for _ in group]
        if final_horizon is None:
            return [(origins, None) for origins in runs]
        return [
            (
                origins,
                None
                if any(o.error is not None for o in origins)
                else _final(series, model, final_horizon, spec),
            )
            for (model, _), origins in zip(group, runs, strict=True)
        ]


def share_groups(instances: Sequence[BaseForecaster]) -> list[list[int]]:
    """Indices of the models that run in one task: each ensemble with the models of the list
    that are its members (same class and hyperparameters), every other model on its own.
    Grouping only decides which fits can be shared; the table is the same either way."""
    groups: list[list[int]] = []
    taken: set[int] = set()
    for i, m in enumerate(instances):
        protos = getattr(m, "_labelled", None)
        if not callable(protos):
            continue
        try:
            members = list(protos().values())
        except InputError:
            continue
        group = [
            j
            for j, other in enumerate(instances)
            if j != i
            and j not in taken
            and any(
                type(other) is type(p) and repr(other.get_params()) == repr(p.get_params())
                for p in members
            )
        ]
        if group:
            taken.update([*group, i])
            groups.append([*group, i])  # members first: the ensemble finds their fits
    groups += [[i] for i in range(len(instances)) if i not in taken]
    return sorted(groups, key=lambda g: g[0])


# -- the engine ----------------------------------------------------------------------------------
def backtest_one(
    series: SeriesInput, model: BaseForecaster, spec: BacktestSpec
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Backtest one model on one series; a refusal or numerical failure becomes a status."""
    res = backtest([series], [model], spec)
    return res.table, res.status[(series.id, model.name)]


def _map(
    tasks: list[tuple[Any, ...]],
    backend: str,
    n_jobs: int,
    scheduler: Any,
    workers: Executor | None = None,
) -> Iterator[Any]:
    """The tasks' results in task order, each as soon as it and those before it are done."""
    if backend == "dask":
        yield from _map_dask(tasks, scheduler)
    elif workers is not None:
        yield from workers.map(_run_task, tasks)
    elif n_jobs == 1 or len(tasks) <= 1:
        yield from (_run_task(t) for t in tasks)
    else:
        yield from Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_run_task)(t) for t in tasks
        )


def _map_dask(tasks: list[tuple[Any, ...]], scheduler: Any) -> Iterator[Any]:
    """Run the tasks on an existing Dask cluster; results come back in task order."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is a dependency
        raise InputError("--backend dask needs dask[distributed] installed") from None
    if scheduler is None:
        raise InputError("--backend dask needs --scheduler ADDRESS (an existing Dask cluster)")
    if isinstance(scheduler, Client):
        yield from _gather(scheduler, tasks)
        return
    try:
        client = Client(str(scheduler), timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    with client:
        yield from _gather(client, tasks)


def _gather(client: Any, tasks: list[tuple[Any, ...]]) -> Iterator[Any]:
    futures = client.map(_run_task, tasks, pure=False)
    for f in futures:
        yield f.result()


def backtest(
    series: list[SeriesInput],
    models: Sequence[str] | Sequence[BaseForecaster],
    spec: BacktestSpec | None = None,
    n_jobs: int = 1,
    backend: str = "joblib",
    scheduler: Any = None,
    final_horizon: int | None = None,
    workers: Executor | None = None,
    on_series: Callable[[str, BacktestResult], None] | None = None,
) -> BacktestResult:
    """Backtest every model on every series (see the module docstring for the policies);
    with ``final_horizon``, also each model's forecast from the whole series that far ahead.
    ``workers``: worker processes already started (a ``concurrent.futures`` executor) to run
    the joblib backend's tasks on, instead of ``n_jobs`` new ones.

    The tasks run series by series (the heavier models of a series first, so that the last
    tasks to finish are short ones), and ``on_series(series_id, result)`` is called with each
    series' own result as soon as its tasks are done, in series order, from the thread that
    called this: a caller can score and log a series while the next ones run.

    Results do not depend on ``n_jobs`` or ``backend``: the table is sorted by series, model
    order, cutoff, h, exactly as a serial run would produce it.
    """
    spec = spec or BacktestSpec()
    if backend not in BACKENDS:
        raise InputError(f"backend {backend!r}: use one of {', '.join(BACKENDS)}")
    instances = [get_model(m) if isinstance(m, str) else m for m in models]
    for m in instances:  # one-off work (a pooled model's training) before any worker starts
        for sp in sorted({getattr(m, "sp", None) or season_length(s.y.index) for s in series}):
            try:
                m.prepare(sp)
            except InputError:  # a bad hyperparameter: the model's tasks fail with it, as before
                log.debug("%s: prepare(%d) refused; its tasks will report why", m.name, sp)
    every = spec.refit_every
    status: dict[tuple[str, str], dict[str, Any]] = {}
    pairs: list[tuple[SeriesInput, BaseForecaster, list[Split]]] = []
    tasks: list[tuple[Any, ...]] = []
    owner: list[list[int]] = []  # task -> index into pairs, per model of the task's group
    # the index of each series' first task and first pair (and, last, their counts)
    first_task: list[int] = []
    first_pair: list[int] = []
    for s in series:
        first_task.append(len(tasks))
        first_pair.append(len(pairs))
        for group in share_groups(instances):
            members: list[int] = []
            for i in group:
                m = instances[i]
                try:
                    splits = _splits(s, m, spec)
                except InputError as exc:
                    status[(s.id, m.name)] = {
                        "status": "failed",
                        "error": f"{m.name}: {exc}",
                        "n_origins": 0,
                    }
                    continue
                pairs.append((s, m, splits))
                members.append(len(pairs) - 1)
            if not members:
                continue
            if every == 1:  # one task per cutoff, oldest first, each model at its own split
                cutoffs = sorted({sp.cutoff for k in members for sp in pairs[k][2]})
                for c in cutoffs:
                    at = [(k, [sp for sp in pairs[k][2] if sp.cutoff == c]) for k in members]
                    at = [(k, sp) for k, sp in at if sp]
                    tasks.append(("origin", s, [(pairs[k][1], sp) for k, sp in at], spec, None))
                    owner.append([k for k, _ in at])
                if final_horizon is not None:
                    group_models: list[tuple[BaseForecaster, list[Split]]] = [
                        (pairs[k][1], []) for k in members
                    ]
                    tasks.append(("final", s, group_models, spec, final_horizon))
                    owner.append(members)
            else:
                group_splits = [(pairs[k][1], pairs[k][2]) for k in members]
                tasks.append(("sequence", s, group_splits, spec, final_horizon))
                owner.append(members)
    first_task.append(len(tasks))
    first_pair.append(len(pairs))
    # series by series, heavier models first within a series (complexity tag); results are
    # put back in task order, so the order of execution changes nothing else
    series_of = [j for j in range(len(series)) for _ in range(first_task[j], first_task[j + 1])]
    order = sorted(
        range(len(tasks)),
        key=lambda i: (series_of[i], -max(int(m.get_tag("complexity")) for m, _ in tasks[i][2])),
    )
    done = _map([tasks[i] for i in order], backend, n_jobs, scheduler, workers)
    results: list[Any] = [None] * len(tasks)
    parts: list[BacktestResult] = []
    for j, s in enumerate(series):
        for i in order[first_task[j] : first_task[j + 1]]:
            results[i] = next(done)
        part = _assemble(
            s.id,
            instances,
            range(first_pair[j], first_pair[j + 1]),
            pairs,
            [(owner[i], results[i]) for i in range(first_task[j], first_task[j + 1])],
            status,
            spec,
        )
        parts.append(part)
        if on_series is not None:
            on_series(s.id, part)
    return combine(parts, spec)


def _assemble(
    series_id: str,
    instances: Sequence[BaseForecaster],
    pair_ids: range,
    pairs: list[tuple[SeriesInput, BaseForecaster, list[Split]]],
    task_results: list[tuple[list[int], Any]],
    status: dict[tuple[str, str], dict[str, Any]],
    spec: BacktestSpec,
) -> BacktestResult:
    """The result of series ``series_id``: of its pairs ``pair_ids``, from their tasks' results
    (each with the pairs its models belong to); ``status`` already holds the pairs that had
    no split."""
    per_pair: dict[int, list[_Origin]] = {k: [] for k in pair_ids}
    final_of: dict[int, Final | None] = dict.fromkeys(pair_ids)
    for ks, r in task_results:
        for k, (origins, fin) in zip(ks, r, strict=True):
            per_pair[k].extend(origins)
            if fin is not None:
                final_of[k] = fin
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    seconds: dict[tuple[str, str], float] = {}
    final: dict[tuple[str, str], Final] = {}
    for k in pair_ids:
        s, m, splits = pairs[k]
        origins, fin = per_pair[k], final_of[k]
        key = (s.id, m.name)
        seconds[key] = float(sum(o.seconds for o in origins))
        error = next((o.error for o in origins if o.error is not None), None)
        if error is not None:
            log.info("%s on %s failed: %s", m.name, s.id, error)
            status[key] = {"status": "failed", "error": error, "n_origins": 0}
            continue
        st: dict[str, Any] = {"status": "ok", "error": None, "n_origins": len(splits)}
        if spec.real_time and s.vintages:
            st["vintages"] = {
                str(s.y.index[sp.cutoff]): o.vintage for sp, o in zip(splits, origins, strict=True)
            }
        status[key] = st
        if fin is not None:
            final[key] = fin
        frames[key] = pd.concat(
            [o.frame for o in origins if o.frame is not None], ignore_index=True
        )
    ordered = [(series_id, m.name) for m in instances]
    parts = [frames[k] for k in ordered if k in frames]
    table = pd.concat(parts, ignore_index=True) if parts else _empty(spec)
    return BacktestResult(
        table=table[table_columns(spec.level)],
        status={k: status[k] for k in ordered if k in status},
        seconds=seconds,
        final={k: final[k] for k in ordered if k in final},
    )


def combine(parts: Sequence[BacktestResult], spec: BacktestSpec | None = None) -> BacktestResult:
    """One result from the results of different series (as :func:`backtest` passes them to
    ``on_series``), in the order given: the same as backtesting the series together."""
    tables = [p.table for p in parts if len(p.table)]
    spec = spec or BacktestSpec()
    table = pd.concat(tables, ignore_index=True) if tables else _empty(spec)
    out = BacktestResult(table=table[table_columns(spec.level)])
    for p in parts:
        out.status.update(p.status)
        out.seconds.update(p.seconds)
        out.final.update(p.final)
    return out


def _empty(spec: BacktestSpec) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float) for c in table_columns(spec.level)})


# -- real-time data ------------------------------------------------------------------------------
def catalog_vintages(series_id: str) -> dict[dt.date, pd.Series]:
    """Every release of a catalogued series: release date -> values as published then."""
    from features.catalog import fetched_vintages, get_catalog, load

    cat = get_catalog()
    spec = cat.spec(series_id)
    source = cat.sources[spec.source]
    dates = {
        v.release for v in [*source.vintages, *spec.vintages, *fetched_vintages(spec.source, spec)]
    }
    return {d: load(series_id, vintage=d).values for d in sorted(dates)}


def with_vintages(
    inputs: list[SeriesInput], loader: Callable[[str], Mapping[dt.date, pd.Series]] | None = None
) -> list[SeriesInput]:
    """The inputs with their catalogued vintages attached (for ``real_time`` backtests)."""
    load_vintages = loader or catalog_vintages
    out = []
    for s in inputs:
        out.append(SeriesInput(s.id, s.y, s.X, s.X_future, dict(load_vintages(s.id))))
    return out
