"""PDF text with pypdf.

Decision: a PDF without a text layer (a scan) is *rejected* as ``empty_text`` with a message
suggesting OCR, rather than stored as a "no text" document: unlike an image, a PDF is expected
to carry text, and an empty training document is useless. OCR of PDFs is not attempted.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from typing import Any

from ..errors import Reason, Rejected
from ..guard import Deadline
from ..limits import Limits
from ..results import Extracted
from ..sniff import is_pdf
from ..text import clean_text
from .common import mismatch

# pypdf logs every oddity of damaged files at WARNING; that is noise for an upload server.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_PASSWORD_MESSAGE = "This PDF is password-protected; upload an unprotected copy."


def _as_utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _info_date(meta: Any, attr: str) -> datetime | None:
    try:
        return _as_utc(getattr(meta, attr))
    except Exception:  # malformed date strings raise various errors
        return None


def _info_text(meta: Any, attr: str) -> str | None:
    try:
        value = getattr(meta, attr)
    except Exception:
        return None
    if value is None:
        return None
    return clean_text(str(value)).strip() or None


def extract_pdf(data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError

    if not is_pdf(data):
        raise mismatch(".pdf", data)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError as exc:
                raise Rejected(Reason.ENCRYPTED,
                               "This PDF uses an encryption (AES) that the server cannot open; save an "
                               "unprotected copy and upload it again.") from exc
            if not opened:
                raise Rejected(Reason.ENCRYPTED, _PASSWORD_MESSAGE)
        pages = reader.pages
        count = len(pages)
        if count > limits.pdf_max_pages:
            raise Rejected(Reason.TOO_LARGE, f"This PDF has {count:,} pages; at most "
                                             f"{limits.pdf_max_pages:,} are accepted.")
        texts: list[str] = []
        total = 0
        for index in range(count):
            deadline.check()  # cooperative time limit between pages
            page_text = pages[index].extract_text() or ""
            total += len(page_text)
            if total > limits.max_text_chars:
                raise Rejected(Reason.TOO_LARGE, f"This PDF holds more than {limits.max_text_chars:,} "
                                                 f"characters of text.")
            texts.append(page_text)
        meta = None
        try:
            meta = reader.metadata
        except Exception:  # a broken info dict must not lose the text
            meta = None
    except Rejected:
        raise
    except FileNotDecryptedError as exc:
        raise Rejected(Reason.ENCRYPTED, _PASSWORD_MESSAGE) from exc
    except LimitReachedError as exc:
        raise Rejected(Reason.TOO_LARGE, "This PDF exceeds the safe processing limits (very large or "
                                         "malformed content).") from exc
    except Exception as exc:  # pypdf raises many kinds (PdfReadError, KeyError, RecursionError...)
        raise Rejected(Reason.CORRUPT, "This PDF is damaged and could not be read.") from exc

    text = clean_text("\n\n".join(t.strip("\n") for t in texts))
    if not text.strip():
        raise Rejected(Reason.EMPTY_TEXT, "This PDF has no text layer; it is probably a scan. Run it through "
                                          "OCR (for example 'Save as searchable PDF') and upload it again.")
    metadata: dict[str, Any] = {"pages": count}
    if meta is not None:
        for key, attr in (("title", "title"), ("author", "author"), ("producer", "producer")):
            value = _info_text(meta, attr)
            if value:
                metadata[key] = value
    created = _info_date(meta, "creation_date") if meta is not None else None
    modified = _info_date(meta, "modification_date") if meta is not None else None
    return Extracted(text=text, content_type="application/pdf", created=created, modified=modified,
                          metadata=metadata)
