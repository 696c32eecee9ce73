"""Fetched vintages on disk, and how the catalog finds them.

Layout
------
Every fetch writes one new directory, never touching an earlier one::

    data/<source>/fetched/<retrieved_at>/      e.g. data/cbr/fetched/20261127T203015Z/
        <raw downloads, unchanged>             e.g. USD_R01235.xml, key_rate.xml
        manifest.json

``manifest.json`` records, for each file: the URL and query it came from (no secrets: keys travel
in headers), sha256, size, content type and a few response headers; for the vintage: the source,
``retrieved_at`` (UTC), ``since``, the number of parsed rows, and ``registers`` (below).

Atomicity
---------
:class:`VintageWriter` writes into a hidden sibling ``.partial-*`` directory and renames it to its
final name only in :meth:`VintageWriter.commit`, after every download has been received and
validated and the manifest written. Any exception before that removes the partial directory, so a
failed or partial download leaves the earlier vintages exactly as they were and adds nothing that
looks like a vintage. (``os.rename`` of a directory is atomic within one filesystem.)

Registration: discovery from manifests (chosen over a ``data/fetched.yml`` overlay)
-----------------------------------------------------------------------------------
A manifest's ``registers`` maps catalog source ids (``rosstat_production_annual``, ...) to the
file, or the whole vintage directory, that serves as that source's vintage, with its release date
(the UTC date it was retrieved: what was published by then), sha256, a note, the loader when the
files need another one than the catalog's series use (``Vintage.loader``), and optionally
``serves``, the series params it can answer (a CBR fetch serves ``column: rate_usd`` but not
``cpi_yoy``). :func:`registered_vintages` reads them at load time and
``features.catalog.load`` adds them to the series' candidate vintages, so
``load(series, vintage=...)`` sees fetched releases with no second file to keep in step.

Why discovery rather than an overlay file: the manifest is written inside the atomic rename, so a
vintage is either complete and registered or absent; there is no overlay that concurrent fetches
could corrupt or that could drift from the directories; deleting a vintage directory unregisters
it. Fetched releases never share a date among themselves (the last fetch of a day wins); one
fetched on the date of a catalogued release sorts after it. A registration naming a loader the
catalog does not know is skipped with a warning, and one for a source id the catalog does not
know is never consulted, so an unwired connector cannot break existing loads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from features.connectors._http import Download, FetchError
from features.errors import InputError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FETCHED = "fetched"
SCHEMA = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def resolve_root(data_root: Path | None) -> Path:
    """``data_root``, or the project's data folder (``features.catalog.data_dir()``)."""
    if data_root is not None:
        return Path(data_root)
    from features.catalog import data_dir  # lazy: features.catalog imports this module

    return data_dir()


def utcnow() -> dt.datetime:
    """Current UTC time (a function so tests can pin it)."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class StoredFile:
    """One raw download inside a vintage, as described in its manifest."""

    name: str
    url: str
    params: dict[str, Any]
    sha256: str
    bytes: int
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "params": self.params,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "content_type": self.content_type,
            "headers": self.headers,
        }


@dataclass(frozen=True)
class FetchResult:
    """What one fetch stored.

    Attributes
    ----------
    source : connector name (``comtrade``, ``rosstat``, ``cbr``, ``eurostat``).
    vintage : the vintage directory name, e.g. ``20261127T203015Z``.
    path : the vintage directory.
    retrieved_at : UTC time of the fetch.
    files : the stored raw downloads.
    rows : observations parsed from them (the validation count).
    registered : catalog source ids this vintage registers.
    meta : connector details (endpoint mode, periods covered, ...), JSON-serialisable.
    """

    source: str
    vintage: str
    path: Path
    retrieved_at: dt.datetime
    files: tuple[StoredFile, ...]
    rows: int
    registered: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """A flat, JSON-serialisable summary for the CLI."""
        return {
            "source": self.source,
            "vintage": self.vintage,
            "path": str(self.path),
            "retrieved_at": _iso(self.retrieved_at),
            "files": len(self.files),
            "bytes": sum(f.bytes for f in self.files),
            "rows": self.rows,
            "registered": list(self.registered),
            **self.meta,
        }


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class VintageWriter:
    """Collect one fetch's downloads in a hidden directory; publish them atomically on commit.

    Use as a context manager; leaving the block without :meth:`commit` (an exception, a failed
    validation) deletes everything written so far.

    Parameters
    ----------
    data_root : the data folder (``data/``).
    source : connector name; the vintage goes to ``data_root/source/fetched/``.
    since : the ``since`` the fetch was asked for (recorded in the manifest).
    secrets : values that must never reach disk; :meth:`commit` refuses if one appears in the
        manifest or in a stored file.
    """

    def __init__(
        self,
        data_root: Path,
        source: str,
        *,
        since: dt.date | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self.data_root = Path(data_root)
        self.source = source
        self.since = since
        self.retrieved_at = utcnow().replace(microsecond=0)
        self._secrets = tuple(s for s in secrets if s)
        self._base = self.data_root / source / FETCHED
        self._tmp: Path | None = None
        self._files: list[StoredFile] = []
        self._registers: dict[str, dict[str, Any]] = {}
        self._committed = False

    def __enter__(self) -> VintageWriter:
        self._base.mkdir(parents=True, exist_ok=True)
        stamp = self.retrieved_at.strftime("%Y%m%dT%H%M%SZ")
        self._tmp = Path(tempfile.mkdtemp(prefix=f".partial-{stamp}-", dir=self._base))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed and self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            if exc is not None:
                log.info("%s: fetch failed, nothing stored (%s)", self.source, exc)

    @property
    def staging(self) -> Path:
        """The hidden directory being filled (valid inside the ``with`` block)."""
        if self._tmp is None:
            raise RuntimeError("VintageWriter used outside its with-block")
        return self._tmp

    def add(self, name: str, download: Download) -> Path:
        """Store one download's body unchanged as ``name``; returns its staging path."""
        if not _NAME.match(name) or name == MANIFEST:
            raise ValueError(f"bad file name for a vintage: {name!r}")
        if any(f.name == name for f in self._files):
            raise ValueError(f"file {name!r} already stored in this vintage")
        path = self.staging / name
        path.write_bytes(download.content)
        self._files.append(
            StoredFile(
                name=name,
                url=download.url,
                params=download.params,
                sha256=hashlib.sha256(download.content).hexdigest(),
                bytes=len(download.content),
                content_type=download.content_type,
                headers=download.headers,
            )
        )
        return path

    def register(
        self,
        catalog_source: str,
        name: str | None,
        *,
        note: str,
        loader: str | None = None,
        serves: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Register this vintage as a release of ``catalog_source``.

        Parameters
        ----------
        catalog_source : the source id in ``data/catalog.yml``.
        name : the stored file that is the release, or ``None`` for the whole directory (a
            loader that reads several files).
        note : shown as the vintage note in metadata.
        loader : the loader name these files need, when it differs from the series' loader.
        serves : only series whose params match, e.g. ``{"column": ["rate_usd", ...]}``: for a
            source whose series this vintage cannot all provide. ``None``: every series.
        """
        if name is not None and not any(f.name == name for f in self._files):
            raise ValueError(f"cannot register {name!r}: not stored in this vintage")
        entry: dict[str, Any] = {"file": name, "note": note}
        if loader is not None:
            entry["loader"] = loader
        if serves is not None:
            entry["serves"] = {k: list(v) for k, v in serves.items()}
        self._registers[catalog_source] = entry

    def commit(self, *, rows: int, meta: dict[str, Any] | None = None) -> FetchResult:
        """Write the manifest and publish the vintage under its final name."""
        if not self._files:
            raise FetchError(f"{self.source}: nothing downloaded, nothing stored")
        final = self._final_dir()
        rel = final.relative_to(self.data_root).as_posix()
        release = self.retrieved_at.date().isoformat()
        registers: dict[str, dict[str, Any]] = {}
        for cat_source, entry in self._registers.items():
            name = entry["file"]
            sha = next((f.sha256 for f in self._files if f.name == name), None)
            registers[cat_source] = {
                "release": release,
                "path": f"{rel}/{name}" if name else rel,
                **({"sha256": sha} if sha else {}),
                "note": entry["note"],
                **{k: entry[k] for k in ("loader", "serves") if k in entry},
            }
        manifest = {
            "schema": SCHEMA,
            "source": self.source,
            "retrieved_at": _iso(self.retrieved_at),
            "since": self.since.isoformat() if self.since else None,
            "rows": rows,
            "files": [f.as_dict() for f in self._files],
            "registers": registers,
            "meta": meta or {},
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        self._refuse_secrets(text)
        (self.staging / MANIFEST).write_text(text, encoding="utf-8")
        os.rename(self.staging, final)
        self._committed = True
        log.info(
            "%s: stored %d file(s), %d rows as vintage %s", self.source, len(self._files), rows, rel
        )
        return FetchResult(
            source=self.source,
            vintage=final.name,
            path=final,
            retrieved_at=self.retrieved_at,
            files=tuple(self._files),
            rows=rows,
            registered=tuple(registers),
            meta=meta or {},
        )

    def _final_dir(self) -> Path:
        stamp = self.retrieved_at.strftime("%Y%m%dT%H%M%SZ")
        final = self._base / stamp
        n = 1
        while final.exists():  # two fetches in the same second
            n += 1
            final = self._base / f"{stamp}-{n}"
        return final

    def _refuse_secrets(self, manifest_text: str) -> None:
        for secret in self._secrets:
            if secret in manifest_text:
                raise FetchError(f"{self.source}: refusing to store: the manifest holds a secret")
            needle = secret.encode()
            for f in self._files:
                if needle in (self.staging / f.name).read_bytes():
                    raise FetchError(f"{self.source}: refusing to store: {f.name} holds a secret")


def list_vintages(data_root: Path, source: str) -> list[Path]:
    """Committed vintage directories of one connector, oldest first."""
    base = Path(data_root) / source / FETCHED
    if not base.is_dir():
        return []
    return sorted(
        p
        for p in base.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file()
    )


def read_manifest(vintage_dir: Path) -> dict[str, Any]:
    """The manifest of one vintage; ``InputError`` naming the file if it is unreadable."""
    path = Path(vintage_dir) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: manifest not found") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: manifest is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("registers", {}), dict):
        raise InputError(f"{path}: manifest is not an object with a 'registers' mapping")
    return data


def registered_vintages(
    data_root: Path,
    catalog_source: str,
    *,
    params: Mapping[str, Any] | None = None,
    loaders: Container[str] | None = None,
) -> list[dict[str, Any]]:
    """Vintage entries that fetched manifests register for one catalog source, oldest first.

    Each entry has ``release``, ``path`` (relative to ``data_root``), ``note`` and, when known,
    ``sha256`` and ``loader``. Of several fetches on one day only the last is kept, so fetched
    releases never share a date.

    Parameters
    ----------
    data_root : the data folder.
    catalog_source : the catalog source id.
    params : the series' params; an entry with ``serves`` is kept only if they match it.
    loaders : known loader names; an entry naming another loader is skipped with a warning
        (a connector whose loader the catalog does not know yet).
    """
    root = Path(data_root)
    found: list[tuple[str, str, dict[str, Any]]] = []
    for manifest_path in root.glob(f"*/{FETCHED}/*/{MANIFEST}"):
        if manifest_path.parent.name.startswith("."):
            continue
        manifest = read_manifest(manifest_path.parent)
        entry = manifest.get("registers", {}).get(catalog_source)
        if entry is None:
            continue
        if not isinstance(entry, dict) or not {"release", "path"} <= set(entry):
            raise InputError(
                f"{manifest_path}: field 'registers.{catalog_source}' needs 'release' and 'path'"
            )
        serves = entry.get("serves")
        if serves and any((params or {}).get(k) not in v for k, v in serves.items()):
            continue
        if loaders is not None and entry.get("loader") and entry["loader"] not in loaders:
            log.warning(
                "%s: vintage for %s needs loader %r, which is not registered; skipped",
                manifest_path,
                catalog_source,
                entry["loader"],
            )
            continue
        if not (root / entry["path"]).exists():
            log.warning("%s: registered path %s is missing, skipped", manifest_path, entry["path"])
            continue
        found.append((str(manifest.get("retrieved_at", "")), manifest_path.parent.name, entry))
    found.sort(key=lambda t: (t[0], t[1]))
    by_release: dict[str, dict[str, Any]] = {}
    for _, _, entry in found:  # later fetches the same day replace earlier ones
        by_release[str(entry["release"])] = {k: v for k, v in entry.items() if k != "serves"}
    return list(by_release.values())
