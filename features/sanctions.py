"""Dated sanctions and enforcement events relevant to Russia's technology imports.

``sanctions_events.csv``: ``date,jurisdiction,event,category,url,verified_here``, one row per
event, transcribed with a source URL (empty for five events not verified). Some dates are only a
month (``2023-07``): the table keeps that precision instead of inventing a day.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from features.tables import partial_date_columns, read_csv
from features.validation import validate_frame, validate_rows

Verified = Literal["yes", "partially (month/approx date only)", "not verified here"]


class SanctionEvent(BaseModel):
    """One row of the events file, as printed."""

    model_config = ConfigDict(extra="forbid")
    date: str = Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")
    jurisdiction: str = Field(min_length=1)
    event: str = Field(min_length=1)
    category: str = Field(min_length=1)
    url: str = Field(pattern=r"^(https?://\S+)?$")
    verified_here: Verified


def read_events(path: str | Path) -> pd.DataFrame:
    """The events as a typed table, in file order.

    Columns: ``date`` (a ``pd.Period``, daily or monthly as printed), ``date_precision``
    (``"day"``/``"month"``), ``date_start``/``date_end`` (first and last day the date covers, so a
    month-only event can be placed on a timeline without pretending to know its day),
    ``date_text`` (as printed), then the file's other columns.
    """
    path = Path(path)
    raw = read_csv(path, tuple(SanctionEvent.model_fields))
    rows = validate_rows(raw, SanctionEvent, path.name)
    dates = partial_date_columns(raw, "date", path.name, prefix="date", exact=True)
    table = pd.DataFrame([r.model_dump() for r in rows], index=raw.index)
    table = table.rename(columns={"date": "date_text"})
    table = pd.concat([dates.drop(columns="date_approx"), table], axis=1)
    return validate_frame(table, path.name, regular=False)
