"""The pooled (global) gradient-boosting model: its windows, its training, its cache, its refusals.

The registered model trains on the M3 corpus (``make`` trains the quarterly one into the cache
before the tests run); these tests train on small synthetic corpora instead, through
``train`` and a patched ``corpus``, so that they are fast and know the answer.
"""

from __future__ import annotations

import logging

import joblib
import numpy as np
import pandas as pd
import pytest

from features.errors import InputError
from models import pooled_gbm
from models.base import ModelRefusal
from models.pooled_gbm import PooledGBM, all_windows, train, window_features

#: small regressors: enough to learn a growth rate, fast to train
SMALL = {"max_iter": 60, "learning_rate": 0.2}


def _geometric_corpus(n_series: int = 60, n: int = 24, seed: int = 0) -> list[np.ndarray]:
    """Series growing at a constant rate each (rates from -3% to +5% a period), no noise."""
    rng = np.random.default_rng(seed)
    rates = np.linspace(-0.03, 0.05, n_series)
    starts = rng.uniform(10, 1000, n_series)
    return [s * np.exp(r * np.arange(n)) for s, r in zip(starts, rates, strict=True)]


def _quarterly(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.period_range("2010Q1", periods=len(values), freq="Q"))


@pytest.fixture
def synthetic(monkeypatch, tmp_path):
    """The registered model trains on the geometric corpus, cached under ``tmp_path``."""
    monkeypatch.setenv("SANCTIONCAST_CACHE_DIR", str(tmp_path))
    calls: list[tuple[str, int]] = []

    def fake_corpus(kind: str, exclude_last: int = 0) -> list[np.ndarray]:
        calls.append((kind, exclude_last))
        series = _geometric_corpus()
        return [x[: len(x) - exclude_last] if exclude_last else x for x in series]

    monkeypatch.setattr(pooled_gbm, "corpus", fake_corpus)
    pooled_gbm.pooled_model.cache_clear()
    yield calls
    pooled_gbm.pooled_model.cache_clear()


def test_windows_match_a_loop_over_origins():
    rng = np.random.default_rng(1)
    x = np.exp(rng.normal(size=30).cumsum() * 0.1) * 50
    feats, vols = all_windows(x, 12)
    assert len(feats) == len(x) - 1
    for end in range(2, len(x) + 1):  # the window whose last value is x[end - 1]
        real = x[:end][-12:]
        padded = np.concatenate([np.full(12 - len(real), real[0]), real])
        expected = np.append(np.log(padded / real[-1]), np.log(len(real)))
        np.testing.assert_allclose(feats[end - 2], expected, atol=1e-12)
        assert vols[end - 2] == pytest.approx(np.mean(np.abs(np.diff(np.log(real)))))
    last, vol = window_features(x, 12)
    np.testing.assert_allclose(last, feats[-1])
    assert vol == vols[-1]


def test_rows_pair_each_window_with_the_value_step_periods_later():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    feats, targets, _ = pooled_gbm._rows([x], window=3, step=2)
    # windows ending at x[1] .. x[3]; targets log(x[end + 1] / x[end - 1])
    assert len(targets) == 3
    np.testing.assert_allclose(targets, np.log(4.0))
    # [1, 2] padded to [1, 1, 2], relative to 2; two real values
    np.testing.assert_allclose(feats[0], [-np.log(2.0), -np.log(2.0), 0.0, np.log(2.0)])


def test_learns_each_series_growth_rate():
    model = train(_geometric_corpus(), window=8, max_horizon=4, **SMALL)
    x = 300.0 * np.exp(0.02 * np.arange(16))  # a rate inside the corpus's range
    feats, _ = window_features(x, 8)
    pred = np.array([r.predict(feats[None])[0] for r in model.regressors])
    np.testing.assert_allclose(pred, 0.02 * np.arange(1, 5), atol=0.004)
    assert model.rows[0] > model.rows[-1]  # every step has the windows with its target


def test_error_quantiles_are_ordered_and_widen_with_the_step():
    rng = np.random.default_rng(2)
    noisy = [x * np.exp(rng.normal(0, 0.05, len(x))) for x in _geometric_corpus(n=30)]
    model = train(noisy, window=8, max_horizon=4, **SMALL)
    q = model.error_quantiles
    assert (np.diff(q, axis=1) >= 0).all()
    width = q[:, 360] - q[:, 40]  # the 90% and 10% quantiles
    assert width[-1] > width[0] > 0


def test_forecasts_and_intervals(synthetic):
    y = _quarterly(300.0 * np.exp(0.02 * np.arange(20)))
    fc = PooledGBM(window=8, max_horizon=4, **SMALL).fit(y).predict(4, level=(80, 95))
    np.testing.assert_allclose(
        fc["mean"].to_numpy(), y.iloc[-1] * np.exp(0.02 * np.arange(1, 5)), rtol=0.005
    )
    assert (fc["lo_95"] <= fc["lo_80"]).all() and (fc["lo_80"] <= fc["mean"]).all()
    assert (fc["mean"] <= fc["hi_80"]).all() and (fc["hi_80"] <= fc["hi_95"]).all()
    assert synthetic == [("quarterly", 0)]


def test_trained_once_then_read_from_the_cache(synthetic, tmp_path, monkeypatch, caplog):
    y = _quarterly(300.0 * np.exp(0.01 * np.arange(12)))
    with caplog.at_level(logging.WARNING, logger="models.pooled_gbm"):
        first = PooledGBM(window=8, max_horizon=4, **SMALL).fit(y).predict(3)
    # the command line shows the training (a warning): minutes, the first time, for monthly
    assert caplog.messages == [
        "pooled_gbm: training on the M3 quarterly series, once per machine "
        f"(about 25 s on 2 cores); cached in {tmp_path}"
    ]
    files = list(tmp_path.glob("pooled_gbm-quarterly-w8-h4-x0-*.joblib"))
    assert len(files) == 1 and not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))
    # a new process (memory cache cleared) reads the file and does not train
    pooled_gbm.pooled_model.cache_clear()
    monkeypatch.setattr(pooled_gbm, "train", lambda *a, **k: pytest.fail("trained again"))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="models.pooled_gbm"):
        again = PooledGBM(window=8, max_horizon=4, **SMALL).fit(y).predict(3)
    assert caplog.messages == []
    pd.testing.assert_frame_equal(first, again)
    assert len(synthetic) == 1


def test_unreadable_cache_file_is_replaced(synthetic, tmp_path, caplog):
    y = _quarterly(300.0 * np.exp(0.01 * np.arange(12)))
    PooledGBM(window=8, max_horizon=4, **SMALL).fit(y)
    (path,) = tmp_path.glob("*.joblib")
    path.write_bytes(b"truncated")
    pooled_gbm.pooled_model.cache_clear()
    with caplog.at_level(logging.WARNING, logger="models.pooled_gbm"):
        PooledGBM(window=8, max_horizon=4, **SMALL).fit(y)
    assert "unreadable cache file" in caplog.text
    assert isinstance(joblib.load(path), pooled_gbm.PooledModel)
    assert len(synthetic) == 2


def test_exclude_last_trains_without_the_held_out_periods(synthetic):
    y = _quarterly(300.0 * np.exp(0.01 * np.arange(12)))
    PooledGBM(window=8, max_horizon=4, exclude_last=8, **SMALL).fit(y)
    assert synthetic == [("quarterly", 8)]


def test_corpus_drops_the_last_periods_of_every_m3_series():
    full, cut = pooled_gbm.corpus("quarterly"), pooled_gbm.corpus("quarterly", exclude_last=8)
    assert len(full) == len(cut) == 756
    assert all(len(a) == len(b) + 8 and (a[:-8] == b).all() for a, b in zip(full, cut, strict=True))


def test_refusals(synthetic):
    y = _quarterly(300.0 * np.exp(0.01 * np.arange(12)))
    with pytest.raises(ModelRefusal, match="positive"):
        PooledGBM().fit(y - 400.0)
    annual = pd.Series(y.to_numpy(), index=pd.period_range("2000", periods=12, freq="Y"))
    with pytest.raises(ModelRefusal, match="quarterly and monthly"):
        PooledGBM().fit(annual)
    fitted = PooledGBM(window=8, max_horizon=4, **SMALL).fit(y)
    with pytest.raises(ModelRefusal, match="up to 4 steps ahead, asked 5"):
        fitted.predict(5)


def test_prepare_trains_before_any_fit(synthetic):
    model = PooledGBM(window=8, max_horizon=4, **SMALL)
    model.prepare(4)
    model.prepare(1)  # no corpus: nothing to train, fit refuses later
    assert synthetic == [("quarterly", 0)]
    assert not model.is_fitted


def test_bad_hyperparameters_are_input_errors(synthetic):
    y = _quarterly(300.0 * np.exp(0.01 * np.arange(12)))
    for bad in ({"window": 1}, {"max_horizon": 0}, {"exclude_last": -1}):
        with pytest.raises(InputError, match="window must be >= 2"):
            PooledGBM(**bad).fit(y)
    assert synthetic == []


def test_backtest_prepares_the_pooled_model_before_its_workers_start(synthetic, monkeypatch):
    from models.ensemble import Ensemble
    from pipelines.backtest import BacktestSpec, SeriesInput, backtest

    seen: list[int] = []
    monkeypatch.setattr(PooledGBM, "prepare", lambda self, sp: seen.append(sp))
    y = _quarterly(300.0 * np.exp(0.01 * np.arange(16)))
    ens = Ensemble(("naive", PooledGBM(window=8, max_horizon=4, **SMALL)))
    backtest([SeriesInput("a", y), SeriesInput("b", y * 2)], [ens], BacktestSpec(horizon=2))
    assert seen == [4]  # once per seasonal period, through the ensemble


def test_a_fitted_copy_holds_the_key_not_the_model(synthetic):
    import pickle

    y = _quarterly(300.0 * np.exp(0.01 * np.arange(12)))
    fitted = PooledGBM(window=8, max_horizon=4, **SMALL).fit(y)
    blob = pickle.dumps(fitted)
    assert len(blob) < 5_000  # the regressors are not in it
    pooled_gbm.pooled_model.cache_clear()  # another process: read from the cache file
    pd.testing.assert_frame_equal(pickle.loads(blob).predict(4), fitted.predict(4))
    assert len(synthetic) == 1


def test_a_bad_hyperparameter_fails_the_models_tasks_not_the_backtest(synthetic):
    from pipelines.backtest import BacktestSpec, SeriesInput, backtest

    y = _quarterly(300.0 * np.exp(0.01 * np.arange(16)))
    res = backtest([SeriesInput("a", y)], ["naive", PooledGBM(window=1)], BacktestSpec(horizon=2))
    assert res.ok("a", "naive")
    assert "window must be >= 2" in res.status[("a", "pooled_gbm")]["error"]


def test_a_self_contained_copy_forecasts_without_the_cache(synthetic, tmp_path, monkeypatch):
    import pickle

    from models.ensemble import Ensemble
    from models.transform import Transformed

    y = _quarterly(300.0 * np.exp(0.01 * np.arange(16)))
    pooled = PooledGBM(window=8, max_horizon=4, **SMALL)
    fitted = {
        "pooled": pooled.fit(y),
        "ensemble": Ensemble(("naive", pooled)).fit(y),
        "wrapped": Transformed(pooled, "log").fit(y),
    }
    expected = {k: f.predict(4) for k, f in fitted.items()}
    blobs = {k: pickle.dumps(f.self_contained()) for k, f in fitted.items()}
    assert len(pickle.dumps(fitted["pooled"])) < 5_000  # the originals still hold the key only
    # another machine: nothing in memory, an empty cache, no training allowed
    pooled_gbm.pooled_model.cache_clear()
    monkeypatch.setenv("SANCTIONCAST_CACHE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setattr(pooled_gbm, "train", lambda *a, **k: pytest.fail("trained again"))
    for k, blob in blobs.items():
        assert len(blob) > 50_000  # the regressors travel with it
        pd.testing.assert_frame_equal(pickle.loads(blob).predict(4), expected[k])
    assert not (tmp_path / "elsewhere").exists()
    # a model with nothing in a cache is its own self-contained copy, in an ensemble too
    plain = Ensemble(("naive", "snaive")).fit(y)
    assert plain.self_contained() is plain
    assert plain.members_["naive"].self_contained() is plain.members_["naive"]


def test_a_logged_pooled_model_forecasts_without_the_cache(synthetic, tmp_path, monkeypatch):
    import mlflow

    from models.ensemble import Ensemble
    from pipelines.mlflow_model import _log_forecaster_impl

    y = _quarterly(300.0 * np.exp(0.01 * np.arange(16)))
    fitted = Ensemble(("naive", PooledGBM(window=8, max_horizon=4, **SMALL))).fit(y)
    expected = fitted.predict(3).reset_index()
    expected["period"] = expected["period"].astype(str)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    try:
        with mlflow.start_run():
            info = _log_forecaster_impl(fitted, "ensemble", pd.DataFrame({"h": [4]}))
        pooled_gbm.pooled_model.cache_clear()
        monkeypatch.setenv("SANCTIONCAST_CACHE_DIR", str(tmp_path / "elsewhere"))
        monkeypatch.setattr(pooled_gbm, "train", lambda *a, **k: pytest.fail("trained again"))
        got = mlflow.pyfunc.load_model(info.model_uri).predict(pd.DataFrame({"h": [3]}))
    finally:
        mlflow.set_tracking_uri(None)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
