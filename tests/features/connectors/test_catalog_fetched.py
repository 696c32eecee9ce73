"""Fetched vintages reach ``features.catalog.load`` through their manifests.

Each test builds a small catalog in a temporary data folder (``SANCTIONCAST_DATA_DIR``) over
copies of the embedded files, fetches from recorded responses, and loads.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import pytest
import responses
from responses import matchers

from features import catalog
from features.connectors import cbr, eurostat, rosstat
from features.loaders import LOADERS
from tests.features.connectors.helpers import recorded

EMBEDDED = Path(__file__).parents[3] / "data"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CATALOG = """
sources:
  rosstat_production_annual:
    publisher: Rosstat
    title: Production indices by OKVED2 activity, annual
    url: https://rosstat.gov.ru/enterprise_industrial
    licence: Rosstat official statistics, reuse with attribution
    card: rosstat/README.md
    vintages:
      - {release: 2026-02-06, path: rosstat/ind_god_2015_2025.xlsx}
  rosstat_production_quarterly:
    publisher: Rosstat
    title: Production indices by OKVED2 activity, quarterly
    url: https://rosstat.gov.ru/enterprise_industrial
    licence: Rosstat official statistics, reuse with attribution
    card: rosstat/README.md
    vintages:
      - {release: 2026-02-06, path: rosstat/ind_baza_2018_4kv.xlsx}
  cbr_macro:
    publisher: Bank of Russia and Rosstat
    title: Official rouble rates, key rate, CPI, monthly
    url: https://github.com/solovmm/fin_calc
    licence: official statistics, attribution
    card: cbr/README.md
    vintages:
      - {release: 2026-08-22, path: cbr/macro_monthly.json}
  eurostat_comext_exports:
    publisher: Eurostat (Comext), derived
    title: EU27 total goods exports to five partners, EUR, monthly
    url: https://github.com/mary-lev/eu-export-sanctions
    licence: Eurostat reuse policy, attribution
    card: eurostat/README.md
    vintages:
      - {release: 2026-11-27, path: eurostat/eu27_exports_total_monthly.csv}
series:
  c26_output_annual:
    {title: C26 annual level, unit: index, freq: A, source: rosstat_production_annual,
     loader: rosstat_annual_level, params: {code: "26"}}
  usd_rub:
    {title: USD/RUB, unit: RUB per USD, freq: M, source: cbr_macro, loader: cbr_monthly,
     params: {column: rate_usd}}
  cpi_yoy:
    {title: CPI y/y, unit: percent, freq: M, source: cbr_macro, loader: cbr_monthly,
     params: {column: cpi_yoy, start: "1992-01"}, positive: false}
  eu_exports_kyrgyzstan:
    {title: EU27 exports to Kyrgyzstan, unit: EUR, freq: M, source: eurostat_comext_exports,
     loader: eurostat_exports, params: {partner: Kyrgyzstan}}
templates:
  okved2_q:
    {title: "OKVED2 {code}, quarterly level", unit: index, freq: Q,
     source: rosstat_production_quarterly, loader: rosstat_quarterly_level}
"""


@pytest.fixture
def root(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for rel in (
        "rosstat/ind_god_2015_2025.xlsx",
        "rosstat/ind_baza_2018_4kv.xlsx",
        "cbr/macro_monthly.json",
        "eurostat/eu27_exports_total_monthly.csv",
    ):
        (data_root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EMBEDDED / rel, data_root / rel)
    (data_root / "catalog.yml").write_text(CATALOG, encoding="utf-8")
    monkeypatch.setenv("SANCTIONCAST_DATA_DIR", str(data_root))
    return data_root


def _serve_rosstat(rsps: responses.RequestsMock) -> None:
    page = recorded("rosstat_enterprise_industrial.html")
    rsps.add(responses.GET, rosstat.SECTION_URL, body=page, content_type="text/html")
    for name in ("ind_god_2015_2025.xlsx", "ind_baza_2018_4kv.xlsx"):
        body = recorded(f"rosstat_{name}")
        rsps.add(responses.GET, rosstat.MEDIABANK_URL + name, body=body, content_type=XLSX)


def _serve_cbr(rsps: responses.RequestsMock) -> None:
    for code in cbr.CURRENCIES.values():
        rsps.add(
            responses.GET,
            cbr.DYNAMIC_URL,
            body=recorded(f"cbr_XML_dynamic_{code}.xml"),
            content_type="application/xml",
            match=[matchers.query_param_matcher({"VAL_NM_RQ": code}, strict_match=False)],
        )
    rsps.add(responses.POST, cbr.DAILYINFO_URL, body=recorded("cbr_KeyRateXML.xml"))


def test_a_rosstat_fetch_becomes_the_latest_vintage(
    rsps: responses.RequestsMock, root: Path, set_now
) -> None:
    set_now(dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC))
    _serve_rosstat(rsps)
    fetched = rosstat.fetch(None, root)

    latest = catalog.load("c26_output_annual")
    assert latest.vintage.release == dt.date(2026, 11, 20)
    assert latest.path == fetched.path / "ind_god_2015_2025.xlsx"
    assert latest.metadata()["file"] == f"rosstat/fetched/{fetched.vintage}/ind_god_2015_2025.xlsx"
    assert "fetched from https://rosstat.gov.ru/storage/mediabank/" in latest.vintage.note

    before = catalog.load("c26_output_annual", vintage="2026-06-01")
    assert before.vintage.release == dt.date(2026, 2, 6)
    assert before.path == root / "rosstat/ind_god_2015_2025.xlsx"
    # the trimmed recording holds the same published numbers as the embedded workbook
    assert latest.values.equals(before.values)

    q = catalog.load("okved2_q:26")
    assert q.path.parent == fetched.path
    assert q.values["2021"].mean() == pytest.approx(100.0)


def test_a_cbr_fetch_serves_the_rate_series_only(
    rsps: responses.RequestsMock, root: Path, set_now, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert LOADERS[cbr.LOADER] is cbr.load_rates  # wired in features/loaders.py
    set_now(dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC))
    _serve_cbr(rsps)
    fetched = cbr.fetch(dt.date(2024, 1, 30), root)

    usd = catalog.load("usd_rub")
    assert usd.path == fetched.path
    assert usd.vintage.loader == "cbr_xml"
    assert usd.values.index.astype(str).tolist() == ["2024-01", "2024-02"]
    assert usd.values["2024-01"] == pytest.approx((89.6617 + 89.2589) / 2)

    cpi = catalog.load("cpi_yoy")  # not in a CBR fetch: the catalogued file serves it
    assert cpi.path == root / "cbr/macro_monthly.json"
    assert catalog.load("usd_rub", vintage="2026-09-01").path == root / "cbr/macro_monthly.json"


def test_a_fetched_vintage_whose_loader_is_not_wired_is_skipped(
    rsps: responses.RequestsMock,
    root: Path,
    set_now,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(LOADERS, cbr.LOADER, raising=False)
    set_now(dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC))
    _serve_cbr(rsps)
    cbr.fetch(dt.date(2024, 1, 30), root)
    with caplog.at_level(logging.WARNING):
        usd = catalog.load("usd_rub")
    assert usd.path == root / "cbr/macro_monthly.json"
    assert "needs loader 'cbr_xml', which is not registered" in caplog.text


def test_a_fetch_on_the_date_of_a_catalogued_release_wins_that_date(
    rsps: responses.RequestsMock, root: Path, set_now, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert LOADERS[eurostat.LOADER] is eurostat.load_exports
    set_now(dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC))  # the embedded file's release date
    rsps.add(
        responses.GET,
        eurostat.API_URL,
        body=recorded("eurostat_DS-045409_exports_2023-05.json"),
        content_type="application/json",
    )
    fetched = eurostat.fetch(dt.date(2023, 5, 1), root)

    kg = catalog.load("eu_exports_kyrgyzstan")
    assert kg.path == fetched.path / eurostat.FILE
    assert kg.vintage.release == dt.date(2026, 11, 27)
    assert kg.values["2023-06"] == 246848939.0
    assert kg.values.index.astype(str).tolist() == ["2023-05", "2023-06", "2023-07"]
