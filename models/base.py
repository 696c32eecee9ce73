"""The forecaster contract every model in sanctioncast follows.

Public ``fit`` / ``predict`` check inputs and state once, then call the private ``_fit`` /
``_predict`` that a model writes (the sktime pattern). ``__init__`` only stores hyperparameters;
everything learned in ``fit`` ends in ``_``. What a model can do is declared in ``_tags``.

Every model returns one frame shape from ``predict``: index ``period`` (a ``PeriodIndex`` of the
``h`` periods after the training data), columns ``mean`` then ``lo_<L>``, ``hi_<L>`` for each
requested level ``L`` (default 80 and 95). Intervals always nest.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from features.errors import InputError
from features.periods import future_periods, season_length

#: default interval levels, in percent
DEFAULT_LEVELS: tuple[int, ...] = (80, 95)

#: tag defaults; a model overrides only what differs
BASE_TAGS: dict[str, Any] = {
    "capability:exogenous": False,  # uses X when given
    "capability:pred_int": True,  # returns intervals from its own model
    "capability:multivariate": False,
    "requires:exogenous": False,  # refuses to fit without X
    # predict needs future values of every X column used in fit; False: some X columns are
    # endogenous companions forecast jointly with y (VAR, VECM), see ``future_exog_columns_``
    "exogenous:future_required": True,
    "requires:min_obs": 2,  # fewer observations -> ModelRefusal
    "requires:seasonal_cycles": 0,  # full seasonal cycles needed when seasonal
    "seasonal": False,  # uses the seasonal period
    "complexity": 1,  # ties in model comparison go to the lower value
    "family": "baseline",
}


class ModelRefusal(ValueError):
    """The model cannot be fitted to this input (too short, too few cycles, no exogenous data).

    Pipelines report it as ``status: "failed"`` with the message and go on with other models.
    """


class NotFittedError(ValueError, AttributeError):
    """``predict`` was called before ``fit``."""


def interval_columns(levels: Sequence[float]) -> list[str]:
    """Column names of a forecast frame for these levels: ``mean, lo_80, hi_80, ...``."""
    cols = ["mean"]
    for lv in levels:
        cols += [f"lo_{_fmt_level(lv)}", f"hi_{_fmt_level(lv)}"]
    return cols


#: fits kept inside a :func:`shared_fits` block: key -> fitted model (a private copy) or refusal
_SHARED_FITS: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar(
    "shared_fits", default=None
)


@contextlib.contextmanager
def shared_fits() -> Iterator[None]:
    """Inside the block, a fit of the same model configuration to the same data is done once.

    The second :meth:`BaseForecaster.fit` with equal class, hyperparameters, ``y`` (values and
    periods) and ``X`` takes a deep copy of the first fit (or raises its refusal again) instead
    of fitting: an ensemble member that the backtest also runs on its own is estimated once.
    Every model is deterministic (fixed seeds), so the copy equals a fresh fit; it is a copy,
    so updating one never changes the other. The kept fits are dropped when the block ends.
    """
    token = _SHARED_FITS.set({})
    try:
        yield
    finally:
        _SHARED_FITS.reset(token)


def fit_key(model: BaseForecaster, y: pd.Series, X: pd.DataFrame | None) -> tuple[Any, ...]:
    """What makes two fits equal: the model's class and hyperparameters, ``y`` (values and
    periods) and ``X`` (columns and values). Every model is deterministic (fixed seeds)."""
    x = None if X is None else (tuple(map(str, X.columns)), X.to_numpy(dtype=float).tobytes())
    return (
        type(model).__module__,
        type(model).__qualname__,
        repr(model.get_params()),
        str(y.index[0]),
        y.index.freqstr,
        y.to_numpy(dtype=float).tobytes(),
        x,
    )


def with_defaults(init: Any, **defaults: Any) -> Any:
    """``init`` with other defaults, keeping its explicit signature (which ``get_params`` reads):
    a registered variant is ``__init__ = with_defaults(Parent.__init__, param=value)``."""
    sig = inspect.signature(init)
    unknown = set(defaults) - set(sig.parameters)
    if unknown:
        raise TypeError(f"{init.__qualname__} has no parameter {sorted(unknown)[0]!r}")

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = new_sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        init(*bound.args, **bound.kwargs)

    new_sig = sig.replace(
        parameters=[
            p.replace(default=defaults[p.name]) if p.name in defaults else p
            for p in sig.parameters.values()
        ]
    )
    __init__.__signature__ = new_sig  # type: ignore[attr-defined]
    __init__.__doc__ = init.__doc__
    return __init__


def _fmt_level(level: float) -> str:
    return str(int(level)) if float(level).is_integer() else str(level).replace(".", "_")


def normal_intervals(
    mean: np.ndarray, sd: np.ndarray, levels: Sequence[float]
) -> dict[str, np.ndarray]:
    """Symmetric Gaussian intervals ``mean ± z * sd`` in the contract's column names."""
    from scipy.stats import norm

    out: dict[str, np.ndarray] = {"mean": np.asarray(mean, dtype=float)}
    for lv in levels:
        z = norm.ppf(0.5 + lv / 200.0)
        out[f"lo_{_fmt_level(lv)}"] = mean - z * sd
        out[f"hi_{_fmt_level(lv)}"] = mean + z * sd
    return out


class BaseForecaster:
    """Base class: subclass, set ``name`` and ``_tags``, write ``__init__``, ``_fit``, ``_predict``.

    See ``models/_template.py`` for a filled-in example.
    """

    name: ClassVar[str] = ""
    _tags: ClassVar[dict[str, Any]] = {}

    # -- tags and parameters ---------------------------------------------------------------
    @classmethod
    def get_tags(cls) -> dict[str, Any]:
        """All tags, defaults overridden along the class hierarchy."""
        tags = dict(BASE_TAGS)
        for klass in reversed(cls.__mro__):
            tags.update(getattr(klass, "_tags", {}))
        return tags

    @classmethod
    def get_tag(cls, key: str) -> Any:
        return cls.get_tags()[key]

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters as given to ``__init__``: exactly what rebuilds the model."""
        return {p: getattr(self, p) for p in self._param_names()}

    def clone(self, **overrides: Any) -> Self:
        """A new, unfitted model with the same hyperparameters (some overridden)."""
        params = self.get_params()
        unknown = set(overrides) - set(params)
        if unknown:
            raise InputError(f"model {self.name!r} has no parameter {sorted(unknown)[0]!r}")
        params.update(overrides)
        return type(self)(**params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- public contract ---------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return getattr(self, "is_fitted_", False)

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> Self:
        """Fit to ``y`` (float series on a regular PeriodIndex) and optional exogenous ``X``.

        ``X`` must cover exactly ``y``'s periods. Inputs are never modified.
        """
        y = self._check_y(y)
        tags = self.get_tags()
        X_in = None
        if X is not None and tags["capability:exogenous"]:
            X_in = self._check_X(X, y.index, "fit")
        if tags["requires:exogenous"] and X_in is None:
            raise ModelRefusal(f"{self.name}: needs exogenous regressors X, none given")
        cache = _SHARED_FITS.get()
        key = None if cache is None else fit_key(self, y, X_in)
        if cache is not None and key in cache:
            kept = cache[key]
            if isinstance(kept, ModelRefusal):
                raise ModelRefusal(str(kept))
            self.__dict__.update(copy.deepcopy(kept.__dict__))
            return self
        try:
            self._fit_checked(y, X_in)
        except ModelRefusal as exc:
            if cache is not None and key is not None:
                cache[key] = exc
            raise
        if cache is not None and key is not None:
            cache[key] = copy.deepcopy(self)
        return self

    def _fit_checked(self, y: pd.Series, X_in: pd.DataFrame | None) -> None:
        self.sp_ = self._resolve_sp(y.index)
        need = self.min_obs(self.sp_)
        if len(y) < need:
            raise ModelRefusal(f"{self.name}: needs at least {need} observations, got {len(y)}")
        self.start_ = y.index[0]
        self.cutoff_ = y.index[-1]
        self.n_obs_ = len(y)
        self.exog_columns_ = list(X_in.columns) if X_in is not None else []
        self._fit(y.copy(), None if X_in is None else X_in.copy())
        self.future_exog_columns_ = self._future_exog_columns()
        self.is_fitted_ = True

    def update(
        self, y: pd.Series, X: pd.DataFrame | None = None, refit_params: bool = False
    ) -> Self:
        """Bring the fitted model up to ``y``, the fitted history extended by new observations.

        ``y`` must start where the fitted data started and be at least as long (equal length:
        the same periods, e.g. revised values of a new data vintage). ``X`` covers ``y``'s
        periods when the model was fitted with exogenous columns. What is kept is the model's
        choice (:meth:`_update`): by default nothing, ``fit`` runs again on ``y`` (selection
        included). State-space models keep their selected structure and either filter the data
        with the fitted parameters fixed (``refit_params=False``) or re-estimate the parameters
        starting from the fitted ones (``refit_params=True``). Inputs are never modified.
        """
        if not self.is_fitted:
            raise NotFittedError(f"{self.name}: call fit before update")
        y = self._check_y(y)
        if y.index.freq != self.cutoff_.freq or y.index[0] != self.start_:
            raise InputError(
                f"{self.name}: update needs y to start at the fitted start {self.start_}, "
                f"got {y.index[0]}"
            )
        if len(y) < self.n_obs_:
            raise InputError(
                f"{self.name}: update needs y to extend the fitted {self.n_obs_} observations, "
                f"got {len(y)}"
            )
        X_in = None
        if self.exog_columns_:
            if X is None:
                raise InputError(
                    f"{self.name}: fitted with exogenous {self.exog_columns_}; X needed"
                )
            X_in = self._check_X(X, y.index, "update", columns=self.exog_columns_)
        saved = (self.cutoff_, self.n_obs_)
        self.cutoff_, self.n_obs_ = y.index[-1], len(y)
        try:
            self._update(y.copy(), None if X_in is None else X_in.copy(), bool(refit_params))
        except BaseException:
            self.cutoff_, self.n_obs_ = saved
            raise
        return self

    def predict(
        self, h: int, X: pd.DataFrame | None = None, level: Sequence[float] = DEFAULT_LEVELS
    ) -> pd.DataFrame:
        """Forecast ``h`` periods after the training data with intervals at each ``level`` (%).

        ``X`` holds future exogenous values for those periods; required when the model was
        fitted with exogenous regressors, for the columns in ``future_exog_columns_``.
        """
        if not self.is_fitted:
            raise NotFittedError(f"{self.name}: call fit before predict")
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
            raise InputError(f"horizon must be a positive integer, got {h!r}")
        levels = sorted(float(lv) for lv in level)
        if any(not 0 < lv < 100 for lv in levels) or len(set(levels)) != len(levels):
            raise InputError(
                f"interval levels must be distinct values in (0, 100), got {list(level)}"
            )
        fh = future_periods(self.cutoff_, int(h))
        X_future = None
        need = self.future_exog_columns_
        if need:
            if X is None:
                raise InputError(
                    f"{self.name}: fitted with exogenous {need}; "
                    f"future values for {fh[0]}..{fh[-1]} are required"
                )
            X_future = self._check_X(X, fh, "predict", columns=need)
        raw = self._predict(int(h), X_future, levels)
        out = pd.DataFrame(raw, columns=interval_columns(levels))
        out.index = fh
        out.index.name = "period"
        return self._check_output(out, levels)

    def prepare(self, sp: int) -> None:
        """One-off work before fits at seasonal period ``sp`` (nothing, for most models).

        A pooled model trains on its corpus here (:mod:`models.pooled_gbm`). The backtest calls
        it once per model and seasonal period before it hands tasks to worker processes, so
        that the workers do not each do the same work at once.
        """

    def self_contained(self) -> Self:
        """This fitted forecaster holding in its own attributes all it needs to forecast, to be
        saved and loaded elsewhere (:func:`pipelines.tracking.log_forecaster`).

        Most forecasters already do and return themselves. A pooled model names its trained
        regressors by a key into a per-process cache (so copies sent to workers stay small): its
        copy here carries them. Wrappers and ensembles return copies holding their fitted
        models' self-contained copies.
        """
        return self

    # -- for subclasses ------------------------------------------------------------------------
    def min_obs(self, sp: int) -> int:
        """Fewest observations this configuration can be fitted to. Seasonal cycles count only
        when the model uses the season (a ``deseasonalize=False`` hyperparameter switches it off)."""
        tags = self.get_tags()
        seasonal = tags["seasonal"] and sp > 1 and getattr(self, "deseasonalize", True)
        cycles = tags["requires:seasonal_cycles"] if seasonal else 0
        return max(int(tags["requires:min_obs"]), cycles * sp)

    def _future_exog_columns(self) -> list[str]:
        """X columns whose future values ``predict`` needs; called after ``_fit``.

        Default: every column the model was fitted with. Multivariate models that forecast some
        X columns jointly with ``y`` return only the truly exogenous ones.
        """
        return list(self.exog_columns_)

    def _resolve_sp(self, index: pd.PeriodIndex) -> int:
        sp = getattr(self, "sp", None)
        return int(sp) if sp else season_length(index)

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        raise NotImplementedError

    def _update(self, y: pd.Series, X: pd.DataFrame | None, refit_params: bool) -> None:
        """Default update: a full ``_fit`` on the extended data (selection included).

        Models that can keep their structure override it; ``refit_params`` says whether to
        re-estimate the parameters (warm-started) or only run the data through with them fixed.
        """
        self._fit(y, X)

    def _predict(
        self, h: int, X: pd.DataFrame | None, levels: list[float]
    ) -> dict[str, np.ndarray]:
        """Return ``{"mean": ..., "lo_80": ..., "hi_80": ...}`` arrays of length ``h``."""
        raise NotImplementedError

    # -- checks ---------------------------------------------------------------------------------
    def _check_y(self, y: pd.Series) -> pd.Series:
        if not isinstance(y, pd.Series):
            raise InputError(f"{self.name}: y must be a pandas Series, got {type(y).__name__}")
        if not isinstance(y.index, pd.PeriodIndex):
            raise InputError(
                f"{self.name}: y must have a PeriodIndex, got {type(y.index).__name__}"
            )
        if len(y) == 0:
            raise InputError(f"{self.name}: y is empty")
        full = pd.period_range(y.index[0], y.index[-1], freq=y.index.freq)
        if len(full) != len(y) or not y.index.equals(full):
            raise InputError(f"{self.name}: y's periods must be regular, sorted and unique")
        arr = y.to_numpy(dtype=float)
        if not np.isfinite(arr).all():
            bad = y.index[~np.isfinite(arr)][0]
            raise InputError(f"{self.name}: y is missing or infinite at {bad}")
        return y.astype(float)

    def _check_X(
        self,
        X: pd.DataFrame,
        index: pd.PeriodIndex,
        stage: str,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise InputError(f"{self.name}: X must be a DataFrame, got {type(X).__name__}")
        if columns is not None:
            absent = [c for c in columns if c not in X.columns]
            if absent:
                raise InputError(f"{self.name}: X has no column {absent[0]!r} ({stage})")
            X = X[list(columns)]
        missing = index.difference(X.index)
        if len(missing):
            raise InputError(f"{self.name}: X has no row for {missing[0]} ({stage})")
        Xa = X.loc[index].astype(float)
        vals = Xa.to_numpy()
        if not np.isfinite(vals).all():
            r, c = np.argwhere(~np.isfinite(vals))[0]
            raise InputError(
                f"{self.name}: X column {Xa.columns[c]!r} is missing at {index[r]} ({stage})"
            )
        return Xa

    def _check_output(self, out: pd.DataFrame, levels: list[float]) -> pd.DataFrame:
        mean = out["mean"].to_numpy()
        if not np.isfinite(mean).all():
            raise ModelRefusal(f"{self.name}: produced a non-finite forecast")
        inner_lo, inner_hi = mean, mean
        for lv in levels:  # ascending: each interval must contain the previous one
            lo = out[f"lo_{_fmt_level(lv)}"].to_numpy()
            hi = out[f"hi_{_fmt_level(lv)}"].to_numpy()
            if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
                raise ModelRefusal(f"{self.name}: produced a non-finite {lv:g}% interval")
            tol = 1e-9 * (1.0 + np.abs(mean))
            if (lo > inner_lo + tol).any() or (hi < inner_hi - tol).any():
                raise ModelRefusal(
                    f"{self.name}: {lv:g}% interval does not contain the narrower one"
                )
            inner_lo, inner_hi = lo, hi
        return out
