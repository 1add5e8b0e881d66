import pytest

from studio.audit import log_action
from studio.models import AuditEntry


def test_entry_records_who_what_when(project, admin_user):
    entry = log_action(admin_user, "schema.change", project, payload={"n": 1})
    assert (entry.actor_name, entry.project, entry.object_type, entry.object_id) == (
        "alice",
        project,
        "project",
        str(project.pk),
    )
    assert entry.created_at is not None


def test_system_actor(project):
    assert log_action(None, "training.reap", project).actor_name == "system"


def test_append_only(project, admin_user):
    entry = log_action(admin_user, "x.y", project)
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()


def test_admin_is_read_only(project, admin_user, client):
    from tests.conftest import make_user

    op = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(op)
    entry = log_action(admin_user, "x.y", project)
    assert client.get("/admin/studio/auditentry/").status_code == 200
    assert client.get(f"/admin/studio/auditentry/{entry.pk}/change/").status_code == 200
    assert client.get("/admin/studio/auditentry/add/").status_code == 403
    assert client.post(f"/admin/studio/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
