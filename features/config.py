"""YAML files validated by typed models: the catalog, run settings, scenarios.

One place turns a file into a pydantic model, so every configuration error reads the same:
one line naming the file and the field (``conf/quarterly.yml: field 'backtest.horizon': ...``).
YAML is always safe-loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from features.errors import InputError

M = TypeVar("M", bound=BaseModel)


def field_error(path: Path | str, exc: ValidationError) -> InputError:
    """The first validation error as one line naming the file and the dotted field."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown field (not part of the schema)"
    return InputError(f"{path}: field {field!r}: {msg}")


def read_yaml(path: Path) -> object:
    """Safe-load a YAML file; a missing or malformed file is an :class:`InputError`."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None


def load_yaml_model(path: Path, model: type[M]) -> M:
    """Safe-load ``path`` and validate it as ``model``."""
    raw = read_yaml(path)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise field_error(path, exc) from None
