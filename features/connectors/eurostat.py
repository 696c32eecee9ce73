"""Eurostat Comext: monthly EU27 exports to Armenia, Georgia, Kyrgyzstan, Russia and Uzbekistan.

The same flows as the embedded ``data/eurostat/eu27_exports_total_monthly.csv``: reporter
``EU27_2020``, product ``TOTAL``, flow 2 (exports), indicator ``VALUE_IN_EUROS``, monthly, from
dataset ``DS-045409`` ("EU trade since 1988 by HS2-4-6 and CN8").

Endpoint: Eurostat's dissemination "API Statistics" for Comext datasets (Eurostat help wiki, "API
Statistics - data query"), which answers in JSON-stat 2.0::

    https://ec.europa.eu/eurostat/api/comext/dissemination/statistics/1.0/data/DS-045409
        ?format=JSON&lang=EN&freq=M&reporter=EU27_2020&partner=AM&partner=GE&...
        &product=TOTAL&flow=2&indicators=VALUE_IN_EUROS&sinceTimePeriod=2019-01

Filters repeat a dimension for several codes. The answer is a JSON-stat ``dataset`` with ``id``
(dimension order, ``time`` last), ``size``, ``dimension.<id>.category.index`` (code -> position)
and a sparse ``value`` (flat position -> number); months the calendar has but the data does not
have no value. Query errors come back as HTTP 400/404 with an error object ("100 No results
found", "140 Syntax error", "150 Semantic error"); a request too large to answer at once comes
back as a warning instead of a dataset, which this connector reports as a ``FetchError``.

Catalog: the vintage registers as a release of ``eurostat_comext_exports`` (the embedded
``eu27_exports_total_monthly.csv``, a sum over EU reporters of the same flows; ``EU27_2020`` is
that sum) with its own loader ``eurostat_comext`` (:func:`load_exports`), which takes the same
``partner`` param as ``features.eurostat.exports`` (the partner names printed in that file, e.g.
``"Russian Federation (Russia)"``) as well as ISO2 codes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from features.connectors import store
from features.connectors._http import FetchError, new_session, request
from features.connectors.store import FetchResult, VintageWriter, resolve_root
from features.errors import InputError

log = logging.getLogger(__name__)

SOURCE = "eurostat"
DATASET = "DS-045409"
API_URL = f"https://ec.europa.eu/eurostat/api/comext/dissemination/statistics/1.0/data/{DATASET}"
REPORTER = "EU27_2020"
PARTNERS: dict[str, str] = {
    "AM": "Armenia",
    "GE": "Georgia",
    "KG": "Kyrgyzstan",
    "RU": "Russia",
    "UZ": "Uzbekistan",
}
#: partner names as printed in the embedded CSV (the catalog series' params) -> ISO2
PARTNER_NAMES: dict[str, str] = {
    "armenia": "AM",
    "georgia": "GE",
    "kyrgyzstan": "KG",
    "russian federation (russia)": "RU",
    "russia": "RU",
    "uzbekistan": "UZ",
}
PRODUCT = "TOTAL"
FLOW = "2"  # exports
INDICATOR = "VALUE_IN_EUROS"
DEFAULT_SINCE = dt.date(2019, 1, 1)
FILE = f"{DATASET}_EU27_exports.json"
CATALOG_SOURCE = "eurostat_comext_exports"
LOADER = "eurostat_comext"


def query(since: dt.date) -> dict[str, str | list[str]]:
    """The query parameters (repeated ``partner`` as a list)."""
    return {
        "format": "JSON",
        "lang": "EN",
        "freq": "M",
        "reporter": REPORTER,
        "partner": list(PARTNERS),
        "product": PRODUCT,
        "flow": FLOW,
        "indicators": INDICATOR,
        "sinceTimePeriod": f"{since:%Y-%m}",
    }


def _categories(dim: Any, name: str, where: str) -> list[str]:
    try:
        index = dim["category"]["index"]
    except (KeyError, TypeError):
        raise FetchError(f"{where}: dimension {name!r} has no category index") from None
    if isinstance(index, list):
        return [str(c) for c in index]
    if isinstance(index, dict):
        return [str(c) for c, _ in sorted(index.items(), key=lambda kv: int(kv[1]))]
    raise FetchError(f"{where}: dimension {name!r} index is neither list nor object")


def parse_jsonstat(payload: Any, where: str) -> pd.DataFrame:
    """The observations of a JSON-stat 2.0 dataset: one column per dimension plus ``value``.

    Raises ``FetchError`` when the body is an error or warning object instead of a dataset, or
    when the cube is inconsistent (sizes, positions outside it).
    """
    if not isinstance(payload, dict):
        raise FetchError(f"{where}: not a JSON-stat object")
    if payload.get("class") != "dataset":
        for key in ("error", "warning"):
            if key in payload:
                detail = payload[key]
                items = detail if isinstance(detail, list) else [detail]
                text = "; ".join(
                    " ".join(str(i.get(k, "")) for k in ("status", "id", "label")).strip()
                    if isinstance(i, dict)
                    else str(i)
                    for i in items
                )
                raise FetchError(f"{where}: Eurostat {key}: {' '.join(text.split())[:200]}")
        raise FetchError(f"{where}: not a JSON-stat dataset (class {payload.get('class')!r})")
    ids = payload.get("id")
    sizes = payload.get("size")
    dims = payload.get("dimension")
    if not isinstance(ids, list) or not isinstance(sizes, list) or not isinstance(dims, dict):
        raise FetchError(f"{where}: JSON-stat dataset without id/size/dimension")
    if len(ids) != len(sizes):
        raise FetchError(f"{where}: {len(ids)} dimension ids but {len(sizes)} sizes")
    cats = [_categories(dims.get(name), name, where) for name in ids]
    for name, cat, size in zip(ids, cats, sizes, strict=True):
        if len(cat) != size:
            raise FetchError(f"{where}: dimension {name!r} has {len(cat)} codes, size says {size}")
    total = math.prod(sizes)
    values = payload.get("value", {})
    if isinstance(values, list):
        cells = {i: v for i, v in enumerate(values) if v is not None}
    elif isinstance(values, dict):
        try:
            cells = {int(k): v for k, v in values.items() if v is not None}
        except ValueError:
            raise FetchError(f"{where}: 'value' has a non-numeric position") from None
    else:
        raise FetchError(f"{where}: 'value' is neither list nor object")
    if cells and (max(cells) >= total or min(cells) < 0):
        raise FetchError(f"{where}: a value lies outside the {total}-cell cube (truncated?)")
    records = []
    for pos, coords in enumerate(itertools.product(*cats)):
        if pos in cells:
            v = cells[pos]
            if not isinstance(v, int | float) or not math.isfinite(v):
                raise FetchError(f"{where}: value {v!r} at {dict(zip(ids, coords, strict=True))}")
            records.append((*coords, float(v)))
    return pd.DataFrame(records, columns=[*ids, "value"])


def parse_exports(payload: Any, where: str) -> pd.DataFrame:
    """EU27 exports by partner and month (columns ``partner``, ``period``, ``value_eur``).

    Checks that the cube is the one asked for (reporter, product, flow, indicator, partners).
    """
    table = parse_jsonstat(payload, where)
    need = {"reporter", "partner", "product", "flow", "indicators", "time"}
    missing = need - set(table.columns)
    if missing:
        raise FetchError(f"{where}: dataset lacks dimension(s) {', '.join(sorted(missing))}")
    asked = {"reporter": REPORTER, "product": PRODUCT, "flow": FLOW, "indicators": INDICATOR}
    for dim, code in asked.items():
        other = set(table[dim]) - {code}
        if other:
            raise FetchError(f"{where}: {dim} {sorted(other)[0]!r} was not asked for")
    extra = set(table["partner"]) - set(PARTNERS)
    if extra:
        raise FetchError(f"{where}: partner {sorted(extra)[0]!r} was not asked for")
    try:
        period = pd.PeriodIndex(table["time"].astype(str), freq="M")
    except (ValueError, TypeError):
        raise FetchError(
            f"{where}: time codes are not months (e.g. {table['time'].iloc[0]!r})"
        ) from None
    out = pd.DataFrame({"partner": table["partner"], "period": period, "value_eur": table["value"]})
    return out.sort_values(["partner", "period"]).reset_index(drop=True)


def fetch(
    since: dt.date | None = None,
    data_root: Path | None = None,
    session: requests.Session | None = None,
) -> FetchResult:
    """Download monthly EU27 exports to the five partners from ``since`` (default 2019-01).

    Parameters
    ----------
    since : first month to ask for (its day is ignored).
    data_root : the data folder; default ``features.catalog.data_dir()``.
    session : a ``requests.Session`` (tests mount recorded responses on one).

    Returns
    -------
    FetchResult
        The new vintage under ``data/eurostat/fetched/``, registering
        ``eurostat_comext_exports``.
    """
    root = resolve_root(data_root)
    start = since or DEFAULT_SINCE
    if start > store.utcnow().date():
        raise InputError(f"since {start.isoformat()} is in the future")
    own = session is None
    sess = session or new_session()
    try:
        with VintageWriter(root, SOURCE, since=since) as writer:
            dl = request(SOURCE, API_URL, session=sess, params=query(start), expect="json")
            payload = dl.json()
            table = parse_exports(payload, dl.where)
            if table.empty:
                raise FetchError(f"{dl.where}: no values since {start:%Y-%m}")
            writer.add(FILE, dl)
            writer.register(
                CATALOG_SOURCE,
                FILE,
                note=f"Eurostat Comext {DATASET} via API Statistics, fetched "
                f"{writer.retrieved_at:%Y-%m-%d %H:%M} UTC, dataset updated "
                f"{payload.get('updated', 'unknown')}",
                loader=LOADER,
            )
            return writer.commit(
                rows=len(table),
                meta={
                    "dataset_updated": str(payload.get("updated", "")),
                    "first_period": str(table["period"].min()),
                    "last_period": str(table["period"].max()),
                    "partners": sorted(table["partner"].unique().tolist()),
                },
            )
    finally:
        if own:
            sess.close()


def load_exports(path: Path, partner: str | None = None) -> pd.Series:
    """Catalog loader: monthly EU27 exports in EUR from a fetched vintage file.

    Parameters
    ----------
    path : the stored JSON-stat file (or its vintage directory).
    partner : ISO2 code (``"KG"``), name as in the embedded CSV (``"Kyrgyzstan"``,
        ``"Russian Federation (Russia)"``) or ``None`` for the sum over the five partners (a month
        is missing unless every partner has a value).

    Returns
    -------
    pd.Series
        Float values on a regular monthly ``PeriodIndex``.
    """
    path = Path(path)
    file = path / FILE if path.is_dir() else path
    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{file}: file not found") from None
    except ValueError as exc:
        raise InputError(f"{file}: not valid JSON ({exc})") from None
    table = parse_exports(payload, str(file))
    if partner is not None:
        code = partner.strip().upper()
        code = code if code in PARTNERS else PARTNER_NAMES.get(partner.strip().lower(), "")
        if not code:
            raise InputError(
                f"partner {partner!r} is not one of {', '.join(PARTNERS)} "
                f"or {', '.join(PARTNERS.values())}"
            )
        table = table[table["partner"] == code]
    wide = table.pivot(index="period", columns="partner", values="value_eur")
    if wide.empty:
        raise InputError(f"{file}: no values for partner {partner!r}")
    wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq="M"))
    out = wide.sum(axis=1, min_count=wide.shape[1])
    out.name = partner or "total"
    return out.astype(float)
