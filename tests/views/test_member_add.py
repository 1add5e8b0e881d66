import pytest

from classifiers.models import Membership
from studio.models import AuditEntry
from tests.conftest import make_user
from tests.helpers import htmx, login


@pytest.fixture
def colleague(db):
    return make_user("carla")


def url(project):
    return f"/projects/{project.slug}/members/add/"


def test_admin_adds_member_by_username(project, admin_user, colleague):
    response = login(admin_user).post(url(project), {"user": "carla", "role": "tagger"})
    assert response.status_code == 302
    assert Membership.objects.get(project=project, user=colleague).role == "tagger"
    assert AuditEntry.objects.filter(action="member.add", payload__user="carla").exists()


def test_admin_adds_member_by_email_over_htmx(project, admin_user, colleague):
    response = htmx(login(admin_user), "post", url(project), {"user": "CARLA@example.com", "role": "viewer"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="members"' in body and "<html" not in body and "carla added as Viewer" in body
    assert Membership.objects.get(project=project, user=colleague).role == "viewer"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"user": "nobody", "role": "tagger"}, "No account “nobody”"),
        ({"user": "", "role": "tagger"}, "This field is required"),
        ({"user": "tom", "role": "tagger"}, "tom is already a member"),
        ({"user": "carla", "role": "owner"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_explained(project, admin_user, colleague, data, message):
    before = Membership.objects.count()
    response = htmx(login(admin_user), "post", url(project), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Membership.objects.count() == before


def test_inactive_account_is_refused(project, admin_user):
    make_user("gone", is_active=False)
    response = login(admin_user).post(url(project), {"user": "gone", "role": "tagger"})
    assert response.status_code == 422 and "deactivated" in response.content.decode()


def test_tagger_and_viewer_may_not_add(project, tagger_user, viewer_user, colleague):
    for user in (tagger_user, viewer_user):
        assert login(user).post(url(project), {"user": "carla", "role": "admin"}).status_code == 403
    assert not Membership.objects.filter(user=colleague).exists()


def test_outsider_gets_404(project, outsider_user, colleague):
    assert login(outsider_user).post(url(project), {"user": "carla", "role": "admin"}).status_code == 404


def test_get_not_allowed(project, admin_user):
    assert login(admin_user).get(url(project)).status_code == 405
