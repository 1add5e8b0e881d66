import pytest

from classifiers.models import Class, Tag
from tests.helpers import htmx, login
from tests.test_search import make_doc


def url(project):
    return f"/projects/{project.slug}/documents/"


@pytest.fixture
def docs(project, admin_user):
    billing = Class.objects.create(project=project, name="Billing <b>", colour="#aa0000")
    made = [make_doc(project, f"document number {i}", filename=f"f{i:03}.txt") for i in range(60)]
    Tag.objects.create(project=project, document=made[-1], tag_class=billing, tagger=admin_user)
    return made


def test_admin_sees_documents_with_bulk_actions(project, admin_user, docs):
    response = login(admin_user).get(url(project))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<strong>60</strong> documents" in body
    assert body.count('name="ids"') == 50  # one keyset page
    assert '<option value="delete">Delete</option>' in body
    assert "Billing &lt;b&gt;" in body and "Billing <b>" not in body
    assert response.context["section"] == "documents" and response.context["project"] == project
    assert 'rel="next"' in body and "last=1" in body and 'rel="prev"' not in body


def test_tagger_gets_bulk_actions_without_delete(project, tagger_user, docs):
    body = login(tagger_user).get(url(project)).content.decode()
    assert 'name="ids"' in body and 'value="delete"' not in body


def test_viewer_reads_without_bulk_actions(project, viewer_user, docs):
    response = login(viewer_user).get(url(project))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="ids"' not in body and "document number 59" in body


def test_outsider_and_anonymous(project, outsider_user, client, docs):
    assert login(outsider_user).get(url(project)).status_code == 404
    assert client.get(url(project)).status_code == 302


def test_htmx_gets_the_results_partial(project, admin_user, docs):
    response = htmx(login(admin_user), "get", url(project), {"q": "number", "sort": "filename"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="results"' in body and "<html" not in body
    assert body.index("f000.txt") < body.index("f001.txt") < body.index("f049.txt")


def test_next_and_last_pages(project, admin_user, docs):
    client = login(admin_user)
    first = client.get(url(project), {"sort": "oldest"})
    page = first.context["page"]
    second = client.get(url(project), {"sort": "oldest", "after": page.next_cursor})
    assert [d.pk for d in second.context["page"]] == [d.pk for d in docs[50:]]
    last = client.get(url(project), {"sort": "oldest", "last": "1"})
    assert [d.pk for d in last.context["page"]] == [d.pk for d in docs[10:]]
    back = client.get(url(project), {"sort": "oldest", "before": last.context["page"].prev_cursor})
    assert [d.pk for d in back.context["page"]] == [d.pk for d in docs[:10]]


def test_tampered_cursor_and_bad_filters_do_not_break(project, admin_user, docs):
    client = login(admin_user)
    response = client.get(
        url(project), {"after": "%%%", "before": "eyJ4Ijo", "class": "x", "date_from": "soon"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "(ignored)" in body and "<strong>60</strong> documents" in body


def test_filters_apply(project, admin_user, docs):
    billing = Class.objects.get(project=project)
    response = login(admin_user).get(url(project), {"class": billing.pk})
    assert [d.pk for d in response.context["page"]] == [docs[-1].pk]
    assert "<strong>1</strong> document matches" in response.content.decode()


def test_search_shows_more_than_the_cap(project, admin_user, docs, monkeypatch):
    from classifiers import search

    monkeypatch.setattr(search, "COUNT_CAP", 10)
    body = login(admin_user).get(url(project), {"q": "number"}).content.decode()
    assert "More than 10" in body


def test_other_projects_documents_never_listed(project, other_project, admin_user, docs):
    make_doc(other_project, "secret number")
    body = login(admin_user).get(url(project), {"q": "secret"}).content.decode()
    assert "secret number" not in body and "<strong>0</strong> documents" in body


def test_trainable_project_offers_match_and_not_match(admin_user):
    from tests.conftest import make_project

    project = make_project(admin_user, name="Spotter", kind="trainable")
    category = project.classes.get()
    doc = make_doc(project, "a positive example", set="seed")
    Tag.objects.create(project=project, document=doc, tag_class=category, tagger=admin_user, positive=False)
    body = login(admin_user).get(url(project), {"not_match": "1"}).content.decode()
    assert (
        'value="not_match"' in body
        and "Tag as match" in body
        and 'name="not_match" value="1" checked' in body
    )
    assert "Not a match</span>" in body and '<option value="seed">Seed</option>' in body
