"""Vector autoregression, statsmodels ``VAR``, under the univariate contract.

``y`` is the target; the columns of ``X`` named by ``endog_columns`` (default: all of them) are
its endogenous companions, modelled jointly with ``y`` and forecast together with it, so
``predict`` does not need their future values. Any other ``X`` column is truly exogenous: it
enters every equation as a regressor, and ``predict`` needs its future values. The tag
``"exogenous:future_required": False`` and the fitted ``future_exog_columns_`` tell callers which
columns that is.

The lag order is chosen by an information criterion (``VAR.select_order``) up to ``maxlags``,
lowered so that no equation has more than half as many coefficients as observations (with ~24
quarterly observations an unrestricted VAR otherwise drives AIC to the largest lag; at least one
lag is kept). Seasonal data get ``sp - 1`` seasonal dummies (statsmodels ``Seasonality``) as
deterministic regressors. Intervals are statsmodels' ``forecast_interval``: Gaussian, from the
VAR's ``h``-step forecast MSE matrix, treating parameters as known.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.tsa.api import VAR as _SMVAR
from statsmodels.tsa.deterministic import Seasonality

from features.errors import InputError
from models.base import BaseForecaster, ModelRefusal, _fmt_level

log = logging.getLogger(__name__)

_TREND_TERMS = {"n": 0, "c": 1, "ct": 2, "ctt": 3}


def split_endog_exog(
    X: pd.DataFrame, endog_columns: Sequence[str] | None, model: str
) -> tuple[list[str], list[str]]:
    """Split ``X``'s columns into endogenous companions of ``y`` and truly exogenous ones.

    ``endog_columns=None`` makes every column endogenous. A named column missing from ``X`` is
    an :class:`InputError`; no companion at all is a :class:`ModelRefusal`.
    """
    cols = list(X.columns)
    if endog_columns is None:
        endog = cols
    else:
        endog = list(endog_columns)
        for c in endog:
            if c not in cols:
                raise InputError(f"{model}: endog_columns names {c!r}, which X does not have")
    if not endog:
        raise ModelRefusal(f"{model}: needs at least one endogenous companion column in X")
    return endog, [c for c in cols if c not in endog]


def seasonal_dummies(sp: int, first: pd.Period) -> Seasonality | None:
    """statsmodels' seasonal dummies aligned to the calendar, or ``None`` when not seasonal."""
    if sp <= 1:
        return None
    return Seasonality(period=sp, initial_period=int(first.ordinal % sp) + 1)


class VAR(BaseForecaster):
    """VAR(p) of ``y`` and its endogenous companions in ``X``.

    Parameters
    ----------
    endog_columns : columns of ``X`` forecast jointly with ``y``; ``None``: every column. The
        others are exogenous regressors whose future values ``predict`` needs.
    maxlags : largest lag order searched.
    ic : information criterion for the lag order: ``"aic"``, ``"bic"``, ``"hqic"`` or ``"fpe"``.
    trend : ``"n"``, ``"c"`` (constant), ``"ct"`` or ``"ctt"``.
    seasonal : add seasonal dummies when the data are seasonal (``sp > 1``).
    sp : seasonal period; ``None`` takes it from the data's frequency.
    """

    name = "var"
    _tags = {
        "capability:exogenous": True,
        "capability:multivariate": True,
        "requires:exogenous": True,
        "exogenous:future_required": False,
        "seasonal": True,
        "requires:min_obs": 8,
        "complexity": 4,
        "family": "vector autoregression",
    }

    def __init__(
        self,
        endog_columns: tuple[str, ...] | None = None,
        maxlags: int = 4,
        ic: str = "aic",
        trend: str = "c",
        seasonal: bool = True,
        sp: int | None = None,
    ) -> None:
        self.endog_columns = endog_columns
        self.maxlags = maxlags
        self.ic = ic
        self.trend = trend
        self.seasonal = seasonal
        self.sp = sp

    def _future_exog_columns(self) -> list[str]:
        return list(self.exog_only_)

    def _deterministic(self, first: pd.Period) -> Seasonality | None:
        return seasonal_dummies(self.sp_, first) if self.seasonal else None

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        assert X is not None  # requires:exogenous
        self.endog_columns_, self.exog_only_ = split_endog_exog(X, self.endog_columns, self.name)
        n = len(y)
        endog = np.column_stack([y.to_numpy(), X[self.endog_columns_].to_numpy()])
        self.seasonality_ = self._deterministic(y.index[0])
        exog = self._exog_block(X[self.exog_only_].to_numpy(), n, in_sample=True)
        k = endog.shape[1]
        kx = 0 if exog is None else exog.shape[1]
        # per equation k * p lags + c deterministic/exogenous terms, at most half as many
        # coefficients as the n - p observations used: 2 (k p + c) <= n - p
        c = kx + _TREND_TERMS.get(self.trend, 1)
        p_cap = (n - 2 * c) // (2 * k + 1)
        maxlags = min(int(self.maxlags), p_cap)
        if maxlags < 1:
            raise ModelRefusal(
                f"var: {n} observations are too few for a VAR(1) in {k} variables "
                f"with {kx} exogenous/seasonal regressors"
            )
        model = _SMVAR(endog, exog=exog)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                chosen = model.select_order(maxlags, trend=self.trend).selected_orders[self.ic]
                self.lag_order_ = max(1, int(chosen))
                self.result_ = model.fit(self.lag_order_, trend=self.trend)
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise ModelRefusal(f"var: the model could not be estimated ({exc})") from exc
        self.y_last_ = endog[-self.lag_order_ :].copy()
        log.debug("var lag order %d (max %d) on %s", self.lag_order_, maxlags, self.endog_columns_)

    def _exog_block(self, X: np.ndarray, steps: int, in_sample: bool) -> np.ndarray | None:
        """Truly exogenous columns followed by the seasonal dummies (first season dropped)."""
        parts = [X] if X.shape[1] else []
        if self.seasonality_ is not None:
            idx = pd.RangeIndex(self.n_obs_)
            if in_sample:
                dummies = self.seasonality_.in_sample(idx)
            else:
                dummies = self.seasonality_.out_of_sample(steps, idx)
            parts.append(dummies.to_numpy(dtype=float)[:, 1:])
        return np.column_stack(parts) if parts else None

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        x_future = np.empty((h, 0)) if X is None else X.to_numpy()
        exog_future = self._exog_block(x_future, h, in_sample=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mean = self.result_.forecast(self.y_last_, h, exog_future=exog_future)
            out: dict[str, np.ndarray] = {"mean": np.asarray(mean[:, 0], dtype=float)}
            for lv in levels:
                _, lo, hi = self.result_.forecast_interval(
                    self.y_last_, h, alpha=1 - lv / 100.0, exog_future=exog_future
                )
                out[f"lo_{_fmt_level(lv)}"] = np.asarray(lo[:, 0], dtype=float)
                out[f"hi_{_fmt_level(lv)}"] = np.asarray(hi[:, 0], dtype=float)
        return out
