"""Reconstructed series ``chip_imports``: Russia's quarterly chip imports through third countries.

The evidence (``chips/chip_trade_observations.csv``, read by
:func:`features.evidence.read_chip_observations`) is 104 published figures with different periods,
units and definitions. None is a series; each is treated as a noisy observation of an aggregate
of one latent monthly flow. The method (also in ``data/chips/RECONSTRUCTION.md``):

Target (primary definition)
    ``x_t``: Russia's imports of chips -- semiconductors and integrated circuits at customs value
    (the "chips" of the IIF, Kommersant/FTS, KSE and Bloomberg customs counts), USD million --
    shipped from third countries, i.e. from all partners except the EU, US, UK and Japan. It is
    modelled per month, 2019-01 to 2024-06, and published per quarter (2019Q1-2024Q2; the last
    figure that reaches the total is SIA's change over H1 2024). This is the densest definition
    in the file (five full-value figures and most bounds) and every other one bridges to it.

Measurement (one row per used figure ``k``)
    ``y_k = b_d(k) * sum_t w_kt (x_t + d_t) + e_k``. ``w_kt`` is the share of month ``t``'s days
    inside the figure's period (divided by its months for "per month" units), ``d_t`` the direct
    flow from the EU+US+Japan+UK (Trade Data Monitor, rows "EU+US+Japan+UK -> Russia": 163 a year
    on average 2017-2021, 60 in 2022, spread evenly; no figure after 2022, when exports were
    banned: 0), ``b_d`` the definition bridge, ``e_k ~ N(0, (cv_k y_k)^2)``.
    Bridges: the customs "chips" counts have ``b = 1``; the united-ukraine.org.ua "microchips"
    series (author calculations, four monthly figures) has its own scale ``b_U``, estimated;
    Western- or US-brand extracts and "restricted chips" are subsets of the total, so they enter
    as lower bounds with ``b = 1``. Ratio figures (-20% in H1 2024 vs H2 2023; -70% Mar-Oct 2022
    and ">= 50% of the pre-war average" Oct 2022-Jan 2023, pre-war taken as 2021) enter as
    ``A (x + d) - r B (x + d) = 0`` with an absolute error on ``r``, linearised at the fit.
    ``cv_k`` follows the notes: 0.10 for a printed figure, 0.15 approximate ("about", "nearly",
    "approx", midpoint, rounded), 0.25 read from a chart, plus 0.10 in quadrature when the period
    is uncertain. Lower bounds ("more than", "at least", "over", "lower bound") are one-sided:
    only a fit below the bound is penalised (active-set iteration).

Prior for the flow (Chow-Lin family, Fernandez variant)
    ``x_t = beta z_t + u_t`` with ``u`` a random walk started at 0 (innovation sd ``s``);
    ``z_t`` is Russia's imports of goods from China, Hong Kong, Turkey, Kazakhstan, Kyrgyzstan,
    Armenia, Georgia, Uzbekistan and the UAE (IMF IMTS, annual, USD), distributed over months by
    proportional Denton-Cholette with the movement of EU27 exports to Russia, Armenia, Georgia,
    Kyrgyzstan and Uzbekistan (Eurostat, EUR at the Bank of Russia's EUR/RUB over USD/RUB), and
    extrapolated on that movement after the last IMF year complete for every partner. ``beta``
    is GLS; ``s`` and ``log b_U`` maximise the Gaussian marginal likelihood of the figures, with a
    N(0, 1) prior on ``log b_U``. The random walk replaces Chow-Lin's AR(1) because the
    likelihood put the AR(1) parameter at 0, which makes the path jump between figures.

Output
    Given the hyperparameters the model is linear and Gaussian, so the posterior of ``x`` is
    exact: mean and covariance by universal kriging (GLS ``beta`` uncertainty included,
    hyperparameter uncertainty not). Quarterly sums carry the full covariance. The 80% and 95%
    bands are the quantiles of the lognormal with the posterior mean and sd, so they stay
    positive in 2019-2020, where no figure reaches and the band is wide. :func:`anchor_fit`
    reports every figure with its fitted value and ``z = (fitted - value) / (cv value)``; a used
    figure with ``|z| > 2`` (lower bounds: ``z < -2``) is flagged "not reconciled" -- it stays in
    the fit and in the table.

Channels
    Shares of China + Hong Kong, Turkey, Central Asia and Caucasus, and the UAE come from the
    channel figures per year (:func:`channel_shares`); where the file has nothing (2019-2020,
    2024, and Central Asia in 2023) the channel series is absent, never filled.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import scipy.linalg as sla
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from features.errors import InputError
from features.evidence import read_chip_observations
from features.frequency import aggregate, denton_cholette
from features.validation import FIRST_ROW

logger = logging.getLogger(__name__)

FIRST_QUARTER = "2019Q1"
LAST_QUARTER = "2024Q2"
Z80, Z95 = 1.2815515655446004, 1.959963984540054
FLAG_Z = 2.0
#: degrees of freedom of the Student-t measurement errors (robust to irreconcilable figures)
T_DF = 4.0
MAX_ITER = 40

Kind = Literal["point", "lower", "ratio", "ratio_lower"]
Definition = Literal["customs_chips", "uu_microchips"]

#: periods of the file rows "EU+US+Japan+UK -> Russia (Trade Data Monitor)" that give the direct
#: flow (a 2017-2021 annual average, and 2022); their values are read from the file. 0 after 2022
#: (no figure; exports banned).
DIRECT_SPANS = ("2017-01-01/2021-12-31", "2022-01-01/2022-12-31")
#: IMF partners behind the transit indicator (ISO alpha-3 -> catalog id)
TRANSIT_PARTNERS = {
    "CHN": "ru_imports_china",
    "HKG": "ru_imports_hong_kong",
    "TUR": "ru_imports_turkey",
    "KAZ": "ru_imports_kazakhstan",
    "KGZ": "ru_imports_kyrgyzstan",
    "ARM": "ru_imports_armenia",
    "GEO": "ru_imports_georgia",
    "UZB": "ru_imports_uzbekistan",
    "ARE": "ru_imports_uae",
}
EU_PARTNERS = (
    "eu_exports_russia",
    "eu_exports_armenia",
    "eu_exports_georgia",
    "eu_exports_kyrgyzstan",
    "eu_exports_uzbekistan",
)
CHANNELS = {
    "china_hk": "China and Hong Kong",
    "turkey": "Turkey",
    "central_asia_caucasus": "Central Asia and Caucasus",
    "uae": "United Arab Emirates",
}


@dataclass(frozen=True)
class Rule:
    """How one published figure enters the model (matched by period and printed value)."""

    start: str
    end: str
    value: float
    kind: Kind
    definition: Definition = "customs_chips"
    #: ratio figures: the base period (first and last day) the printed change is relative to;
    #: the ratio itself comes from the printed value (``-20`` pct change -> 0.8, ``50`` pct of
    #: the base -> 0.5)
    ratio_to: tuple[str, str] | None = None
    note: str = ""


#: every figure the total uses; all other rows are listed by :func:`anchor_table` with a reason
RULES: list[Rule] = [
    Rule(
        "2021-01-01",
        "2021-09-30",
        1800,
        "point",
        note="IIF chips; another repost calls it full-year 2021",
    ),
    Rule("2022-01-01", "2022-09-30", 2450, "point", note="IIF chips"),
    Rule("2022-01-01", "2022-12-31", 2500, "point", note="KSE semiconductor technologies"),
    Rule("2022-01-01", "2022-12-31", 2100, "point", note="Kommersant, FTS customs value"),
    Rule("2023-01-01", "2023-09-30", 1700, "point", note="Bloomberg, all brands"),
    Rule("2023-01-01", "2023-12-31", 437.5, "lower", note="RIA/UN Comtrade, partial"),
    Rule("2022-02-24", "2022-12-31", 740, "lower", note="US-brand chips, tx >= $100k"),
    Rule("2022-02-24", "2022-12-31", 570, "lower", note="US-brand chips via HK + China"),
    Rule("2021-02-24", "2021-12-31", 51, "lower", note="US-brand chips via HK + China"),
    Rule("2023-01-01", "2023-06-30", 502, "lower", note="Western-brand microchips"),
    Rule("2023-01-01", "2023-09-30", 1000, "lower", note="US- and EU-brand chips"),
    Rule("2022-02-24", "2024-06-30", 4000, "lower", note="NYT restricted chips, 'nearly'"),
    Rule("2021-01-01", "2021-01-31", 70, "point", "uu_microchips"),
    Rule("2022-01-01", "2022-02-23", 145, "point", "uu_microchips"),
    Rule("2022-03-01", "2022-03-31", 40, "point", "uu_microchips"),
    Rule("2022-09-01", "2022-09-30", 260, "point", "uu_microchips"),
    Rule(
        "2024-01-01",
        "2024-06-30",
        -20,
        "ratio",
        ratio_to=("2023-07-01", "2023-12-31"),
        note="SIA: H1 2024 vs the previous six months",
    ),
    Rule(
        "2022-03-01",
        "2022-10-31",
        -70,
        "ratio",
        ratio_to=("2021-01-01", "2021-12-31"),
        note="US joint alert: monthly average vs pre-war (2021)",
    ),
    Rule(
        "2022-10-01",
        "2023-01-31",
        50,
        "ratio_lower",
        ratio_to=("2021-01-01", "2021-12-31"),
        note="Silverado: each month >= 50% of the pre-war (2021) monthly average",
    ),
]

_LOWER = re.compile(r"lower bound|at least|more than|'over|over \$|over us", re.IGNORECASE)
_CHART = re.compile(r"chart", re.IGNORECASE)
_APPROX = re.compile(r"approx|about|around|nearly|almost|rounded|midpoint", re.IGNORECASE)
_PERIOD = re.compile(
    r"period (?:approx|ambiguous|of validity)|inferred|end date approx|years approx|"
    r"assumed|instead labels|framing",
    re.IGNORECASE,
)


def error_cv(notes: str, value_text: str = "") -> float:
    """Relative error of a figure from its notes (rule in the module docstring)."""
    text = f"{notes} {value_text}"
    cv = 0.25 if _CHART.search(text) else 0.15 if _APPROX.search(text) else 0.10
    if _PERIOD.search(text):
        cv = float(np.hypot(cv, 0.10))
    return cv


def is_lower_bound(notes: str) -> bool:
    """Whether the notes mark a figure as a lower bound."""
    return bool(_LOWER.search(notes))


# --- evidence -> anchors ------------------------------------------------------------------------


def _key(start: object, end: object, value: float) -> str:
    s = pd.Timestamp(start).date().isoformat()
    e = pd.Timestamp(end).date().isoformat()
    return f"{s}/{e}/{value:g}"


_NOT_CHIPS = re.compile(r"chpl|chpi|high-priority|battlefield|critical components", re.I)
_BROAD = re.compile(
    r"hs 85(?!\d)|\belectronics\b|all goods|electronic components|computer components", re.I
)
_CHANNEL = re.compile(r"china|hong kong|turkey|kazakhstan|armenia|uae|kyrgyz|uzbek", re.I)


def _context_reason(row: pd.Series) -> tuple[str, str]:
    """(role, reason) for a figure the total does not use."""
    unit, defn = str(row["unit"]), str(row["flow_definition"])
    who = str(row["reporter_or_channel"])
    if pd.isna(row["value"]):
        return "context", "qualitative (no number)"
    if "share" in unit:
        return "channel", "a channel's share (channel shares where the year has one)"
    if re.search(r"EU\+US", who):
        return "direct", "direct flow from the EU/US/UK/Japan (offset d_t where annual)"
    if _NOT_CHIPS.search(defn):
        return "out_of_scope", "not a chip definition (high-priority list, battlefield goods)"
    if _BROAD.search(defn):
        return "out_of_scope", "broader than chips (electronics, HS 85, all goods)"
    if not unit.startswith("USD"):
        return "out_of_scope", f"unit {unit!r}: a change or quantity without a usable base"
    if pd.Timestamp(row["period_start"]) < pd.Period(FIRST_QUARTER, freq="Q").start_time:
        return "out_of_scope", f"period starts before the model window ({FIRST_QUARTER})"
    if "imports" in who.lower() and "russia" not in who.lower():
        return "context", "a transit country's own imports, not flows to Russia"
    if "processors" in defn or "Intel" in who:
        return "out_of_scope", "one brand's processors or components"
    if _CHANNEL.search(who):
        return "channel", "one channel's flow (channel shares), not the total"
    return "context", "not used"


def anchor_table(obs: pd.DataFrame) -> pd.DataFrame:
    """Every published figure with its role in the reconstruction (nothing is dropped).

    Columns: ``row`` (file row, header = 1), period, value, unit, definition, reporter,
    ``role`` (``total``, ``channel``, ``direct``, ``out_of_scope``, ``context``), ``kind``,
    ``definition_class``, ``cv``, ``reason``.
    """
    by_key: dict[str, Rule] = {_key(r.start, r.end, r.value): r for r in RULES}
    found: set[str] = set()
    out = []
    for label, row in obs.iterrows():
        value = float(row["value"]) if pd.notna(row["value"]) else np.nan
        key = _key(row["period_start"], row["period_end"], value) if np.isfinite(value) else ""
        rule = by_key.get(key)
        if rule is not None and key in found:
            rule = None  # a second row with the same period and value: context only
        cv = error_cv(str(row["notes"]), str(row["value_text"]))
        rec = {
            "row": int(label) + FIRST_ROW,
            "period_start": row["period_start"].date(),
            "period_end": row["period_end"].date(),
            "value": value,
            "unit": row["unit"],
            "reporter": row["reporter_or_channel"],
            "flow_definition": row["flow_definition"],
            "source": row["source"],
            "url": row["url"],
            "cv": cv,
        }
        if rule is not None:
            found.add(key)
            kind = rule.kind
            if kind == "point" and is_lower_bound(str(row["notes"])):
                kind = "lower"
            rec.update(
                role="total",
                kind=kind,
                definition_class=rule.definition,
                reason=rule.note or "used",
            )
        else:
            role, reason = _context_reason(row)
            rec.update(role=role, kind="", definition_class="", reason=reason)
        out.append(rec)
    missing = set(by_key) - found
    if missing:
        raise InputError(
            f"chip evidence: figures the reconstruction needs are not in the file: "
            f"{sorted(missing)[0]} (period start/end/value)"
        )
    return pd.DataFrame(out).set_index("row")


def _direct_flow(obs: pd.DataFrame, months: pd.PeriodIndex) -> np.ndarray:
    """Direct EU+US+Japan+UK flow per month, from the Trade Data Monitor rows (annual rates)."""
    keyed = {
        f"{r.period_start.date().isoformat()}/{r.period_end.date().isoformat()}": float(r.value)
        for r in obs.itertuples()
        if "EU+US+Japan+UK" in str(r.reporter_or_channel)
    }
    d = np.zeros(len(months))
    for span in DIRECT_SPANS:
        if span not in keyed:
            raise InputError(f"chip evidence: no 'EU+US+Japan+UK' direct-flow row for {span}")
        s, e = (pd.Period(x, freq="M") for x in span.split("/"))
        d[(months >= s) & (months <= e)] = keyed[span] / 12.0
    return d


def coverage(start: dt.date, end: dt.date, periods: pd.PeriodIndex) -> np.ndarray | None:
    """Share of each period's days inside ``[start, end]``; ``None`` if it leaves the grid."""
    day = np.timedelta64(1, "D")
    s = np.datetime64(pd.Timestamp(start).date(), "D")
    e = np.datetime64(pd.Timestamp(end).date(), "D")
    p0 = periods.start_time.to_numpy().astype("datetime64[D]")
    p1 = periods.end_time.to_numpy().astype("datetime64[D]")
    if s < p0[0] or e > p1[-1]:
        return None
    days = (p1 - p0) / day + 1
    inside = np.clip((np.minimum(p1, e) - np.maximum(p0, s)) / day + 1, 0, None)
    return np.asarray(inside / days, dtype=float)


def _months(start: dt.date, end: dt.date) -> float:
    return ((pd.Timestamp(end) - pd.Timestamp(start)).days + 1) / (365.25 / 12)


# --- indicator ------------------------------------------------------------------------------------


def transit_indicator(months: pd.PeriodIndex | None = None) -> pd.Series:
    """Monthly Russia imports from China, HK and the transit countries, USD bn a month.

    IMF annual totals over :data:`TRANSIT_PARTNERS` (years complete for every partner),
    distributed over months by proportional Denton-Cholette with the movement of EU27 exports to
    Russia and the four Eurostat transit partners (EUR converted at the Bank of Russia's
    EUR/RUB over USD/RUB monthly average), extrapolated on that movement after the last IMF year.
    """
    from features.catalog import data_dir, get_catalog, load, pick_vintage
    from features.imf import read_imts

    m = months if months is not None else _grid()
    imf = read_imts(data_dir() / pick_vintage(get_catalog().sources["imf_imts"]).path)
    missing = [c for c in TRANSIT_PARTNERS if c not in imf.columns]
    if missing:
        raise InputError(f"IMF IMTS file: no imports from {missing[0]}")
    annual = imf[list(TRANSIT_PARTNERS)].dropna()
    eu = sum(load(i).values for i in EU_PARTNERS)
    eurusd = (load("eur_rub").values / load("usd_rub").values).reindex(eu.index)
    eu_usd = (eu * eurusd / 1e9).dropna()  # USD bn a month
    if m[0] < eu_usd.index[0] or m[-1] > eu_usd.index[-1]:
        raise InputError(
            f"transit indicator: Eurostat months {eu_usd.index[0]}-{eu_usd.index[-1]} do not "
            f"cover {m[0]}-{m[-1]}"
        )
    years = annual.index[(annual.index >= m[0].asfreq("Y")) & (annual.index <= m[-1].asfreq("Y"))]
    total = annual.loc[years].sum(axis=1) / 1e3  # USD bn a year
    z = denton_cholette(total, eu_usd.loc[m[0] : m[-1]])
    z.name = "transit_imports_usd_bn"
    return z


def _grid() -> pd.PeriodIndex:
    """The monthly grid of the latent flow, first month of FIRST_QUARTER to end of LAST_QUARTER."""
    first = pd.Period(FIRST_QUARTER, freq="Q").asfreq("M", how="start")
    last = pd.Period(LAST_QUARTER, freq="Q").asfreq("M", how="end")
    return pd.period_range(first, last, freq="M")


# --- model -------------------------------------------------------------------------------------


@dataclass
class _Design:
    """Measurement rows given the current linearisation and active set."""

    A: np.ndarray  # rows x quarters, without the bridge
    offset: np.ndarray  # A @ d (added before the bridge)
    y: np.ndarray
    sd: np.ndarray
    uu: np.ndarray  # bool: row scaled by b_U
    rows: list[int]  # file rows
    sd_stated: np.ndarray  # before the robustness weights


@dataclass
class Reconstruction:
    """A fitted reconstruction: the band, every figure's fit, channel shares, parameters."""

    band: pd.DataFrame
    anchors: pd.DataFrame
    shares: pd.DataFrame
    channels: pd.DataFrame
    params: dict[str, float]
    indicator: pd.Series
    monthly: pd.DataFrame
    covariance: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class _Anchor:
    """One used figure as the model sees it."""

    row: int  # file row
    kind: str  # point, lower, ratio, ratio_lower
    w: np.ndarray  # weights over months (ratios: per month of the figure's period)
    value: float  # as printed
    cv: float  # relative error (ratios: absolute error on the ratio)
    uu: bool  # scaled by the united-ukraine bridge b_U
    wb: np.ndarray | None = None  # ratios: per-month weights of the base period
    ratio: float = 1.0  # ratios: figure / base implied by the printed value


def _rows(table: pd.DataFrame, months: pd.PeriodIndex) -> list[_Anchor]:
    """The used figures with their aggregation weights, errors and kinds."""
    by_key = {_key(r.start, r.end, r.value): r for r in RULES}
    out = []
    for row_no, r in table[table["role"] == "total"].iterrows():
        rule = by_key[_key(r["period_start"], r["period_end"], r["value"])]
        w = coverage(r["period_start"], r["period_end"], months)
        if w is None:
            raise InputError(f"chip evidence row {row_no}: period outside {months[0]}-{months[-1]}")
        value, kind = float(r["value"]), str(r["kind"])
        if rule.ratio_to is not None:
            b0, b1 = (dt.date.fromisoformat(x) for x in rule.ratio_to)
            wb = coverage(b0, b1, months)
            if wb is None:
                raise InputError(f"chip evidence row {row_no}: base period outside the grid")
            ratio = 1.0 + value / 100.0 if kind == "ratio" else value / 100.0
            anchor = _Anchor(
                int(row_no),
                kind,
                w / _months(r["period_start"], r["period_end"]),
                value,
                float(r["cv"]),
                False,
                wb / _months(b0, b1),
                ratio,
            )
        else:
            if "per month" in str(r["unit"]):
                w = w / _months(r["period_start"], r["period_end"])
            anchor = _Anchor(
                int(row_no),
                kind,
                w,
                value,
                float(r["cv"]),
                rule.definition == "uu_microchips",
            )
        out.append(anchor)
    return out


def _design(
    rows: list[_Anchor],
    d: np.ndarray,
    x_hat: np.ndarray | None,
    active: set[int],
    weights: dict[int, float] | None = None,
) -> _Design:
    """Measurement rows: inactive lower bounds left out, ratios linearised at ``x_hat``."""
    A, off, y, sd, uu, ids = [], [], [], [], [], []
    for r in rows:
        if r.kind in ("lower", "ratio_lower") and r.row not in active:
            continue
        if r.wb is not None:
            a = r.w - r.ratio * r.wb
            base = float(r.wb @ (x_hat + d)) if x_hat is not None else float(r.wb @ (d + 1.0))
            A.append(a)
            off.append(float(a @ d))
            y.append(0.0)
            sd.append(max(r.cv * abs(base), 1e-6))
            uu.append(False)
        else:
            A.append(r.w)
            off.append(float(r.w @ d))
            y.append(r.value)
            sd.append(r.cv * r.value)
            uu.append(r.uu)
        ids.append(r.row)
    stated = np.array(sd)
    w = np.array([(weights or {}).get(i, 1.0) for i in ids])
    return _Design(
        np.array(A), np.array(off), np.array(y), stated / np.sqrt(w), np.array(uu), ids, stated
    )


def _robust_weights(des: _Design, x: np.ndarray, b_u: float) -> dict[int, float]:
    """Student-t weights ``(nu + 1) / (nu + r^2)`` of the standardised residuals (IRLS)."""
    scale = np.where(des.uu, b_u, 1.0)
    r = (des.y - scale * (des.A @ x + des.offset)) / des.sd_stated
    w = (T_DF + 1.0) / (T_DF + r**2)
    return dict(zip(des.rows, w.tolist(), strict=True))


@dataclass
class _Post:
    mean: np.ndarray
    cov: np.ndarray
    beta: np.ndarray
    loglik: float


def lognormal_band(mean: pd.Series, sd: pd.Series) -> pd.DataFrame:
    """80% and 95% bands of a positive flow from its posterior mean and sd.

    The quantiles are those of the lognormal with that mean and sd (``s2 = log(1 + sd^2 /
    mean^2)``, ``mu = log(mean) - s2 / 2``), so the band stays positive where the evidence is thin
    (2019-2020) and is close to ``mean +- z sd`` where it is dense.
    """
    m = mean.to_numpy(dtype=float)
    if np.any(m <= 0):
        raise InputError("chip reconstruction: a non-positive mean flow, the band is undefined")
    s2 = np.log1p((sd.to_numpy(dtype=float) / m) ** 2)
    mu = np.log(m) - s2 / 2
    s = np.sqrt(s2)
    out = pd.DataFrame({"mean": m, "sd": sd.to_numpy(dtype=float)}, index=mean.index)
    for name, z in (("80", Z80), ("95", Z95)):
        out[f"lo_{name}"] = np.exp(mu - z * s)
        out[f"hi_{name}"] = np.exp(mu + z * s)
    return out


def rw_q(n: int) -> np.ndarray:
    """Covariance of a unit-innovation random walk started at 0: ``min(i, j)`` (1-based)."""
    k = np.arange(1, n + 1, dtype=float)
    return np.minimum.outer(k, k)


def _posterior(
    des: _Design, Z: np.ndarray, Q1: np.ndarray, s2: float, b_u: float, full: bool = True
) -> _Post:
    """Exact posterior of ``x`` for fixed hyperparameters (universal kriging).

    ``full=False`` returns only the marginal log-likelihood (for the optimiser).
    """
    scale = np.where(des.uu, b_u, 1.0)
    H = des.A * scale[:, None]
    y = des.y - scale * des.offset
    Q = s2 * Q1
    S = H @ Q @ H.T + np.diag(des.sd**2)
    L = np.linalg.cholesky(S)
    HZ = H @ Z
    Lw = sla.solve_triangular(L, HZ, lower=True)
    yw = sla.solve_triangular(L, y, lower=True)
    beta, *_ = np.linalg.lstsq(Lw, yw, rcond=None)
    r = yw - Lw @ beta
    logdet = 2 * float(np.sum(np.log(np.diag(L))))
    loglik = -0.5 * (float(r @ r) + logdet + len(y) * np.log(2 * np.pi))
    if not full:
        return _Post(np.empty(0), np.empty((0, 0)), beta, loglik)
    K = Q @ H.T @ sla.cho_solve((L, True), np.eye(len(y)))  # gain
    mean = Z @ beta + K @ (y - HZ @ beta)
    G = Z - K @ HZ
    vbeta = np.linalg.inv(Lw.T @ Lw)
    cov = Q - K @ H @ Q + G @ vbeta @ G.T
    return _Post(mean, cov, beta, loglik)


def _fit_hyper(des: _Design, Z: np.ndarray, Q1: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``(log s, log b_U)`` by marginal likelihood with a N(0, 1) prior on ``log b_U``."""

    def nll(th: np.ndarray) -> float:
        try:
            post = _posterior(
                des, Z, Q1, float(np.exp(2 * th[0])), float(np.exp(th[1])), full=False
            )
        except np.linalg.LinAlgError:
            return 1e12
        return -post.loglik + 0.5 * float(th[1]) ** 2

    res = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-5})
    return np.asarray(res.x)


def fit(obs: pd.DataFrame, indicator: pd.Series, robust: bool = False) -> Reconstruction:
    """Fit the reconstruction to the evidence table and a monthly indicator (see module doc).

    ``robust=True`` replaces the Gaussian errors by Student-t errors (``T_DF`` degrees of
    freedom, by iteratively reweighted fits): a sensitivity check, not the default, because it
    lets the fit choose which side of a conflict to follow (see ``data/chips/RECONSTRUCTION.md``).
    """
    m = indicator.index
    table = anchor_table(obs)
    d = _direct_flow(obs, m)
    rows = _rows(table, m)
    Z = indicator.to_numpy(dtype=float)[:, None]
    Q1 = rw_q(len(m))
    th = np.array([np.log(20.0), 0.0])
    active: set[int] = set()
    weights: dict[int, float] = {}
    x_hat: np.ndarray | None = None
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(MAX_ITER):
            des = _design(rows, d, x_hat, active, weights)
            th = _fit_hyper(des, Z, Q1, th)
            post = _posterior(des, Z, Q1, float(np.exp(2 * th[0])), float(np.exp(th[1])))
            new_active = _violated(rows, post.mean, d) | active
            new_weights = _robust_weights(des, post.mean, float(np.exp(th[1]))) if robust else {}
            # settled when no month moves by more than 0.1% of its value and weights hold
            moved = x_hat is None or bool(np.any(np.abs(post.mean - x_hat) > 1e-3 * np.abs(x_hat)))
            reweighted = any(abs(new_weights[k] - weights.get(k, 1.0)) > 1e-3 for k in new_weights)
            x_hat, weights = post.mean, new_weights
            if new_active == active and not moved and not reweighted:
                break
            active = new_active
        else:
            logger.warning("chip reconstruction: active set, weights or linearisation unsettled")
    sigma, b_u = float(np.exp(th[0])), float(np.exp(th[1]))
    quarters = pd.period_range(FIRST_QUARTER, LAST_QUARTER, freq="Q")
    Cq = np.equal.outer(np.asarray(quarters), np.asarray(m.asfreq("Q"))).astype(float)
    mean_q = Cq @ post.mean
    sd = np.sqrt(np.clip(np.diag(Cq @ post.cov @ Cq.T), 0, None))
    band = lognormal_band(pd.Series(mean_q, index=quarters), pd.Series(sd, index=quarters))
    anchors = _anchor_fit(table, rows, post, d, b_u, active)
    params = {
        "sigma_rw_monthly": sigma,
        "bridge_uu_microchips": b_u,
        "beta_transit_imports": float(post.beta[0]),
        "loglik": post.loglik,
        "n_used": float(len(rows)),
        "n_active_lower": float(len(active)),
        "min_robust_weight": float(min(weights.values(), default=1.0)),
    }
    shares = channel_shares(obs, band["mean"])
    channels = _channel_series(shares, band["mean"])
    monthly = pd.DataFrame(
        {"mean": post.mean, "sd": np.sqrt(np.clip(np.diag(post.cov), 0, None))}, index=m
    )
    return Reconstruction(band, anchors, shares, channels, params, indicator, monthly, post.cov)


def _violated(rows: list[_Anchor], x: np.ndarray, d: np.ndarray) -> set[int]:
    """Lower bounds (and one-sided ratios) that the flow ``x`` falls below."""
    out = set()
    for r in rows:
        level = float(r.w @ (x + d))
        if r.kind == "lower":
            bound = r.value
        elif r.kind == "ratio_lower" and r.wb is not None:
            bound = r.ratio * float(r.wb @ (x + d))
        else:
            continue
        if level < bound:
            out.add(r.row)
    return out


def _anchor_fit(
    table: pd.DataFrame,
    rows: list[_Anchor],
    post: _Post,
    d: np.ndarray,
    b_u: float,
    active: set[int],
) -> pd.DataFrame:
    """The figure table plus ``anchor`` (a label), ``fitted``, ``fitted_sd``, ``stated_sd``,
    ``z`` and ``flag`` for the used figures (ratios in the printed percent units)."""
    out = table.copy()
    out.insert(
        0,
        "anchor",
        [
            f"{r.period_start}..{r.period_end} {r.value:g} {r.unit} ({r.reporter}; {r.source})"
            for r in table.itertuples()
        ],
    )
    cols = ["fitted", "fitted_sd", "stated_sd", "z", "flag"]
    for c in cols[:-1]:
        out[c] = np.nan
    out["flag"] = ""
    x = post.mean + d
    rec: dict[int, tuple[float, float, float, float, str]] = {}
    for r in rows:
        if r.wb is not None:
            ratio_fit = float(r.w @ x) / float(r.wb @ x)
            fitted = 100.0 * (ratio_fit - 1.0) if r.kind == "ratio" else 100.0 * ratio_fit
            g = (r.w - ratio_fit * r.wb) / float(r.wb @ x)  # delta method
            fsd = 100.0 * float(np.sqrt(max(g @ post.cov @ g, 0.0)))
            ssd = 100.0 * r.cv
        else:
            w = r.w * (b_u if r.uu else 1.0)
            fitted = float(w @ x)
            fsd = float(np.sqrt(max(w @ post.cov @ w, 0.0)))
            ssd = r.cv * r.value
        z = (fitted - r.value) / ssd
        if r.kind in ("lower", "ratio_lower"):
            flag = "not reconciled" if z < -FLAG_Z else "binding" if r.row in active else ""
        else:
            flag = "not reconciled" if abs(z) > FLAG_Z else ""
        rec[r.row] = (fitted, fsd, ssd, z, flag)
    fill = pd.DataFrame.from_dict(rec, orient="index", columns=cols)
    out.loc[fill.index, cols] = fill
    return out


# --- channels ----------------------------------------------------------------------------------

#: channel -> year -> list of (file-row key start/end/value, how) that make the share.
#: ``usd``: the channel's USD figures over the reconstructed annual total; ``share``: a published
#: share (percent) taken as it is; ``usd_doubled``: the 2022 figure halved because the row says it
#: "doubled" vs 2021.
SHARE_EVIDENCE: dict[str, dict[int, list[tuple[str, str]]]] = {
    "china_hk": {
        2021: [("2021-01-01/2021-12-31/200", "usd"), ("2022-01-01/2022-12-31/400", "usd_doubled")],
        2022: [("2022-01-01/2022-12-31/40", "share")],
        2023: [
            ("2023-01-01/2023-12-31/56.3", "share_chpl"),
            ("2023-01-01/2023-12-31/19.3", "share_chpl"),
        ],
    },
    "turkey": {
        2021: [("2021-01-01/2021-12-31/0.079", "usd")],
        2022: [("2022-01-01/2022-12-31/3.2", "usd")],
        2023: [("2023-01-01/2023-12-31/5.7", "share_chpl")],
    },
    "central_asia_caucasus": {
        2021: [("2021-01-01/2021-12-31/0.245", "usd"), ("2021-01-01/2021-12-31/0.002", "usd")],
        2022: [("2022-01-01/2022-12-31/18", "usd"), ("2022-01-01/2022-12-31/13", "usd")],
    },
    "uae": {
        2021: [("2021-01-01/2021-12-31/1.6", "usd")],
        2022: [("2022-01-01/2022-12-31/24.3", "usd")],
        2023: [("2023-01-01/2023-12-31/4.2", "share_chpl")],
    },
}


def channel_shares(obs: pd.DataFrame, total: pd.Series) -> pd.DataFrame:
    """Annual channel shares of the reconstructed third-country total, where the file has them.

    Returns one row per channel and year: ``share`` (0-1), ``basis`` (``usd`` figures over the
    reconstructed total, a published ``share``, or ``share_chpl`` -- a share of high-priority-list
    imports used as a proxy for chips), and the file rows behind it. Years and channels without
    evidence are absent.
    """
    keys = {
        _key(r.period_start, r.period_end, float(r.value)): int(i) + FIRST_ROW
        for i, r in obs.iterrows()
        if pd.notna(r.value)
    }
    annual = aggregate(total, "A", "sum")
    out = []
    for channel, years in SHARE_EVIDENCE.items():
        for year, items in years.items():
            usd, pct, basis, rows = 0.0, 0.0, set(), []
            for key, how in items:
                if key not in keys:
                    raise InputError(f"chip evidence: channel figure {key} is missing")
                rows.append(keys[key])
                value = float(key.rsplit("/", 1)[1])
                if how == "usd":
                    usd += value
                elif how == "usd_doubled":
                    usd += value / 2.0
                else:
                    pct += value
                basis.add("usd" if how.startswith("usd") else how)
            period = pd.Period(str(year), freq="Y")
            share = pct / 100.0 if pct else usd / float(annual[period])
            out.append(
                {
                    "channel": channel,
                    "year": year,
                    "share": share,
                    "basis": "+".join(sorted(basis)),
                    "rows": ",".join(map(str, rows)),
                }
            )
    return pd.DataFrame(out)


def _channel_series(shares: pd.DataFrame, total: pd.Series) -> pd.DataFrame:
    cols = {}
    for channel in CHANNELS:
        s = shares[shares["channel"] == channel].set_index("year")["share"]
        year = total.index.asfreq("Y").year
        cols[channel] = pd.Series(
            total.to_numpy() * year.map(lambda y, s=s: s.get(y, np.nan)).to_numpy(dtype=float),
            index=total.index,
        )
    return pd.DataFrame(cols)


# --- public access -------------------------------------------------------------------------------


@cache
def _reconstruct(path: str, mtime: float, catalog_mtime: float) -> Reconstruction:
    obs = read_chip_observations(path)
    return fit(obs, transit_indicator())


def reconstruct(path: str | Path | None = None) -> Reconstruction:
    """The reconstruction from the evidence file (default: the catalogued vintage), memoised.

    Computed on first use (about a second) and kept for the process, keyed by the evidence
    file and the catalog (a new vintage of an indicator source changes the catalog). The
    indicator always uses its sources' latest vintages.
    """
    from features.catalog import catalog_path, data_dir, get_catalog, pick_vintage

    if path is None:
        src = get_catalog().sources["chip_trade_observations"]
        path = data_dir() / pick_vintage(src).path
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    cat = catalog_path()
    cat_mtime = cat.stat().st_mtime if cat.exists() else 0.0
    return _reconstruct(str(p.resolve()), p.stat().st_mtime, cat_mtime)


def anchor_fit(path: str | Path | None = None) -> pd.DataFrame:
    """Every figure with its role, fitted value, z-score and flag (see module docstring)."""
    return reconstruct(path).anchors


SERIES_IDS = {"chip_imports": "total", **{f"chip_imports_{c}": c for c in CHANNELS}}


def band(series_id: str) -> pd.DataFrame | None:
    """The uncertainty band of a reconstructed series id, or ``None`` for any other id.

    ``chip_imports``: ``mean, sd, lo_80, hi_80, lo_95, hi_95`` per quarter; a channel series:
    the same columns scaled by its annual share (share uncertainty not included).
    """
    if series_id not in SERIES_IDS:
        return None
    rec = reconstruct()
    component = SERIES_IDS[series_id]
    if component == "total":
        return rec.band.copy()
    share = (rec.channels[component] / rec.band["mean"]).dropna()
    return rec.band.loc[share.index].mul(share, axis=0)


def load_series(path: Path, component: str = "total") -> pd.Series:
    """Catalog loader: the point series (``total``) or a channel, absent where unsupported."""
    rec = reconstruct(path)
    if component == "total":
        out = rec.band["mean"].copy()
    elif component in CHANNELS:
        out = rec.channels[component].dropna()
    else:
        raise InputError(f"chip reconstruction: unknown component {component!r}")
    out.name = component
    return out
