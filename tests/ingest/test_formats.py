"""extract() on real files of every supported format, and every way they get rejected."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import threading
import time
import zlib
from datetime import UTC, datetime

import pytest

from classifiers.ingest import SUPPORTED_EXTENSIONS, Extracted, Limits, Rejected, extract
from classifiers.ingest.formats import images as images_module

from .builders import build_docx, build_eml, build_image, build_pdf, build_zip, encrypt_pdf
from .olewriter import build_msg, build_ole


def rejected(filename: str, data: bytes, limits: Limits | None = None) -> Rejected:
    with pytest.raises(Rejected) as info:
        extract(filename, data, limits or Limits())
    message = info.value.message
    assert message and message[0].isupper() and message.endswith("."), message  # a sentence for a page
    return info.value


def test_supported_extensions() -> None:
    assert {
        ".txt",
        ".md",
        ".html",
        ".htm",
        ".eml",
        ".msg",
        ".docx",
        ".pdf",
        ".png",
        ".jpg",
        ".jpeg",
        ".tif",
        ".tiff",
    } <= SUPPORTED_EXTENSIONS


# --- plain text, markdown, html ---------------------------------------------------------------


def test_txt_and_md_as_is() -> None:
    result = extract("notes.TXT", "Line one\r\nLine two — ok".encode("utf-16"))
    assert (result.text, result.content_type, result.has_text) == (
        "Line one\nLine two — ok",
        "text/plain",
        True,
    )
    md = extract("README.md", b"# Title\n\n* item\n")
    assert md.text == "# Title\n\n* item\n" and md.content_type == "text/markdown"


def test_zip_zone_passes_modified_through() -> None:
    when = datetime(2023, 4, 5, 6, 7, 8, tzinfo=UTC)
    assert extract("a.txt", b"hello", modified=when).modified == when


def test_html_file() -> None:
    result = extract("page.html", b"<html><head><title>T</title><script>x()</script></head><body><p>Body</p>")
    assert result.text == "Body" and result.content_type == "text/html" and result.metadata == {"title": "T"}


def test_empty_and_whitespace_files() -> None:
    assert rejected("a.txt", b"").reason == "empty_text"
    assert rejected("a.txt", b"  \r\n\t ").reason == "empty_text"
    assert rejected("a.html", b"<html><script>only()</script></html>").reason == "empty_text"
    assert rejected("a.pdf", b"").reason == "empty_text"


def test_binary_renamed_as_text_is_type_mismatch() -> None:
    error = rejected("notes.txt", build_pdf([["hello"]]))
    assert error.reason == "type_mismatch" and "PDF" in error.message
    assert rejected("page.html", build_image("PNG")).reason == "type_mismatch"
    assert rejected("mail.eml", build_zip({"a.txt": b"x"})).reason == "type_mismatch"


def test_garbage_text_is_undecodable() -> None:
    assert rejected("a.txt", bytes(range(256)) * 4).reason == "undecodable"


def test_unsupported_types() -> None:
    assert rejected("virus.exe", b"MZ\x90\x00").reason == "unsupported_type"
    assert rejected("no_extension", b"text").reason == "unsupported_type"
    assert "bulk import" in rejected("rows.csv", b"a,b\n1,2\n").message
    assert "unpacked" in rejected("docs.zip", build_zip({"a.txt": b"x"})).message


def test_limits_file_size_and_text_length() -> None:
    assert rejected("a.txt", b"x" * 101, Limits(max_file_bytes=100)).reason == "too_large"
    assert extract("a.txt", b"x" * 100, Limits(max_file_bytes=100)).text == "x" * 100
    assert rejected("a.txt", b"word " * 30, Limits(max_text_chars=100)).reason == "too_large"
    assert len(extract("a.txt", b"w" * 100, Limits(max_text_chars=100)).text) == 100  # kept whole


# --- PDF -------------------------------------------------------------------------------------


def test_pdf_text_pages_and_dates() -> None:
    data = build_pdf(
        [["Hello PDF world", "Second (line)"], ["Page two"]],
        info={
            "Title": "Q3 report",
            "CreationDate": "D:20240102030405Z",
            "ModDate": "D:20240203040506+01'00'",
        },
    )
    result = extract("report.pdf", data)
    assert result.text == "Hello PDF world\nSecond (line)\n\nPage two"
    assert result.content_type == "application/pdf"
    assert result.metadata == {"pages": 2, "title": "Q3 report"}
    assert result.created == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert result.modified == datetime(2024, 2, 3, 3, 5, 6, tzinfo=UTC)
    json.dumps(result.metadata)


def test_pdf_header_after_junk_is_accepted() -> None:
    assert extract("a.pdf", b"\r\n" + build_pdf([["ok text"]])).text == "ok text"


def test_scanned_pdf_is_empty_text_with_ocr_hint() -> None:
    error = rejected("scan.pdf", build_pdf([[], []]))
    assert error.reason == "empty_text" and "OCR" in error.message


def test_encrypted_pdf() -> None:
    plain = build_pdf([["Secret numbers"]])
    assert rejected("locked.pdf", encrypt_pdf(plain, "secret")).reason == "encrypted"
    # Owner password only (the user password is empty): readable, like in any viewer.
    assert extract("perms.pdf", encrypt_pdf(plain, "")).text == "Secret numbers"


def test_pdf_pages_loop_and_corruption() -> None:
    start = time.monotonic()
    assert rejected("loop.pdf", build_pdf([["a"]], pages_loop=True)).reason == "corrupt"
    assert time.monotonic() - start < 5
    assert rejected("cut.pdf", build_pdf([["hello"]])[:60]).reason in ("corrupt", "empty_text")
    assert rejected("junk.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 10).reason in ("corrupt", "empty_text")


def test_pdf_page_limit() -> None:
    error = rejected("long.pdf", build_pdf([["p"]] * 5), Limits(pdf_max_pages=4))
    assert error.reason == "too_large" and "5 pages" in error.message


def test_pdf_type_mismatch() -> None:
    assert rejected("fake.pdf", b"just some text, not a PDF").reason == "type_mismatch"


def _slow_pages(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    from pypdf import PageObject

    def slow(self, *args, **kwargs):
        time.sleep(seconds)
        return "text"

    monkeypatch.setattr(PageObject, "extract_text", slow)


def test_pdf_time_limit_interrupts_a_runaway_page(monkeypatch: pytest.MonkeyPatch) -> None:
    _slow_pages(monkeypatch, 5)
    start = time.monotonic()
    error = rejected("slow.pdf", build_pdf([["a"]]), Limits(timeout_seconds=0.3))
    assert error.reason == "too_large" and "longer than" in error.message
    assert time.monotonic() - start < 3


def test_pdf_time_limit_between_pages_outside_main_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    _slow_pages(monkeypatch, 0.1)
    outcome: list[BaseException | Extracted] = []

    def run() -> None:
        try:
            outcome.append(extract("slow.pdf", build_pdf([["a"]] * 30), Limits(timeout_seconds=0.35)))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    start = time.monotonic()
    thread.start()
    thread.join(10)
    assert isinstance(outcome[0], Rejected) and outcome[0].reason == "too_large"
    assert time.monotonic() - start < 3


# --- docx ------------------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_core_properties() -> None:
    data = build_docx(
        ["Master services agreement", "Clause 1: confidentiality"],
        table=[["Party", "Role"], ["Acme", "Supplier"]],
        created=datetime(2020, 1, 2, 3, 4, 5),
        modified=datetime(2021, 6, 7, 8, 9, 10),
        title="MSA",
        author="Legal",
    )
    result = extract("contract.docx", data)
    assert result.text == "Master services agreement\nClause 1: confidentiality\nParty\tRole\nAcme\tSupplier"
    assert result.created == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert result.modified == datetime(2021, 6, 7, 8, 9, 10, tzinfo=UTC)
    assert result.metadata["title"] == "MSA" and result.metadata["author"] == "Legal"
    assert result.content_type.endswith("wordprocessingml.document")


def test_docx_empty_document() -> None:
    assert rejected("blank.docx", build_docx([])).reason == "empty_text"


def test_encrypted_docx_is_an_ole_file() -> None:
    data = build_ole(
        {"EncryptionInfo": b"\x04\x00\x04\x00" + b"\x00" * 60, "EncryptedPackage": b"\x00" * 5000}
    )
    assert rejected("secret.docx", data).reason == "encrypted"


def test_old_doc_renamed_docx_and_plain_zip() -> None:
    assert rejected("old.docx", build_ole({"WordDocument": b"\x00" * 100})).reason == "type_mismatch"
    assert rejected("notes.docx", build_zip({"a.txt": b"hello"})).reason == "type_mismatch"
    assert rejected("text.docx", b"plain text").reason == "type_mismatch"


def test_docx_bomb_is_checked_before_opening() -> None:
    bomb = build_zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b" " * (3 * 1024 * 1024)})
    assert rejected("bomb.docx", bomb).reason == "zip_bomb"


def test_corrupt_docx() -> None:
    data = build_docx(["Some text"])
    assert rejected("cut.docx", data[: len(data) // 2]).reason == "corrupt"
    broken = build_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<not xml"})
    assert rejected("broken.docx", broken).reason == "corrupt"


# --- e-mail ------------------------------------------------------------------------------------


def test_eml_with_attachment() -> None:
    data = build_eml(
        subject="Invoice overdue",
        body="Please pay by Friday.",
        attachment=("invoice.pdf", "application/pdf", b"%PDF-1.4 fake"),
        date=datetime(2022, 2, 3, 4, 5, 6, tzinfo=UTC),
    )
    result = extract("mail.eml", data)
    assert result.text == "Invoice overdue\n\nPlease pay by Friday."
    assert result.content_type == "message/rfc822"
    assert result.created == result.modified == datetime(2022, 2, 3, 4, 5, 6, tzinfo=UTC)
    meta = result.metadata
    assert meta["subject"] == "Invoice overdue"
    assert meta["from"] == ["Alice Example <alice@example.com>"]
    assert meta["to"] == ["bob@example.com", "Carol <carol@example.org>"]
    assert meta["attachments"] == [{"name": "invoice.pdf", "content_type": "application/pdf", "size": 13}]
    assert "fake" not in result.text  # attachments are listed, not extracted
    json.dumps(meta)


def test_eml_html_only_body() -> None:
    data = build_eml(body="", html="<html><style>p{}</style><body><p>Hello <b>there</b></p></body></html>")
    assert extract("m.eml", data).text == "Invoice overdue\n\nHello there"


def test_eml_prefers_plain_over_html() -> None:
    data = build_eml(body="Plain version", html="<p>HTML version</p>")
    assert extract("m.eml", data).text.endswith("Plain version")


def test_eml_bad_charset_and_headers_do_not_crash() -> None:
    raw = (
        b"Subject: =?bogus-charset?Q?caf=E9?=\r\nFrom: <<<>>>\r\nDate: not a date\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\n\r\nBody caf\xe9 text\r\n"
    )
    result = extract("weird.eml", raw)
    assert "Body café text" in result.text and result.created is None


# --- Outlook .msg ------------------------------------------------------------------------------


def test_msg_unicode_with_dates_and_attachments() -> None:
    sent = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    data = build_msg(
        "Quarterly report",
        "Figures attached.\r\nRegards",
        sender_name="Alice",
        sender_email="alice@example.com",
        to="Bob; Carol",
        sent=sent,
        created=datetime(2024, 5, 6, 7, 0, tzinfo=UTC),
        modified=datetime(2024, 5, 7, 0, 0, tzinfo=UTC),
        attachments=[("q3.xlsx", "application/vnd.ms-excel", b"x" * 5000)],
    )
    result = extract("report.msg", data)
    assert result.text == "Quarterly report\n\nFigures attached.\nRegards"
    assert result.content_type == "application/vnd.ms-outlook"
    assert result.created == datetime(2024, 5, 6, 7, 0, tzinfo=UTC)
    assert result.modified == datetime(2024, 5, 7, 0, 0, tzinfo=UTC)
    meta = result.metadata
    assert meta["from"] == ["Alice <alice@example.com>"] and meta["to"] == ["Bob", "Carol"]
    assert meta["date"] == sent.isoformat()
    assert meta["attachments"] == [
        {"name": "q3.xlsx", "content_type": "application/vnd.ms-excel", "size": 5000}
    ]
    json.dumps(meta)


def test_msg_ansi_strings_and_html_body() -> None:
    data = build_msg(
        "Résumé reçu", "", unicode=False, html_body=b"<html><body><p>Caf\xe9 ok</p></body></html>"
    )
    result = extract("old.msg", data)
    assert result.text == "Résumé reçu\n\nCafé ok" and result.created is None


def test_msg_rejections() -> None:
    assert rejected("a.msg", b"not an ole file at all").reason == "type_mismatch"
    assert rejected("a.msg", build_ole({"WordDocument": b"x" * 10})).reason == "type_mismatch"
    assert rejected("a.msg", build_msg("", "")).reason == "empty_text"
    ole = build_msg("Subject", "Body")
    assert rejected("cut.msg", ole[:600]).reason == "corrupt"


# --- images ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "fmt", "mime"),
    [
        (".png", "PNG", "image/png"),
        (".jpg", "JPEG", "image/jpeg"),
        (".jpeg", "JPEG", "image/jpeg"),
        (".tif", "TIFF", "image/tiff"),
        (".tiff", "TIFF", "image/tiff"),
    ],
)
def test_images_without_ocr(monkeypatch: pytest.MonkeyPatch, ext: str, fmt: str, mime: str) -> None:
    from PIL import Image

    monkeypatch.setattr(images_module.shutil, "which", lambda name: None)
    result = extract("scan" + ext, build_image(fmt, (600, 400)))
    assert (result.text, result.has_text, result.content_type) == ("", False, mime)
    assert (
        result.metadata["width"] == 600
        and result.metadata["height"] == 400
        and result.metadata["format"] == fmt
    )
    assert result.metadata["ocr"] == "unavailable"
    thumb = Image.open(io.BytesIO(result.thumbnail))
    assert max(thumb.size) == 256 and thumb.format == "JPEG"


def test_png_with_alpha_gets_png_thumbnail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images_module.shutil, "which", lambda name: None)
    result = extract("logo.png", build_image("PNG", (100, 50), mode="RGBA"))
    assert result.metadata["thumbnail_content_type"] == "image/png"
    assert result.thumbnail.startswith(b"\x89PNG")


def test_image_ocr_through_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_run(argv, **kwargs):
        calls.append((argv, kwargs))
        return subprocess.CompletedProcess(argv, 0, stdout=b"INVOICE 42\n\x0c", stderr=b"")

    monkeypatch.setattr(images_module.shutil, "which", lambda name: "/usr/bin/tesseract")
    monkeypatch.setattr(images_module.subprocess, "run", fake_run)
    result = extract("scan.png", build_image("PNG"))
    assert (result.text, result.has_text, result.metadata["ocr"]) == ("INVOICE 42", True, "done")
    argv, kwargs = calls[0]
    assert argv[0] == "/usr/bin/tesseract" and argv[2] == "stdout" and kwargs["timeout"] > 0
    assert "shell" not in kwargs


def test_image_ocr_timeout_keeps_the_image(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow_run(argv, **kwargs):
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    monkeypatch.setattr(images_module.shutil, "which", lambda name: "/usr/bin/tesseract")
    monkeypatch.setattr(images_module.subprocess, "run", slow_run)
    result = extract("scan.jpg", build_image("JPEG"))
    assert (result.has_text, result.metadata["ocr"]) == (False, "timeout")


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bombs() -> None:
    assert rejected("bomb.png", _png_claiming(100_000, 100_000)).reason == "zip_bomb"  # Pillow's own error
    assert rejected("bomb2.png", _png_claiming(10_000, 10_000)).reason == "zip_bomb"  # Pillow only warns


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_huge_but_honest_image_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from PIL import Image

    rng = random.Random(1)
    noise = Image.frombytes("RGB", (120, 120), bytes(rng.randrange(256) for _ in range(120 * 120 * 3)))
    out = io.BytesIO()
    noise.save(out, "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)  # the guard stays on, just lower
    assert rejected("photo.png", out.getvalue()).reason == "too_large"


def test_truncated_and_mismatched_images() -> None:
    png = build_image("PNG")
    assert rejected("cut.png", png[: len(png) // 2]).reason == "corrupt"
    jpg = build_image("JPEG")
    assert rejected("cut.jpg", jpg[: len(jpg) // 2]).reason == "corrupt"
    tif = build_image("TIFF")
    assert rejected("cut.tif", tif[:200]).reason == "corrupt"
    assert rejected("photo.png", jpg).reason == "type_mismatch"
    assert rejected("photo.jpg", b"GIF89a" + b"\x00" * 50).reason == "type_mismatch"
