"""Bank of Russia rouble rates and key rate, with Rosstat CPI, from ``macro_monthly.json``.

The file (compiled in the public ``solovmm/fin_calc`` repository) is JSON::

    {"meta": {"source": ..., "generated_at": "2026-08-22T10:03:58Z", "rows": 427},
     "series": [{"date": "1991-01-01", "month": "1991-01", "rate_usd": null, "key_rate": 20.0,
                 "cpi_yoy": 11.9, ...}, ...]}

``rate_<ccy>`` is the monthly average of the official rate (roubles per unit), ``rate_<ccy>_end``
the end-of-month rate; ``key_rate`` the monthly average key rate (before 2013-09 the refinancing
rate), ``key_rate_end`` its end-of-month value; ``cpi_yoy``/``cpi_mom`` Rosstat CPI in percent.
``null`` is a missing value (a currency not quoted yet, CPI not yet published).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from features.errors import InputError
from features.tables import trim_missing
from features.validation import validate_frame

Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class Meta(BaseModel):
    """The file's ``meta`` block; ``generated_at`` dates the catalog vintage."""

    model_config = ConfigDict(extra="allow")
    source: str
    generated_at: dt.datetime
    rows: int = Field(ge=1)


class Row(BaseModel):
    """One month; every field other than ``date`` and ``month`` is a number or null."""

    model_config = ConfigDict(extra="allow")
    date: dt.date
    month: Month
    __pydantic_extra__: dict[str, float | None]


class MacroFile(BaseModel):
    meta: Meta
    series: list[Row] = Field(min_length=1)


def read_file(path: str | Path) -> MacroFile:
    """Parse and validate the JSON; errors name the file, the row and the field."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        parsed = MacroFile.model_validate(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path.name}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        if len(loc) >= 3 and loc[0] == "series":  # ("series", i, field): name the month
            month = raw["series"][loc[1]].get("month", "?")
            where = f"row {int(loc[1]) + 1} (month {month}), field {loc[2]!r}"
        else:
            where = "field " + repr(".".join(map(str, loc)))
        raise InputError(f"{path.name}: {where}: {err['msg']}") from None
    if parsed.meta.rows != len(parsed.series):
        raise InputError(
            f"{path.name}: field 'meta.rows' says {parsed.meta.rows} rows, "
            f"'series' has {len(parsed.series)}"
        )
    return parsed


def read_macro(path: str | Path) -> pd.DataFrame:
    """All monthly columns as a table on a monthly ``PeriodIndex`` (NaN where null)."""
    parsed = read_file(path)
    frame = pd.DataFrame([r.model_extra or {} for r in parsed.series], dtype=float)
    frame.index = pd.PeriodIndex([r.month for r in parsed.series], freq="M")
    frame.attrs["generated_at"] = parsed.meta.generated_at
    rates = [c for c in frame.columns if c.startswith("rate_")]
    return validate_frame(frame, Path(path).name, positive=rates)


def monthly(path: str | Path, column: str, start: str | None = None) -> pd.Series:
    """One column of the file as a monthly series, from its first to its last value.

    Parameters
    ----------
    path : the JSON file.
    column : e.g. ``rate_usd`` (monthly average RUB per USD), ``key_rate``, ``cpi_yoy``.
    start : first month to keep (``"1994-02"``), for a column whose early values are not
        comparable with the rest; the catalog says why where it uses one.
    """
    frame = read_macro(path)
    if column not in frame.columns:
        raise InputError(
            f"{Path(path).name}: no field {column!r} (fields: {', '.join(frame.columns)})"
        )
    values = frame[column]
    if start is not None:
        values = values[values.index >= pd.Period(start, freq="M")]
    values = trim_missing(values)
    if values.empty:
        raise InputError(f"{Path(path).name}: field {column!r} has no values")
    values.name = column
    return values
