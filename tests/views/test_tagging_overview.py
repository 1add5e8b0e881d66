"""The tagging overview: start, progress, assignments and settings (Admins)."""

from classifiers.actions.tagging import do_tag_document
from tests.helpers import login
from tests.test_tagging_queue import add_classes, make_docs, studio_url


def test_admin_sees_settings_assignments_and_taggers(project, admin_user, tagger_user):
    a, _b, _c = add_classes(project)
    docs = make_docs(project, 3)
    do_tag_document(tagger_user, project, docs[0], [a])
    response = login(admin_user).get(studio_url(project, "tagging"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="tagging-settings"' in body and 'id="assignments"' in body
    assert "Taggers" in body and "tom" in body and "Conflicts" in body
    assert 'href="/projects/contracts/tagging/queue/"' in body
    assert "No predictions yet" in body  # no model version: the shuffle
    assert 'aria-current="page">Tag</a>' in body


def test_tagger_sees_own_progress_only(project, tagger_user, admin_user):
    a, _b, _c = add_classes(project)
    docs = make_docs(project, 2)
    do_tag_document(admin_user, project, docs[0], [a])
    do_tag_document(tagger_user, project, docs[1], [a])
    body = login(tagger_user).get(studio_url(project, "tagging")).content.decode()
    assert "My progress" in body and "Start tagging" in body
    assert 'id="tagging-settings"' not in body and 'id="assignments"' not in body
    assert "alice" not in body.split("My progress")[1].split("</section>")[0]


def test_viewer_reads_totals_without_tagging(project, viewer_user):
    make_docs(project, 2)
    response = login(viewer_user).get(studio_url(project, "tagging"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "To tag (training + test)" in body
    assert "Start tagging" not in body and "My progress" not in body


def test_outsider_and_anonymous(project, outsider_user, client):
    assert login(outsider_user).get(studio_url(project, "tagging")).status_code == 404
    response = client.get(studio_url(project, "tagging"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
