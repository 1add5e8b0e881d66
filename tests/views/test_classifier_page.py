from classifiers.models import Document
from tests.conftest import make_project
from tests.helpers import login


def make(admin, n_seeds=3):
    project = make_project(admin, name="Contract mail", kind="trainable")
    Document.objects.bulk_create(
        [Document(project=project, set="seed", text=f"seed {i}", text_hash=str(i)) for i in range(n_seeds)]
    )
    return project


def test_stepper_says_what_to_do(admin_user):
    project = make(admin_user)
    body = login(admin_user).get(f"/projects/{project.slug}/classifier/").content.decode()
    assert 'aria-current="step">Needs seed' in body
    assert "Add at least 50 seed positives (3 so far)" in body
    assert "Upload seed positives" in body


def test_member_roles(admin_user, viewer_user, outsider_user):
    from classifiers.actions import do_add_member

    project = make(admin_user)
    do_add_member(admin_user, project, viewer_user, "viewer")
    body = login(viewer_user).get(f"/projects/{project.slug}/classifier/").content.decode()
    assert "Needs seed" in body and "Upload seed positives" not in body
    assert login(outsider_user).get(f"/projects/{project.slug}/classifier/").status_code == 404


def test_not_for_other_kinds(project, admin_user):
    assert login(admin_user).get(f"/projects/{project.slug}/classifier/").status_code == 404
