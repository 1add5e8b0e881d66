"""The tagging studio page: the next document, as a full page or an htmx card."""

from classifiers.actions import do_add_member
from classifiers.actions.tagging import do_create_assignment, do_tag_document
from classifiers.models import Class, Lease, ModelVersion, Prediction, Project
from classifiers.tagging import QueueOptions
from tests.conftest import make_project
from tests.helpers import htmx, login
from tests.test_search import make_doc
from tests.test_tagging_queue import add_classes, card_doc, make_docs, studio_url


def test_tagger_gets_a_document_and_keeps_it_on_reload(project, tagger_user):
    _a, b, _c = add_classes(project)
    Class.objects.filter(pk=b.pk).update(hotkey="x", description="Bills and *invoices*")
    Project.objects.filter(pk=project.pk).update(guidelines="# Rules\n\nTag **carefully**.")
    make_docs(project, 3)
    client = login(tagger_user)
    response = client.get(studio_url(project, "tagging_queue"))
    body = response.content.decode()
    assert response.status_code == 200
    doc_id = card_doc(response)
    assert Lease.objects.get(tagger=tagger_user).document_id == doc_id
    assert 'id="card"' in body and 'tabindex="-1"' in body
    assert 'data-key="1"' in body and 'data-key="3"' in body and 'data-key-alt="x"' in body
    assert 'data-key="s"' in body and 'data-key="u"' in body and 'data-key-alt="Backspace"' in body
    assert "<h1>Rules</h1>" in body and "Bills and *invoices*" in body  # guidelines and descriptions
    assert 'data-key="i"' in body  # the guidelines, one key away
    assert "js/tagging.js" in body
    assert card_doc(client.get(studio_url(project, "tagging_queue"))) == doc_id  # reload-safe


def test_htmx_gets_only_the_card(project, tagger_user):
    add_classes(project)
    make_docs(project, 1)
    response = htmx(login(tagger_user), "get", studio_url(project, "tagging_queue"))
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="card"') and "<html" not in body


def test_kinds_have_their_keys(admin_user, tagger_user):
    multi = make_project(admin_user, name="Topics", kind="multi_label")
    add_classes(multi)
    make_doc(multi, "x")
    body = login(admin_user).get(studio_url(multi, "tagging_queue")).content.decode()
    assert 'aria-pressed="false"' in body and 'data-key="Enter"' in body
    spotter = make_project(admin_user, name="Spotter", kind="trainable")
    make_doc(spotter, "y")
    body = login(admin_user).get(studio_url(spotter, "tagging_queue")).content.decode()
    assert 'data-key="m"' in body and 'data-key="n"' in body


def test_retag_a_document_of_mine(project, tagger_user, other_project):
    _a, b, _c = add_classes(project)
    doc = make_doc(project, "x")
    do_tag_document(tagger_user, project, doc, [b])
    client = login(tagger_user)
    response = client.get(studio_url(project, "tagging_queue"), {"doc": doc.pk})
    body = response.content.decode()
    assert card_doc(response) == doc.pk and "Re-tag" in body
    assert 'class="tagchoice current" data-key="2"' in body
    theirs = make_doc(other_project, "secret")
    assert client.get(studio_url(project, "tagging_queue"), {"doc": theirs.pk}).status_code == 404


def test_my_assignments_first_and_the_empty_queue(project, admin_user, tagger_user):
    add_classes(project)
    docs = make_docs(project, 3)
    (assignment,) = do_create_assignment(admin_user, project, [tagger_user], QueueOptions(), count=1)
    client = login(tagger_user)
    response = client.get(studio_url(project, "tagging_queue"))
    assert card_doc(response) == assignment.items.get().document_id
    assert "My queue <strong>0 / 1</strong>" in response.content.decode()
    empty = client.get(studio_url(project, "tagging_queue"), {"scope": "pool", "set": "test"})
    assert card_doc(empty) is None and "Nothing left to tag here" in empty.content.decode()
    assert len(docs) == 3


def test_suggestions_only_when_switched_on(project, admin_user):
    add_classes(project)
    doc = make_doc(project, "x")
    version = ModelVersion.objects.create(
        project=project, number=1, kind=project.kind, artifact="x", artifact_sha256="0" * 64
    )
    Prediction.objects.create(
        model_version=version, document=doc, project=project, labels=["B"], top_score=0.8, uncertainty=0.2
    )
    client = login(admin_user)
    body = client.get(studio_url(project, "tagging_queue")).content.decode()
    assert "Model suggests" not in body and "no predictions yet" not in body
    Project.objects.filter(pk=project.pk).update(show_suggestions=True)
    body = client.get(studio_url(project, "tagging_queue")).content.decode()
    assert "Model suggests <strong>B</strong>" in body


def test_viewer_forbidden_outsider_404(project, viewer_user, outsider_user):
    make_docs(project, 1)
    assert login(viewer_user).get(studio_url(project, "tagging_queue")).status_code == 403
    assert login(outsider_user).get(studio_url(project, "tagging_queue")).status_code == 404
    assert not Lease.objects.exists()


def test_member_of_one_project_only(project, other_project, outsider_user, tagger_user):
    do_add_member(outsider_user, other_project, tagger_user, "viewer")
    assert login(tagger_user).get(studio_url(other_project, "tagging_queue")).status_code == 403
