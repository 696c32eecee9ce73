"""Gradient-boosted trees on lag and calendar features, one regressor per step ahead.

scikit-learn's ``HistGradientBoostingRegressor`` with defaults for a few dozen rows: shallow
trees, small leaves, 30 rounds at rate 0.15, no early stopping (no data to spare for it);
50 rounds at 0.1 forecast about as well on ausbeer, austourists and OKVED 26 at twice the cost.
Trees do not extrapolate, so the default target is the change from the origin
(``target="diff"``). Each fit runs on one thread (see :mod:`models.reduction`). See
:mod:`models.reduction` for the features and data needs; intervals are split-conformal.
"""

from __future__ import annotations

from sklearn.ensemble import HistGradientBoostingRegressor

from models.reduction import DirectReductionForecaster


class GBMLags(DirectReductionForecaster):
    """Direct gradient-boosting reduction.

    Parameters
    ----------
    lags : ``None`` (one seasonal cycle, at least 2), a count ``L`` (lags ``1..L``) or a tuple.
    target : ``"diff"`` (learn the change from the origin) or ``"level"``.
    calendar : add season dummies of the target period.
    trend : add the position in time of the target period.
    max_iter, learning_rate, max_depth, min_samples_leaf, l2_regularization : passed to
        ``HistGradientBoostingRegressor``.
    random_state : seed of the regressor.
    conformal_origins : rolling origins per step for the conformal intervals (0: point only).
    conformal_min_origins : fewest out-of-sample errors a step needs.
    """

    name = "gbm_lags"
    _tags = {"complexity": 6}

    def __init__(
        self,
        lags: int | tuple[int, ...] | None = None,
        target: str = "diff",
        calendar: bool = True,
        trend: bool = False,
        max_iter: int = 30,
        learning_rate: float = 0.15,
        max_depth: int | None = 2,
        min_samples_leaf: int = 3,
        l2_regularization: float = 0.0,
        random_state: int = 0,
        conformal_origins: int = 8,
        conformal_min_origins: int = 4,
    ) -> None:
        self.lags = lags
        self.target = target
        self.calendar = calendar
        self.trend = trend
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state
        self.conformal_origins = conformal_origins
        self.conformal_min_origins = conformal_min_origins

    def _make_estimator(self) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        )
