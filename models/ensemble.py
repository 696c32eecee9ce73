"""Forecast combination of registered models.

Members are fitted to the same data; a member that refuses (:class:`~models.base.ModelRefusal`)
is dropped and its reason kept in ``dropped_``; if every member refuses, the ensemble refuses.

Combination (``method``):

* ``"mean"``: equal weights. Hard to beat in practice, the "forecast combination puzzle"
  (Stock & Watson 2004; Claeskens et al. 2016, IJF 32:754);
* ``"median"``: the median of the members, column by column;
* ``"inverse_error"``: weights proportional to ``1 / MASE`` from a rolling-origin backtest on the
  training data (:func:`models.splits.rolling_origins`, the backtest's splitter;
  ``validation_origins`` origins, ``horizon_for_weights`` steps, every origin long enough for
  every member). MASE scales each origin's absolute errors by the in-sample seasonal-naive MAE of
  its training window, as :mod:`pipelines.metrics` does. A member that refuses during validation
  is dropped. When the series is too short for even one origin the weights fall back to equal
  and ``weights_note_`` says so.

Default members: ETS, theta, the dynamic optimised theta model (DOTM) and auto-ARIMA with R's
approximation (``auto_arima_approx``), equal weights, chosen on M3 *training* data before any
test period was scored (``benchmarks/select_ensemble.py``: the test periods removed, the last h
of the training data held out, 1 in 4 series; every equal-weight mean and median of two to five
of ETS, theta, DOTM, SARIMAX and auto_arima_approx; the one with the largest smallest gain over
theta across sMAPE and MASE, quarterly and monthly). It gained 5.3 / 6.3 / 1.4 / 1.6% there
(sMAPE q, MASE q, sMAPE m, MASE m); mean(ETS, theta, DOTM) 4.0 / 4.9 / 0.6 / 1.7%; the
previous default, mean(ETS, theta, SARIMAX), 2.7 / 3.7 / -2.5 / 1.0%. SARIMAX (the airline
model) stays a model of its own: on the Rosstat series it is often the champion. The
approximated auto-ARIMA is the member (not ``auto_arima``, pmdarima's search): about 15x
cheaper per fit, and it is what the study scored; on short series it is less accurate than the
exact search (see ``models/auto_arima.py``), and where it cannot fit the ensemble drops it.

Intervals combine the members' bounds with the same rule as the mean: the weighted mean of
member bounds (``"mean"``, ``"inverse_error"``) or their median (``"median"``), level by level
(quantile averaging, Vincentization). Both are increasing in every member's bound, so when every
member's intervals nest the ensemble's nest too. Averaging quantiles ignores the members'
disagreement: with the mean rules a band is exactly as wide as the members' weighted average.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from features.errors import InputError
from models._wrapper import build_forecaster, forecaster_label
from models.base import BaseForecaster, ModelRefusal
from models.splits import mase_scale, rolling_origins

log = logging.getLogger(__name__)

_METHODS = ("mean", "median", "inverse_error")


class Ensemble(BaseForecaster):
    """Combination of registered models (see the module docstring).

    Parameters
    ----------
    members : registered names (or unfitted instances) to combine.
    method : ``"mean"``, ``"median"`` or ``"inverse_error"``.
    validation_origins : rolling origins for ``"inverse_error"`` weights.
    horizon_for_weights : steps scored at each origin; ``None`` is one seasonal cycle.
    """

    name = "ensemble"
    _tags = {
        "capability:exogenous": True,
        "capability:pred_int": True,
        "seasonal": True,
        "complexity": 6,
        "family": "ensemble",
    }

    def __init__(
        self,
        members: tuple[str | BaseForecaster, ...] = (
            "ets",
            "theta",
            "dotm",
            "auto_arima_approx",
        ),
        method: str = "mean",
        validation_origins: int = 4,
        horizon_for_weights: int | None = None,
    ) -> None:
        self.members = members
        self.method = method
        self.validation_origins = validation_origins
        self.horizon_for_weights = horizon_for_weights

    # -- members -------------------------------------------------------------------------------
    def _labelled(self) -> dict[str, BaseForecaster]:
        """Fresh member prototypes by label; repeated labels get ``_2``, ``_3`` ..."""
        if isinstance(self.members, str) or not len(self.members):
            raise InputError(f"{self.name}: members must be a non-empty tuple of model names")
        out: dict[str, BaseForecaster] = {}
        for spec in self.members:
            label = base = forecaster_label(spec)
            i = 1
            while label in out:
                i += 1
                label = f"{base}_{i}"
            out[label] = build_forecaster(spec)
        return out

    def min_obs(self, sp: int) -> int:
        # the ensemble fits when at least one member does (each at its own seasonal period)
        return min(m.min_obs(getattr(m, "sp", None) or sp) for m in self._labelled().values())

    # -- fit -----------------------------------------------------------------------------------
    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        if self.method not in _METHODS:
            raise InputError(f"{self.name}: method must be one of {_METHODS}, got {self.method!r}")
        self.dropped_: dict[str, str] = {}
        self.members_: dict[str, BaseForecaster] = {}
        for label, proto in self._labelled().items():
            try:
                self.members_[label] = proto.clone().fit(y, X)
            except ModelRefusal as exc:
                self.dropped_[label] = str(exc)
        self._refuse_if_empty()
        self.scores_: dict[str, float] = {}
        self.weights_note_ = ""
        if self.method == "inverse_error":
            self._validate(y, X)
        k = len(self.members_)
        if self.method == "inverse_error" and self.scores_:
            inv = {lab: 1.0 / max(s, 1e-12) for lab, s in self.scores_.items()}
            total = sum(inv.values())
            self.weights_ = {lab: inv[lab] / total for lab in self.members_}
        else:
            self.weights_ = {lab: 1.0 / k for lab in self.members_}
        used = {c for m in self.members_.values() for c in m.exog_columns_}
        self.exog_columns_ = [c for c in self.exog_columns_ if c in used]

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        """Update every kept member (each keeps its structure); weights and drops are kept."""
        for member in self.members_.values():
            cols = member.exog_columns_
            member.update(y, X[cols] if (X is not None and cols) else None, refit_params)

    def _future_exog_columns(self) -> list[str]:
        need = {c for m in self.members_.values() for c in m.future_exog_columns_}
        return [c for c in self.exog_columns_ if c in need]

    def _refuse_if_empty(self) -> None:
        if not self.members_:
            reasons = "; ".join(
                v if v.startswith(f"{k}:") else f"{k}: {v}" for k, v in self.dropped_.items()
            )
            raise ModelRefusal(f"{self.name}: every member refused ({reasons})")

    def _validate(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        """MASE of each fitted member over rolling origins of the training data."""
        h = int(self.horizon_for_weights or self.sp_)
        min_train = max(self.members_[lab].min_obs(self.members_[lab].sp_) for lab in self.members_)
        try:
            splits = rolling_origins(len(y), h, self.validation_origins, min_train=min_train)
        except InputError as exc:
            self.weights_note_ = f"equal weights: too short to validate ({exc})"
            log.info("%s: %s", self.name, self.weights_note_)
            return
        yv = y.to_numpy(dtype=float)
        for label in list(self.members_):
            member = self.members_[label]
            errs = []
            try:
                for s in splits:
                    fitted = member.clone().fit(
                        y.iloc[s.train], None if X is None else X.iloc[s.train]
                    )
                    X_test = X.iloc[s.test] if (X is not None and fitted.exog_columns_) else None
                    fc = fitted.predict(h, X_test, level=())["mean"].to_numpy(dtype=float)
                    scale = mase_scale(yv[s.train], self.sp_)
                    if not scale > 0:  # flat training window: fall back to absolute errors
                        scale = 1.0
                    errs.append(float(np.mean(np.abs(yv[s.test] - fc))) / scale)
            except ModelRefusal as exc:
                self.dropped_[label] = f"validation: {exc}"
                del self.members_[label]
                continue
            self.scores_[label] = float(np.mean(errs))
        self._refuse_if_empty()

    # -- predict -------------------------------------------------------------------------------
    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        frames = []
        for member in self.members_.values():
            need = member.future_exog_columns_
            X_m = X[need] if (X is not None and need) else None
            frames.append(member.predict(h, X_m, level=levels))
        stacked = np.stack([f.to_numpy(dtype=float) for f in frames])  # member x h x column
        if self.method == "median":
            combined = np.median(stacked, axis=0)
        else:
            w = np.array([self.weights_[lab] for lab in self.members_])
            combined = np.tensordot(w, stacked, axes=1)
        return {col: combined[:, i] for i, col in enumerate(frames[0].columns)}

    def describe_fit(self) -> dict[str, Any]:
        """Members kept with weights and validation MASE, members dropped with reasons."""
        return {
            "weights": dict(self.weights_),
            "mase": dict(self.scores_),
            "dropped": dict(self.dropped_),
            "note": self.weights_note_,
        }
