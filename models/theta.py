"""Theta method (Assimakopoulos & Nikolopoulos, 2000), statsmodels ``ThetaModel``.

Hyndman & Billah (2003) showed the standard theta forecast is simple exponential smoothing with
drift equal to half the slope of a linear trend; statsmodels estimates it that way (OLS trend
plus SES, or the equivalent ARIMA(0,1,1) with drift by MLE). Seasonal data are first
deseasonalized by classical decomposition, multiplicative for positive data, when statsmodels'
seasonality test (the ACF at lag ``sp``, 10% level) finds seasonality, and the forecast is
reseasonalized.

Intervals are statsmodels': Gaussian, with the IMA(1,1) forecast variance
``sigma^2 * (1 + (h - 1) * (1 + (alpha - 1)^2))`` computed on the deseasonalized scale and not
rescaled by the seasonal factors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.forecasting.theta import ThetaModel

from models.base import BaseForecaster, _fmt_level


class Theta(BaseForecaster):
    """Theta method with optional deseasonalization.

    Parameters
    ----------
    sp : seasonal period; ``None`` takes it from the data's frequency.
    deseasonalize : deseasonalize seasonal data (``sp > 1``) before fitting.
    use_test : deseasonalize only when the seasonality test rejects no seasonality.
    method : deseasonalization, ``"auto"`` (multiplicative when all data are positive),
        ``"additive"`` or ``"multiplicative"``.
    theta : weight of the trend line; 2 is the classical theta method.
    use_mle : estimate by maximum likelihood (ARIMA(0,1,1) with drift) instead of OLS + SES.
    """

    name = "theta"
    _tags = {
        "seasonal": True,
        "requires:min_obs": 4,
        "requires:seasonal_cycles": 2,  # classical decomposition needs two full cycles
        "complexity": 2,
        "family": "exponential smoothing",
    }

    def __init__(
        self,
        sp: int | None = None,
        deseasonalize: bool = True,
        use_test: bool = True,
        method: str = "auto",
        theta: float = 2.0,
        use_mle: bool = False,
    ) -> None:
        self.sp = sp
        self.deseasonalize = deseasonalize
        self.use_test = use_test
        self.method = method
        self.theta = theta
        self.use_mle = use_mle

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        seasonal = bool(self.deseasonalize and self.sp_ > 1)
        model = ThetaModel(
            y.to_numpy(),
            period=self.sp_ if seasonal else None,
            deseasonalize=seasonal,
            use_test=self.use_test,
            method=self.method,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.result_ = model.fit(use_mle=self.use_mle)
            # the innovation variance of the intervals (statsmodels fits an ARIMA(0,1,1) for it
            # on first use, 2/3 of theta's time): estimated now, it travels with the fit, so an
            # ensemble holding a copy of this fit (models.base.shared_fits) does not refit it
            self.result_.sigma2  # noqa: B018 (computed and cached by the property)
        # statsmodels decides (test) whether the data were deseasonalized, and how
        self.deseasonalized_ = bool(getattr(model, "_has_seasonality", seasonal)) and seasonal
        self.deseasonalize_method_ = model.method if self.deseasonalized_ else None

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out: dict[str, np.ndarray] = {
                "mean": np.asarray(self.result_.forecast(h, theta=self.theta), dtype=float)
            }
            for lv in levels:
                pi = self.result_.prediction_intervals(h, theta=self.theta, alpha=1 - lv / 100.0)
                out[f"lo_{_fmt_level(lv)}"] = pi["lower"].to_numpy(dtype=float)
                out[f"hi_{_fmt_level(lv)}"] = pi["upper"].to_numpy(dtype=float)
        return out
