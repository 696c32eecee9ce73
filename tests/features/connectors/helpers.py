"""Helpers shared by the connector tests (recorded responses, file-tree snapshots)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import responses

RECORDED = Path(__file__).parent / "recorded"
#: the pinned "now" of every fetch unless a test pins another
NOW = dt.datetime(2024, 4, 15, 12, 30, 5, tzinfo=dt.UTC)


def recorded(name: str) -> bytes:
    """The bytes of one recorded response."""
    return (RECORDED / name).read_bytes()


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (to prove nothing changed)."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def statuses(mock: responses.RequestsMock) -> list[int | None]:
    """HTTP status of each call the mock answered (``None`` for a refused connection)."""
    return [getattr(c.response, "status_code", None) for c in mock.calls]


def sent_url(mock: responses.RequestsMock, i: int = 0) -> str:
    """The full URL of the ``i``-th request."""
    return str(mock.calls[i].request.url)


def sent_body(mock: responses.RequestsMock, i: int = -1) -> bytes:
    """The body of the ``i``-th request."""
    body = mock.calls[i].request.body
    return body.encode() if isinstance(body, str) else bytes(body or b"")
