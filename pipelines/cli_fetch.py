"""``sanctioncast data fetch SOURCE [--since DATE]``: download a source's current release.

The command function for the CLI app; it validates its input, calls
:func:`features.connectors.fetch_source` and returns a summary dict (what was stored, where, how
many rows). Wire it with ``data_app.command("fetch")(fetch_command)``; errors are
:class:`~features.errors.InputError` (``FetchError`` is one), one line each, which the CLI turns
into ``error: ...`` and exit code 2.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import typer

from features.connectors import SOURCES, fetch_source
from features.errors import InputError

log = logging.getLogger(__name__)


def parse_since(text: str | None, today: dt.date | None = None) -> dt.date | None:
    """``YYYY-MM-DD`` or ``YYYY-MM`` (the first of the month) as a date, not in the future."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    try:
        when = dt.date.fromisoformat(raw + "-01") if len(raw) == 7 else dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"--since {text!r} is not a date YYYY-MM-DD or a month YYYY-MM") from None
    if when > (today or dt.date.today()):
        raise InputError(f"--since {when.isoformat()} is in the future")
    return when


def fetch_command(
    source: Annotated[str, typer.Argument(help=f"one of: {', '.join(sorted(SOURCES))}")],
    since: Annotated[
        str | None,
        typer.Option("--since", help="first date to request: YYYY-MM-DD or YYYY-MM"),
    ] = None,
) -> dict[str, Any]:
    """Download SOURCE's current release into a new vintage under data/<source>/fetched/."""
    name = source.strip().lower()
    if name not in SOURCES:
        raise InputError(f"unknown source {source!r}; known: {', '.join(sorted(SOURCES))}")
    result = fetch_source(name, parse_since(since))
    summary = result.summary()
    log.info(
        "fetched %s: %d rows in %d file(s) -> %s",
        name,
        summary["rows"],
        summary["files"],
        summary["path"],
    )
    return summary
