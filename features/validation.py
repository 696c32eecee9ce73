"""Checks every loaded or user-given series passes before a model sees it.

Each failure raises :class:`~features.errors.InputError` with one line naming the file (or series),
the column and the first offending row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from features.errors import InputError

M = TypeVar("M", bound=BaseModel)

#: file row of a table's first data row (row 1 is the header), as printed in error messages
FIRST_ROW = 2


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
    if len(values) == 0:
        raise InputError(f"{where}: column {column!r} has no values")
    idx = check_period_index(values.index, where)
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


def check_period_index(idx: pd.Index, where: str) -> pd.PeriodIndex:
    """Check that ``idx`` is a unique, sorted ``PeriodIndex`` without gaps; return it."""
    if not isinstance(idx, pd.PeriodIndex):
        raise InputError(f"{where}: index is not a period index ({type(idx).__name__})")
    if len(idx) == 0:
        raise InputError(f"{where}: no periods")
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
    return idx


def require_columns(frame: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    """Raise naming the first of ``columns`` that ``frame`` lacks."""
    for col in columns:
        if col not in frame.columns:
            have = ", ".join(map(str, frame.columns))
            raise InputError(f"{where}: missing column {col!r} (columns: {have})")


def validate_frame(
    frame: pd.DataFrame,
    where: str,
    columns: Sequence[str] = (),
    positive: Sequence[str] = (),
    regular: bool = True,
) -> pd.DataFrame:
    """Check a loaded table: columns present, period index, no inf, positive where logged.

    Parameters
    ----------
    frame : the table; with ``regular`` its index must be a unique, gap-free ``PeriodIndex``.
    where : the file name, used in the error message.
    columns : columns that must be present.
    positive : columns whose non-missing values must be > 0 (logged or used as levels).
    regular : check the index (off for event tables, which are irregular by nature).

    NaN is allowed (sources start and stop at different dates); ``inf`` never is. The error
    names the column and the first offending row (its period, or its file row).
    """
    require_columns(frame, [*columns, *positive], where)
    for col in positive:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            raise InputError(f"{where}: column {col!r} is not numeric ({frame[col].dtype})")
    if regular:
        check_period_index(frame.index, where)
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col]):
            continue
        arr = frame[col].to_numpy(dtype=float)
        inf = np.isinf(arr)
        if inf.any():
            raise InputError(f"{where}: column {col!r} is infinite at {_row(frame, inf)}")
        if col in positive:
            nonpos = ~np.isnan(arr) & (arr <= 0)
            if nonpos.any():
                raise InputError(
                    f"{where}: column {col!r} must be positive, "
                    f"got {arr[nonpos][0]:g} at {_row(frame, nonpos)}"
                )
    return frame


def _row(frame: pd.DataFrame, mask: np.ndarray) -> str:
    i = int(np.argmax(mask))
    if isinstance(frame.index, pd.PeriodIndex):
        return str(frame.index[i])
    return f"row {i + FIRST_ROW}"


def validate_rows(frame: pd.DataFrame, model: type[M], where: str) -> list[M]:
    """Validate each row of a text table against a pydantic row model.

    The first failing row raises one line naming the file, the column (the model field), the
    file row (header = row 1) and the value; the models' own messages say what was expected.
    """
    out: list[M] = []
    for i, record in enumerate(frame.to_dict("records")):
        try:
            out.append(model.model_validate(record))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "row"
            got = record.get(field, err.get("input"))
            msg = err["msg"].split("\n")[0]
            raise InputError(
                f"{where}: row {i + FIRST_ROW}, column {field!r}: {msg} (got {got!r})"
            ) from None
    return out
