"""UN Comtrade connector on recorded responses: values, errors, truncation, and the key.

The clock is pinned to 2024-04-15 (conftest), so the last complete month is 2024-03.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import responses
from responses import matchers

from features.connectors import comtrade, fetch_source
from features.connectors._http import FetchError
from features.connectors.store import list_vintages, read_manifest
from tests.features.connectors.helpers import recorded, sent_url, statuses, tree

KEY = "k3y-SECRET-5f2c9a1e0b7d4c3a"
GET = "comtrade_get_202402-202403.json"
PREVIEW = "comtrade_preview_202403.json"


def _keyed(rsps: responses.RequestsMock, body: bytes, periods: str, **kw) -> None:
    rsps.add(
        responses.GET,
        comtrade.DATA_URL,
        body=body,
        content_type="application/json",
        match=[
            matchers.query_param_matcher(
                {**comtrade.query(periods.split(","), preview=False), "period": periods}
            ),
            matchers.header_matcher({comtrade.KEY_HEADER: KEY}),
        ],
        **kw,
    )


def _files_contain(root: Path, needle: str) -> list[str]:
    return [name for name, data in tree(root).items() if needle.encode() in data]


def test_subscription_fetch_parses_the_right_values(
    rsps: responses.RequestsMock, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMTRADE_API_KEY", KEY)
    _keyed(rsps, recorded(GET), "202402,202403")

    result = comtrade.fetch(dt.date(2024, 2, 1), data_root)

    assert result.rows == 26  # 7 reporters x 2 headings x 2 months, UAE missing 2024-03
    assert result.meta["endpoint"] == "subscription"
    assert (result.meta["first_period"], result.meta["last_period"]) == ("2024-02", "2024-03")
    assert [f.name for f in result.files] == ["202402-202403.json"]
    assert (result.path / "202402-202403.json").read_bytes() == recorded(GET)

    table = comtrade.read_vintage(result.path)
    chn = table[(table.reporter_iso == "CHN") & (table.cmd == "8542")].set_index("period")
    assert chn.loc["2024-03", "value_usd"] == 163004219.0
    assert chn.loc["2024-02", "net_kg"] == 39811.2

    total = comtrade.load_mirror(result.path, cmd="8542")
    feb = [148213507, 47120981, 1904711, 2311450, 1088304, 3512870, 9823114]
    assert total["2024-02"] == pytest.approx(sum(feb))
    assert np.isnan(total["2024-03"])  # the UAE did not report: missing, not zero
    assert comtrade.load_mirror(result.path, "8541", reporter="arm")["2024-03"] == 131870.0


def test_the_key_never_appears_in_urls_logs_files_or_messages(
    rsps: responses.RequestsMock,
    data_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("COMTRADE_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)  # every logger, urllib3 and requests included
    _keyed(rsps, recorded(GET), "202402,202403")

    result = fetch_source("comtrade", dt.date(2024, 2, 1), data_root)

    sent = rsps.calls[0].request
    assert sent.headers[comtrade.KEY_HEADER] == KEY  # the key is used ...
    assert KEY not in sent_url(rsps)  # ... but only in a header
    assert KEY not in caplog.text
    assert _files_contain(data_root, KEY) == []
    manifest = read_manifest(result.path)
    assert "subscription-key" not in json.dumps(manifest)
    assert KEY not in json.dumps(result.summary())

    # an error, even one whose body echoes the key, does not carry it either
    rsps.replace(
        responses.GET,
        comtrade.DATA_URL,
        status=401,
        json={"statusCode": 401, "message": f"Access denied for key {KEY}."},
    )
    with pytest.raises(FetchError) as err:
        comtrade.fetch(dt.date(2024, 2, 1), data_root)
    assert KEY not in str(err.value)
    assert "HTTP 401" in str(err.value)
    assert "Access denied for key ***" in str(err.value)
    assert KEY not in caplog.text
    assert _files_contain(data_root, KEY) == []


def test_without_a_key_the_preview_endpoint_is_asked_one_month_at_a_time(
    rsps: responses.RequestsMock, data_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rsps.add(
        responses.GET,
        comtrade.PREVIEW_URL,
        body=recorded(PREVIEW),
        content_type="application/json",
        match=[matchers.query_param_matcher(comtrade.query(["202403"], preview=True))],
    )
    result = comtrade.fetch(dt.date(2024, 3, 1), data_root)
    assert result.meta["endpoint"] == "preview"
    assert result.rows == 12
    assert sent_url(rsps).startswith(comtrade.PREVIEW_URL)
    assert "maxRecords=500" in sent_url(rsps)
    assert comtrade.KEY_HEADER not in rsps.calls[0].request.headers
    assert "keyless preview endpoint" in caplog.text
    entry = read_manifest(result.path)["registers"]["comtrade_mirror"]
    assert entry["loader"] == "comtrade_mirror"
    assert entry["path"] == f"comtrade/fetched/{result.vintage}"


def test_a_preview_result_at_the_cap_is_refused(
    rsps: responses.RequestsMock, data_root: Path
) -> None:
    payload = json.loads(recorded(PREVIEW))
    payload["data"] = payload["data"][:1] * comtrade.PREVIEW_MAX_RECORDS
    payload["count"] = comtrade.PREVIEW_MAX_RECORDS
    rsps.add(responses.GET, comtrade.PREVIEW_URL, json=payload)
    with pytest.raises(FetchError, match="500 rows, the preview endpoint's cap"):
        comtrade.fetch(dt.date(2024, 3, 1), data_root)
    assert tree(data_root) == {}


def test_http_error_stores_nothing(rsps: responses.RequestsMock, data_root: Path) -> None:
    rsps.add(
        responses.GET, comtrade.PREVIEW_URL, status=401, body=recorded("comtrade_error_401.json")
    )
    with pytest.raises(FetchError, match=r"^comtrade: HTTP 401 .*Access denied due to invalid"):
        comtrade.fetch(dt.date(2024, 3, 1), data_root)
    assert list_vintages(data_root, "comtrade") == []
    assert tree(data_root) == {}


def test_rate_limit_is_retried(
    rsps: responses.RequestsMock, data_root: Path, waits: list[float]
) -> None:
    rsps.add(
        responses.GET,
        comtrade.PREVIEW_URL,
        status=429,
        headers={"Retry-After": "1"},
        body=recorded("comtrade_error_429.json"),
    )
    rsps.add(responses.GET, comtrade.PREVIEW_URL, body=recorded(PREVIEW))
    assert comtrade.fetch(dt.date(2024, 3, 1), data_root).rows == 12
    assert waits == [1.0]


def test_truncated_bodies_are_refused(
    rsps: responses.RequestsMock, data_root: Path, waits: list[float]
) -> None:
    body = recorded(PREVIEW)
    cut = body[: len(body) // 2]
    # the server announced the full length and closed early
    rsps.add(
        responses.GET,
        comtrade.PREVIEW_URL,
        body=cut,
        headers={"Content-Length": str(len(body))},
    )
    with pytest.raises(FetchError, match="truncated"):
        comtrade.fetch(dt.date(2024, 3, 1), data_root)
    # no length announced: the JSON does not parse
    rsps.replace(responses.GET, comtrade.PREVIEW_URL, body=cut, content_type="application/json")
    with pytest.raises(FetchError, match="not valid JSON, truncated"):
        comtrade.fetch(dt.date(2024, 3, 1), data_root)
    # a complete JSON whose count disagrees with its rows
    short = json.loads(body)
    short["data"] = short["data"][:5]
    rsps.replace(responses.GET, comtrade.PREVIEW_URL, json=short)
    with pytest.raises(FetchError, match="'count' is 12 but 5 rows arrived"):
        comtrade.fetch(dt.date(2024, 3, 1), data_root)
    assert tree(data_root) == {}


def test_an_empty_result_is_an_error(rsps: responses.RequestsMock, data_root: Path) -> None:
    rsps.add(
        responses.GET,
        comtrade.PREVIEW_URL,
        json={"elapsedTime": "0.1 secs", "count": 0, "data": [], "error": ""},
    )
    with pytest.raises(
        FetchError, match=r"no rows for 8541/8542 exports to 643 in 202403\.\.202403"
    ):
        comtrade.fetch(dt.date(2024, 3, 1), data_root)


def test_rows_not_asked_for_are_refused(rsps: responses.RequestsMock, data_root: Path) -> None:
    payload = json.loads(recorded(PREVIEW))
    payload["data"][3]["partnerCode"] = 0
    rsps.add(responses.GET, comtrade.PREVIEW_URL, json=payload)
    with pytest.raises(FetchError, match="row 3 is partner 0, flow X"):
        comtrade.fetch(dt.date(2024, 3, 1), data_root)
    payload = json.loads(recorded(PREVIEW))
    rsps.replace(responses.GET, comtrade.PREVIEW_URL, json=payload)
    with pytest.raises(FetchError, match="row 0 is for period 202403, not one asked for"):
        comtrade.fetch(dt.date(2024, 2, 1), data_root)  # asks 202402 first


def test_a_failure_midway_keeps_the_previous_vintage(
    rsps: responses.RequestsMock,
    data_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    set_now,
) -> None:
    monkeypatch.setenv("COMTRADE_API_KEY", KEY)
    _keyed(rsps, recorded(GET), "202402,202403")
    first = comtrade.fetch(dt.date(2024, 2, 1), data_root)
    before = tree(data_root)

    # a month later, 14 months in two calls: the first answers, the second breaks
    set_now(dt.datetime(2024, 4, 20, 9, 0, tzinfo=dt.UTC))
    rsps.reset()
    empty = b'{"elapsedTime":"0.1 secs","count":0,"data":[],"error":""}'
    _keyed(rsps, empty, ",".join(comtrade.months(dt.date(2023, 2, 1), dt.date(2024, 1, 31))))
    rsps.add(responses.GET, comtrade.DATA_URL, status=503, body="Service Unavailable")
    with pytest.raises(FetchError, match=r"HTTP 503 .* after 5 attempts"):
        comtrade.fetch(dt.date(2023, 2, 1), data_root)

    assert statuses(rsps) == [200, 503, 503, 503, 503, 503]
    assert tree(data_root) == before
    assert list_vintages(data_root, "comtrade") == [first.path]


def test_months_and_since_checks(data_root: Path) -> None:
    assert comtrade.months(dt.date(2023, 11, 5), dt.date(2024, 2, 1)) == [
        "202311",
        "202312",
        "202401",
        "202402",
    ]
    with pytest.raises(Exception, match="after the last complete month 2024-03"):
        comtrade.fetch(dt.date(2024, 4, 1), data_root)
