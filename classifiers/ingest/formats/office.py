"""Word .docx text with python-docx.

A .docx is a zip: its central directory is checked (ratio, sizes, count, overlaps) before
python-docx decompresses anything. A password-protected .docx is not a zip but an OLE
compound file holding ``EncryptionInfo`` + ``EncryptedPackage``: that is ``encrypted``.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from ..archive import check_zip, open_zip
from ..errors import Reason, Rejected
from ..guard import Deadline
from ..limits import Limits
from ..results import Extracted
from ..sniff import OLE_MAGIC, ZIP_MAGICS
from ..text import clean_text
from .common import mismatch

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Office parts of one document: thousands would be odd, and python-docx loads them all.
_MAX_PARTS = 5000
# python-docx loads every part into memory and lxml parses the XML: bound the unpacked size.
_MAX_UNPACKED = 512 * 1024 * 1024


def _ole_is_encrypted_office(data: bytes) -> bool:
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
    except Exception:  # a broken OLE file is simply "not an encrypted docx"
        return False


def _as_utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _block_texts(container: Any, deadline: Deadline, out: list[str]) -> None:
    """Paragraphs and tables in document order; table cells (with nested tables) row by row."""
    from docx.table import Table

    for block in container.iter_inner_content():
        deadline.check()
        if isinstance(block, Table):
            for row in block.rows:
                seen: set[int] = set()
                cells: list[str] = []
                for cell in row.cells:
                    # A merged cell is returned once per grid column it spans.
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    inner: list[str] = []
                    _block_texts(cell, deadline, inner)
                    cells.append(" ".join(t for t in inner if t.strip()))
                out.append("\t".join(cells))
        else:
            out.append(block.text)


def extract_docx(data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    if data.startswith(OLE_MAGIC):
        if _ole_is_encrypted_office(data):
            raise Rejected(Reason.ENCRYPTED, "This Word document is password-protected; save a copy "
                                             "without a password and upload it again.")
        raise Rejected(Reason.TYPE_MISMATCH,
                       "The file is named .docx but is an old-style Word (.doc) or other Office 97-2003 "
                       "file; save it as .docx and upload it again.")
    if not data.startswith(ZIP_MAGICS):
        raise mismatch(".docx", data)

    zf, size = open_zip(data, "Word document", max_entries=_MAX_PARTS)
    with zf:
        check_zip(zf, size, limits, max_files=_MAX_PARTS,
                  max_total=min(_MAX_UNPACKED, limits.max_zip_total_bytes), what="Word document")
        names = set(zf.namelist())
        for info in zf.infolist():
            if info.flag_bits & 0x1:
                raise Rejected(Reason.ENCRYPTED, "This Word document contains encrypted parts.")
    if "[Content_Types].xml" not in names or not any(n.startswith("word/") for n in names):
        raise Rejected(Reason.TYPE_MISMATCH,
                       "The file is named .docx but is a zip archive, not a Word document.")

    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        parts: list[str] = []
        _block_texts(document, deadline, parts)
        props = document.core_properties
        created = _as_utc(props.created)
        modified = _as_utc(props.modified)
        metadata: dict[str, Any] = {}
        for key in ("title", "author", "last_modified_by", "subject", "keywords"):
            value = getattr(props, key, None)
            if isinstance(value, str) and value.strip():
                metadata[key] = clean_text(value).strip()
    except Rejected:
        raise
    except ValueError as exc:
        # python-docx raises ValueError for a .docm/.dotx/.xlsx content type
        if "content type" in str(exc).lower():
            raise Rejected(Reason.TYPE_MISMATCH,
                           "The file is named .docx but is another kind of Office file (macro-enabled "
                           "document, template or spreadsheet).") from exc
        raise Rejected(Reason.CORRUPT, "This Word document is damaged and could not be read.") from exc
    except Exception as exc:  # KeyError, lxml XMLSyntaxError, BadZipFile, PackageNotFoundError...
        raise Rejected(Reason.CORRUPT, "This Word document is damaged and could not be read.") from exc

    text = clean_text("\n".join(parts)).strip("\n")
    metadata["paragraphs"] = len(parts)
    return Extracted(text=text, content_type=DOCX_TYPE, created=created, modified=modified, metadata=metadata)
