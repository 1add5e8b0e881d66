"""Reading ids and small numbers from request parameters without trusting them.

``str.isdigit()`` is not a check for ``int()``: it accepts "²" and "①" (which ``int()``
refuses with ValueError), and a string of 5,000 digits (which ``int()`` refuses past
``sys.get_int_max_str_digits()``); a 30-digit id overflows every database's integer column.
"""

from __future__ import annotations

from typing import Any

MAX_ID = 2**63 - 1  # the largest value of a 64-bit primary key (PostgreSQL bigint, SQLite INTEGER)


def parse_int(raw: Any, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """``raw`` as an int when it is ASCII digits only and within [minimum, maximum]; else None."""
    value = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    if not value or len(value) > 19 or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None
