"""The classification log: per-slot charts of calls and latency, recent calls."""

from datetime import timedelta

from django.utils import timezone

from classifiers.actions.deployments import do_set_log_api_texts
from classifiers.api import stats
from classifiers.models import ApiCall
from tests.helpers import login
from tests.test_api_support import Api, docs


def url(project, **query):
    from urllib.parse import urlencode

    return f"/projects/{project.slug}/deployments/log/" + (f"?{urlencode(query)}" if query else "")


def test_charts_and_calls(project, admin_user, viewer_user):
    api = Api(project, admin_user)
    for n in (1, 2, 3):
        api.classify({"documents": docs(n)})
    api.classify({"documents": []})  # a 400 is logged too
    body = login(viewer_user).get(url(project)).content.decode()
    assert "<svg" in body and "Calls per hour: production, last 24h" in body
    assert "<polyline" in body or "<circle" in body
    assert body.count("<code>classify</code>") == 4 and ">400<" in body
    assert "Keep texts" not in body  # Admins only
    week = login(viewer_user).get(url(project, range="7d", slot="production")).content.decode()
    assert "last 7d" in week


def test_texts_shown_to_admins_when_kept(project, admin_user, viewer_user):
    api = Api(project, admin_user)
    do_set_log_api_texts(admin_user, project, True)
    api.classify({"documents": [{"id": "a", "text": "secret contract words"}]})
    assert "secret contract words" in login(admin_user).get(url(project)).content.decode()
    assert "secret contract words" not in login(viewer_user).get(url(project)).content.decode()


def test_hourly_figures(project, admin_user):
    api = Api(project, admin_user)
    now = timezone.now()
    for i, latency in enumerate([1.0, 2.0, 3.0, 4.0, 100.0]):
        ApiCall.objects.create(
            project=project, token=api.token, slot="production", endpoint="classify",
            status_code=200, documents=i, latency_ms=latency,
        )  # fmt: skip
    ApiCall.objects.create(
        project=project, slot="production", endpoint="classify", status_code=500, latency_ms=9
    )
    old = ApiCall.objects.create(project=project, slot="production", endpoint="classify", status_code=200)
    ApiCall.objects.filter(pk=old.pk).update(created_at=now - timedelta(hours=30))
    points = stats.hourly(project, "production", "24h", now)
    assert len(points) == 24
    last = points[-1]
    assert (last.calls, last.errors, last.documents) == (6, 1, 10)
    assert 2.4 <= last.p50 <= 3.6 and 80 <= last.p95 <= 120  # histogram bins: within 25%
    assert sum(p.calls for p in points) == 6
    assert stats.summary(project, "production", now - timedelta(days=7))["calls"] == 7


def test_outsider_404(project, outsider_user):
    assert login(outsider_user).get(url(project)).status_code == 404
