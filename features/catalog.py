"""The data catalog: which series exist, where they come from, and which vintage to load.

The catalog lives in ``data/catalog.yml`` (safe-loaded, validated by the pydantic models below).
``load(series_id, vintage=...)`` returns a :class:`SeriesData`: the values plus everything a
report or an MLflow run must say about them (source, licence, vintage, file hash, reconstructed).

Vintages: each source lists its releases; ``vintage="latest"`` takes the newest, a date takes the
newest release on or before that date, so a real-time backtest sees what was published then.
A series may list extra releases of its own (``series.<id>.vintages``), and any vintage may name
its own ``loader`` and ``params``: an earlier release kept in another format (e.g. a small cited
CSV of a first estimate) loads beside the current xlsx. Releases never share a date, so no
vintage overwrites another.

Releases stored by ``sanctioncast data fetch`` are added at load time from their manifests
(:func:`fetched_vintages`, :mod:`features.connectors.store`); one fetched on the date of a
catalogued release sorts after it, so the fetched copy wins that date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from features.config import load_yaml_model
from features.errors import InputError
from features.loaders import LOADERS
from features.validation import validate_series

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """The data folder: ``$SANCTIONCAST_DATA_DIR`` or the project's embedded ``data/``."""
    return Path(os.environ.get("SANCTIONCAST_DATA_DIR", PROJECT_ROOT / "data"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Vintage(_Strict):
    release: dt.date
    path: str
    sha256: str | None = None
    note: str = ""
    #: loader for a file in another format than the series' own; ``None``: the series' loader
    loader: str | None = None
    #: merged over the series' params for this vintage only
    params: dict[str, Any] = Field(default_factory=dict)


class Source(_Strict):
    publisher: str
    title: str
    url: str
    licence: str
    card: str
    #: releases in the data folder; empty for a source that arrives only by `data fetch`
    vintages: list[Vintage] = Field(default_factory=list)
    #: the connector of `sanctioncast data fetch` that brings new releases, if any
    fetch: str | None = None


class SeriesSpec(_Strict):
    title: str
    unit: str
    freq: Literal["M", "Q", "A"]
    source: str
    loader: str
    params: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""
    reconstructed: bool = False
    positive: bool = True
    #: releases of this series only, beside its source's (e.g. a first estimate kept as CSV)
    vintages: list[Vintage] = Field(default_factory=list)


class TemplateSpec(_Strict):
    title: str
    unit: str
    freq: Literal["M", "Q", "A"]
    source: str
    loader: str
    notes: str = ""
    reconstructed: bool = False
    positive: bool = True


class Catalog(_Strict):
    sources: dict[str, Source]
    series: dict[str, SeriesSpec]
    templates: dict[str, TemplateSpec] = Field(default_factory=dict)

    def spec(self, series_id: str) -> SeriesSpec:
        """The spec of a catalogued id, or of a template id such as ``okved2_q:26.51``."""
        if series_id in self.series:
            return self.series[series_id]
        prefix, sep, arg = series_id.partition(":")
        if sep and prefix in self.templates and arg.strip():
            t = self.templates[prefix]
            return SeriesSpec(
                title=t.title.format(code=arg.strip()),
                unit=t.unit,
                freq=t.freq,
                source=t.source,
                loader=t.loader,
                params={"code": arg.strip()},
                notes=t.notes,
                reconstructed=t.reconstructed,
                positive=t.positive,
            )
        known = ", ".join(sorted(self.series))
        patterns = " / ".join(f"{t}:CODE" for t in sorted(self.templates))
        raise InputError(f"unknown series {series_id!r}; known: {known}; or {patterns}")


@dataclass(frozen=True)
class SeriesData:
    """A loaded series with its provenance."""

    id: str
    spec: SeriesSpec
    source: Source
    vintage: Vintage
    path: Path
    values: pd.Series

    @property
    def digest(self) -> str:
        """sha256 over the values and their periods (changes when the data change)."""
        h = hashlib.sha256()
        h.update(self.values.index.astype(str).str.cat(sep=",").encode())
        h.update(self.values.to_numpy(dtype=float).tobytes())
        return h.hexdigest()

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for tables, JSON output, reports and MLflow tags."""
        v = self.values
        return {
            "id": self.id,
            "title": self.spec.title,
            "unit": self.spec.unit,
            "frequency": self.spec.freq,
            "start": str(v.index[0]),
            "end": str(v.index[-1]),
            "n_obs": int(v.notna().sum()),
            "source": self.source.publisher,
            "source_title": self.source.title,
            "url": self.source.url,
            "licence": self.source.licence,
            "vintage": self.vintage.release.isoformat(),
            "file": str(self.path.relative_to(data_dir()))
            if self.path.is_relative_to(data_dir())
            else str(self.path),
            "reconstructed": self.spec.reconstructed,
            "notes": self.spec.notes,
            "digest": self.digest,
        }


def catalog_path() -> Path:
    return data_dir() / "catalog.yml"


@cache
def _read_catalog(path: Path, mtime: float) -> Catalog:
    cat = load_yaml_model(path, Catalog)
    entries: list[tuple[str, SeriesSpec | TemplateSpec]] = [
        *(("series." + k, v) for k, v in cat.series.items()),
        *(("templates." + k, v) for k, v in cat.templates.items()),
    ]
    for where, s in entries:
        if s.source not in cat.sources:
            raise InputError(f"{path}: field '{where}.source': unknown source {s.source!r}")
        if s.loader not in LOADERS:
            raise InputError(f"{path}: field '{where}.loader': unknown loader {s.loader!r}")
    for name, src in cat.sources.items():
        _check_vintages(path, f"sources.{name}.vintages", src.vintages)
    for sid, spec in cat.series.items():
        _check_vintages(
            path, f"series.{sid}.vintages", spec.vintages, cat.sources[spec.source].vintages
        )
    return cat


def _check_vintages(
    path: Path, where: str, vintages: list[Vintage], beside: list[Vintage] | None = None
) -> None:
    """Vintage loaders exist; no release date repeats among ``vintages`` and ``beside``."""
    seen = {v.release for v in beside or []}
    for i, v in enumerate(vintages):
        if v.loader is not None and v.loader not in LOADERS:
            raise InputError(f"{path}: field '{where}.{i}.loader': unknown loader {v.loader!r}")
        if v.release in seen:
            raise InputError(
                f"{path}: field '{where}': release {v.release.isoformat()} appears twice "
                "(each vintage needs its own release date)"
            )
        seen.add(v.release)


def get_catalog() -> Catalog:
    """The validated catalog (re-read when the file changes)."""
    path = catalog_path()
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _read_catalog(path, mtime)


def pick_vintage(
    source: Source, vintage: str | dt.date = "latest", extra: Sequence[Vintage] = ()
) -> Vintage:
    """The newest release on or before ``vintage`` (``"latest"``: the newest of all).

    ``extra`` are a series' own releases, considered together with the source's.
    """
    ordered = sorted([*source.vintages, *extra], key=lambda v: v.release)
    if not ordered:
        how = f"run `sanctioncast data fetch {source.fetch}`" if source.fetch else "none is stored"
        raise InputError(f"no release of {source.title!r} in the data folder yet: {how}")
    if vintage == "latest":
        return ordered[-1]
    try:
        when = vintage if isinstance(vintage, dt.date) else dt.date.fromisoformat(str(vintage))
    except ValueError:
        raise InputError(f"vintage {vintage!r} is not 'latest' or a date YYYY-MM-DD") from None
    eligible = [v for v in ordered if v.release <= when]
    if not eligible:
        raise InputError(
            f"vintage {when.isoformat()}: no release of {source.title!r} before it "
            f"(first release {ordered[0].release.isoformat()})"
        )
    return eligible[-1]


def list_series() -> list[str]:
    """Catalogued series ids (template ids such as ``okved2_q:CODE`` are not listed)."""
    return sorted(get_catalog().series)


def fetched_vintages(source_id: str, spec: SeriesSpec) -> list[Vintage]:
    """Releases of ``source_id`` stored by ``sanctioncast data fetch`` that serve ``spec``.

    Read from the manifests under ``data/*/fetched/`` (:mod:`features.connectors.store`), oldest
    first; a fetched vintage whose loader is not in :data:`features.loaders.LOADERS` is skipped.
    """
    from features.connectors.store import registered_vintages  # lazy: the store imports requests

    return [
        Vintage.model_validate({k: v for k, v in e.items() if k in Vintage.model_fields})
        for e in registered_vintages(data_dir(), source_id, params=spec.params, loaders=LOADERS)
    ]


def load(series_id: str, vintage: str | dt.date = "latest") -> SeriesData:
    """Load a catalogued series at a vintage; see the module docstring."""
    cat = get_catalog()
    spec = cat.spec(series_id)
    source = cat.sources[spec.source]
    v = pick_vintage(source, vintage, [*spec.vintages, *fetched_vintages(spec.source, spec)])
    path = data_dir() / v.path
    params = tuple(sorted({**spec.params, **v.params}.items()))
    loader = v.loader or spec.loader
    values = _load_values(loader, str(path), params, v.release, spec.positive)
    return SeriesData(series_id, spec, source, v, path, values.copy())


@cache
def _load_values(
    loader: str,
    path: str,
    params: tuple[tuple[str, Any], ...],
    release: dt.date,
    positive: bool = True,
) -> pd.Series:
    values = LOADERS[loader](Path(path), **dict(params))
    return validate_series(
        values, f"{Path(path).name} ({dict(params)})", positive=positive, allow_missing=False
    )


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
