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

Default members: ETS, theta and the airline SARIMAX, three families that fit 24 quarters.
``auto_arima`` was the first choice for the third; it failed to fit on 13 quarters (the first
backtest origins of the OKVED 26 series) and took 15-50 s a fit on the shared 2-core machine
under load, where the fixed-order SARIMAX took about 1 s. In one exploratory run over six h = 4 origins,
the mean of ETS, theta and SARIMAX scored MASE 0.59 on OKVED 26 and 0.49 on 28 quarters of
ausbeer; with auto_arima in place of SARIMAX, 0.69 and 0.59. On M3 training-data holdouts
(``benchmarks/select_ensemble.py``: 16 equal-weight means and medians of ETS, theta, SARIMAX
and auto-ARIMA; the test periods unseen) no combination beat theta by 3% on the monthly series;
mean(ETS, theta) came closest (smallest gain over theta -0.1% against this default's -1.0%,
better on three of the four kind-metric pairs, worse on monthly MASE). Neither clears the
target; this default keeps SARIMAX, the champion family on the Rosstat series, and stays.

A second study added DOTM (``models/dotm.py``) as a candidate member and chose
mean(ETS, theta, DOTM, auto_arima_approx) on the holdouts (gains 5.3 / 6.3 / 1.4 / 1.6%: sMAPE
q, MASE q, sMAPE m, MASE m). Scored once on the M3 test it beat theta by 2.3% / 4.1% (quarterly
sMAPE / MASE) and 2.96% / 4.6% (monthly): short of the 3% sMAPE target on both kinds. On the
Rosstat series it made the quarterly run 74 s instead of 57 s (its approximated auto-ARIMA
member shares no fit with the run's ``auto_arima``; the extra time was not broken down further)
and, under ``refit: always``, failed on one series (a member's NaN interval, not diagnosed). The
default therefore stays as it was; ``Ensemble(("ets", "theta", "dotm", "auto_arima_approx"))``
builds that candidate (``benchmarks/results/ensemble-selection-2026-11-28.md`` and the M3 section
of ``benchmarks/results/2026-11-28.md``).

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
        members: tuple[str | BaseForecaster, ...] = ("ets_aicw", "theta", "dotm"),
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
