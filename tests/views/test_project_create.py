import pytest

from classifiers.models import Membership, Project
from studio.models import AuditEntry
from tests.helpers import login


def test_creator_creates_project_and_becomes_admin(admin_user):
    response = login(admin_user).post(
        "/projects/new/",
        {"name": "Tickets 2026", "kind": "single_label", "description": "x", "language": "en"},
    )
    project = Project.objects.get(name="Tickets 2026")
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.slug}/"
    assert Membership.objects.get(project=project, user=admin_user).role == "admin"
    entry = AuditEntry.objects.get(action="project.create")
    assert entry.project == project and entry.actor == admin_user and entry.payload["kind"] == "single_label"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "", "kind": "single_label", "language": "en"}, "This field is required"),
        ({"name": "   ", "kind": "single_label", "language": "en"}, "This field is required"),
        ({"name": "<script>", "kind": "single_label", "language": "en"}, "A project name has"),
        ({"name": "x" * 101, "kind": "single_label", "language": "en"}, "at most 100 characters"),
        ({"name": "Fine", "kind": "nonsense", "language": "en"}, "Select a valid choice"),
        ({"name": "Fine", "kind": "single_label", "language": "klingon"}, "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_message(admin_user, data, message):
    response = login(admin_user).post("/projects/new/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Project.objects.exists()
    assert not AuditEntry.objects.exists()


def test_duplicate_name_any_case(project, admin_user):
    response = login(admin_user).post(
        "/projects/new/", {"name": "CONTRACTS", "kind": "multi_label", "language": "en"}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Project.objects.count() == 1


def test_tagger_without_group_is_refused(tagger_user):
    response = login(tagger_user).get("/projects/new/")
    assert response.status_code == 403
    assert "Compliance admins" in response.content.decode()
    response = login(tagger_user).post(
        "/projects/new/", {"name": "X1", "kind": "single_label", "language": "en"}
    )
    assert response.status_code == 403 and not Project.objects.exists()


def test_kind_is_fixed_and_slug_unique(admin_user):
    from classifiers.actions import do_create_project, do_update_project

    a = do_create_project(admin_user, name="Mail kind", kind="trainable")
    do_update_project(admin_user, a, name="Mail-kind")
    b = do_create_project(admin_user, name="Mail kind", kind="single_label")
    assert a.slug != b.slug
    do_update_project(admin_user, a, kind="multi_label")  # ignored: not an editable field
    a.refresh_from_db()
    assert a.kind == "trainable"
