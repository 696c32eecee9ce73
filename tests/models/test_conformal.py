"""Split-conformal intervals: the quantile rule, coverage, nesting, calibration data needs."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from models import conformal
from models.base import ModelRefusal
from models.conformal import Conformal, _halfwidth, conformal_halfwidths, rolling_abs_errors
from models.snaive import SeasonalNaive
from models.splits import rolling_origins
from tests.conftest import regressors, seasonal_series


def _ar1(rng: np.random.Generator, n: int, phi: float = 0.5) -> pd.Series:
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return pd.Series(10.0 + x, index=pd.period_range("2000Q1", periods=n, freq="Q"))


def test_halfwidth_rule_hand_checked():
    s = np.arange(1.0, 10.0)  # k = 9 scores 1..9
    assert _halfwidth(s, 0.8) == (8.0, "conformal")  # r = ceil(10 * 0.8) = 8
    w, how = _halfwidth(s, 0.95)  # r = ceil(9.5) = 10 > 9: Gaussian tail on the RMS of scores
    assert how == "gaussian-tail"
    assert w == pytest.approx(1.959964 * np.sqrt(np.mean(s**2)), rel=1e-6)


def test_quantile_rule_covers_exchangeable_scores():
    # split-conformal guarantee: with k exchangeable scores, P(new <= s_(r)) = r / (k + 1);
    # k = 19 makes that exactly 16/20 = 0.80 and 19/20 = 0.95
    rng = np.random.default_rng(7)
    draws = np.abs(rng.standard_t(df=4, size=(4000, 20)))
    for q, expected in ((0.8, 0.80), (0.95, 0.95)):
        covered = [d[-1] <= _halfwidth(d[:-1], q)[0] for d in draws]
        assert np.mean(covered) == pytest.approx(expected, abs=0.02)


def test_coverage_near_nominal_on_simulated_series():
    # end to end: AR(1) series, naive point forecasts, 19 rolling origins per step, 30 seeded
    # replications x 2 steps; measured 0.80 / 0.95 at writing
    rng = np.random.default_rng(2024)
    hits = {80: [], 95: []}
    for _ in range(30):
        y = _ar1(rng, 62)
        fc = Conformal(SeasonalNaive(sp=1), origins=19).fit(y.iloc[:60]).predict(2)
        actual = y.iloc[60:].to_numpy()
        for lv in hits:
            inside = (fc[f"lo_{lv}"].to_numpy() <= actual) & (actual <= fc[f"hi_{lv}"].to_numpy())
            hits[lv].extend(inside.tolist())
    assert 0.7 <= np.mean(hits[80]) <= 0.9
    assert 0.85 <= np.mean(hits[95]) <= 1.0


def test_intervals_nest_under_every_rule():
    rng = np.random.default_rng(0)
    levels = [50.0, 80.0, 90.0, 95.0, 99.0]
    for _ in range(50):
        # steps with 2..20 scores: conformal, gaussian-tail and sqrt-scaled widths all occur
        scores = [np.abs(rng.normal(size=k)) * j for j, k in enumerate(rng.integers(2, 20, 6), 1)]
        scores[0] = np.abs(rng.normal(size=rng.integers(4, 20)))
        widths, info = conformal_halfwidths(scores, levels, min_origins=4)
        for lo, hi in itertools.pairwise(levels):
            assert (widths[lo] <= widths[hi] + 1e-12).all()
        assert set(info["method"]) == {"50", "80", "90", "95", "99"}


def test_short_steps_borrow_from_the_longest_calibrated_step():
    scores = [np.arange(1.0, 9.0), np.arange(2.0, 10.0), np.array([1.0, 2.0])]
    widths, info = conformal_halfwidths(scores, [80.0], min_origins=4)
    assert info["n_scores"] == [8, 8, 2]
    assert info["method"]["80"] == ["conformal", "conformal", "sqrt-scaled from step 2"]
    assert widths[80.0][2] == pytest.approx(widths[80.0][1] * np.sqrt(3 / 2))


def test_scores_use_the_shared_splitter(monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return rolling_origins(*args, **kwargs)

    monkeypatch.setattr(conformal, "rolling_origins", spy)
    y = seasonal_series(24)
    scores = rolling_abs_errors(SeasonalNaive(), y, None, horizon=3, origins=5, min_train=5)
    assert [c[0][1] for c in calls] == [1, 2, 3]  # one call per step, horizon = step
    assert [len(s) for s in scores] == [5, 5, 5]
    # hand check: step 1 at the last origin (cutoff 22) is the seasonal naive error at 23
    yv = y.to_numpy()
    assert scores[0][-1] == pytest.approx(abs(yv[23] - yv[19]))


def test_wrapper_keeps_the_inner_point_forecast():
    y = seasonal_series(32)
    fc = Conformal("snaive").fit(y).predict(6)
    point = SeasonalNaive().fit(y).predict(6, level=())
    np.testing.assert_allclose(fc["mean"].to_numpy(), point["mean"].to_numpy())
    assert (fc["hi_95"] - fc["mean"]).to_numpy() == pytest.approx(
        (fc["mean"] - fc["lo_95"]).to_numpy()
    )


def test_too_short_for_calibration_refuses():
    m = Conformal("snaive", min_origins=4)
    assert m.min_obs(4) == SeasonalNaive().min_obs(4) + 4
    with pytest.raises(ModelRefusal, match="conformal: needs at least 9"):
        m.fit(seasonal_series(8))
    assert len(m.fit(seasonal_series(9)).predict(3)) == 3


def test_bad_calibration_params_are_input_errors():
    with pytest.raises(ValueError, match="min_origins <= origins"):
        Conformal("snaive", origins=3, min_origins=4).fit(seasonal_series(30))


def test_exogenous_passes_through_to_the_inner_model():
    y = seasonal_series(36)
    X = regressors(y.index)
    assert Conformal("snaive").fit(y, X).exog_columns_ == []  # snaive ignores X
    m = Conformal("sarimax", origins=4, min_origins=2).fit(y.iloc[:32], X.iloc[:32])
    assert m.exog_columns_ == ["x1", "x2"]
    fc = m.predict(4, X.iloc[32:])
    assert np.isfinite(fc.to_numpy()).all()


def test_update_recalibrates_on_the_extended_data():
    y = seasonal_series(32)
    m = Conformal("snaive").fit(y.iloc[:24]).update(y)
    pd.testing.assert_frame_equal(m.predict(4), Conformal("snaive").fit(y).predict(4))


def test_memo_reuses_calibration_copies_and_keeps_the_scores(monkeypatch):
    """Inside ``calibration_memo`` a copy fitted at a calibration origin serves every later
    calibration whose data have the same history up to it; the scores are those without it."""
    fits: list[int] = []
    original = SeasonalNaive._fit

    def counting(self, y, X):
        fits.append(len(y))
        return original(self, y, X)

    monkeypatch.setattr(SeasonalNaive, "_fit", counting)
    y = seasonal_series(30)
    kw = {"horizon": 3, "origins": 5, "min_train": 5}
    plain = [rolling_abs_errors(SeasonalNaive(), y.iloc[:n], None, **kw) for n in (28, 29, 30)]
    assert len(fits) == 3 * 7  # 7 distinct cutoffs (origins + horizon - 1) per calibration
    fits.clear()
    with conformal.calibration_memo():
        memo = [rolling_abs_errors(SeasonalNaive(), y.iloc[:n], None, **kw) for n in (28, 29, 30)]
    assert len(fits) == 7 + 1 + 1  # then only the newest cutoff of each longer history
    for a, b in zip(plain, memo, strict=True):
        for sa, sb in zip(a, b, strict=True):
            np.testing.assert_array_equal(sa, sb)
    # a revised value (another vintage) changes the history: no copy is reused after it
    fits.clear()
    revised = y.copy()
    revised.iloc[10] += 1.0
    with conformal.calibration_memo():
        rolling_abs_errors(SeasonalNaive(), y.iloc[:29], None, **kw)
        got = rolling_abs_errors(SeasonalNaive(), revised.iloc[:29], None, **kw)
    assert len(fits) == 7 + 7
    want = rolling_abs_errors(SeasonalNaive(), revised.iloc[:29], None, **kw)
    for sa, sb in zip(got, want, strict=True):
        np.testing.assert_array_equal(sa, sb)
    assert conformal._MEMO.get() is None  # dropped when the block ends


def test_memo_remembers_refusals(monkeypatch):
    calls: list[int] = []

    def refusing(self, y, X):
        calls.append(len(y))
        raise ModelRefusal("no")

    monkeypatch.setattr(SeasonalNaive, "_fit", refusing)
    y = seasonal_series(24)
    with conformal.calibration_memo():
        for n in (22, 23):
            scores = rolling_abs_errors(SeasonalNaive(), y.iloc[:n], None, 1, 3, 5)
            assert [len(s) for s in scores] == [0]
    assert len(calls) == 3 + 1  # the refused cutoffs are not fitted again
