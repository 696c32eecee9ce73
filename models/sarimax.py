"""Seasonal ARIMA with exogenous regressors, statsmodels ``SARIMAX``.

The default is Box and Jenkins' airline model, ARIMA(0,1,1)(0,1,1)_m, a robust choice for
trending seasonal series such as Rosstat's unadjusted production indices. Exogenous columns of
``X`` enter as regressors with ARIMA errors; forecasts then need their future values.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.statespace.sarimax import SARIMAX as _SMSARIMAX

from models.base import BaseForecaster, _fmt_level

log = logging.getLogger(__name__)


class SARIMAX(BaseForecaster):
    """SARIMAX(p,d,q)(P,D,Q)_m.

    Parameters
    ----------
    order : ``(p, d, q)``.
    seasonal_order : ``(P, D, Q)``; the period is ``sp``. Ignored for non-seasonal data.
    sp : seasonal period; ``None`` takes it from the data's frequency.
    trend : statsmodels trend code (``None``, ``"c"``, ``"t"``, ``"ct"``).
    """

    name = "sarimax"
    _tags = {
        "capability:exogenous": True,
        "seasonal": True,
        "requires:min_obs": 8,
        "complexity": 4,
        "family": "arima",
    }

    def __init__(
        self,
        order: tuple[int, int, int] = (0, 1, 1),
        seasonal_order: tuple[int, int, int] = (0, 1, 1),
        sp: int | None = None,
        trend: str | None = None,
    ) -> None:
        self.order = order
        self.seasonal_order = seasonal_order
        self.sp = sp
        self.trend = trend

    def _seasonal(self, sp: int) -> tuple[int, int, int, int]:
        if sp <= 1:
            return (0, 0, 0, 0)
        P, D, Q = self.seasonal_order
        return (P, D, Q, sp)

    def min_obs(self, sp: int) -> int:
        p, d, q = self.order
        P, D, Q, m = self._seasonal(sp)
        n_params = p + q + P + Q + 1 + (len(self.trend) if self.trend else 0)
        return max(
            int(self.get_tag("requires:min_obs")),
            d + D * m + max(p, q) + m * max(P, Q) + n_params + 2,
        )

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        model = _SMSARIMAX(
            y.to_numpy(),
            exog=None if X is None else X.to_numpy(),
            order=tuple(self.order),
            seasonal_order=self._seasonal(self.sp_),
            trend=self.trend,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.result_ = model.fit(disp=False)
        log.debug(
            "sarimax params %s",
            dict(zip(self.result_.param_names, self.result_.params, strict=True)),
        )

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        """Same orders; the Kalman filter runs over ``y`` with the fitted parameters fixed
        (``MLEResults.apply``), or the parameters are re-estimated from the fitted ones."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.result_ = self.result_.apply(
                y.to_numpy(),
                exog=None if X is None else X.to_numpy(),
                refit=refit_params,
                fit_kwargs={"disp": False} if refit_params else None,
            )

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        fc = self.result_.get_forecast(h, exog=None if X is None else X.to_numpy())
        out: dict[str, np.ndarray] = {"mean": np.asarray(fc.predicted_mean, dtype=float)}
        for lv in levels:
            ci = np.asarray(fc.conf_int(alpha=1 - lv / 100.0), dtype=float)
            out[f"lo_{_fmt_level(lv)}"] = ci[:, 0]
            out[f"hi_{_fmt_level(lv)}"] = ci[:, 1]
        return out
