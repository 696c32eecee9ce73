"""Sanctions calendar -> exogenous regressors: regime steps and a cumulative intensity index.

Events come from ``sanctions/sanctions_events.csv`` through :func:`features.sanctions.read_events`;
every date used here is read from that file, none is typed in.

Steps (0 before, 1 once in force)
    ``invasion``  the first export-control event of the invasion regime: the US BIS Russia rule
                  dated 2022-02-24 (the day of the invasion; EU's technology ban followed on
                  2022-02-25);
    ``eu11``      the EU 11th package with its anti-circumvention tool, Reg. (EU) 2023/1214,
                  dated 2023-06-23;
    ``eo14114``   US Executive Order 14114 (secondary sanctions on foreign financial
                  institutions), dated 2023-12-22.

Mid-period rule
    A period's value is the *share of its days in force*: an event dated day ``d`` counts from
    ``d`` inclusive, so 2023-06-23 gives June 2023 8/30 and 2023Q2 8/91, then 1 from 2023Q3.
    ``rule="first_full"`` instead steps at the first period fully in force (0 in 2023Q2, 1 from
    2023Q3). An event printed with a month only (``2023-07``) counts from the first day of the
    *next* month, so a regressor never leads the event it stands for.

Intensity index (``sanctions_intensity``)
    Cumulative sum over events of ``weight(category) * verification * share in force``.
    Category weights (first matching rule wins, case-insensitive substring of ``category``):

    ===  =========================================================================  ======
    id   category contains                                                          weight
    ===  =========================================================================  ======
    1    anti-circumvention, no-russia clause, third-country, secondary sanctions   3
    2    tech export ban, export controls, fdpr, chpl                               2
    3    entity, enforcement, banking, bank payment, sanctions /, eu package        1
    4    anything else (oil price cap, energy sanctions, diplomacy)                 0
    ===  =========================================================================  ======

    Why: the index measures pressure on Russia's technology imports through third countries;
    rules aimed at transit and third-country finance weigh most, technology export controls
    next, listings, enforcement steps and generic packages one unit, and energy measures nothing.
    ``verification`` is 1 for ``verified_here`` = yes or partially (only the day is uncertain) and
    0.5 for "not verified here". The index is in "weighted events", cumulative, never falls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from features.errors import InputError
from features.periods import PANDAS_FREQ, check_freq
from features.sanctions import read_events

Rule = Literal["share", "first_full"]

#: step name -> (column, case-insensitive text that identifies the event row)
STEP_EVENTS: dict[str, tuple[str, str]] = {
    "invasion": ("event", "BIS Russia rule"),
    "eu11": ("category", "EU package 11"),
    "eo14114": ("event", "Executive Order 14114"),
}

#: (substrings of ``category``, weight); the first rule with a matching substring wins
CATEGORY_WEIGHTS: list[tuple[tuple[str, ...], float]] = [
    (("anti-circumvention", "no-russia clause", "third-country", "secondary sanctions"), 3.0),
    (("tech export ban", "export controls", "fdpr", "chpl"), 2.0),
    (("entity", "enforcement", "banking", "bank payment", "sanctions /", "eu package"), 1.0),
]
VERIFICATION_WEIGHTS: dict[str, float] = {
    "yes": 1.0,
    "partially (month/approx date only)": 1.0,
    "not verified here": 0.5,
}

#: span of the catalogued regressors
DEFAULT_START = "2015-01"
DEFAULT_END = "2025-12"


def category_weight(category: str) -> float:
    """Weight of an event category (see the module docstring's table)."""
    text = category.lower()
    for keys, weight in CATEGORY_WEIGHTS:
        if any(k in text for k in keys):
            return weight
    return 0.0


def in_force_from(precision: str, first: pd.Timestamp, last: pd.Timestamp) -> pd.Timestamp:
    """First day an event counts: its day, or the day after its printed month (or year)."""
    day = first if precision == "day" else last + pd.Timedelta(days=1)
    return pd.Timestamp(day).normalize()


def share_in_force(start: pd.Timestamp, index: pd.PeriodIndex, rule: Rule = "share") -> np.ndarray:
    """Share of each period's days on or after ``start`` (``first_full``: 1 only if all are)."""
    first = index.start_time.normalize()
    last = index.end_time.normalize()
    days = (last - first).days.to_numpy() + 1
    in_force = np.clip((last - start).days.to_numpy() + 1, 0, days)
    share = in_force / days
    if rule == "first_full":
        return (share >= 1.0).astype(float)
    if rule != "share":
        raise InputError(f"rule {rule!r} is not 'share' or 'first_full'")
    return share


def _index(freq: str, start: str | None, end: str | None) -> pd.PeriodIndex:
    code = check_freq(freq)
    if code not in ("M", "Q"):
        raise InputError(f"sanctions regressors are monthly or quarterly, not {freq!r}")
    f = PANDAS_FREQ[code]
    first = pd.Period(start or DEFAULT_START, freq="M").asfreq(f)
    last = pd.Period(end or DEFAULT_END, freq="M").asfreq(f)
    return pd.period_range(first, last, freq=f)


def step_event(events: pd.DataFrame, name: str, where: str = "sanctions events") -> pd.Series:
    """The event row behind a named step (``invasion``, ``eu11``, ``eo14114``)."""
    if name not in STEP_EVENTS:
        raise InputError(f"unknown sanctions step {name!r}; known: {', '.join(STEP_EVENTS)}")
    column, text = STEP_EVENTS[name]
    hit = events[events[column].str.contains(text, case=False, regex=False)]
    if hit.empty:
        raise InputError(f"{where}: no event whose {column} contains {text!r} (step {name!r})")
    return hit.sort_values("date_start").iloc[0]


def step(
    path: str | Path,
    name: str,
    freq: str = "Q",
    rule: Rule = "share",
    start: str | None = None,
    end: str | None = None,
) -> pd.Series:
    """A step dummy for one regime change, monthly or quarterly (see the module docstring)."""
    events = read_events(path)
    row = step_event(events, name, Path(path).name)
    begin = in_force_from(row["date_precision"], row["date_start"], row["date_end"])
    idx = _index(freq, start, end)
    out = pd.Series(share_in_force(begin, idx, rule), index=idx, name=f"sanction_step_{name}")
    out.attrs["event"] = f"{row['date_text']} {row['jurisdiction']}: {row['event']}"
    return out


def event_weights(events: pd.DataFrame) -> pd.DataFrame:
    """Events with their category weight, verification weight and first day in force."""
    out = events.copy()
    out["weight"] = [category_weight(c) for c in out["category"]]
    unknown = set(out["verified_here"]) - set(VERIFICATION_WEIGHTS)
    if unknown:
        raise InputError(f"sanctions events: unknown verified_here value {sorted(unknown)[0]!r}")
    out["verification"] = out["verified_here"].map(VERIFICATION_WEIGHTS).astype(float)
    out["in_force_from"] = [
        in_force_from(p, a, b)
        for p, a, b in zip(out["date_precision"], out["date_start"], out["date_end"], strict=True)
    ]
    return out


def intensity(
    path: str | Path,
    freq: str = "Q",
    rule: Rule = "share",
    start: str | None = None,
    end: str | None = None,
) -> pd.Series:
    """The cumulative sanctions-intensity index (weighted events in force), M or Q."""
    ev = event_weights(read_events(path))
    idx = _index(freq, start, end)
    total = np.zeros(len(idx))
    for _, row in ev.iterrows():
        w = float(row["weight"]) * float(row["verification"])
        if w:
            total += w * share_in_force(row["in_force_from"], idx, rule)
    return pd.Series(total, index=idx, name="sanctions_intensity")


def regressors(
    path: str | Path,
    freq: str = "Q",
    rule: Rule = "share",
    start: str | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """All regressors as one frame: the three steps and the intensity index."""
    cols = {f"sanction_step_{n}": step(path, n, freq, rule, start, end) for n in STEP_EVENTS}
    cols["sanctions_intensity"] = intensity(path, freq, rule, start, end)
    return pd.DataFrame(cols)


def load_regressor(path: Path, name: str, freq: str = "Q") -> pd.Series:
    """Catalog loader: ``name`` is a step (``invasion``, ``eu11``, ``eo14114``) or ``intensity``."""
    if name == "intensity":
        return intensity(path, freq)
    return step(path, name, freq)
