"""``sanctioncast data fetch``: input checks, the summary, and the typer wiring."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import responses
import typer
from typer.testing import CliRunner

from features.connectors import eurostat
from features.errors import InputError
from pipelines.cli_fetch import fetch_command, parse_since
from tests.features.connectors.helpers import recorded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("2024-03", dt.date(2024, 3, 1)),
        (" 2024-03-15 ", dt.date(2024, 3, 15)),
    ],
)
def test_since_accepts_a_date_or_a_month(text: str | None, expected: dt.date | None) -> None:
    assert parse_since(text, today=dt.date(2024, 4, 15)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-13", "not a date YYYY-MM-DD or a month YYYY-MM"),
        ("March 2024", "not a date"),
        ("2024-05-01", "is in the future"),
    ],
)
def test_bad_since_is_one_input_error(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_since(text, today=dt.date(2024, 4, 15))


def test_unknown_source_names_the_known_ones() -> None:
    with pytest.raises(InputError, match="unknown source 'imf'; known: cbr, comtrade, eurostat"):
        fetch_command("imf", None)


@pytest.fixture
def served(rsps: responses.RequestsMock, data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SANCTIONCAST_DATA_DIR", str(data_root))
    rsps.add(
        responses.GET,
        eurostat.API_URL,
        body=recorded("eurostat_DS-045409_exports_2023-05.json"),
        content_type="application/json",
    )
    return data_root


def test_fetch_command_returns_a_serialisable_summary(served: Path) -> None:
    summary = fetch_command("Eurostat", "2023-05")
    assert summary["source"] == "eurostat"
    assert summary["rows"] == 15
    assert summary["registered"] == ["eurostat_comext_exports"]
    assert Path(summary["path"]).parent == served / "eurostat" / "fetched"
    json.dumps(summary)


def test_the_command_runs_under_typer(served: Path) -> None:
    app = typer.Typer()
    data = typer.Typer()
    data.command("fetch")(fetch_command)
    app.add_typer(data, name="data")
    runner = CliRunner()

    ok = runner.invoke(app, ["data", "fetch", "eurostat", "--since", "2023-05"])
    assert ok.exit_code == 0, ok.output
    assert len(list((served / "eurostat" / "fetched").iterdir())) == 1

    bad = runner.invoke(app, ["data", "fetch", "eurostat", "--since", "soon"])
    assert isinstance(bad.exception, InputError)
