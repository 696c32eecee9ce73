"""Automatic (seasonal) ARIMA order selection, pmdarima ``auto_arima``.

pmdarima follows Hyndman & Khandakar (2008), the algorithm of R's ``forecast::auto.arima``:
unit-root tests choose ``d`` (KPSS) and, for seasonal data, ``D`` (OCSB); a stepwise search
over ``p, q, P, Q`` then minimizes an information criterion. The default criterion is AICc, as
in R. Seasonal terms are searched only when the data are seasonal (``sp > 1``). Exogenous
columns of ``X`` enter as regressors with ARIMA errors; forecasts then need their future values.
Intervals are pmdarima's own (``predict(return_conf_int=True)``, from the state-space model).
"""

from __future__ import annotations

import copy
import logging
import warnings

import numpy as np
import pandas as pd
import pmdarima as pm

from models.base import BaseForecaster, ModelRefusal, _fmt_level

log = logging.getLogger(__name__)


class AutoARIMA(BaseForecaster):
    """ARIMA with orders chosen by pmdarima's stepwise ``auto_arima``.

    Parameters
    ----------
    sp : seasonal period; ``None`` takes it from the data's frequency.
    information_criterion : ``"aicc"``, ``"aic"``, ``"bic"`` or ``"hqic"``.
    d, D : fix the (seasonal) differencing order; ``None`` chooses it by unit-root tests.
    max_p, max_q, max_P, max_Q : largest orders searched.
    max_order : largest ``p + q + P + Q``.
    stepwise : the Hyndman-Khandakar stepwise search (``False``: search every combination).
    """

    name = "auto_arima"
    _tags = {
        "capability:exogenous": True,
        "seasonal": True,
        "requires:min_obs": 8,
        "requires:seasonal_cycles": 2,  # seasonal unit-root test and seasonal differencing
        "complexity": 4,
        "family": "arima",
    }

    def __init__(
        self,
        sp: int | None = None,
        information_criterion: str = "aicc",
        d: int | None = None,
        D: int | None = None,
        max_p: int = 5,
        max_q: int = 5,
        max_P: int = 2,
        max_Q: int = 2,
        max_order: int = 5,
        stepwise: bool = True,
    ) -> None:
        self.sp = sp
        self.information_criterion = information_criterion
        self.d = d
        self.D = D
        self.max_p = max_p
        self.max_q = max_q
        self.max_P = max_P
        self.max_Q = max_Q
        self.max_order = max_order
        self.stepwise = stepwise

    def _seasonal_d(self, y: np.ndarray) -> int | None:
        """Seasonal differencing order: given, or pmdarima's OCSB test, falling back to CH.

        pmdarima's OCSB regression breaks on series of a few seasonal cycles (a shape error at
        13 quarters, an empty reduction at 16); the Canova-Hansen test still answers there.
        The test that decided is kept in ``seasonal_test_``.
        """
        self.seasonal_test_ = "given" if self.D is not None else None
        if self.D is not None:
            return self.D
        for test in ("ocsb", "ch"):
            try:
                d = int(pm.arima.nsdiffs(y, m=self.sp_, max_D=1, test=test))
            except (ValueError, np.linalg.LinAlgError) as exc:
                log.debug("auto_arima: %s seasonal test failed: %s", test, exc)
                continue
            self.seasonal_test_ = test
            return d
        return None

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        seasonal = self.sp_ > 1
        D = self._seasonal_d(y.to_numpy()) if seasonal else 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self.result_ = pm.auto_arima(
                    y.to_numpy(),
                    X=None if X is None else X.to_numpy(),
                    seasonal=seasonal,
                    m=self.sp_ if seasonal else 1,
                    information_criterion=self.information_criterion,
                    d=self.d,
                    D=D,
                    # pmdarima's stepwise starts (2, 2, 1, 1) clipped to the maxima, as R does
                    start_p=min(2, self.max_p),
                    start_q=min(2, self.max_q),
                    start_P=min(1, self.max_P),
                    start_Q=min(1, self.max_Q),
                    max_p=self.max_p,
                    max_q=self.max_q,
                    max_P=self.max_P,
                    max_Q=self.max_Q,
                    max_order=self.max_order,
                    stepwise=self.stepwise,
                    suppress_warnings=True,
                    error_action="ignore",
                    trace=False,
                    # the search compares likelihoods only; the parameters' covariance (a
                    # numerical Hessian per candidate, ~10% of the search) is never used
                    cov_type="none",
                )
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise ModelRefusal(f"auto_arima: no ARIMA model could be fitted ({exc})") from exc
        self.order_: tuple[int, int, int] = tuple(self.result_.order)
        self.seasonal_order_: tuple[int, int, int, int] = tuple(self.result_.seasonal_order)
        self.with_intercept_ = bool(self.result_.with_intercept)
        log.debug(
            "auto_arima selected ARIMA%s%s intercept=%s",
            self.order_,
            self.seasonal_order_,
            self.with_intercept_,
        )

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        """Keep the selected orders; the Kalman filter runs over ``y`` with the fitted parameters
        fixed (statsmodels ``MLEResults.apply``), or they are re-estimated starting from the
        fitted ones with pmdarima's optimizer settings. No new order search."""
        res = copy.copy(self.result_)  # shallow: only ``arima_res_`` is replaced
        fit_kwargs = (
            {"disp": False, "method": res.method, "maxiter": res.maxiter, "cov_type": "none"}
            if refit_params
            else None
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res.arima_res_ = res.arima_res_.apply(
                y.to_numpy(),
                exog=None if X is None else X.to_numpy(),
                refit=refit_params,
                fit_kwargs=fit_kwargs,
            )
        self.result_ = res

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        Xf = None if X is None else X.to_numpy()
        out: dict[str, np.ndarray] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for lv in levels:
                mean, ci = self.result_.predict(
                    n_periods=h, X=Xf, return_conf_int=True, alpha=1 - lv / 100.0
                )
                out["mean"] = np.asarray(mean, dtype=float)
                ci = np.asarray(ci, dtype=float)
                out[f"lo_{_fmt_level(lv)}"] = ci[:, 0]
                out[f"hi_{_fmt_level(lv)}"] = ci[:, 1]
            if not levels:
                out["mean"] = np.asarray(self.result_.predict(n_periods=h, X=Xf), dtype=float)
        return out
