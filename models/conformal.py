"""Split-conformal prediction intervals from rolling-origin errors on the training data.

Calibration
-----------
For each step ahead ``j`` the calibration scores are absolute errors ``|y - mean|`` of point
forecasts made at the ``origins`` most recent forecast origins of the training data that have an
actual ``j`` steps later. The origins are :func:`models.splits.rolling_origins` with
``horizon=j`` (the splitter the backtest uses, expanding windows); at each origin a fresh copy of
the point model is fitted to the data up to the origin and forecasts as many steps as are needed
from it (one fit per distinct origin). Origins where the copy refuses are skipped. Step ``j``'s
scores do not depend on the horizon asked for, so the intervals of a 4-step and an 8-step
forecast agree on their first 4 steps.

Half-width of the ``L``% interval at step ``j`` from ``k`` scores ``s_(1) <= ... <= s_(k)``,
``q = L / 100``:

* ``"conformal"``: ``s_(r)``, ``r = ceil((k + 1) q)``, the finite-sample split-conformal
  quantile (Vovk et al. 2005; Lei et al. 2018, JASA 113:1094), when ``r <= k``;
* ``"gaussian-tail"``: when ``r > k`` (too few scores for that level: with 8 scores only levels up
  to 8/9 = 88.9% are attainable) the larger of ``s_(k)`` and ``z_{(1+q)/2} * sqrt(mean(s^2))``,
  a normal interval scaled by the out-of-sample errors;
* a step with fewer than ``min_origins`` scores (long steps on short series) takes the
  half-widths of the longest shorter step ``j*`` that has enough, times ``sqrt(j / j*)``
  (random-walk growth); this is recorded as ``"sqrt-scaled from step j*"``.

The intervals are ``mean ± half-width``. They nest: at one step the half-width never decreases
with ``L`` (order statistics rise with ``r``; the Gaussian tail is at least ``s_(k)``, the
largest order statistic). If step 1 has fewer than ``min_origins`` scores the model refuses
(:class:`~models.base.ModelRefusal`); there is no in-sample fallback.
:meth:`ConformalCalibrator.describe` says, per step and level, which rule produced each width.

Use
---
* :class:`Conformal` wraps any model: its point forecast, these intervals (``Conformal("ets")``).
* Models without intervals of their own (the lag reductions) build a :class:`ConformalCalibrator`
  in ``fit`` and call it in ``predict``.

Calibration runs on the first ``predict`` that asks for intervals (``fit`` has no horizon) and is
cached on the fitted model; it is a deterministic function of the training data and the
hyperparameters. ``predict(h, level=())`` returns point forecasts without calibrating.

Inside a :func:`calibration_memo` block (the backtest opens one per task) the copy fitted at a
calibration origin is kept and reused by later calibrations on data with the same history up
to that origin: consecutive backtest origins share all their calibration origins but the
newest, so a rolling backtest fits about one copy per origin instead of ``origins`` of them.
The kept copy is the same deterministic fit, so the intervals are unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from features.errors import InputError
from models._wrapper import WrapperForecaster
from models.base import BaseForecaster, ModelRefusal, _fmt_level, fit_key
from models.splits import Split, rolling_origins

log = logging.getLogger(__name__)

#: copies fitted at calibration origins inside a :func:`calibration_memo` block:
#: fit key -> the fitted copy (private to calibration) or its refusal
_MEMO: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("calibration_memo", default=None)
_SKIPPED = (ModelRefusal, np.linalg.LinAlgError)


@contextlib.contextmanager
def calibration_memo() -> Iterator[None]:
    """Inside the block, a calibration copy of the same configuration fitted to the same data
    is fitted once (see the module docstring); the copies are dropped when the block ends."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def rolling_abs_errors(
    model: BaseForecaster,
    y: pd.Series,
    X: pd.DataFrame | None,
    horizon: int,
    origins: int,
    min_train: int,
) -> list[np.ndarray]:
    """Absolute out-of-sample errors for steps ``1..horizon`` (see the module docstring).

    Parameters
    ----------
    model : unfitted prototype; each origin fits ``model.clone()``.
    y, X : the training data (``X`` only the columns the model uses, or ``None``).
    horizon : last step to calibrate.
    origins : most recent origins per step.
    min_train : fewest training observations at an origin (the model's ``min_obs``).

    Returns
    -------
    list of arrays, one per step; array ``j - 1`` holds step ``j``'s errors, oldest origin first.
    """
    n = len(y)
    per_step: list[list[Split]] = []
    needed: dict[int, tuple[Split, int]] = {}  # cutoff -> (a split at it, steps needed)
    for j in range(1, horizon + 1):
        try:
            splits = rolling_origins(n, j, origins, min_train=min_train)
        except InputError:
            splits = []
        per_step.append(splits)
        for s in splits:
            needed[s.cutoff] = (s, max(j, needed.get(s.cutoff, (s, 0))[1]))
    means: dict[int, np.ndarray] = {}
    for cutoff, (split, steps) in sorted(needed.items()):
        fc = _forecast_at(model, y, X, split, steps)
        if fc is not None:
            means[cutoff] = fc
    yv = y.to_numpy(dtype=float)
    out = []
    for j, splits in enumerate(per_step, start=1):
        errs = [
            abs(yv[s.test][-1] - means[s.cutoff][j - 1])
            for s in splits
            if s.cutoff in means and len(means[s.cutoff]) >= j
        ]
        out.append(np.asarray(errs, dtype=float))
    return out


def _forecast_at(
    model: BaseForecaster, y: pd.Series, X: pd.DataFrame | None, split: Split, steps: int
) -> np.ndarray | None:
    """Mean forecasts of a copy fitted on ``split.train``: ``steps`` of them, or as many as it
    can make; ``None`` when it refuses to fit."""
    y_train = y.iloc[split.train]
    X_train = None if X is None else X.iloc[split.train]
    memo = _MEMO.get()
    key = fit_key(model, y_train, X_train) if memo is not None else ()
    kept = None if memo is None else memo.get(key)
    if isinstance(kept, _SKIPPED):
        log.debug("%s: calibration origin %d skipped: %s", model.name, split.cutoff, kept)
        return None
    try:
        fitted = kept if kept is not None else model.clone().fit(y_train, X_train)
    except _SKIPPED as exc:
        if memo is not None:
            memo[key] = exc
        log.debug("%s: calibration origin %d skipped: %s", model.name, split.cutoff, exc)
        return None
    if memo is not None:
        memo[key] = fitted
    use_x = X is not None and bool(fitted.exog_columns_)
    for k in range(steps, 0, -1):
        future = (
            X.iloc[split.cutoff + 1 : split.cutoff + 1 + k] if use_x and X is not None else None
        )
        try:
            return fitted.predict(k, future, level=())["mean"].to_numpy(dtype=float)
        except ModelRefusal:
            continue  # e.g. a lag reduction without enough rows for step k
    return None


def _halfwidth(scores: np.ndarray, q: float) -> tuple[float, str]:
    k = len(scores)
    srt = np.sort(scores)
    r = math.ceil((k + 1) * q - 1e-9)
    if r <= k:
        return float(srt[r - 1]), "conformal"
    z = float(norm.ppf(0.5 + q / 2.0))
    return max(float(srt[-1]), z * float(np.sqrt(np.mean(srt**2)))), "gaussian-tail"


def conformal_halfwidths(
    scores: Sequence[np.ndarray], levels: Sequence[float], min_origins: int, label: str = "model"
) -> tuple[dict[float, np.ndarray], dict[str, Any]]:
    """Half-widths per level (percent) and step, and a record of the rule behind each.

    Raises :class:`ModelRefusal` when step 1 has fewer than ``min_origins`` scores.
    """
    h = len(scores)
    widths = {lv: np.empty(h) for lv in levels}
    methods: dict[str, list[str]] = {_fmt_level(lv): [] for lv in levels}
    base: int | None = None  # last step with enough scores
    for j, s in enumerate(scores, start=1):
        if len(s) >= min_origins:
            base = j
            for lv in levels:
                w, how = _halfwidth(s, lv / 100.0)
                widths[lv][j - 1] = w
                methods[_fmt_level(lv)].append(how)
            continue
        if base is None:
            raise ModelRefusal(
                f"{label}: too short for conformal calibration: {len(s)} out-of-sample errors "
                f"at step 1, needs {min_origins}"
            )
        factor = math.sqrt(j / base)
        for lv in levels:
            widths[lv][j - 1] = widths[lv][base - 1] * factor
            methods[_fmt_level(lv)].append(f"sqrt-scaled from step {base}")
    info = {"n_scores": [len(s) for s in scores], "method": methods}
    return widths, info


class ConformalCalibrator:
    """Conformal intervals for one fitted model, calibrated on its training data when needed.

    Parameters
    ----------
    point_model : unfitted prototype whose copies are refitted at each origin.
    y, X : the training data (``X`` only the columns the model uses, or ``None``).
    min_train : fewest observations at an origin (the point model's ``min_obs``).
    origins : most recent origins per step.
    min_origins : fewest scores a step needs to be calibrated on its own.
    label : model name for messages.
    """

    def __init__(
        self,
        point_model: BaseForecaster,
        y: pd.Series,
        X: pd.DataFrame | None,
        min_train: int,
        origins: int,
        min_origins: int,
        label: str,
    ) -> None:
        self.point_model = point_model
        self.y = y
        self.X = X
        self.min_train = min_train
        self.origins = origins
        self.min_origins = min_origins
        self.label = label
        self.scores_: list[np.ndarray] = []

    def scores(self, h: int) -> list[np.ndarray]:
        """Scores of steps ``1..h``, computed on first need and cached."""
        if len(self.scores_) < h:
            self.scores_ = rolling_abs_errors(
                self.point_model, self.y, self.X, h, self.origins, self.min_train
            )
        return self.scores_[:h]

    def intervals(self, mean: np.ndarray, levels: Sequence[float]) -> dict[str, np.ndarray]:
        """``mean`` plus ``lo_L``/``hi_L`` arrays for each level, in the contract's names."""
        out: dict[str, np.ndarray] = {"mean": np.asarray(mean, dtype=float)}
        if not levels:
            return out
        widths, _ = conformal_halfwidths(
            self.scores(len(mean)), levels, self.min_origins, self.label
        )
        for lv in levels:
            out[f"lo_{_fmt_level(lv)}"] = out["mean"] - widths[lv]
            out[f"hi_{_fmt_level(lv)}"] = out["mean"] + widths[lv]
        return out

    def describe(self, h: int, levels: Sequence[float] = (80, 95)) -> dict[str, Any]:
        """Scores per step and the rule behind each half-width (for logs and MLflow tags)."""
        _, info = conformal_halfwidths(self.scores(h), levels, self.min_origins, self.label)
        return info


def check_calibration_params(label: str, origins: int, min_origins: int) -> None:
    """Hyperparameter check shared by every model that calibrates conformal intervals."""
    if not (isinstance(origins, int) and isinstance(min_origins, int)) or not (
        1 <= min_origins <= origins
    ):
        raise InputError(
            f"{label}: need 1 <= min_origins <= origins, got min_origins={min_origins!r}, "
            f"origins={origins!r}"
        )


class Conformal(WrapperForecaster):
    """Any model's point forecasts with split-conformal intervals (see the module docstring).

    Parameters
    ----------
    inner : registered model name or unfitted instance giving the point forecasts.
    origins : most recent rolling origins whose errors calibrate each step.
    min_origins : fewest errors a step needs; step 1 with fewer -> ``ModelRefusal``.
    """

    name = "conformal"
    _tags = {"complexity": 3, "family": "wrapper"}

    def __init__(
        self, inner: str | BaseForecaster = "ets", origins: int = 8, min_origins: int = 4
    ) -> None:
        self.inner = inner
        self.origins = origins
        self.min_origins = min_origins

    def min_obs(self, sp: int) -> int:
        # step 1 has min_origins origins once n - 1 >= inner_min + min_origins - 1
        return self._inner_proto().min_obs(sp) + int(self.min_origins)

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        check_calibration_params(self.name, self.origins, self.min_origins)
        self.inner_ = self._inner_proto().fit(y, X)
        self.exog_columns_ = list(self.inner_.exog_columns_)
        self._calibrate_on(y, X)

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        """Update the inner model (its structure kept); calibrate again on the extended data."""
        self.inner_.update(y, X, refit_params)
        self._calibrate_on(y, X)

    def _calibrate_on(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        proto = self._inner_proto()
        X_used = X[self.exog_columns_] if (X is not None and self.exog_columns_) else None
        self.calibrator_ = ConformalCalibrator(
            proto,
            y,
            X_used,
            min_train=proto.min_obs(self.sp_),
            origins=self.origins,
            min_origins=self.min_origins,
            label=self.name,
        )

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        fc = self.inner_.predict(h, X if self.inner_.future_exog_columns_ else None, level=())
        return self.calibrator_.intervals(fc["mean"].to_numpy(dtype=float), levels)
