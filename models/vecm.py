"""Vector error-correction model, statsmodels ``VECM``, under the univariate contract.

As in :mod:`models.var`, ``y`` is the target and the ``endog_columns`` of ``X`` (default: all) are
endogenous companions forecast jointly with it, so ``predict`` needs future values only of the
other, truly exogenous ``X`` columns (which enter outside the cointegration relation).

The number of lagged differences is chosen by an information criterion (``vecm.select_order``)
up to ``maxlags``, lowered so that the equivalent VAR in levels has at most half as many
coefficients per equation as observations. The cointegration rank is chosen by Johansen's trace
test (``select_coint_rank``) at level ``signif`` unless fixed; rank 0 gives a VAR in differences
and full rank a VAR in levels. Seasonal data get statsmodels' own seasonal dummies (``seasons``),
aligned to the calendar. Intervals are statsmodels' ``VECMResults.predict(alpha=...)``: Gaussian,
from the forecast MSE of the implied VAR, treating parameters as known.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.vector_ar.vecm import VECM as _SMVECM
from statsmodels.tsa.vector_ar.vecm import select_coint_rank, select_order

from models.base import BaseForecaster, ModelRefusal, _fmt_level
from models.var import split_endog_exog

log = logging.getLogger(__name__)


def _n_deterministic(deterministic: str) -> int:
    """Coefficients per equation for statsmodels' deterministic codes (``"ci"``, ``"colo"``...)."""
    return sum(code in deterministic for code in ("co", "ci", "lo", "li"))


def _johansen_det_order(deterministic: str) -> int:
    """``det_order`` of the Johansen test matching the VECM's deterministic terms."""
    if "lo" in deterministic or "li" in deterministic:
        return 1
    if "co" in deterministic or "ci" in deterministic:
        return 0
    return -1


class VECM(BaseForecaster):
    """VECM of ``y`` and its endogenous companions in ``X``.

    Parameters
    ----------
    endog_columns : columns of ``X`` forecast jointly with ``y``; ``None``: every column. The
        others are exogenous regressors whose future values ``predict`` needs.
    maxlags : largest number of lagged differences searched.
    ic : information criterion for the lags: ``"aic"``, ``"bic"``, ``"hqic"`` or ``"fpe"``.
    deterministic : statsmodels code: ``"n"``, ``"co"``, ``"ci"`` (constant in the
        cointegration relation), ``"lo"``, ``"li"`` or combinations such as ``"cili"``.
    coint_rank : cointegration rank; ``None`` chooses it by Johansen's trace test.
    signif : level of the trace test: 0.1, 0.05 or 0.01.
    seasonal : add seasonal dummies when the data are seasonal (``sp > 1``).
    sp : seasonal period; ``None`` takes it from the data's frequency.
    """

    name = "vecm"
    _tags = {
        "capability:exogenous": True,
        "capability:multivariate": True,
        "requires:exogenous": True,
        "exogenous:future_required": False,
        "seasonal": True,
        "requires:min_obs": 10,
        "complexity": 5,
        "family": "vector autoregression",
    }

    def __init__(
        self,
        endog_columns: tuple[str, ...] | None = None,
        maxlags: int = 3,
        ic: str = "aic",
        deterministic: str = "ci",
        coint_rank: int | None = None,
        signif: float = 0.05,
        seasonal: bool = True,
        sp: int | None = None,
    ) -> None:
        self.endog_columns = endog_columns
        self.maxlags = maxlags
        self.ic = ic
        self.deterministic = deterministic
        self.coint_rank = coint_rank
        self.signif = signif
        self.seasonal = seasonal
        self.sp = sp

    def _future_exog_columns(self) -> list[str]:
        return list(self.exog_only_)

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        assert X is not None  # requires:exogenous
        self.endog_columns_, self.exog_only_ = split_endog_exog(X, self.endog_columns, self.name)
        n = len(y)
        endog = np.column_stack([y.to_numpy(), X[self.endog_columns_].to_numpy()])
        exog = X[self.exog_only_].to_numpy() if self.exog_only_ else None
        k = endog.shape[1]
        seasons = self.sp_ if (self.seasonal and self.sp_ > 1) else 0
        first_season = int(y.index[0].ordinal % seasons) if seasons else 0
        # coefficients per equation of the VAR(P) in levels: k P + deterministic + exogenous;
        # at most half the n - P observations: 2 (k P + c) <= n - P
        c = (
            _n_deterministic(self.deterministic)
            + max(seasons - 1, 0)
            + (0 if exog is None else exog.shape[1])
        )
        maxlags = min(int(self.maxlags), (n - 2 * c) // (2 * k + 1) - 1)
        if maxlags < 0:
            raise ModelRefusal(
                f"vecm: {n} observations are too few for a VECM in {k} variables "
                f"with {c} deterministic/exogenous terms"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                orders = select_order(
                    endog, maxlags, deterministic=self.deterministic, seasons=seasons, exog=exog
                ).selected_orders
                self.k_ar_diff_ = int(orders[self.ic])
                if self.coint_rank is None:
                    self.coint_rank_ = int(
                        select_coint_rank(
                            endog,
                            _johansen_det_order(self.deterministic),
                            self.k_ar_diff_,
                            method="trace",
                            signif=self.signif,
                        ).rank
                    )
                else:
                    self.coint_rank_ = int(self.coint_rank)
                self.result_ = _SMVECM(
                    endog,
                    exog=exog,
                    k_ar_diff=self.k_ar_diff_,
                    coint_rank=self.coint_rank_,
                    deterministic=self.deterministic,
                    seasons=seasons,
                    first_season=first_season,
                ).fit()
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise ModelRefusal(f"vecm: the model could not be estimated ({exc})") from exc
        log.debug(
            "vecm k_ar_diff=%d rank=%d on %s",
            self.k_ar_diff_,
            self.coint_rank_,
            self.endog_columns_,
        )

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        exog_fc = None if X is None else X.to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mean = self.result_.predict(steps=h, exog_fc=exog_fc)
            out: dict[str, np.ndarray] = {"mean": np.asarray(mean[:, 0], dtype=float)}
            for lv in levels:
                _, lo, hi = self.result_.predict(steps=h, alpha=1 - lv / 100.0, exog_fc=exog_fc)
                out[f"lo_{_fmt_level(lv)}"] = np.asarray(lo[:, 0], dtype=float)
                out[f"hi_{_fmt_level(lv)}"] = np.asarray(hi[:, 0], dtype=float)
        return out
