"""Helpers shared by the format extractors."""

from __future__ import annotations

from ..errors import Reason, Rejected
from ..sniff import describe


def mismatch(extension: str, data: bytes) -> Rejected:
    """The file's name says one type, its first bytes another."""
    return Rejected(Reason.TYPE_MISMATCH,
                    f"The file is named {extension} but its contents look like {describe(data)}.")
