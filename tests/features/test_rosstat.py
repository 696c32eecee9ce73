"""Rosstat workbooks: known values read off the real files, layout quirks, bad files.

Reference values: PROVENANCE.md "Known facts" (C26 annual 2015..2025) and the xlsx cells
(C26 2023Q3 y/y = 150.8 on sheet 2, 2021Q4 q/q = 159.2 on sheet 1; OKVED 1.1 DL row).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from features import rosstat
from features.errors import InputError

DATA = Path(__file__).resolve().parents[2] / "data" / "rosstat"
ANNUAL = DATA / "ind_god_2015_2025.xlsx"
QUARTERLY = DATA / "ind_baza_2018_4kv.xlsx"
OKVED11 = DATA / "ind_prom_okved.xlsx"
C26_ANNUAL = [105.8, 102.8, 100.2, 103.0, 110.6, 103.3, 109.9, 109.4, 139.4, 126.4, 111.7]


def test_c26_annual_matches_provenance_known_facts() -> None:
    growth = rosstat.annual_growth(ANNUAL, "26")
    assert growth[pd.Period("2023", freq="Y")] == 139.4
    assert growth[pd.Period("2024", freq="Y")] == 126.4
    assert list(growth.index.year) == list(range(2015, 2026))
    assert growth.tolist() == C26_ANNUAL


def test_c26_quarterly_known_values() -> None:
    qoq, yoy = rosstat.quarterly_growth(QUARTERLY, "26")
    assert yoy[pd.Period("2023Q3", freq="Q")] == 150.8
    assert qoq[pd.Period("2021Q4", freq="Q")] == 159.2


def test_chain_reproduces_published_indices_within_rounding() -> None:
    qoq, yoy = rosstat.quarterly_growth(QUARTERLY, "26")
    level = rosstat.chain_quarterly(qoq, yoy)
    gaps = rosstat.chain_residuals(level, qoq, yoy)[["qoq_gap", "yoy_gap"]]
    assert gaps.abs().max().max() <= 0.2  # Rosstat prints one decimal


def test_code_not_in_file_names_the_code() -> None:
    with pytest.raises(InputError, match=r"OKVED2 code '99\.99' not found in ind_god_2015_2025"):
        rosstat.annual_growth(ANNUAL, "99.99")


def test_footnote_digits_on_year_headers_of_real_file() -> None:
    table = rosstat.read_rosstat_sheet(ANNUAL, "1")
    assert table.footnotes == {"2022": "1", "2023": "1", "2024": "1,2", "2025": "1,5"}
    assert table.values.columns[-1] == pd.Period("2025", freq="Y")


def test_footnote_digits_on_year_headers_of_small_file(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "1"
    ws.append(["Индексы производства (в % к предыдущему году)"])
    ws.append(["Наименование", "Код  ОКВЭД2", 2019, "20201", "20211,5", "2022 год3"])
    ws.append(["Производство компьютеров", "26 ", 110.6, "103,3", 109.9, "…"])
    path = tmp_path / "ind_small.xlsx"
    wb.save(path)
    table = rosstat.read_rosstat_sheet(path, "1")
    assert [p.year for p in table.values.columns] == [2019, 2020, 2021, 2022]
    assert table.footnotes == {"2020": "1", "2021": "1,5", "2022": "3"}
    row = table.row("26")
    assert row.iloc[:3].tolist() == [110.6, 103.3, 109.9]
    assert pd.isna(row.iloc[3])


def test_malformed_xlsx_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(InputError, match=r"broken\.xlsx: not a readable xlsx workbook"):
        rosstat.read_rosstat_sheet(path, "1")


def test_release_date_printed_on_contents_sheet() -> None:
    assert str(rosstat.updated_on(ANNUAL)) == "2026-02-06"
    assert str(rosstat.updated_on(QUARTERLY)) == "2026-02-06"
    assert str(rosstat.updated_on(OKVED11)) == "2022-06-09"


# --- OKVED rev. 1.1 -----------------------------------------------------------------------------


def test_okved11_layout_maps_every_row_to_a_code() -> None:
    table = rosstat.read_okved11_sheet(OKVED11)
    assert set(table.values.index) == set(rosstat.OKVED11_CODES.values())
    assert table.values.columns[0] == pd.Period("1992", freq="Y")
    assert table.values.columns[-1] == pd.Period("2016", freq="Y")  # PROVENANCE.md says 2010
    assert table.names["CDE"] == "Промышленное производство"  # footnote mark removed
    assert "ОКВЭД ред.1.1" in table.title


def test_okved11_dl_known_values() -> None:
    dl = rosstat.okved11_growth(OKVED11, "DL")
    assert dl[pd.Period("1992", freq="Y")] == 79.8
    assert dl[pd.Period("2003", freq="Y")] == 143.2
    assert dl[pd.Period("2009", freq="Y")] == 68.4
    level = rosstat.okved11_level(OKVED11, "DL")
    assert level[pd.Period("2010", freq="Y")] == pytest.approx(100.0)
    assert level[pd.Period("2011", freq="Y")] == pytest.approx(111.9)


def test_okved11_unknown_code_names_classification() -> None:
    with pytest.raises(InputError, match=r"OKVED 1\.1 code '26' not found in ind_prom_okved"):
        rosstat.okved11_growth(OKVED11, "26")


# --- earlier releases as cited CSVs --------------------------------------------------------------


def test_first_estimate_vintage_file_is_honest() -> None:
    table = rosstat.vintage_table(DATA / "vintages" / "c26_annual_2024-02-03.csv")
    published = table[table["status"] == "as published"]
    assert published[["year", "value_pct"]].values.tolist() == [[2023, 132.8]]
    assert "bnnbreaking" in published["citation"].iloc[0]
    # carried years must equal the release they are carried from, and nothing after 2023 exists
    carried = table[table["status"] == "carried"].set_index("year")["value_pct"]
    current = rosstat.annual_growth(ANNUAL, "26")
    for year, value in carried.items():
        assert current[pd.Period(str(year), freq="Y")] == value
    assert table["year"].max() == 2023


def test_vintage_csv_rejects_a_row_without_citation(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text("code,year,value_pct,status,citation\n26,2023,132.8,as published,\n")
    with pytest.raises(InputError, match=r"v\.csv: row 2, column 'citation'"):
        rosstat.annual_growth_csv(path, "26")


def test_vintage_csv_missing_code(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text(
        "code,year,value_pct,status,citation\n26,2023,132.8,as published,Rosstat via X\n"
    )
    with pytest.raises(InputError, match=r"code '27' not in this release file"):
        rosstat.annual_growth_csv(path, "27")
