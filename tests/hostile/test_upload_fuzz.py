"""Broken and hostile files, end to end: through the upload view, the background batch
processing (django-q2 runs inline in tests) and the batch page.

tests/ingest fuzzes the extractors directly; here each case goes the whole way and must end
with the batch finished (``done``, never stuck in ``processing``), one result per file, a
*rejected* result with a known reason and a message for every broken file, no document for
it, and a batch page that shows the reason. Never a 500.
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifiers.models import Document, UploadBatch, UploadResult
from tests.helpers import login
from tests.ingest.builders import build_docx, build_eml, build_image, build_pdf, build_zip
from tests.uploads import bomb_zip

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::PIL.Image.DecompressionBombWarning")

REASONS = {
    "unsupported_type", "type_mismatch", "empty_text", "too_large", "encrypted", "corrupt", "unsafe_path",
    "zip_bomb", "too_deep", "too_many_files", "undecodable",
}  # fmt: skip


def corrupt(data: bytes, at: float = 0.5, span: int = 64) -> bytes:
    """Overwrite ``span`` bytes in the middle with junk (the magic bytes stay)."""
    i = max(8, int(len(data) * at))
    return data[:i] + bytes((b ^ 0x5A) for b in data[i : i + span]) + data[i + span :]


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid-looking PNG that claims ten billion pixels (Pillow's bomb guard must refuse it)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + png_chunk(b"IEND", b"")
    )  # fmt: skip


def nested_zip_bomb(levels: int = 6) -> bytes:
    """Zips in zips, each level holding two copies of the one below, a bomb at the bottom."""
    data = bomb_zip()
    for level in range(levels):
        data = build_zip({f"a{level}.zip": data, f"b{level}.zip": data})
    return data


def self_referencing_pdf() -> bytes:
    """/Pages lists itself among its kids, and a page's /Parent and /Contents point in circles."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 3 0 R /Contents 4 0 R /MediaBox [0 0 10 10] >>",
        b"4 0 R",
    ]
    out = io.BytesIO(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (n, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: max(8, int(len(data) * keep))]


DOCX = build_docx(["Master services agreement between A and B."] * 20)
PDF = build_pdf([["Invoice number 42", "Total due 100 EUR"]] * 3)
EML = build_eml(subject="Contract", body="Please sign the contract.")
PNG = build_image("PNG")
JPEG = build_image("JPEG")
ZIP = build_zip({"a.txt": b"alpha text here", "b.txt": b"beta text here"})

# name, bytes, whether a rejection is required (False: a rejection or a clean import).
CASES = [
    ("truncated.docx", truncated(DOCX), True),
    ("corrupted.docx", corrupt(DOCX, 0.3, 400), True),
    ("truncated.pdf", truncated(PDF, 0.3), False),  # pypdf may recover the first page's text
    ("corrupted.pdf", corrupt(PDF, 0.4, 200), False),
    ("pages-loop.pdf", build_pdf([["loop"]], pages_loop=True), False),
    ("self-referencing.pdf", self_referencing_pdf(), True),
    ("header-only.pdf", b"%PDF-1.7\n%%EOF", True),
    ("truncated.zip", truncated(ZIP), True),
    ("corrupted.zip", corrupt(ZIP, 0.2, 40), False),  # a member may survive; the broken one is rejected
    ("bomb.zip", bomb_zip(), True),
    ("nested-bomb.zip", nested_zip_bomb(), True),
    ("truncated.eml", truncated(EML, 0.3), False),  # e-mail is text: a truncated one may still import
    ("corrupted.eml", corrupt(EML, 0.5, 100), False),
    ("binary.eml", bytes(range(256)) * 20, False),
    ("truncated.png", truncated(PNG, 0.4), True),
    ("corrupted.png", corrupt(PNG, 0.5, 200), True),
    ("bomb.png", png_bomb(), True),
    ("truncated.jpg", truncated(JPEG, 0.3), False),  # JPEG decoders fill a cut image with grey
    ("corrupted.jpg", corrupt(JPEG, 0.1, 50), False),
    ("png-named.pdf", PNG, True),
    ("pdf-named.docx", PDF, True),
    ("zip-named.png", ZIP, True),
    ("exe-named.png", b"MZ\x90\x00\x03" + b"\x00" * 200, True),
    ("html-named.jpg", b"<html><body>hello</body></html>", True),
    ("docx-named.pdf", DOCX, True),
    ("text-named.docx", b"just some plain text, not a zip", True),
]
EXAMPLES = len(CASES)  # hostile files, each its own upload, plus one upload holding all of them


def upload(client, project, files) -> UploadBatch:
    response = client.post(f"/projects/{project.slug}/upload/", {"files": files, "set": "training"})
    assert response.status_code in (200, 302), response.status_code
    return UploadBatch.objects.filter(project=project).latest("id")


@pytest.mark.parametrize(("name", "data", "must_reject"), CASES, ids=[c[0] for c in CASES])
def test_broken_file_is_rejected_cleanly(project, admin_user, django_capture_on_commit_callbacks,
                                         name, data, must_reject):  # fmt: skip
    client = login(admin_user)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        batch = upload(client, project, [SimpleUploadedFile(name, data)])
    assert time.monotonic() - started < 60, "processing took too long"
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, (batch.status, batch.error if hasattr(batch, "error") else "")
    results = list(UploadResult.objects.filter(batch=batch))
    assert results, "no result for the file"
    for result in results:
        if result.status == UploadResult.Status.REJECTED:
            assert result.reason in REASONS, (result.path, result.reason)
            assert result.message.strip(), result.path
            assert result.document_id is None
    rejected = [r for r in results if r.status == UploadResult.Status.REJECTED]
    if must_reject:
        assert rejected, [(r.path, r.status) for r in results]
        assert not Document.objects.filter(project=project, filename=name).exists()
    page = client.get(f"/projects/{project.slug}/uploads/{batch.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    for result in rejected[:5]:
        assert result.message.split(":")[0][:30] in body or result.reason in body, result.message


def test_all_broken_files_in_one_upload(project, admin_user, django_capture_on_commit_callbacks):
    """Every case at once: one result each, the batch ends done, the good file still imports."""
    client = login(admin_user)
    files = [SimpleUploadedFile(name, data) for name, data, _ in CASES]
    files.append(SimpleUploadedFile("good.txt", b"A perfectly ordinary note about the budget."))
    with django_capture_on_commit_callbacks(execute=True):
        batch = upload(client, project, files)
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE
    top = {r.path: r for r in UploadResult.objects.filter(batch=batch) if "/" not in r.path}
    assert set(top) >= {name for name, _, must in CASES if must and not name.endswith(".zip")}
    assert top["good.txt"].status == UploadResult.Status.IMPORTED
    assert client.get(f"/projects/{project.slug}/uploads/{batch.pk}/").status_code == 200


def test_empty_file_is_refused_by_the_form(project, admin_user):
    """An empty file never becomes a batch: the form answers 422 with its message."""
    client = login(admin_user)
    response = client.post(
        f"/projects/{project.slug}/upload/", {"files": [SimpleUploadedFile("empty.docx", b"")], "set": "training"}
    )
    assert response.status_code == 422 and "empty" in response.content.decode()
    assert not UploadBatch.objects.filter(project=project).exists()


def test_zip_bomb_counts_as_one_clean_rejection(project, admin_user, django_capture_on_commit_callbacks):
    client = login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        batch = upload(client, project, [SimpleUploadedFile("nested.zip", nested_zip_bomb(8))])
    reasons = set(UploadResult.objects.filter(batch=batch).values_list("reason", flat=True))
    assert reasons and reasons <= {"zip_bomb", "too_deep", "too_many_files", "too_large"}, reasons
    assert not Document.objects.filter(project=project).exists()
    with zipfile.ZipFile(io.BytesIO(nested_zip_bomb(1))) as zf:
        assert len(zf.namelist()) == 2  # the builder itself is sane
