"""The shared CSV helpers: partial dates keep their precision."""

from __future__ import annotations

import pandas as pd
import pytest

from features.tables import parse_partial_date, trim_missing


@pytest.mark.parametrize(
    ("text", "period", "precision", "approx"),
    [
        ("2023-05-17", pd.Period("2023-05-17", "D"), "day", False),
        ("2023-05", pd.Period("2023-05", "M"), "month", False),
        ("2024", pd.Period("2024", "Y"), "year", False),
        ("2023 (FTS)", pd.Period("2023", "Y"), "year", True),
        ("unknown (~2022)", pd.Period("2022", "Y"), "year", True),
    ],
)
def test_partial_dates(text: str, period: pd.Period, precision: str, approx: bool) -> None:
    p = parse_partial_date(text)
    assert (p.period, p.precision, p.approximate) == (period, precision, approx)


def test_partial_date_without_year_and_impossible_dates() -> None:
    assert parse_partial_date("unknown").period is None
    assert parse_partial_date("").approximate is False
    with pytest.raises(ValueError):
        parse_partial_date("2023-02-30")
    with pytest.raises(ValueError):
        parse_partial_date("2023-00")


def test_trim_missing_keeps_inner_gaps() -> None:
    s = pd.Series([None, 1.0, None, 2.0, None], dtype=float)
    assert trim_missing(s).index.tolist() == [1, 2, 3]
