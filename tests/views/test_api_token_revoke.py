"""Revoke an API token (Admins): it gets 401 at once."""

from classifiers.models import ApiToken
from tests.helpers import htmx, login
from tests.test_api_support import Api, assert_error, docs


def url(project, token):
    return f"/projects/{project.slug}/api/tokens/{token.pk}/revoke/"


def test_admin_revokes(project, admin_user):
    api = Api(project, admin_user)
    assert api.classify({"documents": docs(1)}).status_code == 200
    response = htmx(login(admin_user), "post", url(project, api.token))
    assert response.status_code == 200 and "is revoked" in response.content.decode()
    assert ApiToken.objects.get().revoked_at is not None
    assert_error(api.classify({"documents": docs(1)}), 401)
    again = login(admin_user).post(url(project, api.token), follow=True)
    assert "already revoked" in again.content.decode()


def test_roles_and_forged_ids(project, admin_user, tagger_user, viewer_user, outsider_user, other_project):
    api = Api(project, admin_user)
    for user in (tagger_user, viewer_user):
        assert login(user).post(url(project, api.token)).status_code == 403
    assert login(outsider_user).post(url(project, api.token)).status_code == 404
    foreign = Api(other_project, outsider_user).token
    assert login(admin_user).post(url(project, foreign)).status_code == 404
    assert login(admin_user).get(url(project, api.token)).status_code == 405
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
