"""The API page: curl examples with the project's names, the OpenAPI link, the tokens card."""

from tests.helpers import login
from tests.test_api_support import Api


def url(project):
    return f"/projects/{project.slug}/api/"


def test_examples_use_the_real_names(project, admin_user, viewer_user):
    Api(project, admin_user)
    body = login(viewer_user).get(url(project)).content.decode()
    assert f"http://testserver/api/v1/projects/{project.slug}/deployments/production/classify" in body
    assert "http://testserver/language/analyze-text/jobs?api-version=2022-05-01" in body
    assert "&quot;projectName&quot;: &quot;contracts&quot;" in body
    assert "http://testserver/api/v1/openapi.json" in body
    assert "Create token" not in body and "Tokens" not in body  # Admins only


def test_admin_sees_tokens(project, admin_user):
    api = Api(project, admin_user)
    body = login(admin_user).get(url(project)).content.decode()
    assert "Create token" in body and api.token.prefix in body and api.plain not in body


def test_outsider_404(project, outsider_user):
    assert login(outsider_user).get(url(project)).status_code == 404
