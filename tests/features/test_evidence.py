"""Evidence tables: chip-import figures, sanctions events, C26 growth figures from news reports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features import evidence, sanctions
from features.errors import InputError

DATA = Path(__file__).resolve().parents[2] / "data"
CHIPS = DATA / "chips" / "chip_trade_observations.csv"
EVENTS = DATA / "sanctions" / "sanctions_events.csv"
NEWS = DATA / "rosstat" / "okved26_growth_from_news.csv"
NEWS_HEADER = "period,measure,value_pct,scope,source,url,published,notes\n"


def test_chip_observations_row_count_and_types() -> None:
    table = evidence.read_chip_observations(CHIPS)
    assert len(table) == 104  # PROVENANCE.md
    first = table.iloc[0]
    assert (first["value"], first["unit"]) == (74.0, "USD million")
    assert first["period_start"] == pd.Timestamp("2021-01-01")
    assert table["value"].isna().sum() == 1  # the one qualitative row keeps its text
    assert table["value_text"].iloc[table["value"].isna().to_numpy().argmax()] == ""


def test_chip_published_dates_keep_precision() -> None:
    table = evidence.read_chip_observations(CHIPS)
    late = table[table["published"] == "unknown (late 2022)"].iloc[0]
    assert late["published_date"] == pd.Period("2022", freq="Y")
    assert late["published_date_approx"]
    month = table[table["published"] == "2023-05"].iloc[0]
    assert month["published_date_precision"] == "month"
    assert month["published_date_end"] == pd.Timestamp("2023-05-31")


def test_sanctions_row_count_and_month_precision() -> None:
    table = sanctions.read_events(EVENTS)
    assert len(table) == 59  # PROVENANCE.md
    assert table["verified_here"].value_counts().to_dict() == {
        "yes": 46,
        "partially (month/approx date only)": 8,
        "not verified here": 5,
    }
    chpl = table[table["date_text"] == "2023-07"].iloc[0]
    assert chpl["date"] == pd.Period("2023-07", freq="M")
    assert chpl["date_precision"] == "month"
    assert (chpl["date_start"], chpl["date_end"]) == (
        pd.Timestamp("2023-07-01"),
        pd.Timestamp("2023-07-31"),
    )
    assert table["date"].iloc[0] == pd.Period("2022-02-23", freq="D")


def test_c26_news_table() -> None:
    table = evidence.read_c26_growth_news(NEWS)
    assert len(table) == 20
    annual = table[table["measure"] == "y/y annual"].iloc[0]
    assert (annual["value_pct"], annual["index"], annual["months"]) == (32.8, 132.8, 12)
    q1 = table[table["period"] == "2022-Q1"].iloc[0]
    assert (q1["start"], q1["end"]) == (pd.Period("2022-01", "M"), pd.Period("2022-03", "M"))
    assert table["cumulative"].sum() == 9


def test_cumulative_check_flags_the_prime_minister_quote_only() -> None:
    table = evidence.read_c26_growth_news(NEWS)
    before = table.copy()
    flagged = evidence.cumulative_inconsistencies(table)
    assert list(flagged["period"]) == ["2025-01..08"]
    row = flagged.iloc[0]
    assert flagged.index[0] == 19  # file row
    assert row["value_pct"] == 3.2
    assert (row["shorter_period"], row["longer_period"]) == ("2025-01..05", "2025-01..09")
    assert (row["low"], row["high"]) == pytest.approx((9.4, 20.6))
    assert row["implied_pct"] == pytest.approx(14.5875)
    assert "outside" in row["reason"]
    pd.testing.assert_frame_equal(table, before)  # nothing dropped or smoothed


def test_cumulative_check_general_and_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "news.csv"
    rows = [
        "2030-Q1,y/y cumulative,10.0,OKVED2 26,S,https://a.example/1,2030-04-20,",
        "2030-01..06,y/y cumulative,-20.0,OKVED2 26,S,https://a.example/2,2030-07-20,",
        "2030,y/y annual,12.0,OKVED2 26,S,https://a.example/3,2031-02-01,",
    ]
    path.write_text(NEWS_HEADER + "\n".join(rows) + "\n")
    table = evidence.read_c26_growth_news(path)
    assert list(evidence.cumulative_inconsistencies(table)["period"]) == ["2030-01..06"]
    assert evidence.cumulative_inconsistencies(table, tolerance=40.0).empty


def test_news_measure_must_fit_period(tmp_path: Path) -> None:
    path = tmp_path / "news.csv"
    path.write_text(NEWS_HEADER + "2030-01..05,y/y,1.0,OKVED2 26,S,https://a.example,2030-06,\n")
    with pytest.raises(InputError, match=r"news\.csv: row 2, column 'measure': 'y/y' does not fit"):
        evidence.read_c26_growth_news(path)


def test_news_bad_period(tmp_path: Path) -> None:
    path = tmp_path / "news.csv"
    path.write_text(NEWS_HEADER + "2030-13,y/y,1.0,OKVED2 26,S,https://a.example,2030-06,\n")
    with pytest.raises(InputError, match=r"row 2, column 'period': '2030-13' is not a period"):
        evidence.read_c26_growth_news(path)
