"""Rosstat connector on recorded responses: link discovery, parser validation, errors."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import openpyxl
import pytest
import responses

from features.connectors import rosstat
from features.connectors._http import FetchError
from features.connectors.store import list_vintages, read_manifest
from features.rosstat import annual_growth, quarterly_growth
from tests.features.connectors.helpers import recorded, sent_url, tree

PAGE = "rosstat_enterprise_industrial.html"
ANNUAL = "rosstat_ind_god_2015_2025.xlsx"
QUARTERLY = "rosstat_ind_baza_2018_4kv.xlsx"
ANNUAL_URL = rosstat.MEDIABANK_URL + "ind_god_2015_2025.xlsx"
QUARTERLY_URL = rosstat.MEDIABANK_URL + "ind_baza_2018_4kv.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
C26_ANNUAL = [105.8, 102.8, 100.2, 103.0, 110.6, 103.3, 109.9, 109.4, 139.4, 126.4, 111.7]


def _serve(rsps: responses.RequestsMock, annual: bytes | None = None, **kw) -> None:
    rsps.add(responses.GET, rosstat.SECTION_URL, body=recorded(PAGE), content_type="text/html")
    rsps.add(responses.GET, ANNUAL_URL, body=annual or recorded(ANNUAL), content_type=XLSX)
    rsps.add(responses.GET, QUARTERLY_URL, body=recorded(QUARTERLY), content_type=XLSX, **kw)


def test_newest_links_are_picked_from_the_section_page() -> None:
    links = rosstat.pick_links(recorded(PAGE).decode(), rosstat.SECTION_URL)
    # 2015_2025 beats 2015_2024; the monthly ind_baza_2018_12-2025 is not a quarterly file
    assert links == {"annual": ANNUAL_URL, "quarterly": QUARTERLY_URL}


@pytest.mark.parametrize(
    ("names", "newest"),
    [
        (["ind_baza_2018_4kv.xlsx", "ind_baza_2018_4kv-2025.xlsx"], "ind_baza_2018_4kv-2025.xlsx"),
        (
            ["ind_baza_2018_4kv-2025.xlsx", "ind_baza_2023_1kv-2026.xlsx"],
            "ind_baza_2023_1kv-2026.xlsx",
        ),
        (
            ["ind_baza_2023_1kv-2026.xlsx", "ind_baza_2023_2kv-2026.xlsx"],
            "ind_baza_2023_2kv-2026.xlsx",
        ),
    ],
)
def test_quarterly_file_names_rank_by_release(names: list[str], newest: str) -> None:
    html = "".join(f'<a href="/storage/mediabank/{n}">x</a>' for n in names)
    assert rosstat.pick_links(html)["quarterly"] == rosstat.MEDIABANK_URL + newest


def test_fetch_validates_with_the_parser_and_registers_both_sources(
    rsps: responses.RequestsMock, data_root: Path
) -> None:
    _serve(rsps)
    result = rosstat.fetch(None, data_root)

    assert [f.name for f in result.files] == ["ind_god_2015_2025.xlsx", "ind_baza_2018_4kv.xlsx"]
    assert (result.path / "ind_god_2015_2025.xlsx").read_bytes() == recorded(ANNUAL)
    assert annual_growth(result.path / "ind_god_2015_2025.xlsx", "26").tolist() == C26_ANNUAL
    qoq, yoy = quarterly_growth(result.path / "ind_baza_2018_4kv.xlsx", "26")
    assert qoq["2021Q4"] == 159.2
    assert yoy["2023Q3"] == 150.8
    # sheet 1 of the annual file: 4 codes x 11 years; quarterly sheets 1 and 2: 4 codes x 20
    assert result.rows == 4 * 11 + 2 * 4 * 20
    m = read_manifest(result.path)
    assert m["registers"]["rosstat_production_annual"]["path"] == (
        f"rosstat/fetched/{result.vintage}/ind_god_2015_2025.xlsx"
    )
    assert m["registers"]["rosstat_production_quarterly"]["release"] == "2024-04-15"
    assert "loader" not in m["registers"]["rosstat_production_annual"]  # the series' own loaders
    assert m["files"][0]["url"] == ANNUAL_URL


def test_environment_overrides_skip_the_section_page(
    rsps: responses.RequestsMock, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, q = (
        "https://mirror.example.org/a/ind_god_2015_2025.xlsx",
        "https://mirror.example.org/q.xlsx",
    )
    monkeypatch.setenv("SANCTIONCAST_ROSSTAT_ANNUAL_URL", a)
    monkeypatch.setenv("SANCTIONCAST_ROSSTAT_QUARTERLY_URL", q)
    rsps.add(responses.GET, a, body=recorded(ANNUAL), content_type=XLSX)
    rsps.add(responses.GET, q, body=recorded(QUARTERLY), content_type=XLSX)
    result = rosstat.fetch(None, data_root)
    assert [sent_url(rsps, i) for i in range(len(rsps.calls))] == [a, q]
    assert [f.name for f in result.files] == ["ind_god_2015_2025.xlsx", "q.xlsx"]


def test_a_page_without_links_falls_back_with_a_warning(
    rsps: responses.RequestsMock, data_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rsps.add(
        responses.GET,
        rosstat.SECTION_URL,
        body="<html><p>moved</p></html>",
        content_type="text/html",
    )
    rsps.add(responses.GET, ANNUAL_URL, body=recorded(ANNUAL), content_type=XLSX)
    rsps.add(responses.GET, QUARTERLY_URL, body=recorded(QUARTERLY), content_type=XLSX)
    with caplog.at_level(logging.WARNING):
        rosstat.fetch(None, data_root)
    assert "unconfirmed fallback" in caplog.text
    assert "SANCTIONCAST_ROSSTAT_QUARTERLY_URL" in caplog.text


def test_http_error_on_one_workbook_stores_nothing(
    rsps: responses.RequestsMock, data_root: Path
) -> None:
    _serve(rsps)
    rsps.replace(responses.GET, QUARTERLY_URL, status=404, body="<html>Not Found</html>")
    with pytest.raises(FetchError, match=r"^rosstat: HTTP 404 Not Found from .*ind_baza_2018_4kv"):
        rosstat.fetch(None, data_root)
    assert list_vintages(data_root, "rosstat") == []
    assert tree(data_root) == {}


def test_a_truncated_workbook_is_refused(rsps: responses.RequestsMock, data_root: Path) -> None:
    _serve(rsps, annual=recorded(ANNUAL)[:3000])
    with pytest.raises(FetchError, match="not an xlsx workbook, truncated or an error page"):
        rosstat.fetch(None, data_root)
    assert tree(data_root) == {}


def _other_table() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "1"
    ws.append(["Численность населения"])
    ws.append(["Регион", "2024"])
    ws.append(["Российская Федерация", 146.1])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_workbook_the_parser_rejects_is_refused_and_earlier_vintages_stay(
    rsps: responses.RequestsMock, data_root: Path, set_now
) -> None:
    import datetime as dt

    _serve(rsps)
    first = rosstat.fetch(None, data_root)
    before = tree(data_root)

    set_now(dt.datetime(2024, 5, 15, tzinfo=dt.UTC))
    rsps.replace(responses.GET, QUARTERLY_URL, body=_other_table(), content_type=XLSX)
    with pytest.raises(FetchError, match="not a quarterly production-index workbook the parser"):
        rosstat.fetch(None, data_root)
    assert tree(data_root) == before
    assert list_vintages(data_root, "rosstat") == [first.path]

    # an annual workbook served where the quarterly one belongs: wrong frequency
    rsps.replace(responses.GET, QUARTERLY_URL, body=recorded(ANNUAL), content_type=XLSX)
    with pytest.raises(FetchError, match=r"no sheet '2'|expected Q"):
        rosstat.fetch(None, data_root)
    assert tree(data_root) == before
