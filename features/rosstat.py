"""Parser for Rosstat's production-index workbooks, in the layout Rosstat publishes them.

Rosstat's ``ind_*.xlsx`` files hold one table per sheet: a title, a header row whose second cell
is ``Код ОКВЭД2`` (spacing varies), then one row per activity with its OKVED2 code in column B.

* Annual files (``ind_god_*.xlsx``): header cells are years, with footnote digits glued on
  (``"20221"`` is 2022 with note 1, ``"20251,5"`` is 2025 with notes 1 and 5; some are ints).
* Quarterly files (``ind_baza_*_4kv.xlsx``): a year row (``"2021 год"``, merged over four
  columns) and a quarter row below it (``"1 квартал "``, ``"4 квартал2"``). Sheet ``1`` is % of
  the previous quarter, sheet ``2`` is % of the same quarter of the previous year.

Codes may carry trailing spaces (``"BCDE "``); cells that are not numbers (``"…"``, ``"-"``) are
missing values. Nothing here is specific to one code, so a new release drops in unchanged.

Also here: the older OKVED rev. 1.1 table (``ind_prom_okved.xlsx``, 1992-2016, activity names but
no code column, see :func:`read_okved11_sheet`), the release date printed on a workbook's contents
sheet (:func:`updated_on`), and earlier releases kept as small cited CSVs
(:func:`annual_growth_csv`) so a vintage in another format loads beside the xlsx.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import openpyxl
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from features.errors import InputError
from features.periods import PANDAS_FREQ
from features.tables import read_csv, series_from_columns
from features.validation import validate_rows

_CODE_HEADER = re.compile(r"^\s*код", re.IGNORECASE)
_YEAR = re.compile(r"^\s*((?:19|20)\d{2})(?:\s*год)?\s*([\d,\s]*)$", re.IGNORECASE)
_QUARTER = re.compile(r"^\s*([1-4])\s*квартал\s*([\d,\s]*)$", re.IGNORECASE)
_UPDATED = re.compile(r"Обновлено:\s*(\d{1,2})\.(\d{1,2})\.(\d{4})", re.IGNORECASE)
_LABEL_NOTE = re.compile(r"^(.*\S)\s+(\d[\d,]*)$")
_CONTENTS = "Содержание"
_BACK_LINK = "К содержанию"  # a hyperlink cell above the title, not part of it


@dataclass(frozen=True)
class RosstatTable:
    """One sheet of a Rosstat production-index workbook.

    Attributes
    ----------
    path, sheet : where it was read from.
    title : the sheet's title lines, joined.
    freq : ``"A"`` or ``"Q"``.
    values : rows are OKVED2 codes (stripped), columns a ``PeriodIndex``; percent indices.
    names : OKVED2 code -> activity name as printed.
    footnotes : period label -> footnote marks printed on its header (e.g. ``"1,5"``).
    classification : ``"OKVED2"``, or ``"OKVED 1.1"`` for the pre-2017 table.
    """

    path: Path
    sheet: str
    title: str
    freq: str
    values: pd.DataFrame
    names: dict[str, str]
    footnotes: dict[str, str] = field(default_factory=dict)
    classification: str = "OKVED2"

    def row(self, code: str) -> pd.Series:
        """The index for one activity code as a float series over periods."""
        key = str(code).strip()
        if key not in self.values.index:
            raise InputError(
                f"{self.classification} code {key!r} not found in {self.path.name} "
                f"sheet {self.sheet!r} "
                f"({len(self.values.index)} codes, e.g. {', '.join(list(self.values.index)[:5])})"
            )
        out = self.values.loc[key].astype(float)
        out.name = key
        return out


def _to_float(cell: object) -> float:
    if cell is None or isinstance(cell, bool):
        return np.nan
    if isinstance(cell, int | float):
        return float(cell)
    text = str(cell).strip().replace(",", ".").replace("\xa0", "")
    try:
        return float(text)
    except ValueError:
        return np.nan


def _clean(cell: object) -> str:
    return "" if cell is None else " ".join(str(cell).split())


def read_rosstat_sheet(path: str | Path, sheet: str) -> RosstatTable:
    """Read one sheet of a Rosstat production-index workbook (annual or quarterly layout).

    Parsed sheets are cached by path, modification time and sheet name.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    return _read_sheet(path, path.stat().st_mtime_ns, sheet)


def _open_workbook(path: Path) -> openpyxl.Workbook:
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a non-xlsx file
        raise InputError(f"{path}: not a readable xlsx workbook ({type(exc).__name__})") from exc


def _sheet_rows(path: Path, sheet: str) -> list[tuple[object, ...]]:
    wb = _open_workbook(path)
    try:
        if sheet not in wb.sheetnames:
            raise InputError(
                f"{path.name}: no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})"
            )
        return [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


@cache
def _read_sheet(path: Path, mtime_ns: int, sheet: str) -> RosstatTable:
    rows = _sheet_rows(path, sheet)
    header_at = next(
        (i for i, r in enumerate(rows) if len(r) > 1 and _CODE_HEADER.match(_clean(r[1]))),
        None,
    )
    if header_at is None:
        raise InputError(
            f"{path.name} sheet {sheet!r}: no header row with 'Код ОКВЭД2' in column B"
        )
    title = " ".join(_clean(r[0]) for r in rows[:header_at] if r and _clean(r[0]))
    header = rows[header_at]
    below = rows[header_at + 1] if header_at + 1 < len(rows) else ()
    quarterly = any(_QUARTER.match(_clean(c)) for c in below[2:])

    columns: dict[int, pd.Period] = {}
    footnotes: dict[str, str] = {}
    if quarterly:
        year: int | None = None
        for j in range(2, len(below)):
            ycell = _clean(header[j]) if j < len(header) else ""
            if ycell:
                m = _YEAR.match(ycell)
                if not m:
                    raise InputError(
                        f"{path.name} sheet {sheet!r}: year header {ycell!r} in column {j + 1}"
                    )
                year = int(m.group(1))
            qm = _QUARTER.match(_clean(below[j]))
            if qm and year is not None:
                p = pd.Period(year=year, quarter=int(qm.group(1)), freq=PANDAS_FREQ["Q"])
                columns[j] = p
                if qm.group(2).strip():
                    footnotes[str(p)] = qm.group(2).strip()
        first_data = header_at + 2
        freq = "Q"
    else:
        for j in range(2, len(header)):
            m = _YEAR.match(_clean(header[j]))
            if m:
                p = pd.Period(m.group(1), freq=PANDAS_FREQ["A"])
                columns[j] = p
                if m.group(2).strip():
                    footnotes[str(p)] = m.group(2).strip()
        first_data = header_at + 1
        freq = "A"
    if not columns:
        raise InputError(f"{path.name} sheet {sheet!r}: no year or quarter columns in the header")

    data: dict[str, list[float]] = {}
    names: dict[str, str] = {}
    for r in rows[first_data:]:
        if len(r) < 2:
            continue
        code = _clean(r[1])
        if not code or code in data:  # the first row of a code is the table's own
            continue
        data[code] = [_to_float(r[j]) if j < len(r) else np.nan for j in columns]
        names[code] = _clean(r[0])
    values = pd.DataFrame.from_dict(
        data, orient="index", columns=pd.PeriodIndex(list(columns.values()))
    )
    return RosstatTable(path, sheet, title, freq, values, names, footnotes)


def annual_growth(path: str | Path, code: str, sheet: str = "1") -> pd.Series:
    """Annual production index of one OKVED2 code, % of previous year, by year."""
    return read_rosstat_sheet(path, sheet).row(code)


def quarterly_growth(path: str | Path, code: str) -> tuple[pd.Series, pd.Series]:
    """Quarterly indices of one OKVED2 code: (% of previous quarter, % of a year earlier)."""
    return read_rosstat_sheet(path, "1").row(code), read_rosstat_sheet(path, "2").row(code)


def chain_annual(growth: pd.Series, base_year: int = 2021) -> pd.Series:
    """Chain-link annual % of previous year into a level index with ``base_year`` = 100.

    The first year's growth links it to the year before, which is the start of the chain.
    """
    g = growth.dropna() / 100.0
    if g.empty:
        raise InputError(f"code {growth.name!r}: no annual values")
    start = g.index[0] - 1
    level = pd.concat([pd.Series([1.0], index=pd.PeriodIndex([start])), g.cumprod()])
    if pd.Period(str(base_year), freq=level.index.freq) not in level.index:
        raise InputError(
            f"base year {base_year} is outside the annual span {level.index[0]}..{level.index[-1]}"
        )
    level = 100.0 * level / level[pd.Period(str(base_year), freq=level.index.freq)]
    level.name = growth.name
    return level


def chain_quarterly(qoq: pd.Series, yoy: pd.Series, base_year: int = 2021) -> pd.Series:
    """Quarterly level index (``base_year`` average = 100) from Rosstat's q/q and y/y indices.

    The q/q chain gives the levels from the first quarter on. The four quarters before it have no
    q/q link in the file, so they are backed out from the y/y index of the first year
    (``L[t-4] = L[t] / (yoy[t] / 100)``): for the 2021-2025 release that adds 2020Q1-2020Q4.
    The q/q index of the first quarter is then implied twice (by the chain and by y/y); the
    difference is Rosstat's rounding and is reported by :func:`chain_residuals`, not forced away.
    """
    q = qoq.dropna() / 100.0
    if q.empty:
        raise InputError(f"code {qoq.name!r}: no quarterly values")
    if not q.index.equals(pd.period_range(q.index[0], q.index[-1], freq=q.index.freq)):
        raise InputError(
            f"code {qoq.name!r}: q/q index has gaps inside {q.index[0]}..{q.index[-1]}"
        )
    level = q.copy()
    level.iloc[0] = 1.0
    level.iloc[1:] = q.iloc[1:].cumprod().to_numpy()
    first_year = level.index[:4]
    back = []
    for p in first_year:
        y = yoy.get(p, np.nan)
        if not np.isfinite(y):
            raise InputError(
                f"code {qoq.name!r}: y/y index missing for {p}, cannot back out {p - 4}"
            )
        back.append(level[p] / (y / 100.0))
    earlier = pd.Series(back, index=pd.PeriodIndex([p - 4 for p in first_year]))
    level = pd.concat([earlier, level]).sort_index()
    in_base = level[level.index.year == base_year]
    if len(in_base) != 4:
        raise InputError(
            f"base year {base_year} is not fully inside {level.index[0]}..{level.index[-1]}"
        )
    level = 100.0 * level / in_base.mean()
    level.name = qoq.name
    return level


def chain_residuals(level: pd.Series, qoq: pd.Series, yoy: pd.Series) -> pd.DataFrame:
    """Published q/q and y/y indices against those the level index implies (in points)."""
    implied_qoq = 100.0 * level / level.shift(1)
    implied_yoy = 100.0 * level / level.shift(4)
    out = pd.DataFrame(
        {
            "qoq": qoq.reindex(level.index),
            "qoq_implied": implied_qoq,
            "yoy": yoy.reindex(level.index),
            "yoy_implied": implied_yoy,
        }
    )
    out["qoq_gap"] = out["qoq_implied"] - out["qoq"]
    out["yoy_gap"] = out["yoy_implied"] - out["yoy"]
    return out


def updated_on(path: str | Path) -> dt.date | None:
    """The date on the contents sheet's ``Обновлено: 06.02.2026 г.`` line (the release), if any.

    The catalog dates Rosstat vintages by it, and a test keeps the two in line.
    """
    path = Path(path)
    wb = _open_workbook(path)
    try:
        cells = (
            [c for r in wb[_CONTENTS].iter_rows(values_only=True) for c in r]
            if _CONTENTS in wb.sheetnames
            else []
        )
    finally:
        wb.close()
    for cell in cells:
        m = _UPDATED.search(_clean(cell))
        if m:
            day, month, year = map(int, m.groups())
            return dt.date(year, month, day)
    return None


# --- OKVED rev. 1.1 (1992-2016) ---------------------------------------------------------------

#: OKVED rev. 1.1 codes of the rows of ``ind_prom_okved.xlsx``, which prints activity names only
#: (keys: the printed name lower-cased, spaces collapsed, footnote marks removed). ``CDE`` is the
#: aggregate the file's footnote 1 defines (mining, manufacturing, electricity/gas/water), the
#: analogue of OKVED2 ``BCDE``.
OKVED11_CODES: dict[str, str] = {
    "промышленное производство": "CDE",
    "добыча полезных ископаемых": "C",
    "добыча топливно-энергетических полезных ископаемых": "CA",
    "добыча полезных ископаемых, кроме топливно-энергетических": "CB",
    "обрабатывающие производства": "D",
    "производство пищевых продуктов, включая напитки, и табака": "DA",
    "текстильное и швейное производство": "DB",
    "производство кожи, изделий из кожи и производство обуви": "DC",
    "обработка древесины и производство изделий из дерева": "DD",
    "целлюлозно-бумажное производство; издательская и полиграфическая деятельность": "DE",
    "производство кокса и нефтепродуктов": "DF",
    "химическое производство": "DG",
    "производство резиновых и пластмассовых изделий": "DH",
    "производство прочих неметаллических минеральных продуктов": "DI",
    "металлургическое производство и производство готовых металлических изделий": "DJ",
    "производство машин и оборудования": "DK",
    "производство электрооборудования, электронного и оптического оборудования": "DL",
    "производство транспортных средств и оборудования": "DM",
    "прочие производства": "DN",
    "производство и распределение электроэнергии, газа и воды": "E",
}


def read_okved11_sheet(path: str | Path, sheet: str = "1") -> RosstatTable:
    """Read Rosstat's OKVED rev. 1.1 annual table (``ind_prom_okved.xlsx``, % of previous year).

    Layout: title rows, a header row of years from column B (``"1992"`` ... ``"2009"`` as text,
    ``2010`` ... as numbers), then one row per activity with its *name* in column A and no code
    column. Names are mapped to OKVED 1.1 codes by :data:`OKVED11_CODES`; a name not in the map
    is kept under its own normalised name, so nothing in the file is dropped. Rows without any
    number (``"из него:"``, ``"в том числе:"``, the footnote text) are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    return _read_okved11(path, path.stat().st_mtime_ns, sheet)


@cache
def _read_okved11(path: Path, mtime_ns: int, sheet: str) -> RosstatTable:
    rows = _sheet_rows(path, sheet)
    header_at = next((i for i, r in enumerate(rows) if len(_year_columns(r)) >= 2), None)
    if header_at is None:
        raise InputError(f"{path.name} sheet {sheet!r}: no header row of years from column B")
    columns = _year_columns(rows[header_at])
    title = " ".join(
        _clean(r[0]) for r in rows[:header_at] if r and _clean(r[0]) not in ("", _BACK_LINK)
    )
    data: dict[str, list[float]] = {}
    names: dict[str, str] = {}
    for r in rows[header_at + 1 :]:
        values = [_to_float(r[j]) if j < len(r) else np.nan for j in columns]
        name, _note = _split_label_note(_clean(r[0]) if r else "")
        if not name or all(np.isnan(values)):
            continue
        key = OKVED11_CODES.get(name.lower(), name.lower())
        if key not in data:  # as in the OKVED2 files, the first row of an activity is its own
            data[key] = values
            names[key] = name
    values_frame = pd.DataFrame.from_dict(
        data, orient="index", columns=pd.PeriodIndex(list(columns.values()))
    )
    return RosstatTable(path, sheet, title, "A", values_frame, names, classification="OKVED 1.1")


def _year_columns(row: tuple[object, ...]) -> dict[int, pd.Period]:
    out: dict[int, pd.Period] = {}
    for j in range(1, len(row)):
        m = _YEAR.match(_clean(row[j]))
        if m:
            out[j] = pd.Period(m.group(1), freq=PANDAS_FREQ["A"])
    return out


def _split_label_note(label: str) -> tuple[str, str]:
    """``"Промышленное производство 1"`` -> (``"Промышленное производство"``, ``"1"``)."""
    m = _LABEL_NOTE.match(label)
    return (m.group(1), m.group(2)) if m else (label, "")


def okved11_growth(path: str | Path, code: str) -> pd.Series:
    """Annual index of one OKVED 1.1 activity (e.g. ``DL``), % of previous year, 1992 on."""
    return read_okved11_sheet(path).row(code).dropna()


def okved11_level(path: str | Path, code: str, base_year: int = 2010) -> pd.Series:
    """Annual level index of one OKVED 1.1 activity, ``base_year`` = 100, chain-linked."""
    return chain_annual(read_okved11_sheet(path).row(code), base_year=base_year)


# --- earlier releases kept as small cited CSVs (data/rosstat/vintages/) -------------------------


class VintageRow(BaseModel):
    """One value of an earlier Rosstat release, with where it comes from.

    ``status`` says whether the value is *as published* in that release (cited), or *carried*
    from a later release because the earlier print is not in our files.
    """

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1)
    year: int = Field(ge=1990, le=2100)
    value_pct: float = Field(gt=0)
    status: Literal["as published", "carried"]
    citation: str = Field(min_length=10)


def vintage_table(path: str | Path) -> pd.DataFrame:
    """The rows of an earlier-release CSV (``code,year,value_pct,status,citation``), checked."""
    path = Path(path)
    raw = read_csv(path, tuple(VintageRow.model_fields))
    rows = validate_rows(raw, VintageRow, path.name)
    return pd.DataFrame([r.model_dump() for r in rows], index=raw.index)


def annual_growth_csv(path: str | Path, code: str) -> pd.Series:
    """Annual index of one code from an earlier-release CSV, % of previous year."""
    path = Path(path)
    table = vintage_table(path)
    rows = table[table["code"].str.strip() == str(code).strip()]
    if rows.empty:
        raise InputError(
            f"{path.name}: code {str(code).strip()!r} not in this release file "
            f"(codes: {', '.join(sorted(set(table['code'])))})"
        )
    out = series_from_columns(rows.astype(str), "year", "value_pct", "A", path.name)
    out.name = str(code).strip()
    return out


def annual_level_csv(path: str | Path, code: str, base_year: int = 2021) -> pd.Series:
    """Annual level index (``base_year`` = 100) chain-linked from an earlier-release CSV."""
    return chain_annual(annual_growth_csv(path, code), base_year=base_year)
