"""Agreement between taggers: readable by every member."""

import pytest
from sklearn.metrics import cohen_kappa_score

from classifiers.actions.tagging import do_tag_document
from classifiers.models import Project
from tests.helpers import login
from tests.test_tagging_queue import add_classes, make_docs, studio_url


@pytest.fixture
def doubled(project, admin_user, tagger_user):
    Project.objects.filter(pk=project.pk).update(overlap=2)
    project.refresh_from_db()
    a, b, c = add_classes(project)
    docs = make_docs(project, 6)
    toms = [a, a, b, b, c, a]
    alices = [a, b, b, b, c, c]
    for doc, x, y in zip(docs, toms, alices, strict=True):
        do_tag_document(tagger_user, project, doc, [x])
        do_tag_document(admin_user, project, doc, [y])
    return [x.name for x in toms], [y.name for y in alices]


def test_members_read_the_figures(project, doubled, admin_user, tagger_user, viewer_user):
    expected = f"{cohen_kappa_score(*doubled):.3f}"
    for user in (admin_user, tagger_user, viewer_user):
        response = login(user).get(studio_url(project, "tagging_agreement"))
        body = response.content.decode()
        assert response.status_code == 200
        assert "Cohen&#x27;s kappa" in body and expected in body
        assert "alice · tom" in body or "tom · alice" in body
    assert (
        "Resolve conflicts"
        in login(admin_user).get(studio_url(project, "tagging_agreement")).content.decode()
    )


def test_no_double_tags_yet(project, viewer_user):
    body = login(viewer_user).get(studio_url(project, "tagging_agreement")).content.decode()
    assert "No document has tags from two taggers yet." in body


def test_outsider_404(project, outsider_user):
    assert login(outsider_user).get(studio_url(project, "tagging_agreement")).status_code == 404
