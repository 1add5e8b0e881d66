"""Editing or deleting a label: its creator or an operator (other projects may use it)."""

from classifiers.actions.production import do_create_label
from classifiers.models import Label
from tests.helpers import login


def test_creator_edits_and_deletes(project, admin_user):
    label = do_create_label(admin_user, "Retain")
    url = f"/labels/{label.pk}/"
    assert login(admin_user).post(url, {"name": "Retain 2y", "colour": "#112233"}).status_code == 302
    label.refresh_from_db()
    assert label.name == "Retain 2y"
    assert login(admin_user).post(url, {"delete": "yes"}).status_code == 302
    assert not Label.objects.exists()


def test_others_may_not(project, admin_user, tagger_user, outsider_user, other_project, staff_user):
    label = do_create_label(admin_user, "Retain")
    url = f"/labels/{label.pk}/"
    assert login(tagger_user).get(url).status_code == 403
    assert login(outsider_user).post(url, {"delete": "yes"}).status_code == 403  # an Admin elsewhere
    assert Label.objects.exists()
    assert login(staff_user).get(url).status_code == 200
    assert login(admin_user).get("/labels/999999/").status_code == 404
