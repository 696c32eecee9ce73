"""Unobserved-components (structural time series) model, statsmodels ``UnobservedComponents``.

The default is a local linear trend plus a stochastic seasonal of period ``sp`` and an irregular
term (Harvey, 1989), estimated by maximum likelihood with the Kalman filter. Structural breaks,
such as the 2022 sanctions, enter as intervention step dummies (Box & Tiao, 1975): 0 before the
break period and 1 from it on, including every forecast period, so the estimated level shift
persists. A break outside the training data (at its first period or later than its last) cannot
be estimated and is left out; ``breaks_used_`` lists those that were kept. Columns of ``X`` are
further regressors whose future values forecasts need. Intervals are the Kalman filter's
Gaussian forecast intervals.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.statespace.structural import UnobservedComponents

from features.errors import InputError
from features.periods import freq_code, future_periods, parse_period
from models.base import BaseForecaster, ModelRefusal, _fmt_level

log = logging.getLogger(__name__)


class UCM(BaseForecaster):
    """Local (linear) trend + stochastic seasonal + irregular, with optional step interventions.

    Parameters
    ----------
    level : statsmodels trend specification, e.g. ``"local linear trend"`` or ``"local level"``.
    seasonal : include a seasonal component when the data are seasonal (``sp > 1``).
    stochastic_seasonal : let the seasonal pattern evolve (``False``: fixed seasonal dummies).
    breaks : periods at which a permanent level shift starts, e.g. ``("2022Q1",)``.
    sp : seasonal period; ``None`` takes it from the data's frequency.
    maxiter : iterations of the likelihood optimizer.
    """

    name = "ucm"
    _tags = {
        "capability:exogenous": True,
        "seasonal": True,
        "requires:min_obs": 8,
        "requires:seasonal_cycles": 2,
        "complexity": 4,
        "family": "state space",
    }

    def __init__(
        self,
        level: str = "local linear trend",
        seasonal: bool = True,
        stochastic_seasonal: bool = True,
        breaks: tuple[str, ...] = (),
        sp: int | None = None,
        maxiter: int = 200,
    ) -> None:
        self.level = level
        self.seasonal = seasonal
        self.stochastic_seasonal = stochastic_seasonal
        self.breaks = breaks
        self.sp = sp
        self.maxiter = maxiter

    def min_obs(self, sp: int) -> int:
        if not self.seasonal:
            return int(self.get_tag("requires:min_obs"))
        return super().min_obs(sp)

    def _break_periods(self, index: pd.PeriodIndex) -> list[pd.Period]:
        code = freq_code(index)
        periods = []
        items = (self.breaks,) if isinstance(self.breaks, str) else tuple(self.breaks)
        for b in items:
            try:
                p = parse_period(b, code)
            except ValueError:
                raise InputError(f"ucm: break {b!r} is not a period like 2022Q1") from None
            if index[0] < p <= index[-1]:
                periods.append(p)
            else:
                log.info(
                    "ucm: break %s is outside the training data %s..%s; left out",
                    p,
                    *index[[0, -1]],
                )
        return sorted(set(periods))

    def _steps(self, index: pd.PeriodIndex) -> pd.DataFrame:
        """Step dummies for the kept breaks on ``index`` (1 from the break period on)."""
        return pd.DataFrame(
            {f"step_{p}": (index >= p).astype(float) for p in self.breaks_used_}, index=index
        )

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        self.breaks_used_ = self._break_periods(y.index)
        exog = self._exog(X, y.index)
        seasonal = self.sp_ if (self.seasonal and self.sp_ > 1) else None
        model = UnobservedComponents(
            y.reset_index(drop=True),
            level=self.level,
            seasonal=seasonal,
            stochastic_seasonal=self.stochastic_seasonal,
            exog=exog,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self.result_ = model.fit(disp=False, maxiter=self.maxiter)
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise ModelRefusal(f"ucm: the model could not be estimated ({exc})") from exc

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        """Same components and breaks (``breaks_used_``); the Kalman filter runs over ``y`` with
        the fitted parameters fixed (``MLEResults.apply``), or they are re-estimated from them."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.result_ = self.result_.apply(
                y.to_numpy(),
                exog=self._exog(X, y.index),
                refit=refit_params,
                fit_kwargs={"disp": False, "maxiter": self.maxiter} if refit_params else None,
            )

    def _exog(self, X: pd.DataFrame | None, index: pd.PeriodIndex) -> pd.DataFrame | None:
        """Regressors then step dummies, on a RangeIndex (statsmodels names ``beta.<column>``)."""
        parts = [] if X is None else [X]
        if self.breaks_used_:
            parts.append(self._steps(index))
        return pd.concat(parts, axis=1).reset_index(drop=True) if parts else None

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        fh = future_periods(self.cutoff_, h)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exog = self._exog(X, fh)
            fc = self.result_.get_forecast(h, exog=None if exog is None else exog.to_numpy())
        out: dict[str, np.ndarray] = {"mean": np.asarray(fc.predicted_mean, dtype=float)}
        for lv in levels:
            ci = np.asarray(fc.conf_int(alpha=1 - lv / 100.0), dtype=float)
            out[f"lo_{_fmt_level(lv)}"] = ci[:, 0]
            out[f"hi_{_fmt_level(lv)}"] = ci[:, 1]
        return out
