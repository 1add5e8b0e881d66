from classifiers.models import Document
from studio.models import AuditEntry
from tests.conftest import make_project
from tests.helpers import htmx, login
from tests.test_search import make_doc


def url(project, doc):
    return f"/projects/{project.slug}/documents/{doc.pk}/set/"


def test_tagger_moves_a_document(project, tagger_user):
    doc = make_doc(project, "x")
    response = htmx(login(tagger_user), "post", url(project, doc), {"set": "test"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="side"' in body and "Moved to Test" in body and "<html" not in body
    doc.refresh_from_db()
    assert doc.set == "test"
    entry = AuditEntry.objects.get(action="document.assign_set")
    assert entry.object_type == "document" and entry.object_id == str(doc.pk)


def test_plain_post_redirects_back(project, admin_user):
    doc = make_doc(project, "x")
    response = login(admin_user).post(url(project, doc) + "?q=x", {"set": "production"})
    assert (
        response.status_code == 302
        and response["Location"] == f"/projects/{project.slug}/documents/{doc.pk}/?q=x"
    )


def test_set_must_belong_to_the_kind(project, admin_user):
    doc = make_doc(project, "x")
    response = htmx(login(admin_user), "post", url(project, doc), {"set": "seed"})
    assert response.status_code == 422 and "not a set of this project" in response.content.decode()
    trainable = make_project(admin_user, name="Spotter", kind="trainable")
    seed_doc = make_doc(trainable, "y")
    assert htmx(login(admin_user), "post", url(trainable, seed_doc), {"set": "seed"}).status_code == 200
    assert Document.objects.get(pk=seed_doc.pk).set == "seed"


def test_viewer_403_outsider_404_forged_404(project, other_project, admin_user, viewer_user, outsider_user):
    doc = make_doc(project, "x")
    assert login(viewer_user).post(url(project, doc), {"set": "test"}).status_code == 403
    assert login(outsider_user).post(url(project, doc), {"set": "test"}).status_code == 404
    theirs = make_doc(other_project, "secret")
    assert login(admin_user).post(url(project, theirs), {"set": "test"}).status_code == 404
    assert not Document.objects.filter(set="test").exists()


def test_get_not_allowed(project, admin_user):
    doc = make_doc(project, "x")
    assert login(admin_user).get(url(project, doc)).status_code == 405
