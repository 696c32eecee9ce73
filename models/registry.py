"""The model registry: one line per model, unique names.

A name is also the MLflow child-run name and the prefix under which a model's scores appear.
To add a model: write ``models/<name>.py`` from ``models/_template.py`` and add its class to
``_MODELS`` below; the conformance suite (``tests/models/test_conformance.py``) then covers it.
"""

from __future__ import annotations

from typing import Any

from features.errors import InputError
from models.base import BaseForecaster
from models.ets import ETS
from models.sarimax import SARIMAX
from models.snaive import SeasonalNaive

_MODELS: list[type[BaseForecaster]] = [
    SeasonalNaive,
    ETS,
    SARIMAX,
]


def _build(classes: list[type[BaseForecaster]]) -> dict[str, type[BaseForecaster]]:
    reg: dict[str, type[BaseForecaster]] = {}
    for cls in classes:
        if not cls.name or cls.name in reg:
            raise RuntimeError(f"model name {cls.name!r} of {cls.__name__} is empty or not unique")
        reg[cls.name] = cls
    return reg


REGISTRY: dict[str, type[BaseForecaster]] = _build(_MODELS)


def model_names() -> list[str]:
    """Registered names, in registry order."""
    return list(REGISTRY)


def get_model(name: str, **params: Any) -> BaseForecaster:
    """A new, unfitted instance of a registered model."""
    try:
        cls = REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown model {name!r}; registered: {', '.join(REGISTRY)}") from None
    return cls(**params)


def resolve_models(spec: str | None) -> list[str]:
    """Parse ``--models``: ``None`` or ``"all"`` -> every model; ``"a,b"`` -> those, checked."""
    if spec is None or spec.strip().lower() == "all":
        return model_names()
    names = [s.strip() for s in spec.split(",") if s.strip()]
    if not names:
        raise InputError("--models is empty")
    for n in names:
        if n not in REGISTRY:
            raise InputError(f"unknown model {n!r} in --models; registered: {', '.join(REGISTRY)}")
    return list(dict.fromkeys(names))


def describe(name: str) -> dict[str, Any]:
    """Name, class, tags and default hyperparameters of a registered model."""
    cls = REGISTRY[name]
    return {
        "name": name,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "doc": (cls.__doc__ or "").strip().splitlines()[0],
        "tags": cls.get_tags(),
        "params": cls().get_params(),
    }
