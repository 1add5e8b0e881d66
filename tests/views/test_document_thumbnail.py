import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from tests.helpers import login
from tests.test_search import make_doc


def url(project, doc):
    return f"/projects/{project.slug}/documents/{doc.pk}/thumbnail.png"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def image_doc(project):
    doc = make_doc(
        project, "", filename="scan.png", content_type="image/png", sha256="12" * 32, has_text=False
    )
    doc.thumbnail.save("x.png", ContentFile(png_bytes()))
    return doc


def test_viewer_gets_the_png(project, viewer_user, image_doc):
    response = login(viewer_user).get(url(project, image_doc))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    page = login(viewer_user).get(f"/projects/{project.slug}/documents/{image_doc.pk}/").content.decode()
    assert url(project, image_doc) in page


def test_only_our_pngs_are_served(project, admin_user, image_doc):
    assert login(admin_user).get(url(project, make_doc(project, "no image"))).status_code == 404
    # Not a PNG inside (say, HTML planted under a .png name): refused.
    fake = make_doc(project, "", sha256="34" * 32)
    fake.thumbnail.save("x.png", ContentFile(b"<html><script>alert(1)</script>"))
    assert login(admin_user).get(url(project, fake)).status_code == 404
    # A path outside the project's thumbnails folder: refused.
    elsewhere = make_doc(project, "", sha256="56" * 32, thumbnail="projects/999/thumbnails/aa/x.png")
    assert login(admin_user).get(url(project, elsewhere)).status_code == 404


def test_outsider_404(project, outsider_user, image_doc):
    assert login(outsider_user).get(url(project, image_doc)).status_code == 404
