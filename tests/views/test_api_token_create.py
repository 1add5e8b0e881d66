"""Create an API token (Admins): the plain token is shown once, only its hash is kept."""

from classifiers.api.tokens import hash_token
from classifiers.models import ApiToken
from tests.helpers import htmx, login


def url(project):
    return f"/projects/{project.slug}/api/tokens/"


def test_admin_creates_and_sees_it_once(project, admin_user):
    client = login(admin_user)
    response = htmx(client, "post", url(project), {"name": "router", "scopes": ["classify", "read"]})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.content.decode()
    token = ApiToken.objects.get()
    start = body.index('id="new-token"')
    plain = body[start:].split('value="', 1)[1].split('"', 1)[0]
    assert plain.startswith(token.prefix) and hash_token(plain) == token.token_hash
    assert token.scopes == ["classify", "read"] and token.created_by == admin_user
    assert "readonly" in body[start : start + 300]
    # Never again: the page shows the prefix only.
    assert plain not in client.get(f"/projects/{project.slug}/api/").content.decode()


def test_plain_post_renders_the_page(project, admin_user):
    response = login(admin_user).post(url(project), {"name": "cron", "scopes": ["classify"]})
    assert response.status_code == 200 and "copy it now" in response.content.decode()


def test_bad_input_is_422(project, admin_user):
    client = login(admin_user)
    response = htmx(client, "post", url(project), {"name": "", "scopes": ["classify"]})
    assert response.status_code == 422
    response = htmx(client, "post", url(project), {"name": "x", "scopes": ["admin"]})
    assert response.status_code == 422
    response = htmx(client, "post", url(project), {"name": "x"})
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_roles(project, tagger_user, viewer_user, outsider_user, admin_user):
    data = {"name": "x", "scopes": ["classify"]}
    assert login(tagger_user).post(url(project), data).status_code == 403
    assert login(viewer_user).post(url(project), data).status_code == 403
    assert login(outsider_user).post(url(project), data).status_code == 404
    assert login(admin_user).get(url(project)).status_code == 405
    assert not ApiToken.objects.exists()
