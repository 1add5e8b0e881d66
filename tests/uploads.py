"""Small real files for upload tests, made here (no fixtures on disk)."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage

from django.core.files.uploadedfile import SimpleUploadedFile


def txt(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def eml_bytes(subject: str = "Contract renewal", body: str = "Please sign the attached contract.") -> bytes:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "legal@example.com"
    msg["To"] = "ops@example.com"
    msg["Date"] = "Mon, 02 Mar 2026 10:00:00 +0000"
    msg.set_content(body)
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="contract.pdf")
    return msg.as_bytes()


def docx_bytes(text: str = "Master services agreement between A and B.") -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def mixed_zip() -> bytes:
    """A zip of good files, a duplicate, a broken file, an empty one and a traversal entry."""
    return zip_bytes(
        {
            "mail/renewal.eml": eml_bytes(),
            "notes/meeting.txt": b"Quarterly meeting notes about the budget.",
            "notes/copy-of-meeting.txt": b"Quarterly  meeting notes about the BUDGET.",  # same normalised text
            "web/page.html": b"<html><head><style>x{}</style></head><body><p>Holiday rota</p>"
            b"<script>alert(1)</script></body></html>",
            "contracts/msa.docx": docx_bytes(),
            "scans/stamp.png": png_bytes(),
            "broken/report.pdf": b"this is not a pdf at all",
            "empty.txt": b"   \n ",
            "../escape.txt": b"should never be written",
            "program.exe": b"MZ\x90\x00binary",
        }
    )


def bomb_zip() -> bytes:
    return zip_bytes({"bomb.txt": b"0" * (30 * 1024 * 1024)})
