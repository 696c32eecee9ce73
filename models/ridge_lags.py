"""Ridge regression on lag and calendar features, one regressor per step ahead.

Features are standardised before the penalty, so ``alpha`` does not depend on the units of the
series. See :mod:`models.reduction` for the features, the direct strategy and the data needs;
intervals are split-conformal (:mod:`models.conformal`).
"""

from __future__ import annotations

from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from models.reduction import DirectReductionForecaster


class RidgeLags(DirectReductionForecaster):
    """Direct ridge reduction.

    Parameters
    ----------
    lags : ``None`` (one seasonal cycle, at least 2), a count ``L`` (lags ``1..L``) or a tuple.
    target : ``"diff"`` (learn the change from the origin) or ``"level"``.
    calendar : add season dummies of the target period.
    trend : add the position in time of the target period.
    alpha : ridge penalty on the standardised features.
    random_state : passed to the solver (only the stochastic solvers use it).
    conformal_origins : rolling origins per step for the conformal intervals (0: point only).
    conformal_min_origins : fewest out-of-sample errors a step needs.
    """

    name = "ridge_lags"
    _tags = {"complexity": 5}

    def __init__(
        self,
        lags: int | tuple[int, ...] | None = None,
        target: str = "diff",
        calendar: bool = True,
        trend: bool = False,
        alpha: float = 1.0,
        random_state: int = 0,
        conformal_origins: int = 8,
        conformal_min_origins: int = 4,
    ) -> None:
        self.lags = lags
        self.target = target
        self.calendar = calendar
        self.trend = trend
        self.alpha = alpha
        self.random_state = random_state
        self.conformal_origins = conformal_origins
        self.conformal_min_origins = conformal_min_origins

    def _make_estimator(self) -> Pipeline:
        return make_pipeline(
            StandardScaler(), Ridge(alpha=self.alpha, random_state=self.random_state)
        )
