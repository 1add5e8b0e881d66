"""``extract()``: one uploaded file in, text and facts out, or ``Rejected``."""

from __future__ import annotations

from datetime import datetime

from .archive import is_archive
from .errors import Reason, Rejected
from .guard import Deadline, TimeUp, time_limit
from .limits import DEFAULT_LIMITS, Limits
from .results import Extracted
from .sniff import sniff
from .tabular import is_tabular
from .text import decode_html, decode_text, html_to_text

TEXT_TYPES = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown"}
HTML_EXTENSIONS = frozenset({".html", ".htm"})

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset({
    ".txt", ".md", ".markdown", ".html", ".htm", ".eml", ".msg", ".docx", ".pdf",
    ".png", ".jpg", ".jpeg", ".tif", ".tiff",
})


def extension(filename: str) -> str:
    """Lower-case extension with the dot (``"Report.PDF"`` -> ``".pdf"``); paths allowed."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[-1].lower() if "." in base.strip(".") else ""


def _refuse_binary(ext: str, data: bytes) -> None:
    """Text formats have no magic bytes; refuse a known binary format renamed to text."""
    found = sniff(data)
    if found is not None:
        raise Rejected(Reason.TYPE_MISMATCH,
                       f"The file is named {ext} but its contents look like {found[1]}.")


def _text_file(ext: str, data: bytes, content_type: str) -> Extracted:
    _refuse_binary(ext, data)
    return Extracted(text=decode_text(data), content_type=content_type)


def _html_file(ext: str, data: bytes) -> Extracted:
    _refuse_binary(ext, data)
    text, title = html_to_text(decode_html(data))
    return Extracted(text=text, content_type="text/html", metadata={"title": title} if title else {})


def _dispatch(ext: str, data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    # Imports are local so that a missing optional parser only breaks its own format.
    if ext in TEXT_TYPES:
        return _text_file(ext, data, TEXT_TYPES[ext])
    if ext in HTML_EXTENSIONS:
        return _html_file(ext, data)
    if ext == ".pdf":
        from .formats.pdf import extract_pdf

        return extract_pdf(data, limits, deadline)
    if ext == ".docx":
        from .formats.office import extract_docx

        return extract_docx(data, limits, deadline)
    if ext == ".eml":
        from .formats.mail import extract_eml

        return extract_eml(data, limits, deadline)
    if ext == ".msg":
        from .formats.outlook import extract_msg

        return extract_msg(data, limits, deadline)
    from .formats.images import IMAGE_TYPES, extract_image

    if ext in IMAGE_TYPES:
        return extract_image(ext, data, limits, deadline)
    raise AssertionError(f"no extractor for {ext}")  # pragma: no cover - SUPPORTED_EXTENSIONS guards


def _unsupported(filename: str, ext: str) -> Rejected:
    if is_archive(filename):
        return Rejected(Reason.UNSUPPORTED_TYPE, "Archives are unpacked, not read as one document.")
    if is_tabular(filename):
        return Rejected(Reason.UNSUPPORTED_TYPE, f"Files of type {ext} are read by the bulk import (one "
                                                 f"document per row), not as one document.")
    kinds = ", ".join(sorted(SUPPORTED_EXTENSIONS))
    what = f"Files of type {ext} are" if ext else "Files without an extension are"
    return Rejected(Reason.UNSUPPORTED_TYPE, f"{what} not supported. Supported types: {kinds}.")


def extract(
    filename: str,
    data: bytes,
    limits: Limits = DEFAULT_LIMITS,
    *,
    modified: datetime | None = None,
) -> Extracted:
    """Extract the text of one uploaded file, chosen by its extension and checked by its magic bytes.

    ``modified`` is the container's time for this file (a zip entry's mtime): it is used when
    the format carries no time of its own. Raises ``Rejected`` and nothing else for any input.
    """
    try:
        ext = extension(filename)
        if ext not in SUPPORTED_EXTENSIONS:
            raise _unsupported(filename, ext)
        if len(data) > limits.max_file_bytes:
            raise Rejected(Reason.TOO_LARGE, f"The file is {len(data) / 1048576:,.1f} MiB; the limit is "
                                             f"{limits.max_file_bytes / 1048576:,.1f} MiB.")
        if not data or data.isspace():
            raise Rejected(Reason.EMPTY_TEXT, "The file is empty.")
        with time_limit(limits.timeout_seconds) as deadline:
            result = _dispatch(ext, data, limits, deadline)
    except Rejected:
        raise
    except TimeUp as exc:
        raise Rejected(Reason.TOO_LARGE, f"Reading this file took longer than {limits.timeout_seconds:g} "
                                         f"seconds; it may be very large or malformed.") from exc
    except RecursionError as exc:
        raise Rejected(Reason.CORRUPT, "The file is nested too deeply to be read.") from exc
    except MemoryError as exc:
        raise Rejected(Reason.TOO_LARGE, "The file needs too much memory to be read.") from exc
    except Exception as exc:  # last line of defence: a parser bug must not become a 500
        raise Rejected(Reason.CORRUPT, "The file could not be read; it may be damaged.") from exc

    if result.has_text:
        if len(result.text) > limits.max_text_chars:
            raise Rejected(Reason.TOO_LARGE, f"The text is {len(result.text):,} characters long; the "
                                             f"limit is {limits.max_text_chars:,}.")
        if not result.text.strip():
            raise Rejected(Reason.EMPTY_TEXT, "No text was found in the file.")
    if result.modified is None and modified is not None:
        result.modified = modified
    return result
