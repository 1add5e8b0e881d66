"""A tagger's own tags, to review and correct."""

from classifiers.actions.tagging import do_tag_document
from classifiers.views import tagging as views
from tests.helpers import login
from tests.test_tagging_queue import add_classes, make_docs, studio_url


def test_my_tags_with_class_filter_and_pages(project, tagger_user, admin_user, monkeypatch):
    monkeypatch.setattr(views, "MY_TAGS_PAGE", 2)
    a, b, _c = add_classes(project)
    docs = make_docs(project, 5)
    for doc, cls in zip(docs[:3], [a, b, a], strict=True):
        do_tag_document(tagger_user, project, doc, [cls])
    do_tag_document(admin_user, project, docs[4], [a])  # somebody else's: not listed
    client = login(tagger_user)
    response = client.get(studio_url(project, "tagging_my_tags"))
    body = response.content.decode()
    assert response.status_code == 200 and "3 documents tagged by you" in body
    assert f"?doc={docs[2].pk}" in body and f"?doc={docs[1].pk}" in body and f"?doc={docs[0].pk}" not in body
    assert f"?before={docs[1].pk}" in body
    older = client.get(studio_url(project, "tagging_my_tags"), {"before": docs[1].pk}).content.decode()
    assert f"?doc={docs[0].pk}" in older and "Older" not in older
    only_b = client.get(studio_url(project, "tagging_my_tags"), {"class": b.pk}).content.decode()
    assert "1 document tagged by you with B" in only_b and f"?doc={docs[1].pk}" in only_b
    assert f"?doc={docs[4].pk}" not in body


def test_viewer_forbidden_outsider_404(project, viewer_user, outsider_user):
    assert login(viewer_user).get(studio_url(project, "tagging_my_tags")).status_code == 403
    assert login(outsider_user).get(studio_url(project, "tagging_my_tags")).status_code == 404
