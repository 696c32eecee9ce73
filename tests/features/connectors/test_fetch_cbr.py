"""Bank of Russia connector on recorded responses: rates, key rate, units, errors."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
import responses
from responses import matchers

from features.connectors import cbr
from features.connectors._http import FetchError
from features.connectors.store import list_vintages, read_manifest
from tests.features.connectors.helpers import recorded, sent_body, statuses, tree

XML = "application/xml; charset=windows-1251"


def _serve(rsps: responses.RequestsMock, since: dt.date = dt.date(2024, 1, 30)) -> None:
    for code in cbr.CURRENCIES.values():
        rsps.add(
            responses.GET,
            cbr.DYNAMIC_URL,
            body=recorded(f"cbr_XML_dynamic_{code}.xml"),
            content_type=XML,
            match=[
                matchers.query_param_matcher(
                    {
                        "date_req1": since.strftime("%d/%m/%Y"),
                        "date_req2": "15/04/2024",
                        "VAL_NM_RQ": code,
                    }
                )
            ],
        )
    rsps.add(
        responses.POST,
        cbr.DAILYINFO_URL,
        body=recorded("cbr_KeyRateXML.xml"),
        content_type="text/xml; charset=utf-8",
        match=[matchers.header_matcher({"SOAPAction": '"http://web.cbr.ru/KeyRateXML"'})],
    )


def test_fetch_stores_four_responses_and_parses_the_right_values(
    rsps: responses.RequestsMock, data_root: Path
) -> None:
    _serve(rsps)
    result = cbr.fetch(dt.date(2024, 1, 30), data_root)

    assert [f.name for f in result.files] == [
        "USD_R01235.xml",
        "EUR_R01239.xml",
        "CNY_R01375.xml",
        "key_rate.xml",
    ]
    assert result.rows == 4 * 5
    assert result.meta == {
        "usd_last": "2024-02-29",
        "eur_last": "2024-02-29",
        "cny_last": "2024-02-29",
        "key_rate_last": "2024-02-29",
    }
    body = sent_body(rsps)
    assert b"<fromDate>2024-01-30T00:00:00</fromDate>" in body
    assert b"<ToDate>2024-04-15T00:00:00</ToDate>" in body

    usd = cbr.load_rates(result.path, "rate_usd")
    assert usd.index.tolist() == [pd.Period("2024-01", "M"), pd.Period("2024-02", "M")]
    assert usd["2024-01"] == pytest.approx((89.6617 + 89.2589) / 2)
    assert usd["2024-02"] == pytest.approx((89.6064 + 90.2486 + 91.7035) / 3)
    assert cbr.load_rates(result.path, "rate_usd_end")["2024-02"] == 91.7035
    assert cbr.load_rates(result.path, "rate_cny", start="2024-02").tolist() == [
        pytest.approx((12.4711 + 12.5569 + 12.6544) / 3)
    ]
    assert cbr.load_rates(result.path, "key_rate").tolist() == [16.0, 16.0]
    with pytest.raises(Exception, match="'cpi_yoy' is not in a CBR fetch"):
        cbr.load_rates(result.path, "cpi_yoy")

    entry = read_manifest(result.path)["registers"]["cbr_macro"]
    assert entry["loader"] == "cbr_xml"
    assert entry["serves"] == {"column": list(cbr.SERVES)}
    assert "key_rate" not in entry["serves"]["column"]


def test_rates_before_1998_are_put_in_new_roubles() -> None:
    root = ET.fromstring(recorded("cbr_XML_dynamic_R01235_1997-1998.xml"))
    daily = cbr.new_roubles(cbr.parse_dynamic(root, "R01235", "t"), "t")
    assert daily.tolist() == [5.96, 5.96, 5.96, 5.963]
    new_already = pd.Series([5.96, 5.96], index=pd.to_datetime(["1997-12-31", "1998-01-01"]))
    assert cbr.new_roubles(new_already, "t").tolist() == [5.96, 5.96]
    odd = pd.Series([59.6, 5.96], index=pd.to_datetime(["1997-12-31", "1998-01-01"]))
    with pytest.raises(FetchError, match="moves 10 times across 1998-01-01"):
        cbr.new_roubles(odd, "t")


def test_nominal_divides_the_value() -> None:
    xml = (
        '<?xml version="1.0" encoding="windows-1251"?><ValCurs ID="R01375">'
        '<Record Date="01.03.2021" Id="R01375"><Nominal>10</Nominal><Value>114,1234</Value>'
        "</Record></ValCurs>"
    ).encode("cp1251")
    assert cbr.parse_dynamic(ET.fromstring(xml), "R01375", "t").tolist() == [11.41234]


def test_no_records_is_an_error(rsps: responses.RequestsMock, data_root: Path) -> None:
    rsps.add(
        responses.GET, cbr.DYNAMIC_URL, body=recorded("cbr_XML_dynamic_empty.xml"), content_type=XML
    )
    with pytest.raises(FetchError, match=r"no rates between 03\.02\.2024 and 04\.02\.2024"):
        cbr.fetch(dt.date(2024, 2, 3), data_root)
    assert tree(data_root) == {}


def test_http_error_keeps_the_previous_vintage(
    rsps: responses.RequestsMock, data_root: Path, set_now
) -> None:
    _serve(rsps)
    first = cbr.fetch(dt.date(2024, 1, 30), data_root)
    before = tree(data_root)

    set_now(dt.datetime(2024, 4, 15, 18, 0, tzinfo=dt.UTC))  # the rates answer, the key rate fails
    rsps.replace(
        responses.POST, cbr.DAILYINFO_URL, status=500, body=recorded("cbr_KeyRateXML_fault.xml")
    )
    with pytest.raises(FetchError, match=r"^cbr: HTTP 500 .* after 5 attempts$"):
        cbr.fetch(dt.date(2024, 1, 30), data_root)
    assert statuses(rsps)[4:] == [200, 200, 200, *[500] * 5]
    assert tree(data_root) == before
    assert list_vintages(data_root, "cbr") == [first.path]


def test_a_soap_fault_or_empty_result_is_an_error() -> None:
    with pytest.raises(FetchError, match="SOAP fault: soap:Server Server was unable"):
        cbr.parse_key_rate(ET.fromstring(recorded("cbr_KeyRateXML_fault.xml")), "t")
    empty = b"<Envelope><Body><KeyRateXMLResponse><KeyRateXMLResult><KeyRate/></KeyRateXMLResult></KeyRateXMLResponse></Body></Envelope>"
    with pytest.raises(FetchError, match="no key-rate rows"):
        cbr.parse_key_rate(ET.fromstring(empty), "t")


def test_a_truncated_body_is_refused(rsps: responses.RequestsMock, data_root: Path) -> None:
    body = recorded("cbr_XML_dynamic_R01235.xml")
    rsps.add(responses.GET, cbr.DYNAMIC_URL, body=body[:300], content_type=XML)
    with pytest.raises(FetchError, match="body is not valid XML, truncated"):
        cbr.fetch(dt.date(2024, 1, 30), data_root)
    assert tree(data_root) == {}


def test_a_wrong_document_is_refused() -> None:
    other = ET.fromstring(recorded("cbr_XML_dynamic_R01239.xml"))
    with pytest.raises(FetchError, match="rates for R01239, asked for R01235"):
        cbr.parse_dynamic(other, "R01235", "t")
    with pytest.raises(FetchError, match="root element is <html>"):
        cbr.parse_dynamic(ET.fromstring(b"<html><body>maintenance</body></html>"), "R01235", "t")
