"""API tokens at the door: headers, revocation, scopes, projects, sessions and CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from classifiers.actions.deployments import do_revoke_token
from classifiers.models import ApiCall, ApiToken
from tests.test_api_support import Api, assert_error, classify_url, docs, make_token, post_json


@pytest.fixture
def api(project, admin_user):
    return Api(project, admin_user)


BODY = {"documents": [{"id": "1", "text": "goal team match"}]}


def test_bearer_and_azure_header(api):
    assert api.classify(BODY).status_code == 200
    response = api.client.post(
        classify_url(api.project),
        BODY,
        content_type="application/json",
        HTTP_OCP_APIM_SUBSCRIPTION_KEY=api.plain,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
        {"HTTP_AUTHORIZATION": "Bearer cs_not-a-real-token"},
        {"HTTP_AUTHORIZATION": "Bearer " + "x" * 500},
        {"HTTP_OCP_APIM_SUBSCRIPTION_KEY": "wrong"},
    ],
)
def test_missing_or_bad_token_is_401_json(api, headers):
    response = api.client.post(classify_url(api.project), BODY, content_type="application/json", **headers)
    assert_error(response, 401, "Unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not ApiCall.objects.exists()  # no token, nothing to attribute the call to


def test_revoked_token_is_401(api):
    do_revoke_token(api.admin, api.token)
    error = assert_error(api.classify(BODY), 401, "Unauthorized")
    assert "revoked" in error["message"]


def test_another_projects_token_gets_404(api, other_project, outsider_user):
    other = Api(other_project, outsider_user)
    # A token of project A on project B's URL: 404, as if B did not exist.
    error = assert_error(other.post(classify_url(api.project), BODY), 404, "NotFound", "project")
    unknown = assert_error(
        other.post(classify_url(api.project).replace(api.project.slug, "no-such"), BODY), 404
    )
    assert error == unknown
    assert other.post(classify_url(other_project), BODY).status_code == 200


def test_read_only_token_may_not_classify(api):
    _, reader = make_token(api.admin, api.project, scopes=("read",), name="reader")
    assert_error(post_json(api.client, classify_url(api.project), BODY, reader), 403, "Forbidden", "scope")
    assert api.get(f"/api/v1/projects/{api.project.slug}/deployments", plain=reader).status_code == 200


def test_session_is_not_a_credential(api, admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.post(classify_url(api.project), BODY, content_type="application/json")
    assert_error(response, 401)


def test_csrf_does_not_apply(api):
    client = Client(enforce_csrf_checks=True)
    response = post_json(client, classify_url(api.project), BODY, api.plain)
    assert response.status_code == 200


def test_last_used_is_written_at_most_once_a_minute(api, django_assert_num_queries):
    api.classify(BODY)
    api.token.refresh_from_db()
    first = api.token.last_used_at
    assert first is not None
    api.classify(BODY)
    api.token.refresh_from_db()
    assert api.token.last_used_at == first
    ApiToken.objects.filter(pk=api.token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    api.classify(BODY)
    api.token.refresh_from_db()
    assert api.token.last_used_at > first


def test_hot_path_queries(api, django_assert_max_num_queries, settings):
    """Token (with project), rate counter, slot (with version), log row: nothing else."""
    settings.STUDIO_API_RATE_LIMIT = 0
    api.classify(BODY)  # warm: last_used_at written, model cached
    # PostgreSQL adds a savepoint, SET LOCAL synchronous_commit and its release around the log row.
    most = 3 if connection.vendor == "sqlite" else 6
    with django_assert_max_num_queries(most):  # token, slot, ApiCall insert
        assert api.classify({"documents": docs(5)}).status_code == 200
