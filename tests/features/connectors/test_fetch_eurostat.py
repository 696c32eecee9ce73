"""Eurostat Comext connector on a recorded JSON-stat response holding real values."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import responses
from responses import matchers

from features.connectors import eurostat
from features.connectors._http import FetchError
from features.connectors.store import list_vintages, read_manifest
from features.errors import InputError
from tests.features.connectors.helpers import recorded, sent_url, tree

GOOD = "eurostat_DS-045409_exports_2023-05.json"
EMBEDDED = Path(__file__).parents[3] / "data" / "eurostat" / "eu27_exports_total_monthly.csv"


def _serve(rsps: responses.RequestsMock, body: bytes | None = None, **kw) -> None:
    rsps.add(
        responses.GET,
        eurostat.API_URL,
        body=body if body is not None else recorded(GOOD),
        content_type="application/json",
        match=[matchers.query_param_matcher(eurostat.query(dt.date(2023, 5, 1)))],
        **kw,
    )


def test_fetch_parses_the_right_values(rsps: responses.RequestsMock, data_root: Path) -> None:
    _serve(rsps)
    result = eurostat.fetch(dt.date(2023, 5, 1), data_root)

    assert result.rows == 15  # 5 partners x 3 months; the empty 2023-08 slot is not a value
    assert result.meta["dataset_updated"] == "2023-09-15T23:00:00+0200"
    assert (result.meta["first_period"], result.meta["last_period"]) == ("2023-05", "2023-07")
    url = sent_url(rsps)
    assert "partner=AM&partner=GE&partner=KG&partner=RU&partner=UZ" in url
    assert "sinceTimePeriod=2023-05" in url

    kg = eurostat.load_exports(result.path, "Kyrgyzstan")
    assert kg["2023-06"] == 246848939.0  # EUR 246.8M, PROVENANCE.md's example
    assert eurostat.load_exports(result.path, "KG").equals(kg)
    ru = eurostat.load_exports(result.path / eurostat.FILE, "Russian Federation (Russia)")
    assert ru.tolist() == [3059133119.0, 3053582572.0, 2981951914.0]
    total = eurostat.load_exports(result.path)
    assert total["2023-07"] == 169712890 + 279600814 + 213086997 + 2981951914 + 388773750
    with pytest.raises(InputError, match="partner 'Narnia' is not one of"):
        eurostat.load_exports(result.path, "Narnia")

    entry = read_manifest(result.path)["registers"]["eurostat_comext_exports"]
    assert entry["loader"] == "eurostat_comext"
    assert entry["path"] == f"eurostat/fetched/{result.vintage}/{eurostat.FILE}"


def test_fetched_values_match_the_embedded_file(
    rsps: responses.RequestsMock, data_root: Path
) -> None:
    _serve(rsps)
    result = eurostat.fetch(dt.date(2023, 5, 1), data_root)
    embedded = pd.read_csv(EMBEDDED)
    embedded = embedded[embedded["month"].between("2023-05", "2023-07")]
    for name, group in embedded.groupby("partner"):
        fetched = eurostat.load_exports(result.path, str(name))
        assert fetched.tolist() == group["eu27_exports_eur"].astype(float).tolist(), name


def test_http_error_stores_nothing(rsps: responses.RequestsMock, data_root: Path) -> None:
    _serve(rsps, body=recorded("eurostat_error_400.json"), status=400)
    with pytest.raises(FetchError, match=r"^eurostat: HTTP 400 Bad Request .*No results found"):
        eurostat.fetch(dt.date(2023, 5, 1), data_root)
    assert list_vintages(data_root, "eurostat") == []
    assert tree(data_root) == {}


def test_an_answer_that_is_not_a_dataset(rsps: responses.RequestsMock, data_root: Path) -> None:
    warning = {"warning": {"status": 413, "label": "ASYNCHRONOUS_RESPONSE. Try again later."}}
    _serve(rsps, body=json.dumps(warning).encode())
    with pytest.raises(FetchError, match="Eurostat warning: 413 ASYNCHRONOUS_RESPONSE"):
        eurostat.fetch(dt.date(2023, 5, 1), data_root)
    assert tree(data_root) == {}


def test_truncated_bodies_are_refused(rsps: responses.RequestsMock, data_root: Path) -> None:
    body = recorded(GOOD)
    _serve(rsps, body=body[:-200])
    with pytest.raises(FetchError, match="not valid JSON, truncated"):
        eurostat.fetch(dt.date(2023, 5, 1), data_root)
    # well-formed but cut: a value position beyond the cube
    cube = json.loads(body)
    cube["size"][2] = 2
    cube["dimension"]["partner"]["category"]["index"] = {"AM": 0, "GE": 1}
    rsps.replace(responses.GET, eurostat.API_URL, json=cube)
    with pytest.raises(FetchError, match="outside the 8-cell cube"):
        eurostat.fetch(dt.date(2023, 5, 1), data_root)
    assert tree(data_root) == {}


def test_an_empty_dataset_is_an_error(rsps: responses.RequestsMock, data_root: Path) -> None:
    cube = json.loads(recorded(GOOD))
    cube["value"] = {}
    _serve(rsps, body=json.dumps(cube).encode())
    with pytest.raises(FetchError, match="no values since 2023-05"):
        eurostat.fetch(dt.date(2023, 5, 1), data_root)


def test_a_cube_not_asked_for_is_refused() -> None:
    cube = json.loads(recorded(GOOD))
    cube["dimension"]["flow"]["category"]["index"] = {"1": 0}
    with pytest.raises(FetchError, match="flow '1' was not asked for"):
        eurostat.parse_exports(cube, "t")
