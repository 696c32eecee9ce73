"""Autoregressive distributed lag model, statsmodels ``ARDL``.

``y`` is explained by its own lags and by current and lagged values of every exogenous driver in
``X`` (a distributed-lag function of the drivers), plus a constant and, for seasonal data,
seasonal dummies. The lag orders are fixed or chosen by an information criterion with
``ardl_select_order`` (one common estimation sample for all candidates). The conditional-ECM
(UECM) form of the same model is a reparametrization with identical forecasts, so it is not a
separate option here; use statsmodels' ``UECM`` on ``result_`` for bounds testing.

Because drivers enter at lag 0 (``causal=False``), forecasts need future ``X`` for every
forecast period: the scenario path of the drivers.

Intervals come from statsmodels' ``ARDLResults.get_prediction``: Gaussian, with the ``h``-step
variance ``sigma^2 * sum(psi_j^2)`` from the MA representation of the autoregressive part. They
are conditional on the supplied future ``X`` path (treated as known) and ignore parameter
uncertainty, so they are narrower than the true forecast uncertainty of a scenario.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.ardl import ARDL as _SMARDL
from statsmodels.tsa.ardl import ardl_select_order

from models.base import BaseForecaster, ModelRefusal, _fmt_level

log = logging.getLogger(__name__)

_TREND_TERMS = {"n": 0, "c": 1, "ct": 2, "ctt": 3}


class ARDL(BaseForecaster):
    """ARDL(p, q_1, ..., q_k) of ``y`` on the drivers in ``X``.

    Parameters
    ----------
    lags : autoregressive lags of ``y``; the largest searched when ``select``.
    order : lags of every driver (0 = contemporaneous only); the largest searched when
        ``select``. Both are lowered (``order`` first) until the model has at most half as many
        coefficients as observations.
    select : choose ``lags`` and each driver's order by ``ic`` (``ardl_select_order``).
    ic : information criterion for ``select``: ``"aic"``, ``"bic"`` or ``"hqic"``.
    trend : ``"n"``, ``"c"`` (constant), ``"ct"`` or ``"ctt"``.
    seasonal : add seasonal dummies when the data are seasonal (``sp > 1``).
    sp : seasonal period; ``None`` takes it from the data's frequency.
    """

    name = "ardl"
    _tags = {
        "capability:exogenous": True,
        "requires:exogenous": True,
        "seasonal": True,
        "requires:min_obs": 8,
        "complexity": 3,
        "family": "distributed lag",
    }

    def __init__(
        self,
        lags: int = 2,
        order: int = 2,
        select: bool = True,
        ic: str = "aic",
        trend: str = "c",
        seasonal: bool = True,
        sp: int | None = None,
    ) -> None:
        self.lags = lags
        self.order = order
        self.select = select
        self.ic = ic
        self.trend = trend
        self.seasonal = seasonal
        self.sp = sp

    def _n_params(self, lags: int, order: int, k_exog: int, seasonal: bool) -> int:
        n_seas = self.sp_ - 1 if seasonal else 0
        return _TREND_TERMS.get(self.trend, 1) + n_seas + lags + (order + 1) * k_exog

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        assert X is not None  # requires:exogenous
        n, k_exog = len(y), X.shape[1]
        seasonal = bool(self.seasonal and self.sp_ > 1)
        lags, order = int(self.lags), int(self.order)
        # shrink the orders until there are at most half as many coefficients as observations
        # in the (common) estimation sample
        while 2 * self._n_params(lags, order, k_exog, seasonal) > n - max(lags, order):
            if order >= lags and order > 0:
                order -= 1
            elif lags > 0:
                lags -= 1
            else:
                raise ModelRefusal(
                    f"ardl: {n} observations are too few for {k_exog} driver(s)"
                    + (f" and {self.sp_ - 1} seasonal dummies" if seasonal else "")
                )
        endog = y.reset_index(drop=True)
        exog = X.reset_index(drop=True)
        period = self.sp_ if seasonal else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if self.select:
                    sel = ardl_select_order(
                        endog,
                        lags,
                        exog,
                        order,
                        trend=self.trend,
                        ic=self.ic,
                        seasonal=seasonal,
                        period=period,
                    )
                    model = sel.model
                else:
                    model = _SMARDL(
                        endog,
                        lags,
                        exog,
                        order,
                        trend=self.trend,
                        seasonal=seasonal,
                        period=period,
                    )
                self.result_ = model.fit()
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise ModelRefusal(f"ardl: the model could not be estimated ({exc})") from exc
        self.ardl_order_: tuple[int, ...] = tuple(int(v) for v in model.ardl_order)
        log.debug("ardl order %s (lags of y, then of %s)", self.ardl_order_, list(X.columns))

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        assert X is not None  # the base class requires future X for a model fitted with X
        n = self.n_obs_
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = self.result_.get_prediction(
                start=n, end=n + h - 1, exog_oos=X.reset_index(drop=True)
            )
        out: dict[str, np.ndarray] = {"mean": np.asarray(pred.predicted_mean, dtype=float)}
        for lv in levels:
            ci = np.asarray(pred.conf_int(alpha=1 - lv / 100.0), dtype=float)
            out[f"lo_{_fmt_level(lv)}"] = ci[:, 0]
            out[f"hi_{_fmt_level(lv)}"] = ci[:, 1]
        return out
