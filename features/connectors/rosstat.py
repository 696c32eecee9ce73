"""Rosstat production indices: download the current annual and quarterly workbooks.

Rosstat publishes the OKVED2 production indices as xlsx files in its media bank and links them
from the industrial-production section page (the ``url`` of both Rosstat sources in
``data/catalog.yml``). The file names carry the base year and, in later releases, the release
period (``ind_god_2015_2025.xlsx``, ``ind_baza_2018_4kv.xlsx``, ``ind_baza_2018_12-2025.xlsx``,
``ind_baza_2023_05-2026.xlsx`` are names seen in the wild), so a fixed URL goes stale. A fetch:

1. takes the URL of each kind from the environment if set (``SANCTIONCAST_ROSSTAT_ANNUAL_URL``,
   ``SANCTIONCAST_ROSSTAT_QUARTERLY_URL``);
2. otherwise reads :data:`SECTION_URL` and takes the newest link matching the kind's file-name
   pattern (:data:`PATTERNS`);
3. otherwise falls back to :data:`FALLBACK_URLS`, the media-bank URLs of the file names the
   project's embedded copies carry. **These URLs are not confirmed**: this machine cannot reach
   rosstat.gov.ru and no stored copy of the section page was available; they follow the media-bank
   pattern ``https://rosstat.gov.ru/storage/mediabank/<file>`` seen in public code.

Each workbook is checked with the project's own parser before the vintage is accepted: every
expected sheet must parse with :func:`features.rosstat.read_rosstat_sheet`, have the expected
frequency, and hold values for OKVED2 code 26. The vintage registers the catalog sources
``rosstat_production_annual`` and ``rosstat_production_quarterly`` (same loaders as the embedded
copies), with the retrieval date as release date.

Monthly workbooks are not fetched: their layout (months as columns) is not one
``read_rosstat_sheet`` parses, so a download could not be validated as required, and no
documented URL for them was confirmed. ``since`` does not apply (Rosstat publishes whole files).

rosstat.gov.ru serves a certificate chain that some systems do not trust (the Russian national
CA); point ``REQUESTS_CA_BUNDLE`` at a bundle that includes it rather than disabling verification.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit

import numpy as np
import requests

from features import rosstat as parser
from features.connectors._http import FetchError, new_session, request
from features.connectors.store import FetchResult, VintageWriter, resolve_root
from features.errors import InputError

log = logging.getLogger(__name__)

SOURCE = "rosstat"
Kind = Literal["annual", "quarterly"]
KINDS: tuple[Kind, ...] = ("annual", "quarterly")

SECTION_URL = "https://rosstat.gov.ru/enterprise_industrial"
MEDIABANK_URL = "https://rosstat.gov.ru/storage/mediabank/"
#: unconfirmed fallbacks (see the module docstring); override with the environment variables
FALLBACK_URLS: dict[Kind, str] = {
    "annual": MEDIABANK_URL + "ind_god_2015_2025.xlsx",
    "quarterly": MEDIABANK_URL + "ind_baza_2018_4kv.xlsx",
}
URL_ENV: dict[Kind, str] = {
    "annual": "SANCTIONCAST_ROSSTAT_ANNUAL_URL",
    "quarterly": "SANCTIONCAST_ROSSTAT_QUARTERLY_URL",
}
#: file-name patterns of the current workbooks (case-insensitive, on the URL's last segment)
PATTERNS: dict[Kind, re.Pattern[str]] = {
    "annual": re.compile(r"^ind_god[_-]?(\d{4})[_-](\d{4})\.xlsx$", re.IGNORECASE),
    "quarterly": re.compile(r"^ind_baza[_-](\d{4})[_-]([1-4])[_-]?kv(?:[_-](\d{4}))?\.xlsx$", re.I),
}
#: catalog source id each kind registers
CATALOG_SOURCES: dict[Kind, str] = {
    "annual": "rosstat_production_annual",
    "quarterly": "rosstat_production_quarterly",
}
#: sheets each workbook must have, and the frequency the parser must find in them
SHEETS: dict[Kind, tuple[str, ...]] = {"annual": ("1",), "quarterly": ("1", "2")}
FREQ: dict[Kind, str] = {"annual": "A", "quarterly": "Q"}
CHECK_CODE = "26"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)


def file_name(url: str) -> str:
    """The last path segment of a URL, percent-decoded."""
    return unquote(PurePosixPath(urlsplit(url).path).name)


def _rank(kind: Kind, name: str) -> tuple[int, ...]:
    m = PATTERNS[kind].match(name)
    if m is None:
        return ()
    if kind == "annual":  # ind_god_2015_2025: the later end year is newer
        return (int(m.group(2)), int(m.group(1)))
    base, quarter, release = int(m.group(1)), int(m.group(2)), m.group(3)
    # ind_baza_2018_4kv-2025 < ind_baza_2023_1kv-2026; a name without release year ranks by base
    return (int(release) if release else base, quarter, base)


def pick_links(html: str, base_url: str = SECTION_URL) -> dict[Kind, str]:
    """The newest workbook link of each kind found in the section page's HTML."""
    links = _Links()
    links.feed(html)
    best: dict[Kind, tuple[tuple[int, ...], str]] = {}
    for href in links.hrefs:
        url = urljoin(base_url, href.strip())
        name = file_name(url)
        for kind in KINDS:
            rank = _rank(kind, name)
            if rank and (kind not in best or rank > best[kind][0]):
                best[kind] = (rank, url)
    return {kind: url for kind, (_, url) in best.items()}


def resolve_urls(session: requests.Session) -> dict[Kind, str]:
    """URL of each workbook: environment override, else the section page, else the fallback."""
    urls: dict[Kind, str] = {}
    for kind in KINDS:
        override = os.environ.get(URL_ENV[kind], "").strip()
        if override:
            log.info("%s: %s workbook from %s=%s", SOURCE, kind, URL_ENV[kind], override)
            urls[kind] = override
    missing = [k for k in KINDS if k not in urls]
    if not missing:
        return urls
    page = request(SOURCE, SECTION_URL, session=session, expect="html")
    found = pick_links(page.text(), SECTION_URL)
    for kind in missing:
        if kind in found:
            log.info("%s: %s workbook linked from the section page: %s", SOURCE, kind, found[kind])
            urls[kind] = found[kind]
        else:
            log.warning(
                "%s: no %s workbook link on %s; trying the unconfirmed fallback %s (set %s to "
                "override)",
                SOURCE,
                kind,
                SECTION_URL,
                FALLBACK_URLS[kind],
                URL_ENV[kind],
            )
            urls[kind] = FALLBACK_URLS[kind]
    return urls


def check_workbook(path: Path, kind: Kind, where: str) -> int:
    """Parse a downloaded workbook with the project's parser; return the number of values.

    Raises ``FetchError`` if a sheet does not parse, has the wrong frequency, or has no values
    for OKVED2 code 26.
    """
    n = 0
    for sheet in SHEETS[kind]:
        try:
            table = parser.read_rosstat_sheet(path, sheet)
            row = table.row(CHECK_CODE)
        except InputError as exc:
            raise FetchError(
                f"{where}: not a {kind} production-index workbook the parser accepts ({exc})"
            ) from exc
        if table.freq != FREQ[kind]:
            raise FetchError(
                f"{where}: sheet {sheet!r} is {table.freq}-frequency, expected {FREQ[kind]} "
                f"for the {kind} workbook"
            )
        finite = int(np.isfinite(row.to_numpy(dtype=float)).sum())
        if finite == 0:
            raise FetchError(f"{where}: sheet {sheet!r} has no values for OKVED2 {CHECK_CODE}")
        n += int(np.isfinite(table.values.to_numpy(dtype=float)).sum())
    return n


def fetch(
    since: dt.date | None = None,
    data_root: Path | None = None,
    session: requests.Session | None = None,
) -> FetchResult:
    """Download the current annual and quarterly production-index workbooks.

    Parameters
    ----------
    since : ignored (Rosstat publishes whole files); recorded in the manifest.
    data_root : the data folder; default ``features.catalog.data_dir()``.
    session : a ``requests.Session`` (tests mount recorded responses on one).

    Returns
    -------
    FetchResult
        The new vintage under ``data/rosstat/fetched/``, registering
        ``rosstat_production_annual`` and ``rosstat_production_quarterly``.
    """
    root = resolve_root(data_root)
    if since is not None:
        log.info("%s: --since does not apply, Rosstat publishes whole workbooks", SOURCE)
    own = session is None
    sess = session or new_session()
    try:
        urls = resolve_urls(sess)
        names = {kind: file_name(url) for kind, url in urls.items()}
        if names["annual"] == names["quarterly"]:
            raise FetchError(
                f"{SOURCE}: annual and quarterly resolve to one file {names['annual']}"
            )
        values = 0
        with VintageWriter(root, SOURCE, since=since) as writer:
            for kind in KINDS:
                dl = request(SOURCE, urls[kind], session=sess, expect="xlsx")
                name = names[kind] if names[kind].lower().endswith(".xlsx") else f"{kind}.xlsx"
                path = writer.add(name, dl)
                values += check_workbook(path, kind, dl.where)
                writer.register(
                    CATALOG_SOURCES[kind],
                    name,
                    note=f"fetched from {urls[kind]} on {writer.retrieved_at:%Y-%m-%d %H:%M} UTC",
                )
            return writer.commit(
                rows=values,
                meta={"annual_url": urls["annual"], "quarterly_url": urls["quarterly"]},
            )
    finally:
        if own:
            sess.close()
