"""US EIA Brent spot price, monthly average, as republished by the ``datasets/oil-prices`` repo.

``brent-monthly.csv`` has two columns, ``Date,Price``: the date is the 15th of the month (a label
for the month, not a daily price) and the price is the monthly average in USD per barrel.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.tables import read_csv, series_from_columns
from features.validation import validate_series


def brent(path: str | Path) -> pd.Series:
    """Brent spot price, USD per barrel, monthly average, on a monthly ``PeriodIndex``."""
    path = Path(path)
    raw = read_csv(path, ("Date", "Price"))
    values = series_from_columns(raw, "Date", "Price", "M", path.name)
    values.name = "brent"
    return validate_series(values, path.name, column="Price", positive=True)
