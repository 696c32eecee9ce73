"""The fetched-vintage store: manifest contents, atomic publication, discovery for the catalog."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from features.connectors._http import Download, FetchError
from features.connectors.store import (
    VintageWriter,
    list_vintages,
    read_manifest,
    registered_vintages,
)
from features.connectors.store import utcnow as _real_utcnow
from features.errors import InputError
from tests.features.connectors.helpers import NOW, tree


def _download(body: bytes = b"<x/>", **params: str) -> Download:
    return Download(
        source="demo",
        url="https://example.org/api",
        params=dict(params),
        status=200,
        content=body,
        content_type="application/xml",
        headers={"Last-Modified": "Mon, 15 Apr 2024 10:00:00 GMT"},
    )


def _one_vintage(root: Path, body: bytes = b"<x/>") -> Path:
    with VintageWriter(root, "demo", since=dt.date(2024, 1, 1)) as w:
        w.add("a.xml", _download(body, q="1"))
        w.register("demo_source", "a.xml", note="first")
        return w.commit(rows=3, meta={"k": "v"}).path


def test_commit_writes_files_and_a_complete_manifest(data_root: Path) -> None:
    with VintageWriter(data_root, "demo", since=dt.date(2024, 1, 1)) as w:
        w.add("a.xml", _download(b"<a>1</a>", date_req1="01/01/2024"))
        w.register("demo_source", "a.xml", note="first fetch")
        result = w.commit(rows=1, meta={"endpoint": "x"})

    assert result.path == data_root / "demo" / "fetched" / "20240415T123005Z"
    assert (result.path / "a.xml").read_bytes() == b"<a>1</a>"
    m = read_manifest(result.path)
    assert m["source"] == "demo"
    assert m["retrieved_at"] == "2024-04-15T12:30:05Z"
    assert m["since"] == "2024-01-01"
    (f,) = m["files"]
    assert f["url"] == "https://example.org/api"
    assert f["params"] == {"date_req1": "01/01/2024"}
    assert f["sha256"] == hashlib.sha256(b"<a>1</a>").hexdigest()
    assert f["bytes"] == len(b"<a>1</a>")
    assert m["registers"]["demo_source"] == {
        "release": "2024-04-15",
        "path": "demo/fetched/20240415T123005Z/a.xml",
        "sha256": f["sha256"],
        "note": "first fetch",
    }
    assert result.summary()["rows"] == 1
    assert result.summary()["endpoint"] == "x"
    json.dumps(result.summary())  # serialisable for the CLI
    assert not [p for p in (data_root / "demo" / "fetched").iterdir() if p.name.startswith(".")]


def test_a_failed_fetch_leaves_earlier_vintages_untouched(data_root: Path, set_now) -> None:
    first = _one_vintage(data_root)
    before = tree(data_root)
    set_now(NOW + dt.timedelta(days=1))

    with (
        pytest.raises(RuntimeError, match="validation failed"),
        VintageWriter(data_root, "demo") as w,
    ):
        w.add("a.xml", _download(b"<new/>"))
        w.add("b.xml", _download(b"<half"))
        raise RuntimeError("validation failed")

    assert tree(data_root) == before
    assert list_vintages(data_root, "demo") == [first]
    assert [p.name for p in (data_root / "demo" / "fetched").iterdir()] == [first.name]


def test_two_fetches_in_one_second_get_two_directories(data_root: Path) -> None:
    a = _one_vintage(data_root)
    b = _one_vintage(data_root, body=b"<y/>")
    assert a != b
    assert b.name == f"{a.name}-2"
    assert list_vintages(data_root, "demo") == [a, b]


def test_a_secret_never_reaches_disk(data_root: Path) -> None:
    secret = "s3cr3t-KEY-0123456789"
    with (
        pytest.raises(FetchError, match="refusing to store") as err,
        VintageWriter(data_root, "demo", secrets=[secret]) as w,
    ):
        w.add("a.json", _download(b"{}", key=secret))
        w.commit(rows=0)
    assert secret not in str(err.value)
    assert tree(data_root) == {}

    with (
        pytest.raises(FetchError, match=r"refusing to store: a\.json holds a secret"),
        VintageWriter(data_root, "demo", secrets=[secret]) as w,
    ):
        w.add("a.json", _download(f'{{"echo": "{secret}"}}'.encode()))
        w.commit(rows=0)
    assert tree(data_root) == {}


def test_registered_vintages_are_found_sorted_and_deduplicated_per_day(
    data_root: Path, set_now
) -> None:
    set_now(dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC))
    _one_vintage(data_root)
    set_now(dt.datetime(2024, 5, 1, 18, 0, tzinfo=dt.UTC))  # same day, later: replaces
    late = _one_vintage(data_root, body=b"<late/>")
    set_now(dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC))
    early = _one_vintage(data_root, body=b"<early/>")

    found = registered_vintages(data_root, "demo_source")
    assert [e["release"] for e in found] == ["2024-03-01", "2024-05-01"]
    assert found[0]["path"].startswith(f"demo/fetched/{early.name}/")
    assert found[1]["path"].startswith(f"demo/fetched/{late.name}/")
    assert registered_vintages(data_root, "other_source") == []


def test_serves_and_unknown_loaders_filter_registrations(
    data_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with VintageWriter(data_root, "demo") as w:
        w.add("a.xml", _download())
        w.register(
            "demo_source", None, note="n", loader="demo_loader", serves={"column": ["rate_usd"]}
        )
        w.commit(rows=1)

    assert registered_vintages(data_root, "demo_source", params={"column": "cpi_yoy"}) == []
    (entry,) = registered_vintages(data_root, "demo_source", params={"column": "rate_usd"})
    assert entry["loader"] == "demo_loader"
    assert entry["path"] == "demo/fetched/20240415T123005Z"
    assert "serves" not in entry
    assert (
        registered_vintages(
            data_root, "demo_source", params={"column": "rate_usd"}, loaders={"other"}
        )
        == []
    )
    assert "needs loader 'demo_loader'" in caplog.text


def test_partial_directories_and_missing_files_are_not_vintages(data_root: Path) -> None:
    v = _one_vintage(data_root)
    (data_root / "demo" / "fetched" / ".partial-x").mkdir()
    (v / "a.xml").unlink()
    assert registered_vintages(data_root, "demo_source") == []


def test_a_broken_manifest_is_named(data_root: Path) -> None:
    v = _one_vintage(data_root)
    (v / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"manifest\.json: manifest is not valid JSON"):
        registered_vintages(data_root, "demo_source")


def test_the_real_clock_is_aware_utc() -> None:
    # bound at import, before the autouse fixture pins store.utcnow
    now = _real_utcnow()
    assert now.utcoffset() == dt.timedelta(0)
