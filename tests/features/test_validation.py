"""Each validation rule, with a small bad file (or frame) that breaks it.

Every failure must be one ``InputError`` line naming the file, the column and the first bad row.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import cbr, eia, eurostat, evidence, imf, sanctions
from features.errors import InputError
from features.tables import read_csv
from features.validation import validate_frame, validate_series

IMF_HEADER = (
    '\ufeff"DATASET","SERIES_CODE","OBS_MEASURE","COUNTRY.ID","COUNTRY","INDICATOR.ID","INDICATOR",'
    '"COUNTERPART_COUNTRY.ID","COUNTERPART_COUNTRY","FREQUENCY.ID","FREQUENCY","SCALE.ID","SCALE",'
    '"TRADE_FLOW.ID","TRADE_FLOW","2019","2020","2021"\n'
)


def imf_row(code: str, values: str, scale: str = "Millions") -> str:
    return (
        f'"IMF.STA:IMTS(1.0.0)","RUS.MG_CIF_USD.{code}.A","OBS_VALUE","RUS","Russian Federation",'
        f'"MG_CIF_USD","Imports","{code}","Name of {code}","A","Annual","6","{scale}","MG",'
        f'"Imports of goods",{values}\n'
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def raises_one_line(match: str) -> pytest.RaisesExc:
    return pytest.raises(InputError, match=match)


# --- file and column rules ----------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with raises_one_line(r"nothere\.csv: file not found"):
        eia.brent(tmp_path / "nothere.csv")


def test_expected_column_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "brent.csv", "Day,Price\n2020-01-15,60\n")
    with raises_one_line(r"brent\.csv: missing column 'Date' \(columns: Day, Price\)"):
        eia.brent(path)


def test_not_a_text_csv(tmp_path: Path) -> None:
    path = tmp_path / "brent.csv"
    path.write_bytes(b"Date,Price\n\xff\xfe\x00bad\n")
    with raises_one_line(r"brent\.csv: not a readable CSV"):
        eia.brent(path)


def test_value_not_a_number_names_row(tmp_path: Path) -> None:
    path = write(tmp_path, "brent.csv", "Date,Price\n2020-01-15,60\n2020-02-15,n/a\n")
    with raises_one_line(r"brent\.csv: row 3, column 'Price' 'n/a' is not a number"):
        eia.brent(path)


def test_empty_value_names_row(tmp_path: Path) -> None:
    path = write(tmp_path, "brent.csv", "Date,Price\n2020-01-15,\n")
    with raises_one_line(r"brent\.csv: row 2, column 'Price' is empty"):
        eia.brent(path)


def test_bad_period_names_row(tmp_path: Path) -> None:
    path = write(tmp_path, "brent.csv", "Date,Price\n2020-01-15,60\nJanuary,61\n")
    with raises_one_line(r"brent\.csv: row 3, column 'Date': 'January' is not a M period"):
        eia.brent(path)


# --- period index rules -------------------------------------------------------------------------


def test_duplicate_period_names_row(tmp_path: Path) -> None:
    path = write(tmp_path, "brent.csv", "Date,Price\n2020-01-15,60\n2020-01-31,61\n")
    with raises_one_line(r"brent\.csv: row 3, column 'Date': period 2020-01 appears twice"):
        eia.brent(path)


def test_gap_in_periods(tmp_path: Path) -> None:
    path = write(tmp_path, "brent.csv", "Date,Price\n2020-01-15,60\n2020-03-15,61\n")
    with raises_one_line(r"brent\.csv: periods are not regular, 2020-02 is missing"):
        eia.brent(path)


def test_duplicate_partner_month(tmp_path: Path) -> None:
    text = "partner,month,eu27_exports_eur\nArmenia,2020-01,5\nArmenia,2020-01,6\n"
    path = write(tmp_path, "eu.csv", text)
    with raises_one_line(r"eu\.csv: row 3, column 'month': 2020-01 appears twice for partner"):
        eurostat.read_exports(path)


def test_frame_index_not_periods_or_unsorted() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0]}, index=[0, 1])
    with raises_one_line(r"t\.csv: index is not a period index"):
        validate_frame(frame, "t.csv")
    frame.index = pd.PeriodIndex(["2020-02", "2020-01"], freq="M")
    with raises_one_line(r"t\.csv: periods not in order at 2020-01"):
        validate_frame(frame, "t.csv")


# --- value rules --------------------------------------------------------------------------------


def test_infinite_value_names_column_and_period(tmp_path: Path) -> None:
    text = "partner,month,eu27_exports_eur\nArmenia,2020-01,5\nArmenia,2020-02,inf\n"
    path = write(tmp_path, "eu.csv", text)
    with raises_one_line(r"eu\.csv: column 'Armenia' is infinite at 2020-02"):
        eurostat.read_exports(path)


def test_non_positive_where_logged(tmp_path: Path) -> None:
    text = IMF_HEADER + imf_row("CHN", '"10","-5",""')
    path = write(tmp_path, "RU_trade.csv", text)
    with raises_one_line(r"RU_trade\.csv: column 'CHN' must be positive, got -5 at 2020"):
        imf.read_imts(path)


def test_non_positive_brent(tmp_path: Path) -> None:
    path = write(tmp_path, "brent.csv", "Date,Price\n2020-04-15,0\n")
    with raises_one_line(r"brent\.csv: column 'Price' must be positive, got 0 at 2020-04"):
        eia.brent(path)


def test_positive_column_must_be_numeric() -> None:
    frame = pd.DataFrame({"a": ["x"]}, index=pd.PeriodIndex(["2020-01"], freq="M"))
    with raises_one_line(r"t\.csv: column 'a' is not numeric"):
        validate_frame(frame, "t.csv", positive=["a"])


def test_inner_gap_in_a_series_is_not_filled(tmp_path: Path) -> None:
    text = IMF_HEADER + imf_row("CHN", '"10","","12"')
    path = write(tmp_path, "RU_trade.csv", text)
    values = imf.ru_imports(path, "CHN")  # leading/trailing trimmed, inner kept
    with raises_one_line(r"column 'value' is missing at 2020"):
        validate_series(values, "RU_trade.csv")


def test_imf_wrong_scale_names_row(tmp_path: Path) -> None:
    text = IMF_HEADER + imf_row("CHN", '"1","2","3"') + imf_row("HKG", '"1","2","3"', "Units")
    path = write(tmp_path, "RU_trade.csv", text)
    with raises_one_line(r"RU_trade\.csv: row 3, column 'SCALE': 'Units', expected 'Millions'"):
        imf.read_imts(path)


def test_events_table_rejects_inf_without_period_index() -> None:
    frame = pd.DataFrame({"v": [1.0, np.inf]})
    with raises_one_line(r"e\.csv: column 'v' is infinite at row 3"):
        validate_frame(frame, "e.csv", regular=False)


# --- row schemas (pydantic) ---------------------------------------------------------------------


SANCTIONS_HEADER = "date,jurisdiction,event,category,url,verified_here\n"


def test_sanctions_bad_verified_value(tmp_path: Path) -> None:
    text = SANCTIONS_HEADER + "2022-02-23,EU,pkg,EU package 1,https://a.example,yes\n"
    text += "2022-02-25,EU,pkg,EU package 2,https://a.example,maybe\n"
    path = write(tmp_path, "events.csv", text)
    with raises_one_line(r"events\.csv: row 3, column 'verified_here': .*\(got 'maybe'\)"):
        sanctions.read_events(path)


def test_sanctions_impossible_date(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", SANCTIONS_HEADER + "2022-13,EU,pkg,c,,yes\n")
    with raises_one_line(r"events\.csv: row 2, column 'date': '2022-13' is not a date"):
        sanctions.read_events(path)


def test_sanctions_date_with_words(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", SANCTIONS_HEADER + "early 2022,EU,pkg,c,,yes\n")
    with raises_one_line(r"events\.csv: row 2, column 'date'"):
        sanctions.read_events(path)


def test_chip_period_end_before_start(tmp_path: Path) -> None:
    header = (
        "period_start,period_end,value,unit,reporter_or_channel,flow_definition,source,url,"
        "published,notes\n"
    )
    row = "2022-12-31,2022-01-01,5,USD million,China,HS 8542,WSJ,https://a.example,2023-01,\n"
    path = write(tmp_path, "chips.csv", header + row)
    with raises_one_line(r"chips\.csv: row 2, column 'period_end': .*before period_start"):
        evidence.read_chip_observations(path)


def test_rows_without_url_rejected_in_news(tmp_path: Path) -> None:
    header = "period,measure,value_pct,scope,source,url,published,notes\n"
    path = write(tmp_path, "news.csv", header + "2030-01,y/y,1.0,OKVED2 26,S,,2030-02,\n")
    with raises_one_line(r"news\.csv: row 2, column 'url'"):
        evidence.read_c26_growth_news(path)


# --- JSON (Bank of Russia) ----------------------------------------------------------------------


def cbr_file(tmp_path: Path, rows: list[dict[str, object]], n: int | None = None) -> Path:
    meta = {"source": "x.xlsx", "generated_at": "2026-08-22T10:03:58Z", "rows": n or len(rows)}
    path = tmp_path / "macro.json"
    path.write_text(json.dumps({"meta": meta, "series": rows}), encoding="utf-8")
    return path


def test_cbr_value_not_a_number_names_month_and_field(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {"date": "2020-01-01", "month": "2020-01", "rate_usd": 61.0},
        {"date": "2020-02-01", "month": "2020-02", "rate_usd": "high"},
    ]
    with raises_one_line(r"macro\.json: row 2 \(month 2020-02\), field 'rate_usd'"):
        cbr.read_file(cbr_file(tmp_path, rows))


def test_cbr_row_count_must_match_meta(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [{"date": "2020-01-01", "month": "2020-01", "rate_usd": 1.0}]
    with raises_one_line(r"macro\.json: field 'meta\.rows' says 5 rows, 'series' has 1"):
        cbr.read_file(cbr_file(tmp_path, rows, n=5))


def test_cbr_not_json(tmp_path: Path) -> None:
    path = write(tmp_path, "macro.json", "{not json")
    with raises_one_line(r"macro\.json: not valid JSON \(line 1"):
        cbr.read_file(path)


def test_cbr_negative_rate(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [{"date": "2020-01-01", "month": "2020-01", "rate_usd": -1.0}]
    with raises_one_line(r"macro\.json: column 'rate_usd' must be positive, got -1 at 2020-01"):
        cbr.read_macro(cbr_file(tmp_path, rows))


def test_cbr_unknown_field(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [{"date": "2020-01-01", "month": "2020-01", "rate_usd": 1.0}]
    with raises_one_line(r"macro\.json: no field 'rate_xyz'"):
        cbr.monthly(cbr_file(tmp_path, rows), "rate_xyz")


# --- every message is one line ------------------------------------------------------------------


def test_messages_are_single_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "brent.csv", "Day,Price\n2020-01-15,60\n")
    with pytest.raises(InputError) as info:
        read_csv(path, ("Date",))
    assert "\n" not in str(info.value)
