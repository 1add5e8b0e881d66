"""Magic bytes: what a file really is, whatever its name says."""

from __future__ import annotations

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

# (prefix, kind, description for messages). Order matters only for shared prefixes.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "pdf", "a PDF document"),
    (b"PK\x03\x04", "zip", "a zip archive or Office document"),
    (b"PK\x05\x06", "zip", "an empty zip archive"),
    (b"PK\x07\x08", "zip", "a zip archive"),
    (OLE_MAGIC, "ole", "an Office 97-2003 or Outlook file"),
    (b"\x89PNG\r\n\x1a\n", "png", "a PNG image"),
    (b"\xff\xd8\xff", "jpeg", "a JPEG image"),
    (b"II*\x00", "tiff", "a TIFF image"),
    (b"MM\x00*", "tiff", "a TIFF image"),
    (b"II+\x00", "tiff", "a BigTIFF image"),
    (b"MM\x00+", "tiff", "a BigTIFF image"),
    (b"GIF87a", "gif", "a GIF image"),
    (b"GIF89a", "gif", "a GIF image"),
    (b"\x1f\x8b", "gzip", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "rar", "a RAR archive"),
    (b"\x7fELF", "elf", "a program (ELF executable)"),
    (b"MZ", "exe", "a Windows program"),
    (b"{\\rtf", "rtf", "an RTF document"),
)


def sniff(data: bytes) -> tuple[str, str] | None:
    """``(kind, description)`` of a recognised binary format, or None (text or unknown)."""
    head = data[:16]
    for prefix, kind, description in _SIGNATURES:
        if head.startswith(prefix):
            if kind == "exe" and b"\x00" not in data[:64]:
                continue  # "MZ" alone is too weak: a text may start with it; a PE header has NULs
            return kind, description
    return None


def is_pdf(data: bytes) -> bool:
    # PDF readers accept the header anywhere in the first KiB (after junk); so do we.
    return b"%PDF-" in data[:1024]


def describe(data: bytes) -> str:
    found = sniff(data)
    return found[1] if found else "a different kind of file"
