"""Period and frequency helpers shared by loaders, models and pipelines.

Series in sanctioncast are ``pd.Series`` of floats indexed by a regular ``pd.PeriodIndex``.
Frequencies are named by their one-letter code: ``"M"`` monthly, ``"Q"`` quarterly, ``"A"`` annual.
"""

from __future__ import annotations

import re

import pandas as pd

from features.errors import InputError

_HAS_YEAR = re.compile(r"^(1[89]|2[01])\d{2}(\D|$)")

#: one-letter frequency code -> pandas period alias
PANDAS_FREQ: dict[str, str] = {"M": "M", "Q": "Q-DEC", "A": "Y-DEC"}
#: one-letter frequency code -> length of the seasonal cycle
SEASON_LENGTH: dict[str, int] = {"M": 12, "Q": 4, "A": 1}


def freq_code(index: pd.PeriodIndex) -> str:
    """Return the one-letter code (``M``, ``Q`` or ``A``) of a period index."""
    name = index.freqstr.upper()
    if name.startswith("M"):
        return "M"
    if name.startswith("Q"):
        return "Q"
    if name.startswith(("Y", "A")):
        return "A"
    raise InputError(f"unsupported frequency {index.freqstr!r}: use M, Q or A")


def check_freq(code: str) -> str:
    """Validate a user-given frequency code and return it upper-cased."""
    up = code.strip().upper()
    if up == "Y":
        up = "A"
    if up not in PANDAS_FREQ:
        raise InputError(f"frequency {code!r} is not one of M, Q, A")
    return up


def season_length(index: pd.PeriodIndex) -> int:
    """Seasonal period implied by the index frequency (12, 4 or 1)."""
    return SEASON_LENGTH[freq_code(index)]


def parse_period(value: object, freq: str) -> pd.Period:
    """Parse ``2024Q1``, ``2024-Q1``, ``2024-03``, ``2024-03-31`` or ``2024`` at frequency ``freq``.

    Raises ``ValueError`` when the text is not a period (callers add the file and row).
    """
    text = str(value).strip().replace("-Q", "Q").replace(" ", "")
    if not text or text.lower() == "nan":
        raise ValueError("empty period")
    if not _HAS_YEAR.match(text):  # pandas reads a bare month name as year 1
        raise ValueError(f"{text!r} has no four-digit year")
    return pd.Period(text, freq=PANDAS_FREQ[check_freq(freq)])


def future_periods(last: pd.Period, h: int) -> pd.PeriodIndex:
    """The ``h`` periods after ``last``."""
    return pd.period_range(start=last + 1, periods=h, freq=last.freq)


def period_label(p: pd.Period) -> str:
    """Stable text label: ``2026Q1``, ``2026-01`` or ``2026``."""
    return str(p)
