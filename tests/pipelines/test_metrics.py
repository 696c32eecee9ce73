"""Scores against hand-computed values; DM and MCS fed the right loss series; the champion rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines import metrics
from pipelines.metrics import champion, compare, loss_matrix, score, score_all


def _table() -> pd.DataFrame:
    """Two origins x two horizons; y, forecasts and 80% bounds chosen to make arithmetic easy."""
    return pd.DataFrame(
        {
            "series": "s",
            "model": "m",
            "cutoff": ["2000", "2000", "2001", "2001"],
            "period": ["2001", "2002", "2002", "2003"],
            "h": [1, 2, 1, 2],
            "y": [10.0, 20.0, 20.0, 5.0],
            "mean": [8.0, 20.0, 25.0, 10.0],
            "lo_80": [7.0, 15.0, 21.0, 4.0],
            "hi_80": [9.0, 25.0, 29.0, 14.0],
            "mase_scale": [2.0, 2.0, 5.0, 5.0],
        }
    )


def test_point_and_interval_scores_by_hand():
    s = score(_table())
    # errors y - mean: 2, 0, -5, -5
    assert s["mae"] == pytest.approx(3.0)
    assert s["rmse"] == pytest.approx(np.sqrt((4 + 0 + 25 + 25) / 4))
    assert s["bias"] == pytest.approx((-2 + 0 + 5 + 5) / 4)
    assert s["mase"] == pytest.approx((2 / 2 + 0 + 5 / 5 + 5 / 5) / 4)
    assert s["mape"] == pytest.approx((20 + 0 + 25 + 100) / 4)
    assert s["smape"] == pytest.approx((200 * 2 / 18 + 0 + 200 * 5 / 45 + 200 * 5 / 15) / 4)
    # 80%: alpha = 0.2, 2/alpha = 10. Row 1: y=10 above hi=9 -> 2 + 10*1 = 12; row 2: inside,
    # width 10; row 3: y=20 below lo=21 -> 8 + 10*1 = 18; row 4: inside, width 10.
    assert s["coverage_80"] == pytest.approx(0.5)
    assert s["winkler_80"] == pytest.approx((12 + 10 + 18 + 10) / 4)
    # pinball at tau=0.1 (lo) and 0.9 (hi): lo: y-lo = 3, 5, -1, 1 -> 0.3, 0.5, 0.9, 0.1;
    # hi: y-hi = 1, -5, -9, -9 -> 0.9, 0.5, 0.9, 0.9
    assert s["pinball"] == pytest.approx((0.3 + 0.5 + 0.9 + 0.1 + 0.9 + 0.5 + 0.9 + 0.9) / 8)
    # per horizon: h=1 rows 1 and 3
    assert s["mase_h1"] == pytest.approx((1 + 1) / 2)
    assert s["winkler_80_h2"] == pytest.approx((10 + 10) / 2)


def _two_models(n_origins: int = 6, horizon: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for o in range(n_origins):
        for h in range(1, horizon + 1):
            y = 100.0 + o + h
            for model, err in (("snaive", 4.0), ("ets", 1.0), ("theta", 1.5)):
                f = y + err * rng.normal()
                rows.append(
                    {
                        "series": "s",
                        "model": model,
                        "cutoff": f"{2000 + o}",
                        "period": f"{2000 + o + h}",
                        "h": h,
                        "y": y,
                        "mean": f,
                        "lo_80": f - 1,
                        "hi_80": f + 1,
                        "mase_scale": 2.0 + o,
                    }
                )
    return pd.DataFrame(rows)


def test_loss_matrix_aligns_on_cutoff_and_period():
    t = _two_models()
    t = t[~((t["model"] == "theta") & (t["cutoff"] == "2000"))]  # theta lacks the first origin
    L = loss_matrix(t)
    assert list(L.columns) == ["snaive", "ets", "theta"]
    assert L.index[0] == ("2001", "2002")  # rows every model has, sorted by cutoff, period
    assert len(L) == 5 * 2
    row = t[(t["model"] == "ets") & (t["cutoff"] == "2003") & (t["period"] == "2005")].iloc[0]
    assert L.loc[("2003", "2005"), "ets"] == pytest.approx(abs(row["y"] - row["mean"]) / 5.0)


def test_dm_called_with_scaled_series_against_snaive(monkeypatch):
    import statsmodels.tsa.stattools as st

    calls = []
    real = st.diebold_mariano_test

    def spy(y, fa, fb, **kw):
        calls.append((np.asarray(y), np.asarray(fa), np.asarray(fb), kw))
        return real(y, fa, fb, **kw)

    monkeypatch.setattr(st, "diebold_mariano_test", spy)
    t = _two_models()
    out = compare(t)
    assert len(calls) == 2  # ets and theta, each against snaive
    y, fa, fb, kw = calls[0]
    ets = t[t["model"] == "ets"].sort_values(["cutoff", "period"])
    sn = t[t["model"] == "snaive"].sort_values(["cutoff", "period"])
    np.testing.assert_allclose(y, ets["y"] / ets["mase_scale"])
    np.testing.assert_allclose(fa, ets["mean"] / ets["mase_scale"])
    np.testing.assert_allclose(fb, sn["mean"].to_numpy() / ets["mase_scale"].to_numpy())
    assert kw == {"criterion": "mae", "horizon": 2, "harvey_adj": True}
    assert out[("s", "ets")]["dm_stat_vs_snaive"] < 0  # ets errs less than snaive
    assert 0 <= out[("s", "ets")]["dm_pvalue_vs_snaive"] <= 1
    assert "dm_pvalue_vs_snaive" not in out[("s", "snaive")]


def test_mcs_called_with_the_loss_matrix_and_seeded(monkeypatch):
    import arch.bootstrap as ab

    seen = {}
    real = ab.MCS

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, losses, size, **kw):
            seen["losses"], seen["size"], seen["kw"] = losses.copy(), size, kw
            super().__init__(losses, size, **kw)

    monkeypatch.setattr(ab, "MCS", Spy)
    t = _two_models(n_origins=12)
    out = compare(t)
    pd.testing.assert_frame_equal(seen["losses"], loss_matrix(t))
    assert seen["size"] == 0.10
    assert seen["kw"] == {"reps": 1000, "block_size": 2, "seed": 0}
    assert out[("s", "snaive")]["in_mcs"] == 0.0  # four times the error: out of the set
    assert out[("s", "ets")]["in_mcs"] == 1.0
    assert compare(t) == out  # seeded: the same answer every time


def test_champion_is_the_lowest_mase_inside_the_mcs_ties_to_simpler():
    scores = {
        "ets": {"mase": 0.9, "in_mcs": 1.0},
        "snaive": {"mase": 0.9, "in_mcs": 1.0},
        "theta": {"mase": 0.5, "in_mcs": 0.0},  # outside the set: not eligible
        "sarimax": {"mase": 1.2},  # no MCS verdict: eligible
    }
    assert champion(scores, {"ets": 3, "snaive": 1, "theta": 2, "sarimax": 4}) == "snaive"
    assert champion({"x": {"mase": float("nan")}}, {}) is None


def test_score_all_merges_comparisons():
    t = _two_models(n_origins=12)
    s = score_all(t)
    assert {"mase", "mase_h2", "winkler_80", "pinball", "in_mcs"} <= set(s[("s", "ets")])
    assert "dm_pvalue_vs_snaive" in s[("s", "ets")]
    assert "in_mcs" not in score_all(t, compare_models=False)[("s", "ets")]
    assert metrics.champion({m: v for (_, m), v in s.items()}, {}) == "ets"
