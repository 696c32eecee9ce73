"""Rolling-origin splits: which observations train and which test at each forecast origin.

Used by the backtest engine (``pipelines/backtest.py``) and by models that validate themselves
on their own training data (ensemble weights, conformal intervals), so both index the same way.
Positions are integer offsets into the series; nothing is random.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from features.errors import InputError


@dataclass(frozen=True)
class Split:
    """One origin: train on ``[train_start, cutoff]``, test on ``cutoff+1 .. cutoff+horizon``."""

    train_start: int
    cutoff: int  # position of the last training observation
    horizon: int
    n: int  # series length

    @property
    def train(self) -> slice:
        return slice(self.train_start, self.cutoff + 1)

    @property
    def test(self) -> slice:
        return slice(self.cutoff + 1, min(self.cutoff + 1 + self.horizon, self.n))


def rolling_origins(
    n: int,
    horizon: int,
    origins: int,
    step: int = 1,
    window: Literal["expanding", "sliding"] = "expanding",
    window_length: int | None = None,
    min_train: int = 1,
) -> list[Split]:
    """The ``origins`` most recent origins, ``step`` apart, each with a full ``horizon`` to test.

    The last origin leaves exactly ``horizon`` observations after it. With ``window="sliding"``
    every training window has ``window_length`` observations (default: as many as the first
    origin has); with ``"expanding"`` every window starts at observation 0.
    Origins whose training window would be shorter than ``min_train`` are dropped; if none is
    left an :class:`InputError` says how long the series would need to be.
    """
    if horizon < 1 or origins < 1 or step < 1:
        raise InputError(
            f"horizon, origins and step must be >= 1, got {horizon}, {origins}, {step}"
        )
    if window not in ("expanding", "sliding"):
        raise InputError(f"window must be 'expanding' or 'sliding', got {window!r}")
    last_cutoff = n - horizon - 1
    cutoffs = [last_cutoff - i * step for i in range(origins)][::-1]
    if window == "sliding":
        length = window_length or (cutoffs[0] + 1)
        splits = [Split(c + 1 - length, c, horizon, n) for c in cutoffs if c + 1 - length >= 0]
    else:
        splits = [Split(0, c, horizon, n) for c in cutoffs]
    splits = [s for s in splits if s.cutoff - s.train_start + 1 >= max(min_train, 1)]
    if not splits:
        need = horizon + max(min_train, 1) + (origins - 1) * step
        raise InputError(
            f"series of {n} observations is too short for horizon {horizon} and "
            f"{origins} origins (needs at least {need})"
        )
    return splits


def mase_scale(train: np.ndarray, sp: int) -> float:
    """MASE's scale: the in-sample seasonal-naive MAE of a training window (naive when the window
    has no full season plus one). The backtest table's ``mase_scale`` and the ensemble's
    validation weights both use it."""
    m = sp if len(train) > sp else 1
    return float(np.mean(np.abs(train[m:] - train[:-m]))) if len(train) > m else float("nan")
