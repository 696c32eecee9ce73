"""A user's own series from CSV, for ``--csv PATH --freq F``.

Accepted layouts (header row required):

* wide single series: ``period,value[,x1,x2,...]``
* long, many series: ``series,period,value[,x1,...]``

Extra columns are exogenous regressors. Rows at the end of a series whose ``value`` is empty but
whose regressors are filled are *future* regressor values (a scenario path for forecasting).
Every problem is reported as one :class:`InputError` line naming the file, row and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.errors import InputError
from features.periods import check_freq, parse_period
from features.validation import validate_series


@dataclass(frozen=True)
class UserSeries:
    """One series from a user's CSV: history ``y``, regressors ``X`` over it, and future ``X``."""

    id: str
    y: pd.Series
    X: pd.DataFrame | None
    X_future: pd.DataFrame | None
    path: Path

    def digest(self) -> str:
        import hashlib

        h = hashlib.sha256()
        h.update(self.y.index.astype(str).str.cat(sep=",").encode())
        h.update(self.y.to_numpy(dtype=float).tobytes())
        return h.hexdigest()


def read_user_csv(path: str | Path, freq: str) -> dict[str, UserSeries]:
    """Read and validate a user's CSV; return series by id (``"value"``-only files: the file stem)."""
    path = Path(path)
    code = check_freq(freq)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a readable CSV ({first})") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    for col in ("period", "value"):
        if col not in raw.columns:
            raise InputError(f"{path}: missing column {col!r} (columns: {', '.join(raw.columns)})")
    if raw.empty:
        raise InputError(f"{path}: no data rows")
    long = "series" in raw.columns
    exog_cols = [c for c in raw.columns if c not in ("series", "period", "value")]

    periods = []
    for i, text in enumerate(raw["period"], start=2):  # row 1 is the header
        try:
            periods.append(parse_period(text, code))
        except ValueError:
            raise InputError(
                f"{path}: row {i}, column 'period': {text!r} is not a {code} period"
            ) from None
    frame = pd.DataFrame({"period": periods})
    frame["row"] = np.arange(2, len(raw) + 2)
    frame["series"] = raw["series"].str.strip() if long else path.stem
    for col in ["value", *exog_cols]:
        frame[col] = _numeric(raw[col], path, col, frame["row"])

    out: dict[str, UserSeries] = {}
    for sid, grp in frame.groupby("series", sort=False):
        if not str(sid):
            raise InputError(f"{path}: row {int(grp['row'].iloc[0])}, column 'series' is empty")
        out[str(sid)] = _one_series(str(sid), grp, exog_cols, path)
    return out


def _numeric(col: pd.Series, path: Path, name: str, rows: pd.Series) -> pd.Series:
    text = col.str.strip()
    num = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = num.isna() & (text != "")
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise InputError(
            f"{path}: row {int(rows.iloc[i])}, column {name!r}: {col.iloc[i]!r} is not a number"
        )
    return num.astype(float)


def _one_series(sid: str, grp: pd.DataFrame, exog_cols: list[str], path: Path) -> UserSeries:
    grp = grp.sort_values("period")
    dup = grp["period"].duplicated()
    if dup.any():
        row = int(grp.loc[dup, "row"].iloc[0])
        raise InputError(
            f"{path}: row {row}, column 'period': {grp.loc[dup, 'period'].iloc[0]} repeats in series {sid!r}"
        )
    idx = pd.PeriodIndex(grp["period"].tolist())
    value = pd.Series(grp["value"].to_numpy(), index=idx, name=sid)
    have = value.notna().to_numpy()
    if not have.any():
        raise InputError(f"{path}: series {sid!r} has no values in column 'value'")
    last = int(np.flatnonzero(have)[-1])
    first = int(np.flatnonzero(have)[0])
    where = f"{path} (series {sid!r})"
    y = validate_series(value.iloc[first : last + 1], where, column="value")
    X = X_future = None
    if exog_cols:
        Xall = pd.DataFrame(grp[exog_cols].to_numpy(), index=idx, columns=exog_cols)
        X = Xall.iloc[first : last + 1]
        for c in exog_cols:
            validate_series(X[c], where, column=c)
        if last + 1 < len(Xall):
            X_future = Xall.iloc[last + 1 :]
            full = pd.period_range(idx[last] + 1, X_future.index[-1], freq=idx.freq)
            if len(full) != len(X_future):
                raise InputError(
                    f"{where}: future regressor periods are not regular after {idx[last]}"
                )
            for c in exog_cols:
                validate_series(X_future[c], where, column=c)
    elif last + 1 < len(value):
        raise InputError(
            f"{where}: column 'value' is empty at {idx[last + 1]} and there are no regressors"
        )
    return UserSeries(sid, y, X, X_future, path)
