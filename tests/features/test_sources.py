"""Known values read off the real source files in ``data/`` (copied unchanged from the shared folder).

Each number below was read from the file named in the test (and, where given, PROVENANCE.md).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features import cbr, eia, eurostat, imf

DATA = Path(__file__).resolve().parents[2] / "data"
IMF = DATA / "imf" / "RU_trade.csv"
EUROSTAT = DATA / "eurostat" / "eu27_exports_total_monthly.csv"
BRENT = DATA / "eia" / "brent-monthly.csv"
CBR = DATA / "cbr" / "macro_monthly.json"


def m(text: str) -> pd.Period:
    return pd.Period(text, freq="M")


def y(year: int) -> pd.Period:
    return pd.Period(str(year), freq="Y")


def test_brent_june_2022() -> None:
    s = eia.brent(BRENT)
    assert s[m("2022-06")] == 122.71
    assert (s.index[0], s.index[-1]) == (m("1987-05"), m("2026-07"))
    assert len(s) == 471


def test_usd_rub_monthly_average_march_2022() -> None:
    s = cbr.monthly(CBR, "rate_usd")
    assert s[m("2022-03")] == pytest.approx(104.08, abs=0.005)
    assert s.index[0] == m("1992-07")


def test_cbr_meta_and_other_rates() -> None:
    parsed = cbr.read_file(CBR)
    assert parsed.meta.generated_at.date().isoformat() == "2026-08-22"
    assert parsed.meta.rows == len(parsed.series) == 427
    assert cbr.monthly(CBR, "rate_eur")[m("2022-03")] == pytest.approx(114.7127, abs=1e-4)
    assert cbr.monthly(CBR, "key_rate")[m("2022-03")] == 20.0
    cny = cbr.monthly(CBR, "rate_cny", start="1994-02")
    assert cny.index[0] == m("1994-02")


def test_cpi_yoy_trailing_null_is_dropped() -> None:
    s = cbr.monthly(CBR, "cpi_yoy", start="1992-01")
    assert s.index[-1] == m("2026-06")  # 2026-07 is null in the file
    assert s.notna().all()


def test_kyrgyzstan_eu_exports_third_country_jump() -> None:
    s = eurostat.exports(EUROSTAT, "Kyrgyzstan")
    assert s[m("2021-06")] == pytest.approx(21.6e6, rel=0.005)
    assert s[m("2023-06")] == pytest.approx(246.8e6, rel=0.005)
    assert s[m("2021-06")] == 21629861


def test_eurostat_table_shape() -> None:
    table = eurostat.read_exports(EUROSTAT)
    assert table.shape == (68, 5)
    assert "Russian Federation (Russia)" in table.columns


def test_imf_values_read_off_the_file() -> None:
    assert imf.ru_imports(IMF, "CHN")[y(2021)] == 72685.740904
    assert imf.ru_imports(IMF, "ARM")[y(2022)] == pytest.approx(2035.763493920071)
    assert imf.ru_imports(IMF, "G001")[y(2024)] == pytest.approx(268125.8941613444)


def test_imf_trailing_empty_year_dropped() -> None:
    kaz = imf.ru_imports(IMF, "KAZ")
    assert kaz.index[-1] == y(2023)  # the 2024 cell is empty in the file
    assert kaz.notna().all()


def test_imf_table_shape_and_names() -> None:
    imports = imf.read_imts(IMF, imf.IMPORTS)
    exports = imf.read_imts(IMF, imf.EXPORTS)
    assert imports.shape == (9, 236)
    assert exports.shape == (9, 234)
    assert imports.attrs["names"]["TUR"] == "Türkiye, Republic of"
