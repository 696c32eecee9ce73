"""The model registry: one line per model, unique names.

A name is also the MLflow child-run name and the prefix under which a model's scores appear.
To add a model: write ``models/<name>.py`` from ``models/_template.py`` and add its class to
``_MODELS`` below; the conformance suite (``tests/models/test_conformance.py``) then covers it.

Compositions are built in Python from a registered name or an instance:
``Transformed("ets", "boxcox")`` (:mod:`models.transform`), ``Conformal("theta")``
(:mod:`models.conformal`), ``Ensemble(("ets", Transformed("theta", "log")))``. One that earns a
name gets a three-line subclass registered here, like ``ets_log`` and ``sarimax_log``.
"""

from __future__ import annotations

from typing import Any

from features.errors import InputError
from models.ardl import ARDL
from models.auto_arima import AutoARIMA, AutoARIMAApprox
from models.base import BaseForecaster
from models.baselines import Drift, Mean, Naive
from models.ces import CES
from models.dotm import DOTM
from models.ensemble import Ensemble
from models.ets import ETS, ETSAkaike
from models.gbm_lags import GBMLags
from models.pooled_gbm import PooledGBM
from models.ridge_lags import RidgeLags
from models.sarimax import SARIMAX
from models.snaive import SeasonalNaive
from models.theta import Theta
from models.transform import ETSLog, SARIMAXLog
from models.ucm import UCM
from models.var import VAR
from models.vecm import VECM

_MODELS: list[type[BaseForecaster]] = [
    Naive,
    SeasonalNaive,
    Drift,
    Mean,
    ETS,
    ETSAkaike,
    Theta,
    DOTM,
    CES,
    SARIMAX,
    AutoARIMA,
    AutoARIMAApprox,
    UCM,
    ARDL,
    VAR,
    VECM,
    ETSLog,
    SARIMAXLog,
    RidgeLags,
    GBMLags,
    PooledGBM,
    Ensemble,
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
