"""Loader registry: the ``loader:`` names used in ``data/catalog.yml``.

A loader takes the path of one vintage's file plus the catalog ``params`` and returns a float
``pd.Series`` on a ``PeriodIndex``. Adding a source means one function in its own module and one
line here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from features import rosstat

Loader = Callable[..., pd.Series]


def _rosstat_quarterly_level(path: Path, code: str) -> pd.Series:
    return rosstat.chain_quarterly(*rosstat.quarterly_growth(path, code))


def _rosstat_annual_level(path: Path, code: str) -> pd.Series:
    return rosstat.chain_annual(rosstat.annual_growth(path, code))


def _rosstat_annual_growth(path: Path, code: str) -> pd.Series:
    return rosstat.annual_growth(path, code).dropna()


LOADERS: dict[str, Loader] = {
    "rosstat_quarterly_level": _rosstat_quarterly_level,
    "rosstat_annual_level": _rosstat_annual_level,
    "rosstat_annual_growth": _rosstat_annual_growth,
}
