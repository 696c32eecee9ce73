"""Checks every loaded or user-given series passes before a model sees it.

Each failure raises :class:`~features.errors.InputError` with one line naming the file (or series),
the column and the first offending row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.errors import InputError


def validate_series(
    values: pd.Series,
    where: str,
    column: str = "value",
    positive: bool = False,
    allow_missing: bool = False,
) -> pd.Series:
    """Check a float series on a regular, unique, sorted ``PeriodIndex``.

    Parameters
    ----------
    values : the series to check.
    where : the file or series id, used in the error message.
    column : the column name, used in the error message.
    positive : require every value > 0 (series that are logged or are index levels).
    allow_missing : accept NaN (used for sparse evidence); inf is never accepted.
    """
    idx = values.index
    if not isinstance(idx, pd.PeriodIndex):
        raise InputError(f"{where}: index is not a period index ({type(idx).__name__})")
    if len(values) == 0:
        raise InputError(f"{where}: column {column!r} has no values")
    dup = idx.duplicated()
    if dup.any():
        raise InputError(f"{where}: period {idx[dup][0]} appears more than once")
    if not idx.is_monotonic_increasing:
        bad = int(np.argmax(np.diff(idx.asi8) < 0)) + 1
        raise InputError(f"{where}: periods not in order at {idx[bad]}")
    full = pd.period_range(idx[0], idx[-1], freq=idx.freq)
    if len(full) != len(idx):
        missing = full.difference(idx)
        raise InputError(f"{where}: periods are not regular, {missing[0]} is missing")
    arr = values.to_numpy(dtype=float)
    inf = np.isinf(arr)
    if inf.any():
        raise InputError(f"{where}: column {column!r} is infinite at {idx[inf][0]}")
    nan = np.isnan(arr)
    if nan.any() and not allow_missing:
        raise InputError(f"{where}: column {column!r} is missing at {idx[nan][0]}")
    if positive:
        nonpos = ~nan & (arr <= 0)
        if nonpos.any():
            raise InputError(
                f"{where}: column {column!r} must be positive, "
                f"got {arr[nonpos][0]:g} at {idx[nonpos][0]}"
            )
    return values.astype(float)
