"""Errors that mean *the input is wrong*, as opposed to a bug.

The CLI turns :class:`InputError` into one ``error: ...`` line on stderr and exit code 2, so
every message must be a single line that names the file, field or value at fault.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a user or a data file: a one-line message naming what is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
