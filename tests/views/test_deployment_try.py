"""Try a deployment: the same JSON the API answers, for pasted text or a file (Taggers+)."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from classifiers.models import ApiCall
from tests.helpers import htmx, login
from tests.test_api_support import Api
from tests.training_data import WORDS


def url(project):
    return f"/projects/{project.slug}/deployments/try/"


def result_json(body: str) -> dict:
    import html

    start = body.index('<pre class="json">') + len('<pre class="json">')
    return json.loads(html.unescape(body[start : body.index("</pre>", start)]))


def test_tagger_pastes_text(project, admin_user, tagger_user):
    api = Api(project, admin_user)
    client = login(tagger_user)
    assert "Try a deployment" in client.get(url(project)).content.decode()
    response = htmx(client, "post", url(project), {"slot": "production", "text": WORDS["sport"]})
    assert response.status_code == 200
    shown = result_json(response.content.decode())
    expected = api.classify({"documents": [{"id": "1", "text": WORDS["sport"]}]}).json()
    assert shown == expected  # the same JSON the API returns
    assert ApiCall.objects.count() == 1  # only the API call is logged, not the try


def test_file_upload_and_rejection(project, admin_user):
    Api(project, admin_user)
    client = login(admin_user)
    upload = SimpleUploadedFile("note.txt", WORDS["tech"].encode(), content_type="text/plain")
    response = client.post(url(project), {"slot": "production", "file": upload})
    shown = result_json(response.content.decode())
    assert (
        shown["documents"][0]["id"] == "note.txt"
        and shown["documents"][0]["classes"][0]["category"] == "tech"
    )
    bad = SimpleUploadedFile("evil.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = htmx(client, "post", url(project), {"slot": "production", "file": bad})
    assert response.status_code == 422 and "evil.exe" in response.content.decode()


def test_missing_text_and_unknown_slot_are_422(project, admin_user, settings):
    Api(project, admin_user)
    client = login(admin_user)
    response = htmx(client, "post", url(project), {"slot": "production", "text": "  "})
    assert response.status_code == 422 and "Paste a text or choose a file" in response.content.decode()
    response = htmx(client, "post", url(project), {"slot": "nope", "text": "goal"})
    assert response.status_code == 422
    settings.STUDIO_API_MAX_CHARS = 1000
    response = htmx(client, "post", url(project), {"slot": "production", "text": "x" * 1001})
    assert response.status_code == 422 and "STUDIO_API_MAX_CHARS" in response.content.decode()


def test_no_slots_yet(project, admin_user):
    body = login(admin_user).get(url(project)).content.decode()
    assert "No slots yet" in body


def test_viewer_403_outsider_404(project, admin_user, viewer_user, outsider_user):
    Api(project, admin_user)
    assert login(viewer_user).get(url(project)).status_code == 403
    assert login(viewer_user).post(url(project), {"slot": "production", "text": "goal"}).status_code == 403
    assert login(outsider_user).get(url(project)).status_code == 404
