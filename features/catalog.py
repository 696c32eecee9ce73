"""The data catalog: which series exist, where they come from, and which vintage to load.

The catalog lives in ``data/catalog.yml`` (safe-loaded, validated by the pydantic models below).
``load(series_id, vintage=...)`` returns a :class:`SeriesData`: the values plus everything a
report or an MLflow run must say about them (source, licence, vintage, file hash, reconstructed).

Vintages: each source lists its releases; ``vintage="latest"`` takes the newest, a date takes the
newest release on or before that date, so a real-time backtest sees what was published then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


class Source(_Strict):
    publisher: str
    title: str
    url: str
    licence: str
    card: str
    vintages: list[Vintage] = Field(min_length=1)


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
        raise InputError(
            f"unknown series {series_id!r}; known: {known}; or okved2_q:CODE / okved2_a:CODE"
        )


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
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: catalog file not found") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    try:
        cat = Catalog.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise InputError(f"{path}: field {field!r}: {err['msg']}") from None
    entries: list[tuple[str, SeriesSpec | TemplateSpec]] = [
        *(("series." + k, v) for k, v in cat.series.items()),
        *(("templates." + k, v) for k, v in cat.templates.items()),
    ]
    for where, s in entries:
        if s.source not in cat.sources:
            raise InputError(f"{path}: field '{where}.source': unknown source {s.source!r}")
        if s.loader not in LOADERS:
            raise InputError(f"{path}: field '{where}.loader': unknown loader {s.loader!r}")
    return cat


def get_catalog() -> Catalog:
    """The validated catalog (re-read when the file changes)."""
    path = catalog_path()
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _read_catalog(path, mtime)


def pick_vintage(source: Source, vintage: str | dt.date = "latest") -> Vintage:
    """The newest release on or before ``vintage`` (``"latest"``: the newest of all)."""
    ordered = sorted(source.vintages, key=lambda v: v.release)
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


def load(series_id: str, vintage: str | dt.date = "latest") -> SeriesData:
    """Load a catalogued series at a vintage; see the module docstring."""
    cat = get_catalog()
    spec = cat.spec(series_id)
    source = cat.sources[spec.source]
    v = pick_vintage(source, vintage)
    path = data_dir() / v.path
    values = _load_values(spec.loader, str(path), tuple(sorted(spec.params.items())), v.release)
    return SeriesData(series_id, spec, source, v, path, values.copy())


@cache
def _load_values(
    loader: str, path: str, params: tuple[tuple[str, Any], ...], release: dt.date
) -> pd.Series:
    values = LOADERS[loader](Path(path), **dict(params))
    return validate_series(
        values, f"{Path(path).name} ({dict(params)})", positive=True, allow_missing=False
    )


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
