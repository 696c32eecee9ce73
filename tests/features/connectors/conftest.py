"""Fixtures for the connector tests: recorded responses, a pinned clock, no waits, no network.

``rsps`` activates ``responses`` for every ``requests`` session, so a request to a URL no test
registered fails as a connection error instead of reaching the network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import responses

from features.connectors import _http, store
from tests.features.connectors.helpers import NOW


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits (recorded, not slept), a fixed clock, no key or URL overrides from the env."""
    waits: list[float] = []
    monkeypatch.setattr(_http, "_sleep", waits.append)
    monkeypatch.setattr(store, "utcnow", lambda: NOW)
    for var in (
        "COMTRADE_API_KEY",
        "SANCTIONCAST_ROSSTAT_ANNUAL_URL",
        "SANCTIONCAST_ROSSTAT_QUARTERLY_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    return waits


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def set_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.datetime], None]:
    """Pin the fetch clock to another time."""

    def _set(when: dt.datetime) -> None:
        monkeypatch.setattr(store, "utcnow", lambda: when)

    return _set
