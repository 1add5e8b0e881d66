"""Rate limiting per token: a fixed one-minute window, 429 with Retry-After."""

from __future__ import annotations

import pytest

from classifiers.api import ratelimit
from classifiers.models import ApiCall
from tests.test_api_support import Api, assert_error, make_token, post_json

BODY = {"documents": [{"id": "1", "text": "goal team match"}]}


@pytest.fixture
def api(project, admin_user, settings):
    settings.STUDIO_API_RATE_LIMIT = 3
    ratelimit.reset_local_counts()
    return Api(project, admin_user)


def test_over_the_limit_gets_429_with_retry_after(api, monkeypatch):
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_000_000 * 60 + 15.2)
    remaining = []
    for _ in range(3):
        response = api.classify(BODY)
        assert response.status_code == 200
        remaining.append(response["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"] and response["X-RateLimit-Limit"] == "3"
    response = api.classify(BODY)
    error = assert_error(response, 429, "TooManyRequests")
    assert response["Retry-After"] == "45"  # seconds to the end of this minute
    assert "STUDIO_API_RATE_LIMIT" in error["message"]
    assert ApiCall.objects.count() == 3  # 429s are not logged

    # Another token of the same project has its own window.
    _, other = make_token(api.admin, api.project, name="other")
    assert (
        post_json(api.client, f"/api/v1/projects/{api.project.slug}/deployments", {}, other).status_code
        == 405
    )
    # The next minute starts afresh.
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_000_001 * 60 + 0.5)
    assert api.classify(BODY).status_code == 200


def test_every_endpoint_counts(api):
    for _ in range(3):
        assert api.get(f"/api/v1/projects/{api.project.slug}/deployments").status_code == 200
    assert_error(api.classify(BODY), 429)


def test_zero_turns_it_off(api, settings):
    settings.STUDIO_API_RATE_LIMIT = 0
    for _ in range(6):
        response = api.classify(BODY)
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response


def test_a_bad_token_is_not_counted_against_a_good_one(api):
    for _ in range(5):
        assert_error(api.get(f"/api/v1/projects/{api.project.slug}/deployments", plain="nope"), 401)
    assert api.classify(BODY).status_code == 200


def test_far_from_the_limit_the_shared_counter_is_written_in_batches(api, settings, monkeypatch):
    """Each process adds its count to the shared cache every SYNC_EVERY requests (or second),
    so the DatabaseCache is not written on every call; near the limit it counts exactly."""
    settings.STUDIO_API_RATE_LIMIT = 1000
    ratelimit.reset_local_counts()
    monkeypatch.setattr(ratelimit, "_now", lambda: 2_000_000 * 60 + 1.0)
    writes = []
    real = ratelimit._add_shared
    monkeypatch.setattr(ratelimit, "_add_shared", lambda key, delta: writes.append(delta) or real(key, delta))
    for _ in range(25):
        ratelimit.check_rate(api.token.pk)
    assert writes == [1, 10, 10]  # the first request of a window, then every tenth
    settings.STUDIO_API_RATE_LIMIT = 40
    for _ in range(20):
        try:
            ratelimit.check_rate(api.token.pk)
        except Exception:
            break
    assert sum(writes) == 41 and writes[-1] == 1  # near the limit: every request
