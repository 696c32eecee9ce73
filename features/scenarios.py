"""Sanction scenarios as files: the typed schema, validation, and the drivers' quarterly paths.

A scenario is a YAML file in ``scenarios/`` (built-ins) or anywhere else (``--scenario PATH``),
safe-loaded and validated by the pydantic models below (``extra="forbid"``). Every error is one
:class:`~features.errors.InputError` line naming the file and the field
(``scenarios/x.yml: field 'shocks.0.start': ...``). The analyst's guide is
``scenarios/README.md``; the forecasts made from a scenario are :mod:`pipelines.scenarios`.

Drivers (what a shock moves)
    ``sanctions_intensity``  the cumulative sanctions-intensity index (catalog, quarterly);
    ``brent``                Brent, USD per barrel (catalog, monthly -> quarterly mean);
    ``usd_rub``              the Bank of Russia's USD/RUB rate (catalog, monthly -> quarterly mean);
    ``enforcement``          a multiplier on one chip channel's flow (``channel``: ``china_hk``,
                             ``turkey``, ``central_asia_caucasus``, ``uae``); 1 = no change. It
                             has no observed history: it acts only through the chip channels.

Baseline paths ("drivers continue their recent dynamics")
    Observed values as far as each driver is observed (a partly observed quarter is the mean of
    its observed months and the last month held), then: the intensity index continues its mean
    quarterly change over the last four quarters (it is cumulative); Brent and USD/RUB stay at
    their last monthly value (the no-change forecast, the usual benchmark for oil prices and
    exchange rates); every enforcement multiplier stays at 1.

Shocks
    From ``start`` to ``end`` (default: the horizon's last quarter) a shock moves its driver
    away from the baseline by a fraction ``f`` of its full size: ``f`` rises linearly over
    ``ramp`` quarters (``ramp: 1`` = full size at once), then, with ``half_life``, decays
    geometrically (``f = 0.5 ** (quarters since full size / half_life)``). ``mode``:
    ``set`` moves the driver towards the level ``value`` (``b + f (value - b)``), ``scale``
    multiplies it (``b (1 + f (value - 1))``), ``add`` adds to it (``b + f value``).
    Enforcement shocks use ``scale`` only (``value: 0.6`` = the channel's flow 40% below baseline).

Conditions
    Fix (``fix``) or bound (``max``, ``min``) ``chip_imports`` or ``c26_output`` in a quarter
    (``period``, through ``until``), either as a level (``relative_to: level``) or as a percent
    change from the baseline scenario's mean (``relative_to: baseline``; ``value: -40`` = 40%
    below baseline).

Dates
    ``2026Q4`` is a quarter; an integer ``k`` (YAML ``3``, or the string ``"+3"``) is the k-th
    quarter of the scenario window in which the driver (or series) has no data yet: for a driver
    observed past the scenario's first quarter (Brent, published monthly) ``1`` is the quarter
    after its last observation. A shock never overwrites an observation: an absolute date
    before the first quarter without data is an error ("before the data end"). The scenario
    window starts the quarter after ``c26_output``'s last observation and lasts ``horizon``
    quarters.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from features.catalog import PROJECT_ROOT, data_dir, get_catalog, load, pick_vintage
from features.chips import CHANNELS
from features.config import field_error, read_yaml
from features.errors import InputError
from features.periods import PANDAS_FREQ

QFREQ = PANDAS_FREQ["Q"]
#: drivers with an observed history in the catalog (column names of the driver frames)
OBSERVED_DRIVERS: tuple[str, ...] = ("sanctions_intensity", "brent", "usd_rub")
ENFORCEMENT = "enforcement"
DRIVERS: tuple[str, ...] = (*OBSERVED_DRIVERS, ENFORCEMENT)
#: endogenous series a condition may fix or bound
CONDITION_SERIES: tuple[str, ...] = ("chip_imports", "c26_output")
#: the series whose last observation sets the scenario window
ORIGIN_SERIES = "c26_output"
#: built-in scenarios, in the order they are listed and compared
BUILTINS: tuple[str, ...] = (
    "baseline",
    "loophole_squeeze",
    "china_compliance",
    "escalation",
    "relaxation",
)
MAX_HORIZON = 12
#: quarters over which the intensity index's recent mean change is measured
INTENSITY_TREND_QUARTERS = 4
_QUARTER = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.IGNORECASE)
_RELATIVE = re.compile(r"^\+?(\d+)$")


def scenarios_dir() -> Path:
    """Where the built-in scenario files live (``scenarios/`` in the project)."""
    return PROJECT_ROOT / "scenarios"


def enforcement_column(channel: str) -> str:
    return f"{ENFORCEMENT}_{channel}"


# --- schema -------------------------------------------------------------------------------------


def _period_ref(value: Any) -> str:
    """A date field: ``2026Q4`` (absolute) or a positive integer / ``"+k"`` (relative)."""
    if isinstance(value, bool | float):
        raise ValueError(f"{value!r} is not a quarter like 2026Q4 or a quarter number like 3")
    if isinstance(value, int):
        if value < 1:
            raise ValueError(
                f"quarter number {value} must be >= 1 (1 = first quarter without data)"
            )
        return f"+{value}"
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a quarter like 2026Q4 or a quarter number like 3")
    text = value.strip()
    m = _QUARTER.match(text)
    if m:
        return f"{m.group(1)}Q{m.group(2)}"
    r = _RELATIVE.match(text)
    if r and int(r.group(1)) >= 1:
        return f"+{int(r.group(1))}"
    raise ValueError(f"{value!r} is not a quarter like 2026Q4 or a quarter number like 3")


PeriodRef = Annotated[str, BeforeValidator(_period_ref)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Strict):
    """A cited source: its URL and what it supports."""

    url: str = Field(pattern=r"^https?://\S+$")
    note: str = Field(min_length=1)


class Rationale(_Strict):
    """Why the scenario is worth running, with its sources."""

    summary: str = Field(min_length=1)
    sources: list[SourceRef] = Field(default_factory=list)


class Elasticity(_Strict):
    """The calibrated short-run elasticity of C26 output to third-country chip supply.

    Used when the fitted link fails its prior check (``link.mode: auto``) or always
    (``calibrated``). Draws follow ``distribution`` over ``[low, high]`` (``triangular``: mode
    ``central``; ``uniform``: ``central`` is only reported).
    """

    central: float
    low: float
    high: float
    distribution: Literal["triangular", "uniform"] = "triangular"
    basis: Literal["assumption", "published"] = "assumption"
    source: str = Field(min_length=1)


#: the project's default calibrated elasticity (an analyst assumption; see scenarios/README.md)
DEFAULT_ELASTICITY = Elasticity(
    central=0.3,
    low=0.0,
    high=1.0,
    distribution="triangular",
    basis="assumption",
    source=(
        "analyst assumption, no published estimate in the project's files: 0 = output does not "
        "depend on third-country chips within the quarter (stocks, other sources, priority "
        "orders), 1 = fixed proportions with chips binding and no stocks; mode 0.3 leans low "
        "because C26 output rose in 2022-2023 while chip imports fell or stalled"
    ),
)


class Link(_Strict):
    """How chip supply reaches C26 output: ``auto`` uses the fitted ARDL link when it passes its
    prior check, else the calibrated ``elasticity``; ``fitted`` / ``calibrated`` force one."""

    mode: Literal["auto", "fitted", "calibrated"] = "auto"
    elasticity: Elasticity = DEFAULT_ELASTICITY


class Shock(_Strict):
    """Set, scale or add to one driver from ``start`` (see the module docstring)."""

    driver: str
    channel: str | None = None
    mode: Literal["set", "scale", "add"]
    value: float
    start: PeriodRef
    end: PeriodRef | None = None
    ramp: int = Field(1, ge=1)
    half_life: float | None = Field(None, gt=0)
    assumption: str = Field(min_length=1)
    sources: list[SourceRef] = Field(default_factory=list)


class Condition(_Strict):
    """Fix or bound an endogenous series in a quarter (through ``until``)."""

    series: str
    kind: Literal["fix", "max", "min"]
    relative_to: Literal["baseline", "level"] = "baseline"
    value: float
    period: PeriodRef
    until: PeriodRef | None = None
    assumption: str = Field(min_length=1)
    sources: list[SourceRef] = Field(default_factory=list)


class Scenario(_Strict):
    """One scenario file."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=1)
    rationale: Rationale
    horizon: int = Field(8, ge=1, le=MAX_HORIZON)
    shocks: list[Shock] = Field(default_factory=list)
    conditions: list[Condition] = Field(default_factory=list)
    link: Link = Field(default_factory=Link)


# --- loading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario file: the spec, where it came from and the sha256 of its bytes."""

    spec: Scenario
    path: Path
    sha256: str
    builtin: bool

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def file(self) -> str:
        """The path as shown in reports and tags (relative to the project when inside it)."""
        p = self.path.resolve()
        return str(p.relative_to(PROJECT_ROOT)) if p.is_relative_to(PROJECT_ROOT) else str(p)


def builtin_names() -> list[str]:
    """Built-in scenario names: the five of :data:`BUILTINS` first, then any other file."""
    stems = sorted(p.stem for p in scenarios_dir().glob("*.yml"))
    return [n for n in BUILTINS if n in stems] + [s for s in stems if s not in BUILTINS]


def _error(path: Path, field_name: str, msg: str) -> InputError:
    return InputError(f"{path}: field {field_name!r}: {msg}")


def _pydantic_error(path: Path, exc: ValidationError) -> InputError:
    err = field_error(path, exc)
    if exc.errors()[0]["type"] == "extra_forbidden":
        return InputError(f"{err}; see scenarios/README.md")
    return err


def load_scenario(ref: str | Path) -> LoadedScenario:
    """Read, parse and check a scenario file.

    Parameters
    ----------
    ref : a built-in name (``loophole_squeeze``) or a path to a YAML file.

    Returns
    -------
    LoadedScenario
        The validated spec, the path and the sha256 of the file's bytes.

    Raises
    ------
    InputError
        One line naming the file and the field. Checks here need no data (types, names,
        ranges, ramps against the horizon); dates against the data are :func:`resolve`'s.
    """
    text_ref = str(ref)
    path = Path(text_ref)
    builtin = False
    if not path.is_file():
        candidate = scenarios_dir() / f"{text_ref}.yml"
        if re.fullmatch(r"[a-z][a-z0-9_]*", text_ref) and candidate.is_file():
            path, builtin = candidate, True
        else:
            raise InputError(
                f"scenario {text_ref!r}: no such file and not a built-in "
                f"({', '.join(builtin_names())})"
            )
    elif path.resolve().parent == scenarios_dir().resolve():
        builtin = True
    raw_bytes = path.read_bytes()
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(f"{path}: a scenario file must be a YAML mapping (name, description, ...)")
    try:
        spec = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_error(path, exc) from None
    _static_checks(path, spec)
    return LoadedScenario(spec, path, hashlib.sha256(raw_bytes).hexdigest(), builtin)


def _static_checks(path: Path, spec: Scenario) -> None:
    """Checks across fields that need no data; each error names its field."""
    for i, s in enumerate(spec.shocks):
        where = f"shocks.{i}"
        if s.driver not in DRIVERS:
            raise _error(
                path, f"{where}.driver", f"unknown driver {s.driver!r}; known: {', '.join(DRIVERS)}"
            )
        if s.driver == ENFORCEMENT:
            if s.channel is None:
                raise _error(
                    path,
                    f"{where}.channel",
                    f"an enforcement shock needs a channel: {', '.join(CHANNELS)}",
                )
            if s.channel not in CHANNELS:
                raise _error(
                    path,
                    f"{where}.channel",
                    f"unknown channel {s.channel!r}; known: {', '.join(CHANNELS)}",
                )
            if s.mode != "scale":
                raise _error(
                    path,
                    f"{where}.mode",
                    "an enforcement shock scales its channel's flow: use mode 'scale' "
                    "(value 0.6 = flow 40% below baseline)",
                )
        elif s.channel is not None:
            raise _error(
                path,
                f"{where}.channel",
                f"only enforcement shocks take a channel, not {s.driver!r}",
            )
        if not np.isfinite(s.value):
            raise _error(path, f"{where}.value", f"{s.value!r} is not a finite number")
        if s.mode == "scale" and s.value < 0:
            raise _error(path, f"{where}.value", f"a scale factor must be >= 0, got {s.value:g}")
        if s.mode == "set" and s.driver in ("brent", "usd_rub") and s.value <= 0:
            raise _error(path, f"{where}.value", f"{s.driver} must stay positive, got {s.value:g}")
        if s.ramp > spec.horizon:
            raise _error(
                path,
                f"{where}.ramp",
                f"ramp of {s.ramp} quarters is longer than the horizon ({spec.horizon} quarters)",
            )
    for i, c in enumerate(spec.conditions):
        where = f"conditions.{i}"
        if c.series not in CONDITION_SERIES:
            raise _error(
                path,
                f"{where}.series",
                f"unknown series {c.series!r}; a condition can fix or bound "
                f"{', '.join(CONDITION_SERIES)}",
            )
        if not np.isfinite(c.value):
            raise _error(path, f"{where}.value", f"{c.value!r} is not a finite number")
        if c.relative_to == "baseline" and c.value <= -100:
            raise _error(
                path, f"{where}.value", f"{c.value:g}% below baseline leaves nothing; use > -100"
            )
        if c.relative_to == "level" and c.value <= 0:
            raise _error(path, f"{where}.value", f"a level must be positive, got {c.value:g}")
    e = spec.link.elasticity
    if e.low < 0:
        raise _error(
            path,
            "link.elasticity.low",
            f"{e.low:g} < 0: chips are an input, the short-run elasticity cannot be negative",
        )
    if not e.low <= e.central <= e.high:
        raise _error(
            path,
            "link.elasticity.central",
            f"need low <= central <= high, got {e.low:g}, {e.central:g}, {e.high:g}",
        )
    if e.high > 2:
        raise _error(
            path, "link.elasticity.high", f"{e.high:g} is implausible for an input elasticity (> 2)"
        )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- data ends and driver histories ------------------------------------------------------------


@dataclass(frozen=True)
class DataEnds:
    """Where the data end, which sets the scenario window and the earliest dates allowed."""

    #: the scenario window's first quarter (the quarter after ``c26_output``'s last observation)
    origin: pd.Period
    #: last quarter with data of each driver (``None``: no observed history, e.g. enforcement)
    drivers: dict[str, pd.Period | None]
    #: last observed quarter of each conditionable series
    series: dict[str, pd.Period]

    def first_free(self, name: str) -> pd.Period:
        """First quarter of the window in which a driver or series has no data."""
        end = self.drivers.get(name) if name in DRIVERS else self.series.get(name)
        nxt = self.origin if end is None else end + 1
        return max(self.origin, nxt)

    def describe(self, name: str) -> str:
        end = self.drivers.get(name) if name in DRIVERS else self.series.get(name)
        if end is None or end + 1 <= self.origin:
            return (
                f"the scenario window starts {self.origin} "
                f"({ORIGIN_SERIES} is observed through {self.origin - 1})"
            )
        return f"{name} is observed through {end}"


@dataclass(frozen=True)
class DriverHistory:
    """Observed quarterly drivers (NaN after each one's data end) and what continues them."""

    values: pd.DataFrame
    ends: DataEnds
    #: the last monthly value of each monthly driver (held flat in the baseline)
    hold: dict[str, float]
    #: the intensity index's mean quarterly change over the last four quarters
    intensity_slope: float


def _cut(values: pd.Series, as_of: pd.Period | None) -> pd.Series:
    if as_of is None:
        return values
    last = as_of.asfreq("M", how="end") if values.index.freqstr.startswith("M") else as_of
    return values[values.index <= last]


def _monthly_to_quarterly(m: pd.Series) -> tuple[pd.Series, pd.Period, float]:
    """Quarterly means; a partly observed last quarter holds the last month for the rest."""
    last_q = m.index[-1].asfreq(QFREQ)
    months = pd.period_range(m.index[0], last_q.asfreq("M", how="end"), freq="M")
    full = m.reindex(months).ffill()
    q = full.groupby(full.index.asfreq(QFREQ)).mean()
    q.index = pd.PeriodIndex(q.index, freq=QFREQ)
    first_full = m.index[0].asfreq(QFREQ)
    if m.index[0] != first_full.asfreq("M", how="start"):
        q = q[q.index > first_full]
    return q, last_q, float(m.iloc[-1])


@cache
def _history_cached(as_of: str | None, key: tuple[str, ...]) -> DriverHistory:
    q_as_of = None if as_of is None else pd.Period(as_of, freq=QFREQ)
    origin_series = _cut(load(ORIGIN_SERIES).values, q_as_of)
    chips = _cut(load("chip_imports").values, q_as_of)
    cols: dict[str, pd.Series] = {}
    ends: dict[str, pd.Period | None] = {ENFORCEMENT: None}
    hold: dict[str, float] = {}
    si = _cut(load("sanctions_intensity").values, q_as_of)
    cols["sanctions_intensity"] = si
    ends["sanctions_intensity"] = si.index[-1]
    for d in ("brent", "usd_rub"):
        q, last_q, last_value = _monthly_to_quarterly(_cut(load(d).values, q_as_of))
        cols[d], ends[d], hold[d] = q, last_q, last_value
    frame = pd.DataFrame(cols)
    frame.index = pd.PeriodIndex(frame.index, freq=QFREQ)
    # the intensity index counts the events of the file, the first in 2022: before the catalog
    # series starts (2015Q1) it is 0 by construction
    frame.loc[frame.index < si.index[0], "sanctions_intensity"] = 0.0
    n = min(INTENSITY_TREND_QUARTERS, len(si) - 1)
    slope = float(si.iloc[-1] - si.iloc[-1 - n]) / n if n > 0 else 0.0
    data_ends = DataEnds(
        origin=origin_series.index[-1] + 1,
        drivers=ends,
        series={"chip_imports": chips.index[-1], "c26_output": origin_series.index[-1]},
    )
    return DriverHistory(frame, data_ends, hold, slope)


def driver_history(as_of: pd.Period | str | None = None) -> DriverHistory:
    """Observed drivers and data ends, every series cut at ``as_of`` (a quarter) if given."""
    cat = get_catalog()
    key = tuple(
        pick_vintage(cat.sources[cat.series[s].source]).release.isoformat()
        for s in (*OBSERVED_DRIVERS, "chip_imports", ORIGIN_SERIES)
    )
    return _history_cached(None if as_of is None else str(as_of), key)


# --- resolution against the data ---------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedShock:
    index: int
    driver: str
    channel: str | None
    mode: str
    value: float
    start: pd.Period
    end: pd.Period
    ramp: int
    half_life: float | None
    assumption: str

    @property
    def column(self) -> str:
        return enforcement_column(self.channel) if self.channel else self.driver

    def fraction(self, periods: pd.PeriodIndex) -> np.ndarray:
        """Share of the full shock in force in each period (ramp, then decay; 0 outside)."""
        k = np.array([(p - self.start).n for p in periods], dtype=float)
        frac = np.minimum(1.0, (k + 1.0) / self.ramp)
        if self.half_life is not None:
            after = np.maximum(0.0, k - (self.ramp - 1))
            frac = frac * 0.5 ** (after / self.half_life)
        inside = (periods >= self.start) & (periods <= self.end)
        return np.where(inside, frac, 0.0)

    def record(self) -> dict[str, Any]:
        return {
            "driver": self.driver,
            "channel": self.channel,
            "mode": self.mode,
            "value": self.value,
            "start": str(self.start),
            "end": str(self.end),
            "ramp": self.ramp,
            "half_life": self.half_life,
            "assumption": self.assumption,
        }


@dataclass(frozen=True)
class ResolvedCondition:
    index: int
    series: str
    kind: str
    relative_to: str
    value: float
    periods: tuple[pd.Period, ...]
    assumption: str

    def record(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "kind": self.kind,
            "relative_to": self.relative_to,
            "value": self.value,
            "periods": [str(p) for p in self.periods],
            "assumption": self.assumption,
        }


@dataclass(frozen=True)
class ResolvedScenario:
    """A scenario with every date placed against the data: the window and each shock's span."""

    loaded: LoadedScenario
    first: pd.Period
    last: pd.Period
    shocks: tuple[ResolvedShock, ...]
    conditions: tuple[ResolvedCondition, ...]
    ends: DataEnds

    @property
    def spec(self) -> Scenario:
        return self.loaded.spec

    @property
    def name(self) -> str:
        return self.loaded.spec.name

    @property
    def window(self) -> pd.PeriodIndex:
        return pd.period_range(self.first, self.last, freq=QFREQ)


def _place(
    path: Path, where: str, ref: str, name: str, ends: DataEnds, last: pd.Period
) -> pd.Period:
    first_free = ends.first_free(name)
    if ref.startswith("+"):
        when = first_free + (int(ref[1:]) - 1)
    else:
        when = pd.Period(ref, freq=QFREQ)
        if when < first_free:
            raise _error(
                path,
                where,
                f"{when} is before the data end: {ends.describe(name)}, so the first quarter "
                f"allowed is {first_free}",
            )
    if when > last:
        raise _error(path, where, f"{when} is after the horizon's last quarter {last}")
    return when


def resolve(loaded: LoadedScenario, ends: DataEnds) -> ResolvedScenario:
    """Place a scenario's dates against the data.

    Parameters
    ----------
    loaded : a loaded scenario.
    ends : where the data end (:attr:`DriverHistory.ends`).

    Returns
    -------
    ResolvedScenario
        The window and every shock and condition with absolute quarters.

    Raises
    ------
    InputError
        A date before the data end or after the window, a ramp that runs past the window,
        overlapping shocks on one driver, two conditions on one quarter; naming file and field.
    """
    spec, path = loaded.spec, loaded.path
    first = ends.origin
    last = first + (spec.horizon - 1)
    shocks = []
    for i, s in enumerate(spec.shocks):
        name = s.driver
        start = _place(path, f"shocks.{i}.start", s.start, name, ends, last)
        end = last if s.end is None else _place(path, f"shocks.{i}.end", s.end, name, ends, last)
        if end < start:
            raise _error(path, f"shocks.{i}.end", f"{end} is before the shock's start {start}")
        if start + (s.ramp - 1) > last:
            raise _error(
                path,
                f"shocks.{i}.ramp",
                f"a ramp of {s.ramp} quarters from {start} ends after the horizon's last "
                f"quarter {last}",
            )
        shocks.append(
            ResolvedShock(
                i,
                s.driver,
                s.channel,
                s.mode,
                s.value,
                start,
                end,
                s.ramp,
                s.half_life,
                s.assumption,
            )
        )
    by_column: dict[str, list[ResolvedShock]] = {}
    for rs in shocks:
        by_column.setdefault(rs.column, []).append(rs)
    for group in by_column.values():
        group.sort(key=lambda r: (r.start, r.index))
        for prev, nxt in itertools.pairwise(group):
            if nxt.start <= prev.end:
                on = f"{prev.driver}" + (f" channel {prev.channel}" if prev.channel else "")
                raise _error(
                    path,
                    f"shocks.{max(prev.index, nxt.index)}.start",
                    f"overlaps shocks.{min(prev.index, nxt.index)} on {on} "
                    f"({prev.start}-{prev.end} and {nxt.start}-{nxt.end}); shocks on one driver "
                    "must not overlap in time (give the first an 'end')",
                )
    conditions = []
    seen: dict[tuple[str, pd.Period], int] = {}
    for j, c in enumerate(spec.conditions):
        p0 = _place(path, f"conditions.{j}.period", c.period, c.series, ends, last)
        p1 = (
            p0
            if c.until is None
            else _place(path, f"conditions.{j}.until", c.until, c.series, ends, last)
        )
        if p1 < p0:
            raise _error(
                path, f"conditions.{j}.until", f"{p1} is before the condition's period {p0}"
            )
        periods = tuple(pd.period_range(p0, p1, freq=QFREQ))
        for p in periods:
            if (c.series, p) in seen:
                raise _error(
                    path,
                    f"conditions.{j}.period",
                    f"{c.series} in {p} is already conditioned by conditions.{seen[(c.series, p)]}",
                )
            seen[(c.series, p)] = j
        conditions.append(
            ResolvedCondition(j, c.series, c.kind, c.relative_to, c.value, periods, c.assumption)
        )
    return ResolvedScenario(loaded, first, last, tuple(shocks), tuple(conditions), ends)


def validate(ref: str | Path, as_of: pd.Period | str | None = None) -> ResolvedScenario:
    """Load a scenario and place it against the data: everything ``scenarios validate`` checks."""
    loaded = load_scenario(ref)
    history = driver_history(as_of)
    resolved = resolve(loaded, history.ends)
    driver_paths(resolved, history)  # the shocked paths must stay in range
    return resolved


# --- driver paths --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriverPaths:
    """Quarterly driver paths from the history's start to the window's last quarter."""

    baseline: pd.DataFrame
    scenario: pd.DataFrame
    #: ``observed``, ``baseline`` or ``shock`` per cell of ``scenario``
    status: pd.DataFrame = field(repr=False)


def baseline_paths(history: DriverHistory, last: pd.Period) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Observed drivers continued to ``last`` by the baseline rules (module docstring)."""
    obs = history.values
    index = pd.period_range(obs.index[0], last, freq=QFREQ)
    base = obs.reindex(index)
    status = pd.DataFrame("observed", index=index, columns=list(OBSERVED_DRIVERS))
    for d in OBSERVED_DRIVERS:
        end = history.ends.drivers[d]
        assert end is not None
        after = index > end
        status.loc[after, d] = "baseline"
        if d == "sanctions_intensity":
            steps = np.array([(p - end).n for p in index[after]], dtype=float)
            base.loc[after, d] = float(obs.loc[end, d]) + history.intensity_slope * steps
        else:
            base.loc[after, d] = history.hold[d]
    for ch in CHANNELS:
        base[enforcement_column(ch)] = 1.0
        status[enforcement_column(ch)] = "baseline"
    return base, status


def driver_paths(resolved: ResolvedScenario, history: DriverHistory) -> DriverPaths:
    """Baseline and scenario paths of every driver (shocks applied; see the module docstring)."""
    base, status = baseline_paths(history, resolved.last)
    scen = base.copy()
    for s in resolved.shocks:
        col = s.column
        frac = s.fraction(scen.index)
        b = base[col].to_numpy(dtype=float)
        if s.mode == "set":
            new = b + frac * (s.value - b)
        elif s.mode == "scale":
            new = b * (1.0 + frac * (s.value - 1.0))
        else:
            new = b + frac * s.value
        scen[col] = new
        status.loc[frac > 0, col] = "shock"
        bad = (new <= 0) if s.driver in ("brent", "usd_rub") else (new < 0)
        if bad.any():
            p = scen.index[int(np.argmax(bad))]
            raise _error(
                resolved.loaded.path,
                f"shocks.{s.index}.value",
                f"the shock takes {col} to {new[bad][0]:.4g} in {p}; it must stay "
                + ("positive" if s.driver in ("brent", "usd_rub") else "non-negative"),
            )
    return DriverPaths(base, scen, status)


# --- sources ---------------------------------------------------------------------------------------


@cache
def _evidence_urls(paths: tuple[str, ...]) -> frozenset[str]:
    urls: set[str] = set()
    for p in paths:
        with open(p, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                u = (row.get("url") or "").strip()
                if u:
                    urls.add(u)
    return frozenset(urls)


def evidence_urls() -> frozenset[str]:
    """URLs of the project's evidence files (sanctions events, chip trade observations)."""
    cat = get_catalog()
    paths = tuple(
        str(data_dir() / pick_vintage(cat.sources[s]).path)
        for s in ("sanctions_events", "chip_trade_observations")
    )
    return _evidence_urls(paths)


def cited_urls(spec: Scenario) -> list[str]:
    """Every URL a scenario cites, in file order, without repeats."""
    refs: Iterable[SourceRef] = [
        *spec.rationale.sources,
        *(r for s in spec.shocks for r in s.sources),
        *(r for c in spec.conditions for r in c.sources),
    ]
    return list(dict.fromkeys(r.url for r in refs))


def sources_not_in_evidence(spec: Scenario) -> list[str]:
    """Cited URLs that are in neither evidence file (allowed, but reported)."""
    known = evidence_urls()
    return [u for u in cited_urls(spec) if u not in known]
