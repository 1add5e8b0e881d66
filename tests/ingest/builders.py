"""Builders of small real files for the ingest tests (PDF by hand, docx, eml, images, zips)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def build_pdf(
    pages: list[list[str]],
    info: dict[str, str] | None = None,
    *,
    pages_loop: bool = False,
) -> bytes:
    """A minimal valid PDF: one Helvetica text line per string, xref offsets computed.

    ``pages=[[]]`` makes a page without text (like a scan). ``pages_loop`` makes the /Pages
    node list itself among its kids (a cycle that naive readers follow forever).
    """
    objects: dict[int, bytes] = {}
    font_id = 3
    objects[font_id] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    page_ids: list[int] = []
    next_id = 4
    for lines in pages:
        page_id, content_id = next_id, next_id + 1
        next_id += 2
        ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
        for line in lines:
            ops.append(f"{_pdf_string(line)} Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1") if lines else b""
        objects[content_id] = (b"<< /Length %d >>\nstream\n" % len(stream)) + stream + b"\nendstream"
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_id
        )
        page_ids.append(page_id)
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    if pages_loop:
        kids = "2 0 R " + kids
    objects[2] = (
        f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids) + (1 if pages_loop else 0)} >>".encode()
    )
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    info_id = None
    if info:
        info_id = next_id
        next_id += 1
        entries = " ".join(f"/{k} {_pdf_string(v)}" for k, v in info.items())
        objects[info_id] = f"<< {entries} >>".encode("latin-1")

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for oid in sorted(objects):
        offsets[oid] = out.tell()
        out.write(b"%d 0 obj\n" % oid + objects[oid] + b"\nendobj\n")
    xref = out.tell()
    size = max(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for oid in range(1, size):
        if oid in offsets:
            out.write(b"%010d 00000 n \n" % offsets[oid])
        else:
            out.write(b"0000000000 65535 f \n")
    trailer = f"<< /Size {size} /Root 1 0 R" + (f" /Info {info_id} 0 R" if info_id else "") + " >>"
    out.write(b"trailer\n" + trailer.encode() + b"\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def encrypt_pdf(data: bytes, user_password: str, owner_password: str = "owner") -> bytes:
    """Encrypt with RC4-128, which pypdf handles without the cryptography package."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_docx(
    paragraphs: list[str],
    table: list[list[str]] | None = None,
    created: datetime | None = None,
    modified: datetime | None = None,
    title: str = "",
    author: str = "",
) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    props = document.core_properties
    if created:
        props.created = created
    if modified:
        props.modified = modified
    props.title = title
    props.author = author
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def build_eml(
    subject: str = "Invoice overdue",
    body: str = "Please pay the invoice by Friday.",
    html: str | None = None,
    attachment: tuple[str, str, bytes] | None = None,
    date: datetime | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "Alice Example <alice@example.com>"
    msg["To"] = "bob@example.com, Carol <carol@example.org>"
    if date:
        msg["Date"] = format_datetime(date)
    msg["Message-ID"] = "<test-1@example.com>"
    if body:
        msg.set_content(body)
    if html:
        if body:
            msg.add_alternative(html, subtype="html")
        else:
            msg.set_content(html, subtype="html")
    if attachment:
        name, mime, data = attachment
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def build_image(fmt: str, size: tuple[int, int] = (600, 400), mode: str = "RGB") -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new(mode, size, "white" if mode != "RGBA" else (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    draw.rectangle((20, 20, size[0] - 20, size[1] - 20), outline="black", width=5)
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def build_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(
                zipfile.ZipInfo(name, date_time=(2023, 4, 5, 6, 7, 8)), data, compress_type=compression
            )
    return out.getvalue()
