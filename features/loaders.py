"""Loader registry: the ``loader:`` names used in ``data/catalog.yml``.

A loader takes the path of one vintage's file plus the catalog ``params`` and returns a float
``pd.Series`` on a ``PeriodIndex``. Adding a source means one function in its own module and one
line here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from features import cbr, chips, eia, eurostat, imf, rosstat, sanctions_regressors
from features.connectors import cbr as connectors_cbr
from features.connectors import comtrade as connectors_comtrade
from features.connectors import eurostat as connectors_eurostat

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
    "rosstat_annual_growth_csv": rosstat.annual_growth_csv,
    "rosstat_annual_level_csv": rosstat.annual_level_csv,
    "rosstat_okved11_growth": rosstat.okved11_growth,
    "rosstat_okved11_level": rosstat.okved11_level,
    "imf_ru_imports": imf.ru_imports,
    "eurostat_exports": eurostat.exports,
    "eia_brent": eia.brent,
    "cbr_monthly": cbr.monthly,
    "chip_reconstruction": chips.load_series,
    "sanctions_regressor": sanctions_regressors.load_regressor,
    # vintages stored by `sanctioncast data fetch` (features/connectors)
    "cbr_xml": connectors_cbr.load_rates,
    "eurostat_comext": connectors_eurostat.load_exports,
    "comtrade_mirror": connectors_comtrade.load_mirror,
}
