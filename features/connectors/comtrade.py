"""UN Comtrade mirror flows: what third countries report exporting to Russia, HS 8541 and 8542.

Russia stopped reporting its own trade in 2022, so its chip imports are seen in the partners'
exports ("mirror" flows). One fetch asks Comtrade's final-data API for monthly exports
(``freqCode`` M, ``flowCode`` X) of HS 8541 (diodes, transistors, photosensitive semiconductor
devices) and HS 8542 (electronic integrated circuits) from China 156, Hong Kong 344, Turkey 792,
Kazakhstan 398, Kyrgyzstan 417, Armenia 51 and the UAE 784 to Russia 643, as totals
(``customsCode`` C00, ``motCode`` 0, ``partner2Code`` 0, ``breakdownMode`` classic). Values are
``primaryValue``, US dollars (FOB for exports).

Endpoints (from the ``comtradeapicall`` package source, ``PreviewGet.getPreviewData``)
-----------------------------------------------------------------------------------
* ``https://comtradeapi.un.org/data/v1/get/C/M/HS`` with a subscription key (the free "comtrade -
  v1" key: 500 calls a day, up to 100,000 records a call), read from ``COMTRADE_API_KEY``;
* ``https://comtradeapi.un.org/public/v1/preview/C/M/HS`` without one: the preview is capped at
  500 records a call (comtradeapicall README: "limited to 500 records"), so this connector asks
  it for one month at a time and fails if a response reaches the cap (a cut result would look
  complete). With a key it asks for 12 months a call, the API's limit on periods per query (as
  enforced by rOpenSci's comtradr).

Why not call ``comtradeapicall`` itself
---------------------------------------
Its ``getFinalData``/``previewFinalData`` (1.3.2) put the key in the query string
(``subscription-key=...``) and, on a connection error, ``print`` the urllib3 error, which contains
that full URL: the key ends up on stdout. HTTP errors are printed and turned into ``None``, so an
error and an empty result look the same; there is no session, retry on 429 or truncation check,
and its urllib3 calls cannot be served recorded responses. This module calls the same endpoints
with the same parameters through :mod:`features.connectors._http` and sends the key in the
``Ocp-Apim-Subscription-Key`` header (the Azure API Management header the Comtrade APIs use; as
in comtradr), so the key is never in a URL, log line, manifest or message.

Catalog: the vintage (the whole directory) registers catalog source ``comtrade_mirror`` with loader
``comtrade_mirror`` (:func:`load_mirror`, params ``cmd`` and ``reporter``). Neither exists in
``data/catalog.yml`` / ``features.loaders`` yet, so fetched Comtrade vintages are stored but not
loadable through the catalog until both are added.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import requests

from features.connectors import store
from features.connectors._http import Download, FetchError, new_session, request
from features.connectors.store import MANIFEST, FetchResult, VintageWriter, resolve_root
from features.errors import InputError

log = logging.getLogger(__name__)

SOURCE = "comtrade"
DATA_URL = "https://comtradeapi.un.org/data/v1/get/C/M/HS"
PREVIEW_URL = "https://comtradeapi.un.org/public/v1/preview/C/M/HS"
KEY_ENV = "COMTRADE_API_KEY"
KEY_HEADER = "Ocp-Apim-Subscription-Key"

#: Comtrade reporter code -> ISO3; the third countries watched for re-exports to Russia
REPORTERS: dict[int, str] = {
    156: "CHN",
    344: "HKG",
    792: "TUR",
    398: "KAZ",
    417: "KGZ",
    51: "ARM",
    784: "ARE",
}
PARTNER = 643  # Russian Federation
COMMODITIES: tuple[str, ...] = ("8541", "8542")
FLOW = "X"
PREVIEW_MAX_RECORDS = 500
PERIODS_PER_CALL = 12
PREVIEW_PERIODS_PER_CALL = 1
DEFAULT_SINCE = dt.date(2019, 1, 1)
#: catalog source id this connector's vintages register (add it to data/catalog.yml to use them)
CATALOG_SOURCE = "comtrade_mirror"
LOADER = "comtrade_mirror"

COLUMNS = ["period", "reporter", "reporter_iso", "cmd", "value_usd", "net_kg"]


def months(since: dt.date, until: dt.date) -> list[str]:
    """Comtrade monthly period codes ``YYYYMM`` from ``since``'s month to ``until``'s."""
    start = pd.Period(since, freq="M")
    end = pd.Period(until, freq="M")
    return [p.strftime("%Y%m") for p in pd.period_range(start, end, freq="M")]


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def query(periods: Sequence[str], preview: bool) -> dict[str, str]:
    """The query for one call (documented parameter names; no key: that goes in a header)."""
    params = {
        "reporterCode": ",".join(str(r) for r in REPORTERS),
        "partnerCode": str(PARTNER),
        "partner2Code": "0",
        "cmdCode": ",".join(COMMODITIES),
        "flowCode": FLOW,
        "customsCode": "C00",
        "motCode": "0",
        "period": ",".join(periods),
        "breakdownMode": "classic",
        "includeDesc": "true",
    }
    if preview:
        params["maxRecords"] = str(PREVIEW_MAX_RECORDS)
    return params


def parse(
    payload: Any, where: str, *, preview: bool = False, periods: Sequence[str] | None = None
) -> pd.DataFrame:
    """Validate one Comtrade response and return its rows (columns :data:`COLUMNS`).

    Raises ``FetchError`` when the body is not a Comtrade result, reports an error, disagrees
    with its own ``count`` (truncated), reaches the preview cap, or holds rows the query did not
    ask for (another partner, flow, commodity, reporter or, when ``periods`` is given, month).
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise FetchError(f"{where}: not a Comtrade result (no 'data' list)")
    error = payload.get("error")
    if error:
        raise FetchError(f"{where}: Comtrade reports an error: {' '.join(str(error).split())}")
    data: list[Any] = payload["data"]
    count = payload.get("count")
    if isinstance(count, int) and count != len(data):
        raise FetchError(f"{where}: 'count' is {count} but {len(data)} rows arrived (truncated?)")
    if preview and len(data) >= PREVIEW_MAX_RECORDS:
        raise FetchError(
            f"{where}: {len(data)} rows, the preview endpoint's cap: the result may be cut; "
            f"set {KEY_ENV} to use the subscription endpoint"
        )
    rows = []
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise FetchError(f"{where}: row {i} is not an object")
        # classic mode returns totals only; anything else is a breakdown we did not ask for
        if (
            str(rec.get("customsCode", "C00")) != "C00"
            or int(rec.get("motCode", 0) or 0) != 0
            or int(rec.get("partner2Code", 0) or 0) != 0
        ):
            continue
        try:
            reporter = int(rec["reporterCode"])
            partner = int(rec["partnerCode"])
            flow = str(rec["flowCode"])
            cmd = str(rec["cmdCode"])
            period = str(rec["period"])
            value = rec["primaryValue"]
        except (KeyError, TypeError, ValueError) as exc:
            raise FetchError(f"{where}: row {i} lacks field {exc}") from None
        if partner != PARTNER or flow != FLOW or cmd not in COMMODITIES:
            raise FetchError(
                f"{where}: row {i} is partner {partner}, flow {flow}, cmd {cmd}: "
                f"not what was asked ({PARTNER}, {FLOW}, {'/'.join(COMMODITIES)})"
            )
        if periods is not None and period not in periods:
            raise FetchError(f"{where}: row {i} is for period {period}, not one asked for")
        if reporter not in REPORTERS:
            raise FetchError(f"{where}: row {i} has reporter {reporter}, not one asked for")
        if value is None or not np.isfinite(float(value)) or float(value) < 0:
            raise FetchError(f"{where}: row {i} ({reporter}, {cmd}, {period}) value {value!r}")
        net = rec.get("netWgt")
        rows.append(
            {
                "period": pd.Period(f"{period[:4]}-{period[4:6]}", freq="M"),
                "reporter": reporter,
                "reporter_iso": str(rec.get("reporterISO") or REPORTERS[reporter]),
                "cmd": cmd,
                "value_usd": float(value),
                "net_kg": float(net) if net is not None else np.nan,
            }
        )
    out = pd.DataFrame(rows, columns=COLUMNS)
    dup = out.duplicated(["period", "reporter", "cmd"])
    if dup.any():
        r = out[dup].iloc[0]
        raise FetchError(f"{where}: duplicate row for {r['reporter']}, {r['cmd']}, {r['period']}")
    return out


def fetch(
    since: dt.date | None = None,
    data_root: Path | None = None,
    session: requests.Session | None = None,
) -> FetchResult:
    """Download mirror exports to Russia from ``since`` (default 2019-01) to last month.

    Parameters
    ----------
    since : first month to ask for (its day is ignored).
    data_root : the data folder; default ``features.catalog.data_dir()``.
    session : a ``requests.Session`` (tests mount recorded responses on one).

    Returns
    -------
    FetchResult
        The new vintage under ``data/comtrade/fetched/``; registers catalog source
        ``comtrade_mirror`` (the whole directory, loader ``comtrade_mirror``).
    """
    root = resolve_root(data_root)
    key = os.environ.get(KEY_ENV, "").strip() or None
    preview = key is None
    start = since or DEFAULT_SINCE
    today = store.utcnow().date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    if start > last:
        raise InputError(f"since {start.isoformat()} is after the last complete month {last:%Y-%m}")
    periods = months(start, last)
    per_call = PREVIEW_PERIODS_PER_CALL if preview else PERIODS_PER_CALL
    url = PREVIEW_URL if preview else DATA_URL
    headers = {KEY_HEADER: key} if key else {}
    secrets = (key,) if key else ()
    if preview:
        log.info(
            "%s: no %s set, using the keyless preview endpoint (500 records a call, one month "
            "a call: %d calls)",
            SOURCE,
            KEY_ENV,
            len(periods),
        )
    else:
        log.info("%s: using the subscription endpoint (key from %s)", SOURCE, KEY_ENV)
    own = session is None
    sess = session or new_session()
    frames: list[pd.DataFrame] = []
    try:
        with VintageWriter(root, SOURCE, since=since, secrets=secrets) as writer:
            for chunk in _chunks(periods, per_call):
                dl: Download = request(
                    SOURCE,
                    url,
                    session=sess,
                    params=query(chunk, preview),
                    headers=headers,
                    secrets=secrets,
                    expect="json",
                )
                frames.append(parse(dl.json(), dl.where, preview=preview, periods=chunk))
                name = f"{chunk[0]}.json" if len(chunk) == 1 else f"{chunk[0]}-{chunk[-1]}.json"
                writer.add(name, dl)
            table = pd.concat(frames, ignore_index=True)
            # no duplicates across calls: each call's rows are checked to lie in its own months
            if table.empty:
                raise FetchError(
                    f"{SOURCE}: no rows for {'/'.join(COMMODITIES)} exports to {PARTNER} in "
                    f"{periods[0]}..{periods[-1]} ({'preview' if preview else 'subscription'})"
                )
            writer.register(
                CATALOG_SOURCE,
                None,
                note=f"UN Comtrade {'preview' if preview else 'final data'} API, fetched "
                f"{writer.retrieved_at:%Y-%m-%d %H:%M} UTC, periods {periods[0]}..{periods[-1]}",
                loader=LOADER,
            )
            return writer.commit(
                rows=len(table),
                meta={
                    "endpoint": "preview" if preview else "subscription",
                    "first_period": str(table["period"].min()),
                    "last_period": str(table["period"].max()),
                    "reporters": sorted(table["reporter_iso"].unique().tolist()),
                },
            )
    finally:
        if own:
            sess.close()


def read_vintage(path: Path) -> pd.DataFrame:
    """All rows of a fetched Comtrade vintage directory (columns :data:`COLUMNS`)."""
    path = Path(path)
    files = sorted(p for p in path.glob("*.json") if p.name != MANIFEST)
    if not files:
        raise InputError(f"{path}: no Comtrade responses in this vintage")
    frames = []
    for f in files:
        try:
            payload = json.loads(f.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(f"{f}: not valid JSON ({exc})") from None
        frames.append(parse(payload, str(f)))
    return pd.concat(frames, ignore_index=True).sort_values(["period", "reporter", "cmd"])


def load_mirror(path: Path, cmd: str = "8542", reporter: str | None = None) -> pd.Series:
    """Catalog loader: monthly mirror exports to Russia in USD from a fetched vintage.

    Parameters
    ----------
    path : the vintage directory.
    cmd : HS heading, ``"8541"`` or ``"8542"``.
    reporter : ISO3 code (``"CHN"``, ``"HKG"``, ...) or ``None`` for the sum over reporters.
        A month in which a reporter reported nothing is missing (NaN), not zero; in the sum a
        month is missing unless every reporter that appears in the vintage reported it.

    Returns
    -------
    pd.Series
        Float values on a regular monthly ``PeriodIndex``.
    """
    table = read_vintage(path)
    if cmd not in COMMODITIES:
        raise InputError(f"cmd {cmd!r} is not one of {', '.join(COMMODITIES)}")
    table = table[table["cmd"] == cmd]
    if reporter is not None:
        known = sorted(table["reporter_iso"].unique())
        table = table[table["reporter_iso"] == reporter.upper()]
        if table.empty:
            raise InputError(f"{path}: no rows for reporter {reporter!r} (present: {known})")
    wide = table.pivot(index="period", columns="reporter_iso", values="value_usd")
    if wide.empty:
        raise InputError(f"{path}: no rows for HS {cmd}")
    full = pd.period_range(wide.index.min(), wide.index.max(), freq="M")
    wide = wide.reindex(full)
    out = wide.sum(axis=1, min_count=wide.shape[1])
    out.name = f"comtrade_{cmd}_{reporter or 'total'}"
    return out.astype(float)
