"""Live connectors: download a source's current release as a new, validated vintage.

One module per source, each with ``fetch(since, data_root, session) -> FetchResult``:

=========  ======================================================  ===========================
name       what                                                    registers as a release of
=========  ======================================================  ===========================
comtrade   UN Comtrade mirror exports to Russia, HS 8541/8542      ``comtrade_mirror`` (new)
rosstat    Rosstat production-index workbooks, annual + quarterly  ``rosstat_production_*``
cbr        Bank of Russia USD/EUR/CNY rates and key rate           ``cbr_macro`` (rate series)
eurostat   Eurostat Comext EU27 exports to five partners           ``eurostat_comext_exports``
=========  ======================================================  ===========================

Downloads are stored unchanged under ``data/<name>/fetched/<retrieved_at>/`` with a manifest, and
published atomically only once every response has been received and validated
(:mod:`features.connectors.store`); ``features.catalog.load`` discovers them from the manifests.
HTTP, retries and error messages live in :mod:`features.connectors._http`.

Nothing here is imported by ``features.catalog`` except the store, so importing the catalog does
not import the connectors.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from features.connectors._http import FetchError
from features.connectors.store import FetchResult, resolve_root
from features.errors import InputError

if TYPE_CHECKING:
    import requests

#: connector name -> module (imported when used)
SOURCES: dict[str, str] = {
    "cbr": "features.connectors.cbr",
    "comtrade": "features.connectors.comtrade",
    "eurostat": "features.connectors.eurostat",
    "rosstat": "features.connectors.rosstat",
}

__all__ = ["SOURCES", "FetchError", "FetchResult", "fetch_source"]


def fetch_source(
    name: str,
    since: dt.date | None = None,
    data_root: Path | None = None,
    session: requests.Session | None = None,
) -> FetchResult:
    """Fetch one source into a new vintage.

    Parameters
    ----------
    name : one of :data:`SOURCES` (case-insensitive).
    since : first date to ask for; each connector documents how it uses it.
    data_root : the data folder; default ``features.catalog.data_dir()``.
    session : a ``requests.Session`` to send with (tests mount recorded responses on one).

    Raises
    ------
    InputError
        Unknown source or bad ``since``.
    FetchError
        The download failed or did not validate; earlier vintages are untouched.
    """
    key = name.strip().lower()
    if key not in SOURCES:
        raise InputError(f"unknown source {name!r}; known: {', '.join(sorted(SOURCES))}")
    module = importlib.import_module(SOURCES[key])
    result: FetchResult = module.fetch(
        since=since, data_root=resolve_root(data_root), session=session
    )
    return result
