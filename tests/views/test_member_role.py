from classifiers.models import Membership
from studio.models import AuditEntry
from tests.helpers import htmx, login


def url(project, membership):
    return f"/projects/{project.slug}/members/{membership.id}/role/"


def test_admin_changes_role(project, admin_user, tagger_user):
    m = Membership.objects.get(project=project, user=tagger_user)
    response = htmx(login(admin_user), "post", url(project, m), {"role": "admin"})
    assert response.status_code == 200
    m.refresh_from_db()
    assert m.role == "admin"
    entry = AuditEntry.objects.get(action="member.change_role")
    assert entry.payload == {"user": "tom", "before": "tagger", "after": "admin"}


def test_last_admin_cannot_step_down(project, admin_user):
    m = Membership.objects.get(project=project, user=admin_user)
    response = htmx(login(admin_user), "post", url(project, m), {"role": "viewer"})
    assert response.status_code == 422
    assert "at least one Admin" in response.content.decode()
    m.refresh_from_db()
    assert m.role == "admin"


def test_admin_steps_down_when_another_admin_exists(project, admin_user, tagger_user):
    client = login(admin_user)
    htmx(
        client,
        "post",
        url(project, Membership.objects.get(project=project, user=tagger_user)),
        {"role": "admin"},
    )
    mine = Membership.objects.get(project=project, user=admin_user)
    response = htmx(client, "post", url(project, mine), {"role": "tagger"})
    assert response.status_code == 200 and response["HX-Redirect"] == f"/projects/{project.slug}/"


def test_bad_role_and_forged_membership_id(project, other_project, admin_user, outsider_user):
    m = Membership.objects.get(project=project, user=admin_user)
    assert htmx(login(admin_user), "post", url(project, m), {"role": "root"}).status_code == 422
    # A membership of another project, addressed through our project: 404, untouched.
    theirs = Membership.objects.get(project=other_project, user=outsider_user)
    assert login(admin_user).post(url(project, theirs), {"role": "viewer"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == "admin"


def test_tagger_forbidden_outsider_404(project, tagger_user, outsider_user):
    m = Membership.objects.get(project=project, user=tagger_user)
    assert login(tagger_user).post(url(project, m), {"role": "admin"}).status_code == 403
    assert login(outsider_user).post(url(project, m), {"role": "admin"}).status_code == 404
    m.refresh_from_db()
    assert m.role == "tagger"
