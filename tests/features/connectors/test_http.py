"""The shared HTTP layer: retries with backoff, one-line errors, body checks."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses

from features.connectors._http import Download, FetchError, _check_body, request

URL = "https://api.example.org/data"


def _get(**kw: Any) -> Download:
    with requests.Session() as s:
        return request("demo", URL, session=s, **kw)


def test_retries_5xx_with_doubling_backoff_then_succeeds(
    rsps: responses.RequestsMock, waits: list[float]
) -> None:
    rsps.add(responses.GET, URL, status=503, body="busy")
    rsps.add(responses.GET, URL, status=502, body="busy")
    rsps.add(responses.GET, URL, json={"ok": True})
    dl = _get(expect="json")
    assert dl.json() == {"ok": True}
    assert waits == [2.0, 4.0]
    assert len(rsps.calls) == 3


def test_429_honours_retry_after(rsps: responses.RequestsMock, waits: list[float]) -> None:
    rsps.add(responses.GET, URL, status=429, headers={"Retry-After": "7"}, json={"m": "slow"})
    rsps.add(responses.GET, URL, json={"ok": True})
    _get(expect="json")
    assert waits == [7.0]


def test_retries_exhausted_is_one_line(rsps: responses.RequestsMock, waits: list[float]) -> None:
    rsps.add(responses.GET, URL, status=500, body="oops")
    with pytest.raises(FetchError) as err:
        _get(params={"q": "1"}, retries=2)
    msg = str(err.value)
    assert msg == f"demo: HTTP 500 Internal Server Error from {URL}?q=1 after 3 attempts"
    assert waits == [2.0, 4.0]


def test_client_error_is_not_retried_and_quotes_the_body(
    rsps: responses.RequestsMock, waits: list[float]
) -> None:
    rsps.add(responses.GET, URL, status=404, body="no such\n dataset")
    with pytest.raises(FetchError, match=r"^demo: HTTP 404 Not Found from .*: no such dataset$"):
        _get()
    assert waits == []


def test_secrets_are_redacted_from_echoed_bodies(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, URL, status=400, body="bad key abc123secret")
    with pytest.raises(FetchError) as err:
        _get(secrets=["abc123secret"], headers={"X-Key": "abc123secret"})
    assert "abc123secret" not in str(err.value)
    assert "bad key ***" in str(err.value)


def test_unreachable_host_is_a_fetch_error(
    waits: list[float], rsps: responses.RequestsMock
) -> None:
    # nothing registered: responses refuses the connection, as a dead host would
    with pytest.raises(FetchError, match=r"connection failed .* after 2 attempts"):
        _get(retries=1)


def test_cut_transfer_is_retried_then_reported_as_truncated(
    rsps: responses.RequestsMock, waits: list[float]
) -> None:
    rsps.add(responses.GET, URL, body=b'{"a": [1, 2', headers={"Content-Length": "40"})
    with pytest.raises(FetchError, match=r"transfer cut short \(truncated body\)"):
        _get(expect="json", retries=1)
    assert waits == [2.0]


def test_content_length_mismatch_is_truncated() -> None:
    resp = requests.Response()
    resp.status_code = 200
    resp._content = b"12345"
    resp.headers["Content-Length"] = "9"
    with pytest.raises(FetchError, match=r"truncated body from u: 5 of 9 bytes"):
        _check_body(resp, "demo", "u", "json", ())


def test_truncated_json_without_length_fails_to_parse(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, URL, body=b'{"data": [{"a": 1}, {"a"', content_type="application/json")
    dl = _get(expect="json")
    with pytest.raises(FetchError, match="body is not valid JSON, truncated or an error page"):
        dl.json()


def test_truncated_xml_fails_to_parse(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, URL, body=b"<ValCurs><Record Date=", content_type="text/xml")
    with pytest.raises(FetchError, match="body is not valid XML"):
        _get(expect="xml").xml()


def test_html_instead_of_json_or_xlsx(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, URL, body="<html>Access denied</html>", content_type="text/html")
    with pytest.raises(FetchError, match=r"expected JSON .* got an HTML page: <html>Access denied"):
        _get(expect="json")
    with pytest.raises(FetchError, match="expected XLSX"):
        _get(expect="xlsx")


def test_empty_body(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, URL, body=b"")
    with pytest.raises(FetchError, match="empty body"):
        _get()


def test_not_a_zip_is_not_an_xlsx(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, URL, body=b"PK\x03\x04 cut", content_type="application/octet-stream")
    with pytest.raises(FetchError, match="not an xlsx workbook, truncated or an error page"):
        _get(expect="xlsx")
