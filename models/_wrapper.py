"""Shared plumbing of the composition wrappers (:mod:`models.transform`, :mod:`models.conformal`).

A wrapper holds an ``inner`` model given as a registered name or an unfitted instance. It never
fits the object it was given: ``fit`` works on a fresh copy, so ``get_params()`` (which returns
``inner`` as given) always rebuilds an unfitted wrapper.

The wrapper class declares ``capability:exogenous``; after fitting it narrows ``exog_columns_``
to the columns the inner model actually used and takes ``future_exog_columns_`` from it, so a
forecast needs future ``X`` only when (and for the columns) the inner model does.
"""

from __future__ import annotations

import copy
from typing import Self

import pandas as pd

from features.errors import InputError
from features.periods import season_length
from models.base import BaseForecaster


def build_forecaster(spec: str | BaseForecaster) -> BaseForecaster:
    """A new, unfitted model from a registered name or a copy of an (unfitted) instance.

    The registry is imported here, not at module level: the registry imports the wrappers.
    """
    if isinstance(spec, BaseForecaster):
        return spec.clone()
    if isinstance(spec, str):
        from models.registry import get_model

        return get_model(spec)
    raise InputError(
        f"a model must be a registered name or a forecaster, got {type(spec).__name__}"
    )


def forecaster_label(spec: str | BaseForecaster) -> str:
    """Short label of a model spec: the registered name, or the instance's ``name``."""
    return spec if isinstance(spec, str) else spec.name


class WrapperForecaster(BaseForecaster):
    """Base of models that wrap one inner model (see the module docstring)."""

    _tags = {
        "capability:exogenous": True,
        "capability:pred_int": True,
        "seasonal": True,
        "family": "wrapper",
    }

    inner: str | BaseForecaster
    inner_: BaseForecaster  # the fitted copy, set by the subclass's ``_fit``

    def _inner_proto(self) -> BaseForecaster:
        return build_forecaster(self.inner)

    @property
    def sp(self) -> int | None:
        """The inner model's seasonal period hyperparameter (``None``: from the data)."""
        return getattr(self._inner_proto(), "sp", None)

    def _resolve_sp(self, index: pd.PeriodIndex) -> int:
        return int(self.sp or season_length(index))

    def min_obs(self, sp: int) -> int:
        return self._inner_proto().min_obs(sp)

    def prepare(self, sp: int) -> None:
        self._inner_proto().prepare(sp)

    def self_contained(self) -> Self:
        inner = self.inner_.self_contained()
        if inner is self.inner_:
            return self
        out = copy.copy(self)
        out.inner_ = inner
        return out

    def _future_exog_columns(self) -> list[str]:
        return list(self.inner_.future_exog_columns_)
