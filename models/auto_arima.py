"""Automatic (seasonal) ARIMA order selection, pmdarima ``auto_arima``.

pmdarima follows Hyndman & Khandakar (2008), the algorithm of R's ``forecast::auto.arima``:
unit-root tests choose ``d`` (KPSS) and, for seasonal data, ``D`` (OCSB); a stepwise search
over ``p, q, P, Q`` then minimizes an information criterion. The default criterion is AICc, as
in R. Seasonal terms are searched only when the data are seasonal (``sp > 1``). Exogenous
columns of ``X`` enter as regressors with ARIMA errors; forecasts then need their future values.
Intervals are pmdarima's own (``predict(return_conf_int=True)``, from the state-space model).

The search runs pmdarima's stepwise path with each candidate fitted by a compiled likelihood
(``engine="numba"``, :mod:`models._arima_ml`): the same state-space model, start values and
optimizer settings as pmdarima's statsmodels fits, at a third to a sixth of the CPU per search
(the likelihood is about ten times cheaper; scipy's optimizer and the start values stay in
Python). The chosen order is then fitted by pmdarima itself, so the returned model is
pmdarima's. ``engine="pmdarima"`` calls ``pmdarima.auto_arima``; so does every search with
exogenous columns, not stepwise, or on data pmdarima handles specially (constant after
differencing). The two choose the same model on 125 of 126 M3 quarterly and 56 of 60 monthly
series (``make bench``, section ``engine``): where a candidate's fit stops at another point of
a flat likelihood (pmdarima's 50 iterations), the two stepwise paths can part
(``tests/models/test_arima_ml.py`` pins them against each other).

``approximation=True`` is R's ``auto.arima(approximation=TRUE)``: the same unit-root tests and
the same stepwise path, but candidates are compared on a conditional-sum-of-squares fit
(:mod:`models._arima_search`, compiled with numba) and only the chosen order is estimated by
maximum likelihood, starting from its CSS estimates (R's ``CSS-ML``). When that fit fails the
next candidate is tried, as R does. ``None`` (the default) uses it when R does by default:
more than 150 observations or a seasonal period above 12.
"""

from __future__ import annotations

import copy
import logging
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pmdarima as pm

from features.errors import InputError
from models.base import BaseForecaster, ModelRefusal, _fmt_level, with_defaults

if TYPE_CHECKING:
    from models._arima_ml import MLCandidate
    from models._arima_search import Candidate

log = logging.getLogger(__name__)

#: how the exact search fits its candidates (``AutoARIMA(engine=...)``)
ENGINES = ("numba", "pmdarima")
#: the information criteria the searches compare candidates by
CRITERIA = ("aicc", "aic", "bic", "hqic")
#: R's smallest admissible modulus of an AR or MA root (also in the CSS search of
#: ``models._arima_search``)
_MIN_ROOT = 1.01
#: an ML fit whose innovation variance is below this share of the data's variance is degenerate
_MIN_VARIANCE_RATIO = 1e-8


def _fit_order(
    y: np.ndarray,
    X: np.ndarray | None,
    cand: Candidate | MLCandidate,
    start_params: np.ndarray | None = None,
) -> pm.ARIMA | None:
    """pmdarima's ML fit of one candidate's orders and constant (from ``start_params``, or
    statsmodels' own start); ``None`` when statsmodels cannot fit it."""
    model = pm.ARIMA(
        order=cand.order,
        seasonal_order=cand.seasonal_order,
        with_intercept=cand.constant,
        start_params=start_params,
        suppress_warnings=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return model.fit(y, X=X, cov_type="none")
        except (ValueError, np.linalg.LinAlgError) as exc:
            log.debug("auto_arima: ML fit of %s failed: %s", cand, exc)
            return None


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
    approximation : compare candidates on a CSS fit, estimate only the chosen one by ML
        (``True``), every candidate by ML (``False``), or ``None``: R's default rule.
    engine : how the exact (ML) search fits its candidates: ``"numba"`` (compiled likelihood,
        pmdarima's path and settings) or ``"pmdarima"`` (``pmdarima.auto_arima`` itself).
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
        approximation: bool | None = None,
        engine: str = "numba",
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
        self.approximation = approximation
        self.engine = engine

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
        for field, value, allowed in (
            ("engine", self.engine, ENGINES),
            ("information_criterion", self.information_criterion, CRITERIA),
        ):
            if value not in allowed:
                raise InputError(
                    f"{self.name}: {field} must be one of {', '.join(allowed)}, got {value!r}"
                )
        seasonal = self.sp_ > 1
        D = self._seasonal_d(y.to_numpy()) if seasonal else 0
        approx = self.approximation
        if approx is None:
            approx = len(y) > 150 or self.sp_ > 12
        self.approximated_ = bool(approx and self.stepwise)
        if self.approximated_:
            self.search_engine_ = "css"  # unless it falls back to the exact search
            self.result_ = self._fit_approximated(y, X, D)
        else:
            self.result_ = self._fit_exact(y, X, D, seasonal)
        self.order_: tuple[int, int, int] = tuple(self.result_.order)
        self.seasonal_order_: tuple[int, int, int, int] = tuple(self.result_.seasonal_order)
        self.with_intercept_ = bool(self.result_.with_intercept)
        log.debug(
            "auto_arima selected ARIMA%s%s intercept=%s",
            self.order_,
            self.seasonal_order_,
            self.with_intercept_,
        )

    def _fit_exact(
        self, y: pd.Series, X: pd.DataFrame | None, D: int | None, seasonal: bool
    ) -> pm.ARIMA:
        if self.engine == "numba" and X is None and self.stepwise:
            fitted = self._fit_compiled(y, D)
            if fitted is not None:
                self.search_engine_ = "numba"
                return fitted
        self.search_engine_ = "pmdarima"
        return self._fit_pmdarima(y, X, D, seasonal)

    def _fit_compiled(self, y: pd.Series, D: int | None) -> pm.ARIMA | None:
        """pmdarima's ``auto_arima`` without regressors, its candidates fitted by the compiled
        likelihood (:func:`models._arima_ml.ml_search`); ``None`` where pmdarima handles the
        data specially (constant data or differences, too few of them, no seasonal test)."""
        # imported here: numba and its compiled functions load only when used
        from models._arima_ml import ml_search

        yv = y.to_numpy(dtype=float)
        n, m = len(yv), self.sp_
        seasonal = m > 1
        if pm.arima.utils.is_constant(yv) or (seasonal and D is None):
            return None
        D = int(D or 0) if seasonal else 0
        differenced = self._differences(yv, D, m)
        if differenced is None:
            return None
        d, _ = differenced
        maxima, start = self._search_limits(n, m)
        # pmdarima's constant rule: d + D in (0, 1), with D counted as -1 for non-seasonal data
        constant = d + (D if seasonal else -1) in (0, 1)
        ranked = ml_search(
            yv, d, D, m if seasonal else 1, start, maxima, constant, self.information_criterion
        )
        self.candidates_ = len(ranked)
        for cand in ranked:  # the best, fitted by pmdarima (statsmodels) as its search would
            fitted = _fit_order(yv, None, cand)
            if fitted is not None:
                return fitted
        raise ModelRefusal("auto_arima: no ARIMA model could be fitted")

    def _search_limits(
        self, n: int, m: int
    ) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
        """Largest and starting ``(p, q, P, Q)`` of the stepwise search on ``n`` observations,
        as pmdarima (and R) limit them."""
        seasonal = m > 1
        max_p = int(min(self.max_p, n // 3))
        max_q = int(min(self.max_q, n // 3))
        max_P, max_Q = (self.max_P, self.max_Q) if seasonal else (0, 0)
        if seasonal and max_P > 0:
            max_p = min(max_p, m - 1)
        if seasonal and max_Q > 0:
            max_q = min(max_q, m - 1)
        start = (min(2, max_p), min(2, max_q), min(1, max_P), min(1, max_Q))
        if n < 10:
            start = (min(start[0], 1), min(start[1], 1), 0, 0)
        return (max_p, max_q, max_P, max_Q), start

    def _differences(self, x: np.ndarray, D: int, m: int) -> tuple[int, np.ndarray] | None:
        """``d`` (given, or pmdarima's KPSS test on the seasonally differenced ``x``) and the
        differenced series; ``None`` when fewer than 3 differences are left or they are
        constant (pmdarima handles those itself)."""
        dx = pm.utils.diff(x, lag=m, differences=D) if D else x
        d = self.d
        if d is None:
            d = int(pm.arima.ndiffs(dx, test="kpss", alpha=0.05, max_d=2)) if len(dx) else 0
        dx = pm.utils.diff(dx, lag=1, differences=d) if d else dx
        if len(dx) < 3 or pm.arima.utils.is_constant(dx):
            return None
        return d, dx

    def _fit_pmdarima(
        self, y: pd.Series, X: pd.DataFrame | None, D: int | None, seasonal: bool
    ) -> pm.ARIMA:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return pm.auto_arima(
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

    def _fit_approximated(self, y: pd.Series, X: pd.DataFrame | None, D: int | None) -> pm.ARIMA:
        """R's approximation: pmdarima's pre-search steps (order limits, KPSS for ``d`` on the
        seasonally differenced series, the constant rule), the stepwise path on CSS fits, then
        ML for the best candidate that ML can fit."""
        # imported here: numba and its compiled functions (~100 MB) load only when used
        from models._arima_search import stepwise

        yv = y.to_numpy(dtype=float)
        Xv = None if X is None else X.to_numpy(dtype=float)
        n, m = len(yv), self.sp_
        seasonal = m > 1
        if pm.arima.utils.is_constant(yv) or (seasonal and D is None):
            # constant data, or no seasonal test could answer: pmdarima's own handling
            return self._fit_exact(y, X, D, seasonal)
        D = int(D or 0)
        xx, beta = yv, None
        if Xv is not None:
            design = np.column_stack([np.ones(n), Xv])
            coef = np.linalg.lstsq(design, yv, rcond=None)[0]
            xx, beta = yv - design @ coef, coef[1:]
        differenced = self._differences(xx, D, m)
        if differenced is None:
            return self._fit_exact(y, X, D, seasonal)
        d, dx = differenced
        maxima, start = self._search_limits(n, m)
        ranked = stepwise(
            np.ascontiguousarray(dx, dtype=float),
            d,
            D if seasonal else 0,
            m if seasonal else 1,
            start,
            maxima,
            criterion=self.information_criterion,
            n_star=n - d - D * m,
            n_exog=0 if Xv is None else Xv.shape[1],
        )
        self.candidates_ = len(ranked)
        for cand in ranked:
            fitted = self._ml_fit(yv, Xv, cand, beta)
            if fitted is not None:
                return fitted
        # every CSS choice failed by ML (or none was usable): the exact search decides
        return self._fit_exact(y, X, D, seasonal)

    @staticmethod
    def _ml_fit(
        y: np.ndarray, X: np.ndarray | None, cand: Candidate, beta: np.ndarray | None
    ) -> pm.ARIMA | None:
        model = _fit_order(y, X, cand, cand.start_params(beta))
        if model is None:
            return None
        res = model.arima_res_
        if not np.isfinite(res.llf):
            return None
        # a degenerate fit: the optimizer drove the innovation variance to ~0 (log-likelihood
        # reported as 0, forecast variances ~0 and negative by rounding, NaN intervals); seen on
        # 19 quarters of industry_output, ARIMA(2,0,0)(2,1,1)[4]: 6 parameters, 15 differences
        names = list(res.model.param_names)
        sigma2 = float(res.params[names.index("sigma2")]) if "sigma2" in names else res.scale
        if not sigma2 > _MIN_VARIANCE_RATIO * float(np.var(y)):
            log.debug("auto_arima: ML fit of %s has zero innovation variance", cand)
            return None
        # R's myarima: a fit with an AR or MA root within 1.01 of the unit circle is rejected
        # (the CSS candidates passed that check, but ML can move the roots to the circle,
        # where the forecast variance is no longer finite)
        roots = np.concatenate([np.atleast_1d(res.arroots), np.atleast_1d(res.maroots)])
        if roots.size and not np.min(np.abs(roots)) >= _MIN_ROOT:
            log.debug("auto_arima: ML fit of %s has a root near the unit circle", cand)
            return None
        return model

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


class AutoARIMAApprox(AutoARIMA):
    """auto-ARIMA with R's approximation always on: candidates compared on CSS fits, the chosen
    order estimated by ML (a registered shortcut for ``AutoARIMA(approximation=True)``)."""

    name = "auto_arima_approx"
    __init__ = with_defaults(AutoARIMA.__init__, approximation=True)
