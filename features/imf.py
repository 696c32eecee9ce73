"""IMF International Merchandise Trade Statistics (IMTS, formerly DOTS), as the IMF portal exports.

The CSV (``RU_trade.csv``) starts with a UTF-8 byte-order mark and holds one row per reporter,
indicator and counterpart country, with one column per year (``"2016"`` ... ``"2024"``):

* ``INDICATOR.ID`` ``MG_CIF_USD`` (imports of goods, CIF) or ``XG_FOB_USD`` (exports, FOB);
* ``COUNTERPART_COUNTRY.ID`` an ISO 3166 alpha-3 code (``CHN``), or an IMF group code
  (``G001`` World, ``G998`` ...);
* ``SCALE`` ``Millions`` and ``FREQUENCY.ID`` ``A`` for every row of our file.

Empty year cells are missing values: small partners are sparse, and 2022+ values are largely IMF
estimates because Russia stopped reporting (the file carries no flag saying which).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from features.errors import InputError
from features.tables import file_row, float_column, read_csv, trim_missing
from features.validation import validate_frame

IMPORTS = "MG_CIF_USD"
EXPORTS = "XG_FOB_USD"
_KEYS = ("INDICATOR.ID", "COUNTERPART_COUNTRY.ID", "COUNTERPART_COUNTRY", "FREQUENCY.ID", "SCALE")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")


def read_imts(path: str | Path, indicator: str = IMPORTS) -> pd.DataFrame:
    """One IMTS indicator as a table: years (annual ``PeriodIndex``) x counterpart code, USD mn.

    The printed partner names are in ``frame.attrs["names"]`` (code -> name).
    """
    path = Path(path)
    raw = read_csv(path, _KEYS)
    years = [c for c in raw.columns if _YEAR.match(c)]
    if not years:
        raise InputError(f"{path.name}: no year columns (expected headers such as '2016')")
    rows = raw[raw["INDICATOR.ID"].str.strip() == indicator]
    if rows.empty:
        found = ", ".join(sorted(set(raw["INDICATOR.ID"])))
        raise InputError(f"{path.name}: no rows with INDICATOR.ID {indicator!r} (found: {found})")
    _check_constant(rows, "FREQUENCY.ID", "A", path.name)
    _check_constant(rows, "SCALE", "Millions", path.name)
    codes = rows["COUNTERPART_COUNTRY.ID"].str.strip()
    dup = codes.duplicated().to_numpy()
    if dup.any():
        i = int(dup.argmax())
        raise InputError(
            f"{path.name}: row {file_row(rows, i)}, column 'COUNTERPART_COUNTRY.ID': "
            f"{codes.iloc[i]!r} appears twice for {indicator}"
        )
    values = {y: float_column(rows, y, path.name, allow_empty=True).to_numpy() for y in years}
    table = pd.DataFrame(values, index=codes.to_numpy()).T
    table.index = pd.PeriodIndex([pd.Period(y, freq="Y-DEC") for y in years])
    # trade values are logged downstream and cannot be negative: a value <= 0 is a bad file
    table = validate_frame(table, path.name, positive=list(table.columns))
    # set after validation: pandas deep-copies attrs on every column access
    table.attrs["names"] = dict(zip(codes, rows["COUNTERPART_COUNTRY"].str.strip(), strict=True))
    return table


def _check_constant(rows: pd.DataFrame, column: str, expected: str, where: str) -> None:
    bad = (rows[column].str.strip() != expected).to_numpy()
    if bad.any():
        i = int(bad.argmax())
        raise InputError(
            f"{where}: row {file_row(rows, i)}, column {column!r}: {rows[column].iloc[i]!r}, "
            f"expected {expected!r}"
        )


def partner_series(path: str | Path, code: str, indicator: str = IMPORTS) -> pd.Series:
    """Russia's trade with one counterpart (ISO alpha-3 or IMF group code), USD millions a year.

    Leading and trailing empty years are dropped (e.g. Kazakhstan has no 2024 value in our
    file); an empty year inside the span stays NaN and is rejected by the catalog's checks.
    """
    table = read_imts(path, indicator)
    key = str(code).strip().upper()
    if key not in table.columns:
        sample = ", ".join(f"{c} ({n})" for c, n in list(table.attrs["names"].items())[:4])
        raise InputError(
            f"{Path(path).name}: counterpart {key!r} not found for {indicator} (e.g. {sample})"
        )
    values = trim_missing(table[key])
    if values.empty:
        raise InputError(f"{Path(path).name}: counterpart {key!r} has no {indicator} values")
    values.name = key
    return values


def ru_imports(path: str | Path, code: str) -> pd.Series:
    """Russia's imports of goods (CIF) from one counterpart, USD millions a year."""
    return partner_series(path, code, IMPORTS)
