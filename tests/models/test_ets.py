"""ETS: automatic model selection against R's forecast::ets, Akaike-weighted combination, and
accuracy bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.errors import InputError
from models.ets import ETS, ETSAkaike
from tests.models._data import ausbeer, austourists, holdout, mase


def test_ets_selection_matches_r_on_austourists():
    # Hyndman & Athanasopoulos, FPP2 section 7.6 ("Estimation and model selection"):
    #   aust <- window(austourists, start=2005); fit <- ets(aust)  ->  ETS(M,A,M)
    # (R forecast::ets, AICc, restrict=TRUE). statsmodels' optimizer lands on other smoothing
    # parameters (R: alpha 0.19, beta 0.04, gamma 0.0002), so only the structure is compared.
    m = ETS().fit(austourists())
    sel = m.selected_
    assert (sel["error"], sel["trend"], sel["damped_trend"], sel["seasonal"]) == (
        "mul",
        "add",
        False,
        "mul",
    )


def test_ets_accuracy_bound():
    # ausbeer, 24 quarters to train, 8 to test (see test_baselines); measured MASE 0.534
    train, test = holdout(ausbeer(), 8)
    fc = ETS().fit(train).predict(8)
    assert mase(train, test, fc["mean"], 4) < 0.59


# -- Akaike weights (ets_aicw) ---------------------------------------------------------------


def _single(config: tuple[str, str | None, bool, str | None]) -> ETS:
    e, t, d, s = config
    return ETS(error=e, trend=t, damped_trend=d, seasonal=s)


def test_akaike_weights_follow_burnham_anderson_from_each_candidates_aicc():
    # every configuration fitted on its own: its AICc, then w_i = exp(-delta_i/2) / sum
    y = austourists()
    combo = ETSAkaike().fit(y)
    configs = _configs(y)
    aicc = {}
    for cfg in configs:
        one = _single(cfg).fit(y)
        aicc[_label(cfg)] = one.selected_["aicc"]
    best = min(aicc.values())
    raw = {k: np.exp(-0.5 * (v - best)) for k, v in aicc.items() if v - best <= 2 * np.log(1000)}
    expected = {k: v / sum(raw.values()) for k, v in raw.items()}
    got = combo.selected_["weights"]
    assert set(got) == set(expected) and len(got) > 1
    for k, w in expected.items():
        assert got[k] == pytest.approx(w, abs=2e-6)
    # the best-weighted configuration is the one ETS() selects
    assert combo.selected_["aicc"] == pytest.approx(ETS().fit(y).selected_["aicc"])


def test_akaike_weighted_forecasts_are_the_weighted_mean_of_the_candidates():
    y = ausbeer()
    combo = ETSAkaike().fit(y)
    fc = combo.predict(8, level=(80, 95))
    parts = {_label(c): _single(c).fit(y) for c in _configs(y)}
    expected = sum(
        w * parts[k].predict(8, level=(80, 95)).to_numpy()
        for k, w in zip(combo.selected_["weights"], combo.weights_, strict=True)
    )
    np.testing.assert_allclose(fc.to_numpy(), expected, rtol=1e-9)
    assert (fc["hi_95"] > fc["hi_80"]).all() and (fc["lo_80"] > fc["lo_95"]).all()


def test_best_selection_is_unchanged_and_a_lone_candidate_gets_weight_one():
    y = ausbeer()
    np.testing.assert_array_equal(
        ETS().fit(y).predict(8).to_numpy(),
        ETS(selection="best").fit(y).predict(8).to_numpy(),
    )
    lone = ETS(error="add", trend=None, seasonal=None, selection="weights").fit(y)
    assert lone.weights_ == [1.0]
    np.testing.assert_allclose(
        lone.predict(4).to_numpy(),
        ETS(error="add", trend=None, seasonal=None).fit(y).predict(4).to_numpy(),
    )


def test_akaike_weighted_update_keeps_configurations_and_weights():
    y = ausbeer()
    combo = ETSAkaike().fit(y.iloc[:-4])
    weights = list(combo.weights_)
    combo.update(y)
    assert combo.weights_ == weights and len(combo.results_) == len(weights)
    assert all(r.nobs == len(y) for r in combo.results_)


def test_unknown_selection_is_refused():
    with pytest.raises(InputError, match="selection"):
        ETS(selection="vote").fit(ausbeer())


def test_akaike_weighted_accuracy_bound():
    # same split as test_ets_accuracy_bound; measured MASE 0.527 (ETS alone 0.534)
    train, test = holdout(ausbeer(), 8)
    fc = ETSAkaike().fit(train).predict(8)
    assert mase(train, test, fc["mean"], 4) < 0.59


def _label(cfg: tuple[str, str | None, bool, str | None]) -> str:
    part = {"add": "A", "mul": "M", None: "N"}
    e, t, d, s = cfg
    return part[e] + part[t] + ("d" if d else "") + part[s]


def _configs(y: pd.Series) -> list[tuple[str, str | None, bool, str | None]]:
    """The configurations ``ETS()`` compares on ``y``."""
    return ETS().fit(y)._candidates(y.to_numpy())
