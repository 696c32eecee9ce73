"""Template for a new model: copy to ``models/<name>.py``, fill in, add one line to the registry.

Checklist
---------
1. ``name``: unique, short, lower-case; it becomes the MLflow run name and metric prefix.
2. ``_tags``: declare what the model can do (see ``models.base.BASE_TAGS`` for every key):
   exogenous support, own intervals, minimum observations, seasonality, complexity.
3. ``__init__``: only store hyperparameters under the same names as the arguments (no work,
   no validation: ``get_params()`` must rebuild the model exactly).
4. ``_fit(y, X)``: ``y`` is a float ``pd.Series`` on a regular ``PeriodIndex`` (already checked);
   ``X`` is ``None`` or a float frame on the same periods. Store learned state in attributes that
   end in ``_``. ``self.sp_`` (seasonal period) and ``self.n_obs_`` are set before ``_fit``.
   Raise ``ModelRefusal`` with a reason when the data cannot support the model.
5. ``_predict(h, X, levels)``: return ``{"mean": ..., "lo_80": ..., "hi_80": ..., ...}`` arrays of
   length ``h`` (use ``normal_intervals`` for Gaussian ones). The base class adds the period
   index, checks finiteness and that intervals nest.
6. Register: add the class to ``_MODELS`` in ``models/registry.py``. The conformance suite
   (``tests/models/test_conformance.py``) then runs over it automatically; add a test that pins
   a reference value or an accuracy bound for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.base import BaseForecaster, normal_intervals


class MyDrift(BaseForecaster):  # pragma: no cover - documentation by example
    """Random walk with drift (example).

    Parameters
    ----------
    damping : multiply the drift by this factor each step ahead (1.0 = no damping).
    """

    name = "my_drift"
    _tags = {
        "capability:exogenous": False,
        "capability:pred_int": True,
        "requires:min_obs": 3,
        "seasonal": False,
        "complexity": 1,
        "family": "baseline",
    }

    def __init__(self, damping: float = 1.0) -> None:
        self.damping = damping

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        arr = y.to_numpy()
        diffs = np.diff(arr)
        self.last_ = float(arr[-1])
        self.drift_ = float(diffs.mean())
        self.sigma_ = float(diffs.std(ddof=1))

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        steps = np.arange(1, h + 1)
        drift = self.drift_ * np.cumsum(self.damping ** (steps - 1))
        return normal_intervals(self.last_ + drift, self.sigma_ * np.sqrt(steps), levels)
