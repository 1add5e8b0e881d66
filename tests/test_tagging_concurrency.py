"""Two people on one document, or one tagger in two tabs: no tag lost or duplicated, the
last write wins and the audit log shows both writes."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from classifiers.actions import do_add_member
from classifiers.models import Lease, Project, Tag, TaggingAction
from studio.models import AuditEntry
from tests.conftest import make_project, make_user
from tests.helpers import htmx, login
from tests.test_tagging_queue import add_classes, card_doc, make_docs, studio_url

QUEUE = {"scope": "pool", "order": "shuffle", "mode": "queue"}


def act(client, project, **data):
    return htmx(client, "post", studio_url(project, "tagging_act"), {**QUEUE, **data})


def test_one_tagger_two_tabs(project, tagger_user):
    a, b, _c = add_classes(project)
    make_docs(project, 4)
    tab1, tab2 = login(tagger_user), login(tagger_user)
    doc = card_doc(tab1.get(studio_url(project, "tagging_queue")))
    assert card_doc(tab2.get(studio_url(project, "tagging_queue"))) == doc  # the same lease
    nxt1 = card_doc(act(tab1, project, op="tag", document=doc, **{"class": a.pk}))
    nxt2 = card_doc(act(tab2, project, op="tag", document=doc, **{"class": b.pk}))  # the stale tab
    assert nxt1 == nxt2 and nxt1 != doc
    assert list(Tag.objects.filter(document_id=doc).values_list("tag_class__name", flat=True)) == ["B"]
    steps = list(TaggingAction.objects.filter(document_id=doc).order_by("id"))
    assert [s.after[0]["name"] for s in steps] == ["A", "B"] and steps[1].before[0]["name"] == "A"
    entries = AuditEntry.objects.filter(action="tag.set", object_id=str(doc)).order_by("id")
    assert [e.payload["classes"] for e in entries] == [["A"], ["B"]]
    # Undo in either tab undoes the latest write, then the one before.
    act(tab1, project, op="undo")
    assert list(Tag.objects.filter(document_id=doc).values_list("tag_class__name", flat=True)) == ["A"]


def test_two_taggers_on_one_document(project, tagger_user, admin_user):
    a, b, _c = add_classes(project)
    (doc,) = make_docs(project, 1)
    tom, alice = login(tagger_user), login(admin_user)
    assert card_doc(tom.get(studio_url(project, "tagging_queue"))) == doc.pk
    # Overlap 1: the lease keeps it from Alice's queue, but she opens it directly.
    assert card_doc(alice.get(studio_url(project, "tagging_queue"))) is None
    alice.get(studio_url(project, "tagging_queue"), {"doc": doc.pk})
    act(tom, project, op="tag", document=doc.pk, **{"class": a.pk})
    act(alice, project, op="tag", document=doc.pk, mode="retag", **{"class": b.pk})
    assert sorted(Tag.objects.values_list("tagger__username", "tag_class__name")) == [
        ("alice", "B"),
        ("tom", "A"),
    ]
    assert AuditEntry.objects.filter(action="tag.set", object_id=str(doc.pk)).count() == 2


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("true parallel writes need PostgreSQL (the SQLite test database is in memory)")


def run_together(*calls):
    """Start the calls at the same moment in threads; re-raise the first error."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    if errors:
        raise errors[0]
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_writes_from_two_tabs(postgres_only):
    admin, tagger = make_user("alice", creator=False), make_user("tom")
    project = make_project(admin)
    do_add_member(admin, project, tagger, "tagger")
    a, b, _c = add_classes(project)
    make_docs(project, 3)
    tabs = [login(tagger), login(tagger)]
    doc = card_doc(tabs[0].get(studio_url(project, "tagging_queue")))
    for _round in range(5):
        results = run_together(
            lambda: act(tabs[0], project, op="tag", document=doc, **{"class": a.pk}),
            lambda: act(tabs[1], project, op="tag", document=doc, **{"class": b.pk}),
        )
        assert [r.status_code for r in results] == [200, 200]
        assert Tag.objects.filter(document_id=doc, tagger=tagger).count() == 1  # never two
    assert TaggingAction.objects.filter(document_id=doc).count() == 10


@pytest.mark.django_db(transaction=True)
def test_parallel_takers_never_share_a_document(postgres_only):
    admin, tom, tina = make_user("alice"), make_user("tom"), make_user("tina")
    project = make_project(admin)
    for user in (tom, tina):
        do_add_member(admin, project, user, "tagger")
    a, _b, _c = add_classes(project)
    make_docs(project, 12)
    clients = [login(tom), login(tina)]
    docs = run_together(*[lambda c=c: card_doc(c.get(studio_url(project, "tagging_queue"))) for c in clients])
    for _round in range(5):
        assert docs[0] != docs[1] and None not in docs
        docs = [
            card_doc(r)
            for r in run_together(
                *[
                    lambda c=c, d=d: act(c, project, op="tag", document=d, **{"class": a.pk})
                    for c, d in zip(clients, docs, strict=True)
                ]
            )
        ]
    assert Project.objects.get(pk=project.pk).overlap == 1
    assert Lease.objects.values("document_id").distinct().count() == 2
