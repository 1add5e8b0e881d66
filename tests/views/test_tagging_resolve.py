"""An Admin settles a conflict with the final tag."""

from classifiers.actions.tagging import do_tag_document
from classifiers.labels import final_labels
from classifiers.models import Project, Tag
from studio.models import AuditEntry
from tests.helpers import htmx, login
from tests.test_search import make_doc
from tests.test_tagging_queue import add_classes


def url(project, doc_id):
    return f"/projects/{project.slug}/tagging/conflicts/{doc_id}/resolve/"


def conflict(project, admin_user, tagger_user):
    Project.objects.filter(pk=project.pk).update(overlap=2)
    a, b, c = add_classes(project)
    doc = make_doc(project, "disputed")
    do_tag_document(tagger_user, project, doc, [a])
    do_tag_document(admin_user, project, doc, [b])
    return doc, (a, b, c)


def test_admin_resolves(project, admin_user, tagger_user):
    doc, (_a, _b, c) = conflict(project, admin_user, tagger_user)
    response = htmx(login(admin_user), "post", url(project, doc.pk), {"class": c.pk})
    body = response.content.decode()
    assert response.status_code == 200 and "Resolved as <strong>C</strong>" in body
    assert f'id="conflict-{doc.pk}"' in body
    assert final_labels(project)[doc.pk] == ["C"]
    assert AuditEntry.objects.get(action="tag.resolve").payload["classes"] == ["C"]


def test_bad_choice_and_forged_document(project, other_project, admin_user, tagger_user):
    doc, _classes = conflict(project, admin_user, tagger_user)
    client = login(admin_user)
    response = htmx(client, "post", url(project, doc.pk), {"class": "999999"})
    assert response.status_code == 422 and "Pick the final class" in response.content.decode()
    theirs = make_doc(other_project, "secret")
    assert client.post(url(project, theirs.pk), {"class": "1"}).status_code == 404
    assert not Tag.objects.filter(is_resolution=True).exists()


def test_without_htmx_redirects_to_the_list(project, admin_user, tagger_user):
    doc, (a, _b, _c) = conflict(project, admin_user, tagger_user)
    response = login(admin_user).post(url(project, doc.pk), {"class": a.pk})
    assert response.status_code == 302 and response["Location"].endswith("/tagging/conflicts/")


def test_tagger_forbidden_outsider_404(project, admin_user, tagger_user, outsider_user):
    doc, (a, _b, _c) = conflict(project, admin_user, tagger_user)
    assert login(tagger_user).post(url(project, doc.pk), {"class": a.pk}).status_code == 403
    assert login(outsider_user).post(url(project, doc.pk), {"class": a.pk}).status_code == 404
    assert not Tag.objects.filter(is_resolution=True).exists()
