"""EU27 goods exports to Russia and third countries, monthly, from Eurostat Comext (derived file).

``eu27_exports_total_monthly.csv`` is long: ``partner,month,eu27_exports_eur``, one row per
partner and month, values in euro (the sum over EU reporters of Comext "Relational View" exports,
product Total). Partners are named as Comext prints them, e.g. ``"Russian Federation (Russia)"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.errors import InputError
from features.tables import file_row, float_column, period_column, read_csv, trim_missing
from features.validation import validate_frame

_COLUMNS = ("partner", "month", "eu27_exports_eur")


def read_exports(path: str | Path) -> pd.DataFrame:
    """EU27 exports as a table: months (monthly ``PeriodIndex``) x partner name, EUR."""
    path = Path(path)
    raw = read_csv(path, _COLUMNS)
    long = pd.DataFrame(
        {
            "partner": raw["partner"].str.strip().to_numpy(),
            "month": period_column(raw, "month", "M", path.name),
            "eur": float_column(raw, "eu27_exports_eur", path.name).to_numpy(),
        }
    )
    dup = long.duplicated(["partner", "month"]).to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        raise InputError(
            f"{path.name}: row {file_row(raw, i)}, column 'month': {long['month'][i]} appears "
            f"twice for partner {long['partner'][i]!r}"
        )
    table = long.pivot(index="month", columns="partner", values="eur").sort_index()
    table.columns.name = None
    # exports are logged downstream; a gap inside a partner's span is reported, not filled
    return validate_frame(table, path.name, positive=list(table.columns))


def exports(path: str | Path, partner: str) -> pd.Series:
    """EU27 exports to one partner (name as printed in the file), EUR a month."""
    table = read_exports(path)
    if partner not in table.columns:
        raise InputError(
            f"{Path(path).name}: partner {partner!r} not found "
            f"(partners: {', '.join(map(str, table.columns))})"
        )
    values = trim_missing(table[partner])
    values.name = partner
    return values
