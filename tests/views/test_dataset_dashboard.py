import re

import pytest

from classifiers.models import Class, Document, Tag
from tests.conftest import make_project
from tests.helpers import login
from tests.test_search import make_doc


def url(project):
    return f"/projects/{project.slug}/dashboard/"


def tag_many(project, cls, user, n, set_name="training"):
    docs = Document.objects.bulk_create(
        Document(project=project, text=f"{cls.name} {i}", text_hash=f"{cls.pk}-{set_name}-{i}", set=set_name)
        for i in range(n)
    )
    Tag.objects.bulk_create(Tag(project=project, document=d, tag_class=cls, tagger=user) for d in docs)


@pytest.fixture
def dataset(project, admin_user):
    big = Class.objects.create(project=project, name="Big <i>", colour="#112233")
    small = Class.objects.create(project=project, name="Small", colour="#445566")
    Class.objects.create(project=project, name="Gone", archived=True)
    tag_many(project, big, admin_user, 160)
    tag_many(project, big, admin_user, 20, "test")
    tag_many(project, small, admin_user, 12)
    for i in range(7):
        make_doc(project, f"untagged {i}")
    return big, small


def test_counts_chart_and_warnings(project, admin_user, dataset, django_assert_max_num_queries):
    _big, small = dataset
    client = login(admin_user)
    with django_assert_max_num_queries(12):
        response = client.get(url(project))
    assert response.status_code == 200
    ctx = response.context
    assert (ctx["total"], ctx["tagged"], ctx["untagged"]) == (199, 192, 7)
    rows = {r.name: (r.training, r.test) for r in ctx["rows"]}
    assert rows == {"Big <i>": (160, 20), "Small": (12, 0)}  # archived classes are not listed
    sets = {s["set"].value: (s["documents"], s["untagged"]) for s in ctx["set_rows"]}
    assert sets == {"training": (179, 7), "test": (20, 0), "production": (0, 0)}
    body = response.content.decode()
    warnings = " ".join(w.message for w in ctx["warnings"])
    assert "Small has 12 tagged training documents: tag at least 15" in warnings
    assert "Small is missing from the test set" in warnings
    assert (
        "Strong imbalance: Big <i> has 160 tagged training documents, Small only 12 (13 times fewer)"
        in warnings
    )
    assert f"?class={small.pk}&amp;set=test" in body
    # The SVG: escaped labels, colours as attributes, no style attributes (strict CSP).
    assert "<svg" in body and 'fill="#112233"' in body and "Big &lt;i&gt;" in body and "Big <i>" not in body
    assert not re.search(r"\sstyle=", body)
    assert ctx["section"] == "dashboard" and ctx["project"] == project
    assert 'action="/projects/contracts/dashboard/test-split/"' in body


def test_balanced_dataset_has_no_warnings(project, admin_user):
    for name in ("A", "B"):
        cls = Class.objects.create(project=project, name=name)
        tag_many(project, cls, admin_user, 20)
        tag_many(project, cls, admin_user, 5, "test")
    response = login(admin_user).get(url(project))
    assert response.context["warnings"] == [] and "No balance warnings" in response.content.decode()


def test_trainable_counts_match_and_not_match(admin_user):
    project = make_project(admin_user, name="Spotter", kind="trainable")
    category = project.classes.get()
    docs = [make_doc(project, f"d{i}") for i in range(3)]
    Tag.objects.create(
        project=project, document=docs[0], tag_class=category, tagger=admin_user, positive=True
    )
    Tag.objects.create(
        project=project, document=docs[1], tag_class=category, tagger=admin_user, positive=False
    )
    response = login(admin_user).get(url(project))
    rows = {r.name: r.training for r in response.context["rows"]}
    assert rows == {"Match": 1, "Not a match": 1}
    assert "?not_match=1" in response.content.decode()


def test_colour_is_rechecked(project, admin_user):
    Class.objects.filter(pk=Class.objects.create(project=project, name="Odd").pk).update(colour='"/><x')
    body = login(admin_user).get(url(project)).content.decode()
    assert '"/><x' not in body


def test_tagger_and_viewer_read_without_split_form(project, tagger_user, viewer_user, dataset):
    for user in (tagger_user, viewer_user):
        response = login(user).get(url(project))
        assert response.status_code == 200 and "test-split" not in response.content.decode()


def test_outsider_404(project, outsider_user):
    assert login(outsider_user).get(url(project)).status_code == 404
