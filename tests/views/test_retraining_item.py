"""A disagreement reviewed in place, blind."""

from classifiers.models import Feedback, VersionComparison
from tests.helpers import htmx, login


def url(project, comparison, doc_id):
    return f"/projects/{project.slug}/retraining/{comparison.pk}/items/{doc_id}/"


def test_blind_answer_becomes_feedback(retrained, tagger_user):
    project, v1, comparison = retrained
    entry = {"document_id": None}
    production = project.documents.filter(set="production").exclude(feedback__isnull=False).first()
    entry = {"document_id": production.pk, "set": "production", "published": ["match"], "retrained": [],
             "truth": None}  # fmt: skip
    VersionComparison.objects.filter(pk=comparison.pk).update(disagreements=[entry])
    client = login(tagger_user)
    page = client.get(url(project, comparison, production.pk)).content.decode()
    assert "Answer 1" in page and "Answer 2" in page and f"v{v1.number}" not in page.split("blind-item")[1]
    response = htmx(client, "post", url(project, comparison, production.pk), {"choice": "3"})
    assert "Pick one of the two answers" in response.content.decode()
    response = htmx(client, "post", url(project, comparison, production.pk), {"choice": "1"})
    assert "Answer recorded as feedback" in response.content.decode()
    assert Feedback.objects.filter(document=production, withdrawn_at__isnull=True).count() == 1
    comparison.refresh_from_db()
    assert comparison.disagreements[0]["truth"] in (["match"], ["not_match"])


def test_not_a_disagreement_and_roles(retrained, viewer_user, outsider_user, tagger_user):
    project, _, comparison = retrained
    doc = project.documents.filter(set="production").first()
    VersionComparison.objects.filter(pk=comparison.pk).update(disagreements=[])
    page = login(tagger_user).get(url(project, comparison, doc.pk), follow=True).content.decode()
    assert "do not disagree" in page
    VersionComparison.objects.filter(pk=comparison.pk).update(disagreements=[{
        "document_id": doc.pk, "set": "production", "published": ["match"], "retrained": [], "truth": None}])  # fmt: skip
    before = Feedback.objects.count()
    login(viewer_user).post(url(project, comparison, doc.pk), {"choice": "1"})
    assert Feedback.objects.count() == before
    assert login(outsider_user).get(url(project, comparison, doc.pk)).status_code == 404
