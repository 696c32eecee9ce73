"""Direct multi-horizon reduction: forecasting as regression on lag and calendar features.

For each step ahead ``k`` a separate regressor learns ``y[t + k]`` from what is known at origin
``t`` (the *direct* strategy; Taieb et al. 2012, sktime's ``DirectReductionForecaster``):

* lag features ``y[t + 1 - l]`` for each lag ``l`` (lag 1 is the last observation at the
  origin), see :func:`lag_rows`;
* calendar features of the target period ``t + k``: one dummy per season (from the period's
  ordinal, so the same quarter always gets the same dummy; ``calendar=True``) and, with
  ``trend=True``, its position in time;
* exogenous columns of ``X`` at the target period (the forecast then needs future ``X``).

With ``target="diff"`` (the default) every step's regressor learns the change from the origin,
``y[t + k] - y[t]``, and lag features are taken relative to ``y[t]`` too; tree models cannot
extrapolate a level, but they can learn a change; the intercept of each step's regressor is then
a linear trend. ``target="level"`` learns ``y[t + k]`` itself (add ``trend=True`` for a trend).
Defaults were compared by MASE at h = 4 over rolling origins of 28-quarter windows of
pmdarima's ausbeer, woolyrnq and austres and of the OKVED 26 series: ``"diff"`` with season
dummies was best or close to it on each; the position feature helped on the smoothly trending
austres and hurt on OKVED 26 (ridge MASE 1.13 against 0.74), so it is off by default.

Data needs
----------
The step-``k`` regressor has ``n - max(lags) - k + 1`` training rows and needs at least
:data:`MIN_ROWS`. Intervals are split-conformal (:mod:`models.conformal`): step 1 needs
``conformal_min_origins`` out-of-sample errors, so the fewest observations a model fits is
``max(lags) + MIN_ROWS + conformal_min_origins`` whatever the horizon (12 for quarterly data with
the default lags). A forecast step beyond what the rows allow refuses at ``predict``.

Step regressors are fitted on first use and cached: the contract's ``fit`` has no horizon.
Each depends only on the training data and the hyperparameters, so the order of calls does not
change any forecast.

Subclasses (:mod:`models.ridge_lags`, :mod:`models.gbm_lags`) pick the estimator and defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin
from threadpoolctl import ThreadpoolController

from features.errors import InputError
from models.base import BaseForecaster, ModelRefusal
from models.conformal import ConformalCalibrator, check_calibration_params

#: fewest training rows a step's regressor is fitted on
MIN_ROWS = 4


def resolve_lags(lags: int | Sequence[int] | None, sp: int) -> tuple[int, ...]:
    """Lags as a sorted tuple: ``None`` -> one seasonal cycle ``1..max(sp, 2)``;
    ``L`` -> ``1..L``; a sequence -> those lags."""
    if lags is None:
        return tuple(range(1, max(sp, 2) + 1))
    if isinstance(lags, bool):
        raise InputError(f"lags must be a positive integer or a tuple of them, got {lags!r}")
    if isinstance(lags, int | np.integer):
        if lags < 1:
            raise InputError(f"lags must be >= 1, got {lags}")
        return tuple(range(1, int(lags) + 1))
    out = tuple(sorted({int(v) for v in lags}))
    if not out or out[0] < 1:
        raise InputError(f"lags must be positive integers, got {lags!r}")
    return out


def lag_rows(
    y: np.ndarray, lags: Sequence[int], step: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lag features and targets of the step-``step`` regressor.

    Row ``i`` belongs to origin ``t = origins[i]``: features ``y[t + 1 - l]`` for each ``l`` in
    ``lags``, target ``y[t + step]``. Origins run over every ``t`` with all lags and the target
    inside ``y``: ``max(lags) - 1 <= t <= len(y) - 1 - step``.

    Returns
    -------
    features : ``(rows, len(lags))``; targets : ``(rows,)``; origins : ``(rows,)`` positions.
    """
    y = np.asarray(y, dtype=float)
    origins = np.arange(max(lags) - 1, len(y) - step)
    feats = np.column_stack([y[origins + 1 - lag] for lag in lags]) if len(origins) else None
    if feats is None:
        feats = np.empty((0, len(lags)))
    return feats, y[origins + step], origins


def calendar_features(ordinals: np.ndarray, sp: int, season: bool, trend: bool) -> np.ndarray:
    """Calendar features of target periods given by their period ordinals.

    ``season``: one dummy per season (``ordinal mod sp``; none when ``sp == 1``);
    ``trend``: the ordinal itself. Returns ``(len(ordinals), k)``, possibly ``k = 0``.
    """
    ordinals = np.asarray(ordinals, dtype=np.int64)
    cols = [(ordinals % sp == s).astype(float) for s in range(sp)] if (season and sp > 1) else []
    if trend:
        cols.append(ordinals.astype(float))
    return np.column_stack(cols) if cols else np.empty((len(ordinals), 0))


@cache
def _threadpools() -> ThreadpoolController:
    """Scanning the loaded BLAS/OpenMP libraries takes ~20 ms; do it once, on first use (the
    estimators' libraries are loaded by then)."""
    return ThreadpoolController()


class DirectReductionForecaster(BaseForecaster):
    """Base of the direct lag reductions; subclasses implement :meth:`_make_estimator`.

    Subclass ``__init__`` arguments must include ``lags``, ``target``, ``calendar``, ``trend``,
    ``conformal_origins`` and ``conformal_min_origins`` (stored under the same names).
    ``conformal_origins=0`` makes a point-only model (``predict`` needs ``level=()``); the
    conformal calibration fits those copies.
    """

    _tags = {
        "capability:exogenous": True,
        "capability:pred_int": True,
        "seasonal": True,
        "complexity": 5,
        "family": "machine learning",
    }

    lags: int | tuple[int, ...] | None
    target: str
    calendar: bool
    trend: bool
    conformal_origins: int
    conformal_min_origins: int

    def _make_estimator(self) -> RegressorMixin:
        raise NotImplementedError

    # -- data needs ------------------------------------------------------------------------
    def _point_min_obs(self, sp: int) -> int:
        return max(resolve_lags(self.lags, sp)) + MIN_ROWS

    def min_obs(self, sp: int) -> int:
        extra = int(self.conformal_min_origins) if self.conformal_origins else 0
        return self._point_min_obs(sp) + extra

    # -- fit / predict -----------------------------------------------------------------------
    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        if self.target not in ("diff", "level"):
            raise InputError(f"{self.name}: target must be 'diff' or 'level', got {self.target!r}")
        if self.conformal_origins:
            check_calibration_params(self.name, self.conformal_origins, self.conformal_min_origins)
        self.lags_ = resolve_lags(self.lags, self.sp_)
        self.y_ = y.to_numpy(dtype=float)
        self.X_ = None if X is None else X.to_numpy(dtype=float)
        self.ordinals_ = np.asarray(y.index.asi8, dtype=np.int64)
        self.estimators_: dict[int, Any] = {}
        self.calibrator_: ConformalCalibrator | None = None
        if self.conformal_origins:
            point = self.clone(conformal_origins=0)
            self.calibrator_ = ConformalCalibrator(
                point,
                y,
                X,
                min_train=point.min_obs(self.sp_),
                origins=self.conformal_origins,
                min_origins=self.conformal_min_origins,
                label=self.name,
            )

    def _rows(self, step: int) -> int:
        return len(self.y_) - max(self.lags_) - step + 1

    def _design(
        self, lag_feats: np.ndarray, origin_vals: np.ndarray, target_pos: np.ndarray, exog: Any
    ) -> np.ndarray:
        """Full feature matrix: lags (relative to the origin for ``target="diff"``), calendar
        features of the target period, exogenous columns at the target period."""
        if self.target == "diff":  # lag 1 minus the origin value is always 0: left out
            keep = [i for i, lag in enumerate(self.lags_) if lag != 1]
            parts = [lag_feats[:, keep] - origin_vals[:, None]]
        else:
            parts = [lag_feats]
        parts.append(
            calendar_features(self.ordinals_[0] + target_pos, self.sp_, self.calendar, self.trend)
        )
        if exog is not None:
            parts.append(np.asarray(exog, dtype=float))
        parts = [p for p in parts if p.shape[1]]
        return np.column_stack(parts) if parts else np.zeros((len(origin_vals), 1))

    def _step_estimator(self, step: int) -> Any:
        if step in self.estimators_:
            return self.estimators_[step]
        feats, targets, origins = lag_rows(self.y_, self.lags_, step)
        origin_vals = self.y_[origins]
        design = self._design(
            feats,
            origin_vals,
            origins + step,
            None if self.X_ is None else self.X_[origins + step],
        )
        est = self._make_estimator()
        est.fit(design, targets - origin_vals if self.target == "diff" else targets)
        self.estimators_[step] = est
        return est

    def _point(self, h: int, X: pd.DataFrame | None) -> np.ndarray:
        rows = self._rows(h)
        if rows < MIN_ROWS:
            raise ModelRefusal(
                f"{self.name}: step {h} has {max(rows, 0)} training rows, needs {MIN_ROWS} "
                f"({len(self.y_)} observations, lags up to {max(self.lags_)})"
            )
        last = len(self.y_) - 1
        lag_now = np.array([[self.y_[last + 1 - lag] for lag in self.lags_]])
        origin_val = np.array([self.y_[last]])
        Xf = None if X is None else X.to_numpy(dtype=float)
        out = np.empty(h)
        # one thread: on a few dozen rows, OpenMP/BLAS start-up costs more than the fit, and
        # threads fight each other on a shared machine (10x slower under load)
        with _threadpools().limit(limits=1):
            for k in range(1, h + 1):
                design = self._design(
                    lag_now,
                    origin_val,
                    np.array([last + k]),
                    None if Xf is None else Xf[k - 1 : k],
                )
                pred = float(np.asarray(self._step_estimator(k).predict(design))[0])
                out[k - 1] = pred + (origin_val[0] if self.target == "diff" else 0.0)
        return out

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        mean = self._point(h, X)
        if not levels:
            return {"mean": mean}
        if self.calibrator_ is None:
            raise ModelRefusal(
                f"{self.name}: built with conformal_origins=0 (point forecasts only); "
                "predict with level=()"
            )
        return self.calibrator_.intervals(mean, levels)
