"""Every stored file goes out through an access-checked view as an attachment, never as a
page on our origin: an uploaded .html or .svg must not run script when opened.

The views: document_original (attachment, application/octet-stream), export_download
(attachment, application/octet-stream) and document_thumbnail, which stays inline because
an <img> shows it: it serves only PNGs we generated (re-encoded by Pillow at upload), from
the project's thumbnails folder, after checking the PNG signature, as image/png with
nosniff, so a browser never reads it as anything but an image. MEDIA_URL is not routed
(tests/test_settings.py checks that with production settings).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifiers.actions.uploads import do_create_export
from classifiers.models import Document, ExportJob, UploadResult
from tests.helpers import login
from tests.uploads import png_bytes

HTML = b"<html><body><p>Quarterly holiday rota</p><script>fetch('/api/').then(r=>r)</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)">'
    b"<script>alert(1)</script><text>Budget memo</text></svg>"
)


def upload(client, project, capture, name: str, data: bytes, content_type: str):
    with capture(execute=True):
        response = client.post(
            f"/projects/{project.slug}/upload/",
            {"files": [SimpleUploadedFile(name, data, content_type=content_type)], "set": "training"},
        )
    assert response.status_code == 302


def assert_attachment(response, data: bytes | None = None) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    if data is not None:
        assert b"".join(response.streaming_content) == data


def test_uploaded_html_downloads_as_an_attachment(project, tagger_user, viewer_user, django_capture_on_commit_callbacks):
    upload(login(tagger_user), project, django_capture_on_commit_callbacks, "rota.html", HTML, "text/html")
    doc = Document.objects.get(project=project)
    assert "holiday rota" in doc.text.lower() and "fetch" not in doc.text  # visible text only
    response = login(viewer_user).get(f"/projects/{project.slug}/documents/{doc.pk}/original/")
    assert_attachment(response, HTML)
    assert 'filename="rota.html"' in response["Content-Disposition"]
    assert "text/html" not in response["Content-Type"]


def test_uploaded_svg_is_never_served_as_an_image_or_page(
    project, tagger_user, admin_user, django_capture_on_commit_callbacks
):
    client = login(tagger_user)
    upload(client, project, django_capture_on_commit_callbacks, "memo.svg", SVG, "image/svg+xml")
    result = UploadResult.objects.get(path="memo.svg")
    doc = Document.objects.filter(project=project, filename="memo.svg").first()
    if doc is None:
        # Not a supported type: rejected with the reason, nothing stored to serve.
        assert result.status == "rejected" and result.reason in ("unsupported_type", "type_mismatch")
        return
    response = login(admin_user).get(f"/projects/{project.slug}/documents/{doc.pk}/original/")
    assert_attachment(response, SVG)
    assert "svg" not in response["Content-Type"]
    # And it is no thumbnail: only our generated PNGs are served inline.
    assert login(admin_user).get(f"/projects/{project.slug}/documents/{doc.pk}/thumbnail.png").status_code == 404


def test_svg_inside_a_zip_is_not_served_inline_either(
    project, tagger_user, admin_user, django_capture_on_commit_callbacks
):
    from tests.uploads import zip_bytes

    data = zip_bytes({"memo.svg": SVG, "page.html": HTML})
    upload(login(tagger_user), project, django_capture_on_commit_callbacks, "bundle.zip", data, "application/zip")
    client = login(admin_user)
    for doc in Document.objects.filter(project=project):
        response = client.get(f"/projects/{project.slug}/documents/{doc.pk}/original/")
        assert_attachment(response)
        assert client.get(f"/projects/{project.slug}/documents/{doc.pk}/thumbnail.png").status_code == 404


def rgba_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 90, 200, 128)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "name, data, kind, magic",
    [
        ("scan.png", png_bytes(), "image/jpeg", b"\xff\xd8\xff"),  # ingest thumbnails opaque images as JPEG
        ("logo.png", rgba_png(), "image/png", b"\x89PNG\r\n\x1a\n"),  # and keeps transparency in PNG
    ],
)
def test_thumbnail_of_an_uploaded_image_is_our_image(
    project, tagger_user, viewer_user, django_capture_on_commit_callbacks, name, data, kind, magic
):
    upload(login(tagger_user), project, django_capture_on_commit_callbacks, name, data, "image/png")
    doc = Document.objects.get(project=project, filename=name)
    client = login(viewer_user)
    thumb = client.get(f"/projects/{project.slug}/documents/{doc.pk}/thumbnail.png")
    assert thumb.status_code == 200 and thumb["Content-Type"] == kind
    assert thumb["X-Content-Type-Options"] == "nosniff" and thumb["Content-Disposition"] == "inline"
    assert b"".join(thumb.streaming_content).startswith(magic)
    assert_attachment(client.get(f"/projects/{project.slug}/documents/{doc.pk}/original/"))


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_downloads_as_an_attachment(project, admin_user, tagger_user, fmt, django_capture_on_commit_callbacks):
    upload(login(admin_user), project, django_capture_on_commit_callbacks, "rota.html", HTML, "text/html")
    with django_capture_on_commit_callbacks(execute=True):
        job = do_create_export(admin_user, project, fmt, {})
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    url = f"/projects/{project.slug}/exports/{job.pk}/download/"
    response = login(admin_user).get(url)
    assert_attachment(response)
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    assert login(tagger_user).get(url).status_code == 403
