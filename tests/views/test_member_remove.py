from classifiers.models import Membership
from studio.models import AuditEntry
from tests.helpers import htmx, login


def url(project, membership):
    return f"/projects/{project.slug}/members/{membership.id}/remove/"


def test_admin_removes_member(project, admin_user, viewer_user):
    m = Membership.objects.get(project=project, user=viewer_user)
    response = htmx(login(admin_user), "post", url(project, m))
    assert response.status_code == 200
    assert not Membership.objects.filter(pk=m.pk).exists()
    assert AuditEntry.objects.get(action="member.remove").payload == {"user": "vera", "role": "viewer"}
    # The removed viewer no longer sees the project.
    assert login(viewer_user).get(f"/projects/{project.slug}/").status_code == 404


def test_last_admin_cannot_be_removed(project, admin_user):
    m = Membership.objects.get(project=project, user=admin_user)
    response = htmx(login(admin_user), "post", url(project, m))
    assert response.status_code == 422 and "last Admin" in response.content.decode()
    assert Membership.objects.filter(pk=m.pk).exists()
    assert not AuditEntry.objects.filter(action="member.remove").exists()


def test_only_admins_remove(project, tagger_user, viewer_user, outsider_user):
    m = Membership.objects.get(project=project, user=viewer_user)
    assert login(tagger_user).post(url(project, m)).status_code == 403
    assert login(viewer_user).post(url(project, m)).status_code == 403
    assert login(outsider_user).post(url(project, m)).status_code == 404
    assert Membership.objects.filter(pk=m.pk).exists()


def test_unknown_membership_404(project, admin_user):
    assert login(admin_user).post(f"/projects/{project.slug}/members/999999/remove/").status_code == 404
