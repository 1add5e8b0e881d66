"""The documents where taggers disagree (Admins)."""

from classifiers.actions.tagging import do_resolve_conflict, do_tag_document
from classifiers.models import Project
from tests.helpers import login
from tests.test_tagging_queue import add_classes, make_docs, studio_url


def test_admin_sees_unresolved_disagreements(project, admin_user, tagger_user):
    Project.objects.filter(pk=project.pk).update(overlap=2)
    a, b, _c = add_classes(project)
    agree, disagree, resolved, single = make_docs(project, 4)
    for doc, x, y in [(agree, a, a), (disagree, a, b), (resolved, b, a)]:
        do_tag_document(tagger_user, project, doc, [x])
        do_tag_document(admin_user, project, doc, [y])
    do_tag_document(tagger_user, project, single, [a])
    do_resolve_conflict(admin_user, project, resolved, [a])
    response = login(admin_user).get(studio_url(project, "tagging_conflicts"))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="conflict-{disagree.pk}"' in body
    for doc in (agree, resolved, single):
        assert f'id="conflict-{doc.pk}"' not in body
    assert "1 document where the taggers disagree" in body
    assert f"/tagging/conflicts/{disagree.pk}/resolve/" in body


def test_none(project, admin_user):
    assert (
        "No conflicts to resolve."
        in login(admin_user).get(studio_url(project, "tagging_conflicts")).content.decode()
    )


def test_tagger_forbidden_outsider_404(project, tagger_user, viewer_user, outsider_user):
    assert login(tagger_user).get(studio_url(project, "tagging_conflicts")).status_code == 403
    assert login(viewer_user).get(studio_url(project, "tagging_conflicts")).status_code == 403
    assert login(outsider_user).get(studio_url(project, "tagging_conflicts")).status_code == 404
