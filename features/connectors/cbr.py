"""Bank of Russia: official rouble rates of USD, EUR, CNY (daily) and the key rate.

Endpoints (Bank of Russia, "Получение данных, используя XML", https://www.cbr.ru/development/SXML/,
and the DailyInfo web service, https://www.cbr.ru/DailyInfoWebServ/DailyInfo.asmx):

* ``https://www.cbr.ru/scripts/XML_dynamic.asp?date_req1=DD/MM/YYYY&date_req2=DD/MM/YYYY&VAL_NM_RQ=ID``
  returns, in windows-1251 XML, ``<ValCurs ID=... DateRange1=... DateRange2=...>`` with one
  ``<Record Date="DD.MM.YYYY" Id=...><Nominal>1</Nominal><Value>92,5058</Value></Record>`` per
  day a rate was set (newer responses add ``<VunitRate>``). Decimal commas; the rate is roubles
  per ``Nominal`` units. Currency ids: USD R01235, EUR R01239, CNY R01375.
* the key rate through the SOAP 1.1 method ``KeyRateXML(fromDate, ToDate)`` (POST to
  DailyInfo.asmx, ``SOAPAction: "http://web.cbr.ru/KeyRateXML"``); the result holds
  ``<KeyRate><KR><DT>2023-06-22T00:00:00+03:00</DT><Rate>7.50</Rate></KR>...``, one row a day,
  from 2013-09-13, when the key rate was introduced.

One fetch stores the four raw XML responses in one vintage (``USD_R01235.xml``, ...,
``key_rate.xml``) after each has parsed to at least one positive value.

Catalog: the vintage registers as a release of ``cbr_macro`` (the embedded ``macro_monthly.json``)
with its own loader ``cbr_xml`` (:func:`load_rates`, same ``column``/``start`` params as
``features.cbr.monthly``), but only for the rate columns (``rate_usd``, ``rate_usd_end``, ...):
a fetch holds no CPI, and its key rate starts 2013-09-13 while the catalog's ``key_rate`` series
continues the refinancing rate back to 1991, so those series keep their catalogued vintages. The
key rate is still stored and readable (``load_rates(path, "key_rate")``).

Units: rates before the 1998 redenomination (1,000 old roubles = 1 new rouble) are put in new
roubles, as in ``macro_monthly.json`` (1992-07 USD about 0.14). Whether Bank of Russia serves them
in old or new roubles is not documented where this could be checked, so :func:`read_daily`
decides from the data: a jump of about 1,000 times across 1998-01-01 means old roubles (divided
by 1,000), no jump means new roubles; anything else is an error rather than a guess.
"""

from __future__ import annotations

import datetime as dt
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import requests

from features.connectors import store
from features.connectors._http import FetchError, new_session, request
from features.connectors.store import FetchResult, VintageWriter, resolve_root
from features.errors import InputError

log = logging.getLogger(__name__)

SOURCE = "cbr"
DYNAMIC_URL = "https://www.cbr.ru/scripts/XML_dynamic.asp"
DAILYINFO_URL = "https://www.cbr.ru/DailyInfoWebServ/DailyInfo.asmx"
KEY_RATE_ACTION = '"http://web.cbr.ru/KeyRateXML"'
CURRENCIES: dict[str, str] = {"USD": "R01235", "EUR": "R01239", "CNY": "R01375"}
DEFAULT_SINCE = dt.date(1992, 7, 1)  # first official USD rate in XML_dynamic
KEY_RATE_START = dt.date(2013, 9, 13)
KEY_RATE_FILE = "key_rate.xml"
REDENOMINATION = dt.date(1998, 1, 1)
CATALOG_SOURCE = "cbr_macro"
LOADER = "cbr_xml"
#: loader ``column`` values a fetch provides (monthly mean, end of month) -> series and how
COLUMNS: dict[str, tuple[str, str]] = {
    **{f"rate_{c.lower()}": (c, "mean") for c in CURRENCIES},
    **{f"rate_{c.lower()}_end": (c, "end") for c in CURRENCIES},
    "key_rate": ("key_rate", "mean"),
    "key_rate_end": ("key_rate", "end"),
}
#: the columns this vintage serves in the catalog (see the module docstring)
SERVES = tuple(c for c in COLUMNS if c.startswith("rate_"))

_SOAP = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <KeyRateXML xmlns="http://web.cbr.ru/">
      <fromDate>{start}T00:00:00</fromDate>
      <ToDate>{end}T00:00:00</ToDate>
    </KeyRateXML>
  </soap:Body>
</soap:Envelope>
"""


def rate_file(currency: str) -> str:
    """Stored file name of one currency's response, e.g. ``USD_R01235.xml``."""
    return f"{currency}_{CURRENCIES[currency]}.xml"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _number(text: str | None, where: str) -> float:
    try:
        value = float((text or "").strip().replace("\xa0", "").replace(",", "."))
    except ValueError:
        raise FetchError(f"{where}: {text!r} is not a number") from None
    if not np.isfinite(value) or value <= 0:
        raise FetchError(f"{where}: rate {text!r} is not positive")
    return value


def parse_dynamic(root: ET.Element, currency_id: str, where: str) -> pd.Series:
    """Daily roubles per one unit from an ``XML_dynamic.asp`` response (``Value / Nominal``).

    Raises ``FetchError`` if the document is not a ``ValCurs`` for ``currency_id`` or has no
    records.
    """
    if _local(root.tag) != "ValCurs":
        raise FetchError(f"{where}: root element is <{_local(root.tag)}>, expected <ValCurs>")
    if root.get("ID") not in (None, currency_id):
        raise FetchError(f"{where}: rates for {root.get('ID')}, asked for {currency_id}")
    dates: list[dt.date] = []
    values: list[float] = []
    for rec in root.iter("Record"):
        day = rec.get("Date", "")
        try:
            when = dt.datetime.strptime(day, "%d.%m.%Y").date()
        except ValueError:
            raise FetchError(f"{where}: record date {day!r} is not DD.MM.YYYY") from None
        nominal = _number(rec.findtext("Nominal"), f"{where} ({day}, Nominal)")
        value = _number(rec.findtext("Value"), f"{where} ({day}, Value)")
        dates.append(when)
        values.append(value / nominal)
    if not values:
        raise FetchError(
            f"{where}: no rates between {root.get('DateRange1')} and {root.get('DateRange2')}"
        )
    out = pd.Series(values, index=pd.DatetimeIndex(dates), name=currency_id, dtype=float)
    if out.index.duplicated().any():
        raise FetchError(f"{where}: date {out.index[out.index.duplicated()][0].date()} repeats")
    return out.sort_index()


def parse_key_rate(root: ET.Element, where: str) -> pd.Series:
    """Daily key rate, percent, from a ``KeyRateXML`` SOAP response.

    Raises ``FetchError`` for a SOAP fault or a result without rows.
    """
    for el in root.iter():
        if _local(el.tag) == "Fault":
            fault = " ".join(" ".join(t.strip() for t in el.itertext() if t.strip()).split())
            raise FetchError(f"{where}: SOAP fault: {fault[:200]}")
    dates: list[dt.date] = []
    values: list[float] = []
    for kr in root.iter():
        if _local(kr.tag) != "KR":
            continue
        fields = {_local(c.tag): (c.text or "").strip() for c in kr}
        try:
            when = dt.date.fromisoformat(fields.get("DT", "")[:10])
        except ValueError:
            raise FetchError(f"{where}: key-rate date {fields.get('DT')!r} is not ISO") from None
        dates.append(when)
        values.append(_number(fields.get("Rate"), f"{where} ({when}, Rate)"))
    if not values:
        raise FetchError(f"{where}: no key-rate rows in the response")
    out = pd.Series(values, index=pd.DatetimeIndex(dates), name="key_rate", dtype=float)
    out = out[~out.index.duplicated(keep="last")]
    return out.sort_index()


def fetch(
    since: dt.date | None = None,
    data_root: Path | None = None,
    session: requests.Session | None = None,
) -> FetchResult:
    """Download daily USD/EUR/CNY rates and the key rate from ``since`` (default 1992-07-01).

    Parameters
    ----------
    since : first day to ask for (the key rate starts 2013-09-13 whatever is asked).
    data_root : the data folder; default ``features.catalog.data_dir()``.
    session : a ``requests.Session`` (tests mount recorded responses on one).

    Returns
    -------
    FetchResult
        The new vintage under ``data/cbr/fetched/``, registering ``cbr_rates``.
    """
    root = resolve_root(data_root)
    start = since or DEFAULT_SINCE
    end = store.utcnow().date()
    if start > end:
        raise InputError(f"since {start.isoformat()} is in the future")
    own = session is None
    sess = session or new_session()
    rows = 0
    meta: dict[str, str] = {}
    try:
        with VintageWriter(root, SOURCE, since=since) as writer:
            for ccy, code in CURRENCIES.items():
                dl = request(
                    SOURCE,
                    DYNAMIC_URL,
                    session=sess,
                    params={
                        "date_req1": start.strftime("%d/%m/%Y"),
                        "date_req2": end.strftime("%d/%m/%Y"),
                        "VAL_NM_RQ": code,
                    },
                    expect="xml",
                )
                rates = parse_dynamic(dl.xml(), code, dl.where)
                writer.add(rate_file(ccy), dl)
                rows += len(rates)
                meta[f"{ccy.lower()}_last"] = rates.index[-1].date().isoformat()
            key_start = max(start, KEY_RATE_START)
            body = _SOAP.format(start=key_start.isoformat(), end=end.isoformat()).encode()
            dl = request(
                SOURCE,
                DAILYINFO_URL,
                session=sess,
                method="POST",
                data=body,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": KEY_RATE_ACTION},
                expect="xml",
            )
            key = parse_key_rate(dl.xml(), f"{dl.where} (KeyRateXML {key_start}..{end})")
            writer.add(KEY_RATE_FILE, dl)
            rows += len(key)
            meta["key_rate_last"] = key.index[-1].date().isoformat()
            writer.register(
                CATALOG_SOURCE,
                None,
                note=f"Bank of Russia XML_dynamic and KeyRateXML, fetched "
                f"{writer.retrieved_at:%Y-%m-%d %H:%M} UTC from {start.isoformat()}",
                loader=LOADER,
                serves={"column": SERVES},
            )
            return writer.commit(rows=rows, meta=meta)
    finally:
        if own:
            sess.close()


def new_roubles(rates: pd.Series, where: str) -> pd.Series:
    """Rates before 1998-01-01 in new roubles (see the module docstring); others unchanged."""
    before = rates[rates.index < pd.Timestamp(REDENOMINATION)]
    after = rates[rates.index >= pd.Timestamp(REDENOMINATION)]
    if before.empty:
        return rates
    if after.empty:
        raise FetchError(
            f"{where}: only rates before {REDENOMINATION}: cannot tell old from new roubles"
        )
    jump = before.iloc[-1] / after.iloc[0]
    if 300 <= jump <= 3000:
        return pd.concat([before / 1000.0, after])
    if 1 / 3 <= jump <= 3:
        return rates
    raise FetchError(
        f"{where}: rate moves {jump:.4g} times across {REDENOMINATION}: neither old (about "
        "1000) nor new roubles (about 1)"
    )


def read_daily(path: Path, series: str) -> pd.Series:
    """One daily series from a fetched CBR vintage: ``USD``, ``EUR``, ``CNY`` or ``key_rate``.

    Currency rates are roubles per unit, in new roubles throughout (:func:`new_roubles`).
    """
    path = Path(path)
    key = "key_rate" if series.lower() == "key_rate" else series.upper()
    if key == "key_rate":
        file = path / KEY_RATE_FILE
    elif key in CURRENCIES:
        file = path / rate_file(key)
    else:
        raise InputError(f"series {series!r} is not one of USD, EUR, CNY, key_rate")
    try:
        root = ET.fromstring(file.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{file}: not in this CBR vintage") from None
    except ET.ParseError as exc:
        raise InputError(f"{file}: not valid XML ({exc})") from None
    if key == "key_rate":
        return parse_key_rate(root, str(file))
    return new_roubles(parse_dynamic(root, CURRENCIES[key], str(file)), str(file))


def load_rates(path: Path, column: str = "rate_usd", start: str | None = None) -> pd.Series:
    """Catalog loader ``cbr_xml``: one monthly series from a fetched CBR vintage directory.

    Parameters
    ----------
    path : the vintage directory.
    column : as in ``macro_monthly.json``: ``rate_usd``/``rate_eur``/``rate_cny`` (monthly
        average, roubles per unit), ``rate_<ccy>_end`` (last rate of the month), ``key_rate``,
        ``key_rate_end`` (percent).
    start : first month to keep (``"1994-02"``).

    Returns
    -------
    pd.Series
        Float values on a monthly ``PeriodIndex`` from the first to the last month with a value;
        a month in between without a value is NaN.
    """
    if column not in COLUMNS:
        raise InputError(f"column {column!r} is not in a CBR fetch (columns: {', '.join(COLUMNS)})")
    series, how = COLUMNS[column]
    daily = read_daily(path, series)
    monthly = daily.groupby(daily.index.to_period("M"))
    out = monthly.mean() if how == "mean" else monthly.last()
    if start is not None:
        out = out[out.index >= pd.Period(start, freq="M")]
    if out.empty:
        raise InputError(f"{path}: no {column} values from {start}")
    out = out.reindex(pd.period_range(out.index.min(), out.index.max(), freq="M"))
    out.name = column
    return out.astype(float)
