"""Site-wide labels: any member may read them; project Admins and operators create them."""

from classifiers.models import Label
from studio.models import AuditEntry
from tests.helpers import login

URL = "/labels/"


def test_admin_creates_a_label(project, admin_user):
    response = login(admin_user).post(
        URL, {"name": "Retain 7 years", "description": "Finance", "colour": "#336699"}
    )
    assert response.status_code == 302
    assert Label.objects.get().created_by == admin_user
    assert AuditEntry.objects.filter(action="label.create").exists()


def test_bad_input(project, admin_user):
    client = login(admin_user)
    Label.objects.create(name="Retain")
    for data in ({"name": "", "colour": "#336699"}, {"name": "x", "colour": "red"},
                 {"name": "retain", "colour": "#336699"}, {"name": "a\x00b", "colour": "#336699"}):  # fmt: skip
        response = client.post(URL, data)
        assert response.status_code == 422, data
    assert Label.objects.count() == 1


def test_taggers_read_only(project, tagger_user, outsider_user):
    Label.objects.create(name="Retain")
    page = login(tagger_user).get(URL).content.decode()
    assert "Retain" in page and "New label" not in page
    assert login(tagger_user).post(URL, {"name": "Mine", "colour": "#336699"}).status_code == 403
    assert login(outsider_user).get(URL).status_code == 200  # labels are site-wide; policies are not shown
    assert Label.objects.count() == 1
