"""Theta: deseasonalization, statsmodels' intervals, and an accuracy bound."""

from __future__ import annotations

import numpy as np
import pytest

from models.base import ModelRefusal
from models.theta import Theta
from tests.models._data import ausbeer, holdout, mase


def test_theta_deseasonalizes_seasonal_data_and_widens_intervals():
    train, _ = holdout(ausbeer(), 8)
    m = Theta().fit(train)
    assert m.deseasonalized_ and m.deseasonalize_method_ == "mul"  # positive data
    fc = m.predict(8)
    width = (fc["hi_95"] - fc["lo_95"]).to_numpy()
    assert np.all(np.diff(width) > 0)  # IMA(1,1) variance grows with the horizon


def test_theta_needs_two_cycles_only_when_deseasonalizing():
    y = ausbeer(last=7)
    with pytest.raises(ModelRefusal, match="at least 8"):
        Theta().fit(y)
    assert Theta(deseasonalize=False).fit(y).predict(2)["mean"].notna().all()


def test_theta_accuracy_bound():
    # ausbeer, 24 quarters to train, 8 to test (see test_baselines); measured MASE 0.385
    train, test = holdout(ausbeer(), 8)
    fc = Theta().fit(train).predict(8)
    assert mase(train, test, fc["mean"], 4) < 0.43
