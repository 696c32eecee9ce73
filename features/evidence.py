"""Published figures used as evidence, not as series: chip-import observations and C26 growth.

* ``chips/chip_trade_observations.csv``: 104 figures on Russia's chip and high-priority-goods
  imports, one per row, with at least six definitions of "chips" and mixed units. They are a
  benchmark set for a reconstructed series, so they load as a typed table, never summed.
* ``rosstat/okved26_growth_from_news.csv``: 20 y/y growth figures for OKVED2 section 26 (single
  months and year-to-date periods) as reported from Rosstat releases.
  :func:`cumulative_inconsistencies` reports figures that the other cumulative figures of the
  same year contradict (the Jan-Aug 2025 +3.2% quoted by the prime minister), without dropping
  or adjusting anything.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from features.errors import InputError
from features.tables import file_row, partial_date_columns, read_csv
from features.validation import FIRST_ROW, validate_frame, validate_rows

logger = logging.getLogger(__name__)

Url = Field(pattern=r"^https?://\S+$")


# --- chip-import observations ------------------------------------------------------------------


class ChipObservation(BaseModel):
    """One published figure, as printed (``value`` stays text: some are qualitative)."""

    model_config = ConfigDict(extra="forbid")
    period_start: dt.date
    period_end: dt.date
    value: str
    unit: str = Field(min_length=1)
    reporter_or_channel: str = Field(min_length=1)
    flow_definition: str = Field(min_length=1)
    source: str = Field(min_length=1)
    url: str = Url
    published: str
    notes: str

    @field_validator("period_end")
    @classmethod
    def _end_after_start(cls, end: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("period_start")
        if start is not None and end < start:
            raise ValueError(f"period_end {end} is before period_start {start}")
        return end


def read_chip_observations(path: str | Path) -> pd.DataFrame:
    """The chip-import figures as a typed table, in file order.

    ``value`` is the number when the printed value is one (NaN for a qualitative entry, whose
    text stays in ``value_text``); ``period_start``/``period_end`` are timestamps; the
    ``published`` text (``"2023-05"``, ``"unknown (late 2022)"``) is parsed into
    ``published_date`` at its printed precision, with ``published_date_approx`` for cells that
    hold words around the date.
    """
    path = Path(path)
    raw = read_csv(path, tuple(ChipObservation.model_fields))
    rows = validate_rows(raw, ChipObservation, path.name)
    table = pd.DataFrame([r.model_dump() for r in rows], index=raw.index)
    table = table.rename(columns={"value": "value_text"})
    table.insert(3, "value", pd.to_numeric(table["value_text"].str.strip(), errors="coerce"))
    for col in ("period_start", "period_end"):
        table[col] = pd.to_datetime(table[col])
    published = partial_date_columns(raw, "published", path.name, prefix="published_date")
    table = pd.concat([table, published], axis=1)
    return validate_frame(table, path.name, regular=False)


# --- C26 growth figures from news reports ------------------------------------------------------

Measure = Literal["y/y", "y/y cumulative", "y/y annual"]
_CUMULATIVE: frozenset[str] = frozenset({"y/y cumulative", "y/y annual"})
_SPANS: list[re.Pattern[str]] = [
    re.compile(r"^(?P<y>\d{4})$"),  # a year: Jan-Dec
    re.compile(r"^(?P<y>\d{4})-Q(?P<q>[1-4])$"),  # a quarter
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})$"),  # a month
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})\.\.(?P<m2>\d{2})$"),  # months of one year
]


class GrowthFigure(BaseModel):
    """One reported y/y figure for C26 (percent change, e.g. ``14.5`` for +14.5%)."""

    model_config = ConfigDict(extra="forbid")
    period: str = Field(min_length=4)
    measure: Measure
    value_pct: float
    scope: str = Field(min_length=1)
    source: str = Field(min_length=1)
    url: str = Url
    published: str
    notes: str


def parse_span(text: str) -> tuple[pd.Period, pd.Period]:
    """First and last month of ``2023``, ``2022-Q1``, ``2022-03`` or ``2022-01..05``.

    Raises ``ValueError`` for any other form or an impossible month.
    """
    for pattern in _SPANS:
        m = pattern.match(text.strip())
        if m is None:
            continue
        parts = m.groupdict()
        if parts.get("q"):
            first, last = 3 * int(parts["q"]) - 2, 3 * int(parts["q"])
        elif parts.get("m"):
            first, last = int(parts["m"]), int(parts.get("m2") or parts["m"])
        else:
            first, last = 1, 12
        if not 1 <= first <= last <= 12:
            break
        year = int(parts["y"])
        return pd.Period(year=year, month=first, freq="M"), pd.Period(
            year=year, month=last, freq="M"
        )
    raise ValueError(f"{text!r} is not a period YYYY, YYYY-Qn, YYYY-MM or YYYY-MM..MM")


def read_c26_growth_news(path: str | Path) -> pd.DataFrame:
    """The reported C26 growth figures as a typed table, in file order.

    Adds ``start``/``end`` (monthly periods), ``months`` (span length), ``cumulative`` (a
    year-to-date or annual figure rather than one month), ``index`` (``100 + value_pct``, the
    form Rosstat prints) and the parsed ``published_date`` columns. A ``y/y`` row must cover one
    month and a cumulative row more than one; anything else names its row.
    """
    path = Path(path)
    raw = read_csv(path, tuple(GrowthFigure.model_fields))
    rows = validate_rows(raw, GrowthFigure, path.name)
    table = pd.DataFrame([r.model_dump() for r in rows], index=raw.index)
    spans = []
    for i, (text, measure) in enumerate(zip(table["period"], table["measure"], strict=True)):
        try:
            start, end = parse_span(text)
        except ValueError as exc:
            raise InputError(
                f"{path.name}: row {file_row(raw, i)}, column 'period': {exc}"
            ) from None
        months = end.ordinal - start.ordinal + 1
        if (measure in _CUMULATIVE) != (months > 1):
            raise InputError(
                f"{path.name}: row {file_row(raw, i)}, column 'measure': {measure!r} does not fit "
                f"period {text!r} ({months} month(s))"
            )
        spans.append((start, end, months))
    table.insert(1, "start", pd.PeriodIndex([s[0] for s in spans], freq="M"))
    table.insert(2, "end", pd.PeriodIndex([s[1] for s in spans], freq="M"))
    table.insert(3, "months", [s[2] for s in spans])
    table.insert(5, "cumulative", table["measure"].isin(_CUMULATIVE))
    table.insert(7, "index", 100.0 + table["value_pct"])
    published = partial_date_columns(raw, "published", path.name, prefix="published_date")
    table = pd.concat([table, published], axis=1)
    return validate_frame(table, path.name, positive=["index"], regular=False)


def cumulative_inconsistencies(table: pd.DataFrame, tolerance: float = 5.0) -> pd.DataFrame:
    """Cumulative figures that the shorter and longer cumulative figures around them contradict.

    For a cumulative y/y figure over months ``s..e`` (e.g. Jan-Aug), take the nearest shorter
    (``s..a``, a < e) and the nearest longer (``s..b``, b > e) cumulative figures from the same
    start. The middle figure is a weighted average of the shorter one and the months in between,
    and the longer one is a weighted average of the middle one and the months after it, so unless
    those months swing hard against each other it lies between the two. A figure more than
    ``tolerance`` percentage points outside ``[min, max]`` of its neighbours is flagged.

    ``implied_pct`` is what the neighbours imply if every month had equal weight and the months
    between ``a`` and ``b`` grew alike (linear interpolation of cumulative sums); C26 is strongly
    seasonal, so it illustrates the size of the contradiction rather than estimating the value.

    Parameters
    ----------
    table : as returned by :func:`read_c26_growth_news` (not modified).
    tolerance : percentage points allowed outside the neighbours' range.

    Returns
    -------
    One row per flagged figure (file row as index): its period, value, source and URL, the
    neighbours used, the allowed range, ``implied_pct`` and a one-line ``reason``. Empty when
    the figures agree. Nothing is dropped from or changed in ``table``.
    """
    cum = table[table["cumulative"]]
    flagged = []
    for label, row in cum.iterrows():
        same = cum[(cum["start"] == row["start"]) & (cum.index != label)]
        shorter, longer = same[same["end"] < row["end"]], same[same["end"] > row["end"]]
        if shorter.empty or longer.empty:
            continue
        a = shorter[shorter["end"] == shorter["end"].max()]
        b = longer[longer["end"] == longer["end"].min()]
        ref = pd.concat([a["value_pct"], b["value_pct"]])
        low, high = float(ref.min()) - tolerance, float(ref.max()) + tolerance
        value = float(row["value_pct"])
        if low <= value <= high:
            continue
        implied = _interpolate(a.iloc[0], b.iloc[0], int(row["months"]))
        reason = (
            f"{row['period']} y/y {value:+.1f}% lies outside [{low:+.1f}, {high:+.1f}] implied by "
            f"{a['period'].iloc[0]} ({a['value_pct'].iloc[0]:+.1f}%) and {b['period'].iloc[0]} "
            f"({b['value_pct'].iloc[0]:+.1f}%) with tolerance {tolerance:g} points; "
            f"equal-weight interpolation gives {implied:+.1f}%"
        )
        logger.warning("C26 growth figure flagged: %s (%s)", reason, row["url"])
        flagged.append(
            {
                "row": int(label) + FIRST_ROW,  # read_c26_growth_news keeps file order labels
                "period": row["period"],
                "value_pct": value,
                "scope": row["scope"],
                "source": row["source"],
                "url": row["url"],
                "shorter_period": a["period"].iloc[0],
                "shorter_pct": float(a["value_pct"].iloc[0]),
                "longer_period": b["period"].iloc[0],
                "longer_pct": float(b["value_pct"].iloc[0]),
                "low": low,
                "high": high,
                "implied_pct": implied,
                "reason": reason,
            }
        )
    columns = [
        "row", "period", "value_pct", "scope", "source", "url", "shorter_period", "shorter_pct",
        "longer_period", "longer_pct", "low", "high", "implied_pct", "reason",
    ]  # fmt: skip
    return pd.DataFrame(flagged, columns=columns).set_index("row")


def _interpolate(shorter: pd.Series, longer: pd.Series, months: int) -> float:
    ma, ga = int(shorter["months"]), float(shorter["value_pct"])
    mb, gb = int(longer["months"]), float(longer["value_pct"])
    between = (mb * gb - ma * ga) / (mb - ma)
    return (ma * ga + (months - ma) * between) / months
