"""The one failure type of the ingest library: ``Rejected(reason, message)``.

Every problem with an uploaded file ends as a ``Rejected`` whose ``reason`` is one of the
codes below (stable, for code and statistics) and whose ``message`` is a sentence that can be
shown as is on a web page.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a file (or archive member, or row) was not ingested."""

    UNSUPPORTED_TYPE = "unsupported_type"  # extension we do not read (or junk skipped in a zip)
    TYPE_MISMATCH = "type_mismatch"  # contents (magic bytes) do not match the extension
    EMPTY_TEXT = "empty_text"  # nothing but whitespace after extraction (scanned PDF, blank doc)
    TOO_LARGE = "too_large"  # file, text, page count, pixels or time over the limits
    ENCRYPTED = "encrypted"  # password-protected PDF / Office file, encrypted zip entry
    CORRUPT = "corrupt"  # the parser could not read it
    UNSAFE_PATH = "unsafe_path"  # zip entry with an absolute path, "..", drive letter or symlink
    ZIP_BOMB = "zip_bomb"  # compression ratio / uncompressed size over limits, lying sizes
    TOO_DEEP = "too_deep"  # archives nested deeper than allowed
    TOO_MANY_FILES = "too_many_files"  # more entries (or rows) than a batch may hold
    UNDECODABLE = "undecodable"  # bytes that are not text in any encoding we can recognise


REASONS: frozenset[str] = frozenset(r.value for r in Reason)


class Rejected(Exception):
    """A file we refuse, with a machine ``reason`` and a human ``message``."""

    def __init__(self, reason: str | Reason, message: str) -> None:
        # Reason(...) raises ValueError on a typo'd code: better a bug here than a silent
        # unknown code reaching the database.
        self.reason: Reason = Reason(reason)
        self.message: str = message
        super().__init__(self.reason.value, message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"Rejected({self.reason.value!r}, {self.message!r})"

    def __reduce__(self):  # django-q2 pickles task results and exceptions
        return (self.__class__, (self.reason.value, self.message))
