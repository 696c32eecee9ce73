"""The reconstructed chip-import series against the published figures it is built from.

Reference numbers are the figures of data/chips/chip_trade_observations.csv (file rows, header =
row 1) and their stated errors (features.chips.error_cv); nothing else is pinned. What the file
says about 2023: Bloomberg, "semiconductors and integrated circuits, all brands", USD 1,700m in
Jan-Sep 2023 (row 46), of which "more than" USD 1,000m US- and EU-brand (row 47) -- there is no
full-year "USD 2bn of Western chips" row; the full year follows from the model.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from features import chips
from features.catalog import data_dir, load
from features.evidence import read_chip_observations

EVIDENCE = data_dir() / "chips" / "chip_trade_observations.csv"


@pytest.fixture(scope="module")
def rec() -> chips.Reconstruction:
    return chips.reconstruct()


def _row(rec: chips.Reconstruction, row: int) -> pd.Series:
    return rec.anchors.loc[row]


# --- machinery (hand-derivable) ---------------------------------------------------------------


def test_coverage_weights_are_day_shares() -> None:
    months = pd.period_range("2022-01", "2022-12", freq="M")
    w = chips.coverage(dt.date(2022, 2, 24), dt.date(2022, 12, 31), months)
    assert w is not None
    assert w[0] == 0.0 and w[1] == pytest.approx(5 / 28) and (w[2:] == 1.0).all()
    assert chips.coverage(dt.date(2021, 12, 1), dt.date(2022, 1, 31), months) is None


def test_error_rules_follow_the_notes() -> None:
    assert chips.error_cv("") == 0.10
    assert chips.error_cv("'about US$8 billion'") == 0.15
    assert chips.error_cv("'almost 200 million' read from chart (approximate)") == 0.25
    # "approximate" (0.15) and a period note (+0.10 in quadrature)
    assert chips.error_cv("'dropped 70%'; period approximate") == pytest.approx(
        np.hypot(0.15, 0.10)
    )
    assert chips.is_lower_bound("'more than $437.5 million'")
    assert chips.is_lower_bound("'at least'; Intel $457m")
    assert not chips.is_lower_bound("rounded")


def test_lognormal_band_matches_mean_and_sd() -> None:
    idx = pd.period_range("2020Q1", periods=2, freq="Q")
    b = chips.lognormal_band(
        pd.Series([100.0, 500.0], index=idx), pd.Series([80.0, 5.0], index=idx)
    )
    s = np.sqrt(np.log1p((80 / 100) ** 2))
    mu = np.log(100) - s**2 / 2
    assert b["lo_95"].iloc[0] == pytest.approx(np.exp(mu - chips.Z95 * s))
    assert (b["lo_95"] > 0).all()
    # a tight band is close to mean +- z sd
    assert b["hi_80"].iloc[1] == pytest.approx(500 + chips.Z80 * 5, rel=1e-3)


# --- the reconstruction -------------------------------------------------------------------------


def test_series_span_band_and_reconstructed_flag(rec: chips.Reconstruction) -> None:
    d = load("chip_imports")
    meta = d.metadata()
    assert meta["reconstructed"] is True
    assert (meta["start"], meta["end"]) == ("2019Q1", "2024Q2")
    assert meta["unit"] == "USD million per quarter"
    np.testing.assert_allclose(d.values.to_numpy(), rec.band["mean"].to_numpy())
    b = chips.band("chip_imports")
    assert b is not None
    assert list(b.columns) == ["mean", "sd", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert (b["lo_95"] > 0).all()
    assert (b["lo_95"] <= b["lo_80"]).all() and (b["lo_80"] <= b["mean"]).all()
    assert (b["mean"] <= b["hi_80"]).all() and (b["hi_80"] <= b["hi_95"]).all()
    # the band is narrow where figures are dense (2022) and wide where none reaches (2019-2020)
    rel = b["sd"] / b["mean"]
    assert rel["2022Q1"] < rel["2019Q4"]
    assert chips.band("c26_output") is None


def test_every_figure_is_in_the_table_with_a_role(rec: chips.Reconstruction) -> None:
    obs = read_chip_observations(EVIDENCE)
    a = rec.anchors
    assert len(a) == len(obs) == 104
    assert set(a["role"]) <= {"total", "channel", "direct", "out_of_scope", "context"}
    assert (a["reason"] != "").all()
    used = a[a["role"] == "total"]
    assert len(used) == len(chips.RULES)
    assert used[["fitted", "z"]].notna().all().all()
    assert {"anchor", "fitted", "z", "flag"} <= set(a.columns)


def test_fit_stays_within_the_stated_errors_and_flags_the_rest(rec: chips.Reconstruction) -> None:
    a = rec.anchors[rec.anchors["role"] == "total"]
    flagged = set(a.index[a["flag"] == "not reconciled"])
    # IIF's Jan-Sep 2022 figure (2,450) cannot sit with the full-year 2022 figures (2,100 FTS,
    # 2,500 KSE; the file notes the framing conflict), nor the US alert's -70% with the
    # rebound in the other figures (the file notes it too). Both stay in the fit, flagged.
    assert flagged == {35, 58}
    ok = a.drop(index=list(flagged))
    two_sided = ok[ok["kind"].isin(["point", "ratio"])]
    assert (two_sided["z"].abs() <= chips.FLAG_Z).all()
    lower = ok[ok["kind"].isin(["lower", "ratio_lower"])]
    assert (lower["z"] >= -chips.FLAG_Z).all()


def test_2023_against_what_the_file_says(rec: chips.Reconstruction) -> None:
    bloomberg = _row(rec, 46)  # Jan-Sep 2023, all brands, 1,700
    assert bloomberg["value"] == 1700 and bloomberg["unit"] == "USD million"
    assert abs(bloomberg["fitted"] - 1700) <= bloomberg["stated_sd"]  # within 10%
    western = _row(rec, 47)  # "more than" 1,000 US/EU brands, same period
    assert western["kind"] == "lower" and western["fitted"] >= 1000
    total_2023 = rec.band["mean"]["2023Q1":"2023Q4"].sum()
    nine_months = rec.band["mean"]["2023Q1":"2023Q3"].sum()
    assert total_2023 > nine_months + 0.5 * nine_months / 3  # Q4 not smaller than half a quarter
    assert 2000 < total_2023 < 3000
    fts = _row(rec, 26)  # Kommersant, FTS: 2022 microchips incl. processors, 2,100
    assert abs(fts["fitted"] - 2100) <= fts["stated_sd"]


def test_definition_bridge_and_direct_offset(rec: chips.Reconstruction) -> None:
    # the united-ukraine "microchips" series is narrower than the customs "chips" counts
    assert 0.2 < rec.params["bridge_uu_microchips"] < 1.0
    # the March 2022 collapse and the pre-war pace of that series are both fitted
    assert abs(_row(rec, 39)["z"]) < 1 and abs(_row(rec, 38)["z"]) < 1
    m = rec.monthly["mean"]
    assert m["2022-03"] < 0.5 * m["2022-01"]


def test_channel_shares_only_where_the_evidence_has_them(rec: chips.Reconstruction) -> None:
    sh = rec.shares
    assert set(sh["year"]) == {2021, 2022, 2023}
    china22 = sh[(sh["channel"] == "china_hk") & (sh["year"] == 2022)].iloc[0]
    assert china22["share"] == pytest.approx(0.40) and china22["rows"] == "25"
    assert sh[(sh["channel"] == "central_asia_caucasus") & (sh["year"] == 2023)].empty
    assert (sh["share"] > 0).all() and (sh.groupby("year")["share"].sum() <= 1).all()
    ch = load("chip_imports_china_hk")
    assert ch.metadata()["reconstructed"] is True
    assert (str(ch.values.index[0]), str(ch.values.index[-1])) == ("2021Q1", "2023Q4")
    assert load("chip_imports_central_asia_caucasus").metadata()["end"] == "2022Q4"
    total = rec.band["mean"]
    assert (rec.channels.dropna(how="all").le(total, axis=0) | rec.channels.isna()).all().all()
    b = chips.band("chip_imports_uae")
    assert b is not None and str(b.index[0]) == "2021Q1"


def test_reconstruction_is_memoised() -> None:
    chips.reconstruct()
    t0 = time.perf_counter()
    load("chip_imports")
    chips.band("chip_imports")
    assert time.perf_counter() - t0 < 2.0
