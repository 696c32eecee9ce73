"""Shared readers for the CSV files behind the catalog and the evidence tables.

Every source module reads its CSV through :func:`read_csv` and converts columns with the helpers
below, so a bad file fails the same way everywhere: one :class:`~features.errors.InputError` line
naming the file, the column and the row. Rows are numbered as in the file (the header is row 1),
which holds because none of our files has a quoted line break inside a cell.

Cells are read as text exactly as printed (no ``NA`` guessing), so a value such as ``"1,5"`` or
an empty cell is seen as it is and converted on purpose, not by pandas' defaults.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from features.errors import InputError
from features.periods import parse_period
from features.validation import FIRST_ROW, require_columns

Precision = Literal["day", "month", "year", "unknown"]

_PARTIAL_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:-(\d{2})(?:-(\d{2}))?)?(?!\d)")
_LEADING_YEAR = re.compile(r"^\s*\d{4}(?!\d)")
_PERIOD_FREQ: dict[str, str] = {"day": "D", "month": "M", "year": "Y-DEC"}


def read_csv(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read a CSV as text cells and check that ``columns`` are present.

    A UTF-8 byte-order mark (IMF downloads start with one) is dropped; other columns are kept.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path.name}: not a readable CSV ({first})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    require_columns(frame, columns, path.name)
    if frame.empty:
        raise InputError(f"{path.name}: no data rows")
    return frame


def file_row(frame: pd.DataFrame, i: int) -> int:
    """File row of the ``i``-th row of ``frame``, a table from :func:`read_csv` or a subset of it.

    :func:`read_csv` numbers data rows 0, 1, ... in file order, so the label survives filtering.
    """
    label = frame.index[i]
    return int(label) + FIRST_ROW if isinstance(label, int | np.integer) else i + FIRST_ROW


def float_column(
    frame: pd.DataFrame, column: str, where: str, allow_empty: bool = False
) -> pd.Series:
    """Column ``column`` as floats; an empty cell is NaN only when ``allow_empty``."""
    text = frame[column].astype(str).str.strip()
    num = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
    bad = num.isna() & ((text != "") | (not allow_empty))
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        got = frame[column].iloc[i]
        what = "is empty" if text.iloc[i] == "" else f"{got!r} is not a number"
        raise InputError(f"{where}: row {file_row(frame, i)}, column {column!r} {what}")
    return num


def period_column(frame: pd.DataFrame, column: str, freq: str, where: str) -> pd.PeriodIndex:
    """Column ``column`` parsed as periods of frequency ``freq`` (``M``, ``Q`` or ``A``).

    A cell must start with its year: pandas alone would read ``"January"`` as year 1.
    """
    out = []
    for i, text in enumerate(frame[column]):
        try:
            if not _LEADING_YEAR.match(str(text)):
                raise ValueError(text)
            out.append(parse_period(text, freq))
        except ValueError:
            raise InputError(
                f"{where}: row {file_row(frame, i)}, column {column!r}: {text!r} is not a {freq} period"
            ) from None
    return pd.PeriodIndex(out)


def series_from_columns(
    frame: pd.DataFrame, period: str, value: str, freq: str, where: str
) -> pd.Series:
    """A float series from a period column and a value column, in period order.

    A period that appears twice is an error naming its row (a silent last-wins would hide it).
    """
    idx = period_column(frame, period, freq, where)
    dup = idx.duplicated()
    if dup.any():
        i = int(np.argmax(dup))
        raise InputError(
            f"{where}: row {file_row(frame, i)}, column {period!r}: period {idx[i]} appears twice"
        )
    values = pd.Series(float_column(frame, value, where).to_numpy(), index=idx, name=value)
    return values.sort_index()


def trim_missing(values: pd.Series) -> pd.Series:
    """Drop leading and trailing NaN (a series that starts late or stops early), keep inner ones.

    Inner gaps are left for :func:`features.validation.validate_series` to report.
    """
    have = np.flatnonzero(values.notna().to_numpy())
    if have.size == 0:
        return values.iloc[0:0]
    return values.iloc[have[0] : have[-1] + 1]


@dataclass(frozen=True)
class PartialDate:
    """A date printed at day, month or year precision, possibly inside words.

    ``period`` is a ``pd.Period`` whose frequency *is* the precision (``2023-05`` stays a month),
    ``approximate`` is true when the cell held more than the date (``"unknown (late 2022)"``).
    """

    period: pd.Period | None
    precision: Precision
    approximate: bool


def parse_partial_date(text: object) -> PartialDate:
    """Parse ``2023-05-17``, ``2023-05``, ``2023`` or a date inside words (``"2023 (FTS)"``).

    Raises ``ValueError`` for an impossible date such as ``2023-13``; a cell without any year is
    ``PartialDate(None, "unknown", True)``.
    """
    raw = "" if text is None else str(text).strip()
    m = _PARTIAL_DATE.search(raw)
    if m is None:
        return PartialDate(None, "unknown", bool(raw))
    _year, month, day = m.groups()
    precision: Precision = "day" if day else "month" if month else "year"
    period = pd.Period(m.group(0), freq=_PERIOD_FREQ[precision])
    if (month and not 1 <= int(month) <= 12) or (day and period.day != int(day)):
        raise ValueError(f"{raw!r} is not a valid date")
    return PartialDate(period, precision, raw != m.group(0))


def partial_date_columns(
    frame: pd.DataFrame, column: str, where: str, prefix: str, exact: bool = False
) -> pd.DataFrame:
    """Parsed partial dates of ``column`` as five columns named from ``prefix``.

    ``<prefix>`` is a ``pd.Period`` at the printed precision (day, month or year),
    ``<prefix>_precision`` names it, ``<prefix>_approx`` marks cells with words around the date,
    ``<prefix>_start``/``<prefix>_end`` are the first and last day it covers. ``exact`` requires
    every cell to be a bare date (no words, not empty).
    """
    parsed = []
    for i, text in enumerate(frame[column]):
        try:
            p: PartialDate | None = parse_partial_date(text)
        except ValueError:
            p = None
        if p is None or (exact and (p.approximate or p.period is None)):
            raise InputError(
                f"{where}: row {file_row(frame, i)}, column {column!r}: {text!r} is not a date "
                "YYYY-MM-DD, YYYY-MM or YYYY"
            )
        parsed.append(p)
    return pd.DataFrame(
        {
            prefix: [p.period for p in parsed],
            f"{prefix}_precision": [p.precision for p in parsed],
            f"{prefix}_approx": [p.approximate for p in parsed],
            f"{prefix}_start": [_bound(p, start=True) for p in parsed],
            f"{prefix}_end": [_bound(p, start=False) for p in parsed],
        },
        index=frame.index,
    )


def _bound(p: PartialDate, start: bool) -> pd.Timestamp:
    if p.period is None:
        return pd.NaT
    return (p.period.start_time if start else p.period.end_time).normalize()
