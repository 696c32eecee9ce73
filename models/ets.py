"""Exponential smoothing (ETS) in state-space form, statsmodels ``ETSModel``.

With ``"auto"`` components the model is chosen by AICc over error x trend (damped or not) x
seasonal, as in Hyndman et al. (2008) and R's ``forecast::ets``: multiplicative components only
for strictly positive data, no additive error with multiplicative seasonality (R's default
``restrict = TRUE``), seasonal ones only with at least two full cycles, and no candidate
with as many parameters as observations. Intervals are exact where statsmodels has the formula
(additive-error linear models) and simulated otherwise, with a fixed seed.

``selection="weights"`` (registered as ``ets_aicw``) keeps every candidate instead of the best
and combines them with Akaike weights, ``w_i = exp(-delta_i / 2) / sum_j exp(-delta_j / 2)``
with ``delta_i`` the candidate's criterion minus the smallest (Burnham & Anderson 2002, ch. 2.9;
for ETS on M3 and M1: Kolassa 2011, "Combining exponential smoothing forecasts using Akaike
weights", IJF 27:238). Candidates with ``delta > 2 log(1000)`` (weight below 1/1000 of the best's)
are left out and the rest renormalized, so that hopeless fits cost no smoothing or simulation.
Point forecasts are the weighted mean of the candidates'; interval bounds the weighted mean of
theirs, level by level (quantile averaging, as :mod:`models.ensemble` combines members).
"""

from __future__ import annotations

import itertools
import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tools import eval_measures
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from features.errors import InputError
from models.base import BaseForecaster, ModelRefusal, _fmt_level, with_defaults

log = logging.getLogger(__name__)

_CRITERIA = {"aic": eval_measures.aic, "aicc": eval_measures.aicc, "bic": eval_measures.bic}
_SELECTIONS = ("best", "weights")
#: Akaike weights: candidates more than this behind the best criterion are left out
_MAX_DELTA = 2.0 * float(np.log(1000.0))


def _information_criterion(ic: str, llf: float, nobs: int, df_model: int) -> float:
    """The criterion exactly as ``ETSResults`` computes it (``statsmodels.tools.eval_measures``
    with ``df_model`` = free parameters + 1 for the error variance)."""
    try:
        fn = _CRITERIA[ic]
    except KeyError:
        raise InputError(f"ets: ic must be one of {', '.join(_CRITERIA)}, got {ic!r}") from None
    return float(fn(llf, nobs, df_model))


class ETS(BaseForecaster):
    """ETS with automatic selection by an information criterion.

    Parameters
    ----------
    error : ``"add"``, ``"mul"`` or ``"auto"``.
    trend : ``None``, ``"add"`` or ``"auto"``.
    damped_trend : ``True``, ``False`` or ``"auto"`` (only with a trend).
    seasonal : ``None``, ``"add"``, ``"mul"`` or ``"auto"``.
    sp : seasonal period; ``None`` takes it from the data's frequency.
    ic : information criterion for ``"auto"``: ``"aicc"``, ``"aic"`` or ``"bic"``.
    simulation_seed : seed for simulated intervals of multiplicative models.
    selection : ``"best"`` (the candidate with the smallest criterion) or ``"weights"``
        (every candidate, combined with Akaike weights of the criterion; module docstring).
    """

    name = "ets"
    _tags = {
        "seasonal": True,
        "requires:min_obs": 6,
        "complexity": 3,
        "family": "exponential smoothing",
    }

    def __init__(
        self,
        error: str = "auto",
        trend: str | None = "auto",
        damped_trend: bool | str = "auto",
        seasonal: str | None = "auto",
        sp: int | None = None,
        ic: str = "aicc",
        simulation_seed: int = 0,
        selection: str = "best",
    ) -> None:
        self.error = error
        self.trend = trend
        self.damped_trend = damped_trend
        self.seasonal = seasonal
        self.sp = sp
        self.ic = ic
        self.simulation_seed = simulation_seed
        self.selection = selection

    def _candidates(self, y: np.ndarray) -> list[tuple[str, str | None, bool, str | None]]:
        positive = bool((y > 0).all())
        n, m = len(y), self.sp_
        errors = ["add", "mul"] if self.error == "auto" else [self.error]
        trends = [None, "add"] if self.trend == "auto" else [self.trend]
        if self.seasonal == "auto":
            seasonals: list[str | None] = [None]
            if m > 1 and n >= 2 * m + 2:
                seasonals += ["add", "mul"]
        else:
            seasonals = [self.seasonal]
        out = []
        for e, t, s in itertools.product(errors, trends, seasonals):
            if not positive and "mul" in (e, s):
                continue
            if e == "add" and s == "mul":  # R's restrict=TRUE: unstable, infinite-variance models
                continue
            dampings = (
                [False, True]
                if (t and self.damped_trend == "auto")
                else [bool(t and self.damped_trend)]
            )
            for d in dampings:
                k = (
                    1
                    + (t is not None)
                    + d
                    + (s is not None)
                    + 1
                    + (t is not None)
                    + ((m - 1) if s else 0)
                )
                if n > k + 2:  # AICc needs n > k + 1; one more keeps the fit identified
                    out.append((e, t, d, s))
        return out

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        arr = y.to_numpy()
        endog = pd.Series(arr)  # statsmodels' ETS prediction needs a pandas endog (RangeIndex)
        cands = self._candidates(arr)
        if not cands:
            raise ModelRefusal(
                f"ets: no ETS configuration can be fitted to {len(arr)} observations"
            )
        # Candidates are compared on their maximized likelihood alone: ``fit_params`` runs
        # statsmodels' optimizer from statsmodels' start values and bounds, with the objective and
        # its finite-difference gradient compiled (``models._ets_fast``; what
        # ``fit(return_params=True)`` returns, ~6x faster); only the winner is smoothed into
        # results. Imported here: numba loads only when an ETS model is fitted.
        from models._ets_fast import fit_params

        if self.selection not in _SELECTIONS:
            raise InputError(f"ets: selection must be one of {_SELECTIONS}, got {self.selection!r}")
        fitted: list[tuple[ETSModel, np.ndarray, float]] = []
        for e, t, d, s in cands:
            model = ETSModel(
                endog,
                error=e,
                trend=t,
                damped_trend=d,
                seasonal=s,
                seasonal_periods=self.sp_ if s else None,
                initialization_method="estimated",
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    params = fit_params(model, maxiter=2000)
                    llf = float(model.loglike(params))
                except (ValueError, np.linalg.LinAlgError) as exc:
                    log.debug("ets %s skipped: %s", (e, t, d, s), exc)
                    continue
            score = _information_criterion(self.ic, llf, len(arr), len(params) + 1)
            if np.isfinite(score):
                fitted.append((model, params, score))
        if not fitted:
            raise ModelRefusal("ets: every candidate configuration failed to fit")
        # stable sort: on a tie the earlier candidate stays first, as the strict "<" did
        fitted.sort(key=lambda c: c[2])
        best_ic = fitted[0][2]
        if self.selection == "weights":
            kept = [c for c in fitted if c[2] - best_ic <= _MAX_DELTA]
            w = np.exp(-0.5 * (np.array([c[2] for c in kept]) - best_ic))
            weights = w / w.sum()
        else:
            kept, weights = fitted[:1], np.ones(1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.results_ = [model.smooth(params) for model, params, _ in kept]
        self.weights_ = [float(v) for v in weights]
        self.result_ = self.results_[0]
        m = self.result_.model
        self.selected_ = {
            "error": m.error,
            "trend": m.trend,
            "damped_trend": bool(m.damped_trend),
            "seasonal": m.seasonal,
            self.ic: best_ic,
        }
        if self.selection == "weights":
            self.selected_["weights"] = {
                _config_label(r.model): round(wt, 6)
                for r, wt in zip(self.results_, self.weights_, strict=True)
            }

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        """Keep the selected configuration(s) and weights; filter ``y`` with the fitted
        parameters fixed (``ETSModel.smooth``) or re-estimate them starting from the fitted
        ones."""
        self.results_ = [_updated(r, y.to_numpy(), refit_params) for r in self.results_]
        self.result_ = self.results_[0]

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        n = self.n_obs_
        out: dict[str, np.ndarray] = {}
        for res, w in zip(self.results_, self.weights_, strict=True):
            pred = res.get_prediction(
                start=n,
                end=n + h - 1,
                simulate_repetitions=2000,
                rng=np.random.default_rng(self.simulation_seed),
            )
            one = {"mean": np.asarray(pred.predicted_mean, dtype=float)}
            for lv in levels:
                pi = np.asarray(pred.pred_int(alpha=1 - lv / 100.0), dtype=float)
                one[f"lo_{_fmt_level(lv)}"] = pi[:, 0]
                one[f"hi_{_fmt_level(lv)}"] = pi[:, 1]
            for col, v in one.items():
                out[col] = out[col] + w * v if col in out else w * v
        return out


def _config_label(m: ETSModel) -> str:
    """R's notation of a fitted configuration, e.g. ``"MAdM"``."""
    part = {"add": "A", "mul": "M", None: "N"}
    return part[m.error] + part[m.trend] + ("d" if m.damped_trend else "") + part[m.seasonal]


def _updated(res: Any, y: np.ndarray, refit_params: bool) -> Any:
    """``res``'s configuration over ``y``: its parameters fixed, or re-estimated from them."""
    m = res.model
    model = ETSModel(
        pd.Series(y),
        error=m.error,
        trend=m.trend,
        damped_trend=m.damped_trend,
        seasonal=m.seasonal,
        seasonal_periods=m.seasonal_periods if m.seasonal else None,
        initialization_method="estimated",
    )
    params = np.asarray(res.params, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if refit_params:  # ``model.fit(start_params=params, maxiter=2000)``, compiled objective
            from models._ets_fast import fit_params

            params = fit_params(model, maxiter=2000, start_params=params)
        return model.smooth(params)


class ETSAkaike(ETS):
    """ETS combining every candidate configuration with Akaike weights of AICc (Kolassa 2011;
    a registered shortcut for ``ETS(selection="weights")``)."""

    name = "ets_aicw"
    __init__ = with_defaults(ETS.__init__, selection="weights")
