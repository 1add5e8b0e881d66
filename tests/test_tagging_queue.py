"""classifiers.tagging: which document a tagger gets next (order, sets, overlap, leases,
assignments, filters, most uncertain first)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from classifiers import tagging as queue
from classifiers.actions import do_add_member
from classifiers.actions.tagging import (
    do_create_assignment,
    do_end_assignment,
    do_skip_document,
    do_tag_document,
)
from classifiers.models import (
    AssignedDocument,
    Class,
    Document,
    Lease,
    ModelVersion,
    Prediction,
    Project,
    Tag,
    UploadBatch,
)
from tests.conftest import make_project, make_user
from tests.test_search import make_doc

POOL = queue.QueueOptions()
MINE = queue.QueueOptions(scope=queue.SCOPE_MINE)


# --- Helpers shared by the tagging tests ------------------------------------------------------
DOC_RE = re.compile(r'name="document" value="(\d+)"')


def card_doc(response) -> int | None:
    """The id of the document a studio card shows (None: the queue is empty)."""
    match = DOC_RE.search(response.content.decode())
    return int(match.group(1)) if match else None


def studio_url(project: Project, name: str) -> str:
    from django.urls import reverse

    return reverse(name, args=[project.slug])


def make_docs(project: Project, n: int, prefix: str = "document", **fields) -> list[Document]:
    return [make_doc(project, f"{prefix} {i} about things", **fields) for i in range(n)]


def add_classes(project: Project, names: str = "ABC") -> list[Class]:
    return [Class.objects.create(project=project, name=n, position=i) for i, n in enumerate(names)]


def ring_order(project: Project, docs: list[Document]) -> list[int]:
    """The stable shuffle: by (text_hash, id), starting at the project's seed point."""
    seed = queue.seed_point(project)
    ordered = sorted(docs, key=lambda d: (d.text_hash, d.pk))
    return [d.pk for d in ordered if d.text_hash >= seed] + [d.pk for d in ordered if d.text_hash < seed]


def walk(project: Project, user, opts=POOL, n: int = 100) -> list[int]:
    """Take documents one after the other the way the studio does (tag each with the
    first class), returning their ids."""
    cls = project.classes.filter(archived=False).first()
    out: list[int] = []
    doc = queue.take_next(project, user, opts)
    while doc is not None and len(out) < n:
        out.append(doc.pk)
        do_tag_document(user, project, doc, [cls], positive=True)
        doc = queue.take_next(project, user, opts, after=doc, reuse_lease=False)
    return out


@pytest.fixture
def classes(project):
    return add_classes(project)


@pytest.fixture
def second_tagger(project, admin_user):
    user = make_user("tina")
    do_add_member(admin_user, project, user, "tagger")
    return user


# --- Order ------------------------------------------------------------------------------------
def test_stable_shuffle_is_the_same_for_everyone(project, classes, tagger_user, admin_user):
    docs = make_docs(project, 12)
    expected = ring_order(project, docs)
    assert expected != sorted(expected) and expected != sorted(expected, reverse=True)
    first = queue.take_next(project, tagger_user, POOL)
    assert first.pk == expected[0]
    # Another tagger: the first one's lease keeps them apart (overlap 1), same order otherwise.
    assert queue.take_next(project, admin_user, POOL).pk == expected[1]
    assert walk(project, tagger_user)[:3] == [expected[0], *expected[2:4]]


def test_walk_serves_every_document_once(project, classes, tagger_user):
    docs = make_docs(project, 15)
    assert sorted(walk(project, tagger_user)) == sorted(d.pk for d in docs)
    assert queue.take_next(project, tagger_user, POOL) is None


def test_queue_sets_text_and_resolutions(project, classes, tagger_user, admin_user):
    make_doc(project, "seed doc", set="production")
    make_doc(project, "no text", has_text=False)
    resolved = make_doc(project, "resolved")
    Tag.objects.create(
        project=project, document=resolved, tag_class=classes[0], tagger=None, is_resolution=True
    )
    wanted = [make_doc(project, "training one"), make_doc(project, "test one", set="test")]
    assert sorted(walk(project, tagger_user)) == sorted(d.pk for d in wanted)


def test_tagged_and_skipped_documents_leave_my_queue(project, classes, tagger_user, admin_user):
    a, b, c = make_docs(project, 3)
    Tag.objects.create(project=project, document=a, tag_class=classes[0], tagger=admin_user, source="bulk")
    do_skip_document(tagger_user, project, b, "unsure")
    assert walk(project, tagger_user) == [c.pk]
    # The skip was mine only: the Admin still gets b.
    assert queue.take_next(project, admin_user, POOL).pk == b.pk


# --- Leases ---------------------------------------------------------------------------------
def test_own_lease_is_served_again_and_others_are_skipped(project, classes, tagger_user, admin_user):
    docs = make_docs(project, 5)
    order = ring_order(project, docs)
    mine = queue.take_next(project, tagger_user, POOL)
    assert queue.take_next(project, tagger_user, POOL).pk == mine.pk  # a reload
    assert Lease.objects.filter(tagger=tagger_user).count() == 1
    theirs = queue.take_next(project, admin_user, POOL)
    assert theirs.pk == order[1]
    # Without the lease (the reload-safe path skipped), the next free document is taken and
    # the earlier lease dropped: a tagger holds one document at a time.
    nxt = queue.take_next(project, tagger_user, POOL, after=mine, reuse_lease=False)
    assert nxt.pk == order[2]
    assert list(Lease.objects.filter(tagger=tagger_user).values_list("document_id", flat=True)) == [order[2]]


def test_expired_leases_are_ignored(project, classes, tagger_user, admin_user):
    docs = make_docs(project, 3)
    order = ring_order(project, docs)
    queue.take_next(project, admin_user, POOL)
    Lease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert queue.take_next(project, tagger_user, POOL).pk == order[0]


def test_passed_over_documents_come_back_after_the_end(project, classes, tagger_user, admin_user):
    docs = make_docs(project, 4)
    order = ring_order(project, docs)
    held = queue.take_next(project, admin_user, POOL)  # order[0], held by the Admin
    got = walk(project, tagger_user, n=3)
    assert got == order[1:]
    Lease.objects.filter(tagger=admin_user).delete()  # the Admin walked away without tagging
    assert queue.take_next(project, tagger_user, POOL, after=Document.objects.get(pk=got[-1])).pk == held.pk


# --- Overlap ----------------------------------------------------------------------------------
def test_overlap_two_serves_each_document_to_two_taggers(
    project, classes, tagger_user, admin_user, second_tagger
):
    Project.objects.filter(pk=project.pk).update(overlap=2)
    project.refresh_from_db()
    docs = make_docs(project, 4)
    order = ring_order(project, docs)
    a = queue.take_next(project, tagger_user, POOL)
    b = queue.take_next(project, second_tagger, POOL)
    assert a.pk == b.pk == order[0]  # two concurrent leases allowed
    assert queue.take_next(project, admin_user, POOL).pk == order[1]  # not a third
    do_tag_document(tagger_user, project, a, [classes[0]])
    do_tag_document(second_tagger, project, b, [classes[1]])
    # Two taggers done: nobody else gets it; the Admin (a third tagger) never does.
    assert order[0] not in walk(project, admin_user)
    assert sorted(walk(project, tagger_user)) == sorted(order[1:])


def test_overlap_two_with_one_tagger_done(project, classes, tagger_user, admin_user):
    Project.objects.filter(pk=project.pk).update(overlap=2)
    project.refresh_from_db()
    doc = make_doc(project, "only")
    do_tag_document(admin_user, project, doc, [classes[0]])
    assert queue.take_next(project, admin_user, POOL) is None
    assert queue.take_next(project, tagger_user, POOL).pk == doc.pk


# --- Assignments --------------------------------------------------------------------------------
def test_my_queue_and_the_pool(project, classes, admin_user, tagger_user, second_tagger):
    docs = make_docs(project, 6)
    order = ring_order(project, docs)
    (assignment,) = do_create_assignment(admin_user, project, [tagger_user], POOL, count=2)
    assigned = set(
        AssignedDocument.objects.filter(assignment=assignment).values_list("document_id", flat=True)
    )
    assert assigned == set(order[:2])
    assert sorted(walk(project, tagger_user, MINE)) == sorted(assigned)
    assert queue.my_assignment_counts(project, tagger_user) == (2, 2)
    # Before tom did them they were his: the pool of others skips open assigned documents.
    AssignedDocument.objects.create(
        assignment=assignment, document_id=order[2], project=project, tagger=tagger_user
    )
    assert order[2] not in walk(project, second_tagger)
    do_end_assignment(admin_user, assignment)
    assert queue.take_next(project, tagger_user, MINE) is None


def test_assignment_splits_by_overlap(project, classes, admin_user, tagger_user, second_tagger):
    Project.objects.filter(pk=project.pk).update(overlap=2)
    project.refresh_from_db()
    make_docs(project, 5)
    created = do_create_assignment(admin_user, project, [tagger_user, second_tagger, admin_user], POOL)
    per_tagger = {a.tagger_id: a.items.count() for a in created}
    assert sum(per_tagger.values()) == 10  # five documents, two taggers each
    assert max(per_tagger.values()) - min(per_tagger.values()) <= 1
    for doc_id in Document.objects.values_list("id", flat=True):
        assert AssignedDocument.objects.filter(document_id=doc_id).count() == 2
    # Everything is assigned now: a second assignment finds nothing.
    from classifiers.actions import ActionError

    with pytest.raises(ActionError, match="No documents"):
        do_create_assignment(admin_user, project, [tagger_user], POOL)


def test_assignment_by_batch_and_search(project, classes, admin_user, tagger_user):
    batch = UploadBatch.objects.create(project=project, created_by=admin_user)
    in_batch = make_docs(project, 3, prefix="invoice", batch=batch)
    make_docs(project, 3, prefix="holiday")
    (a,) = do_create_assignment(admin_user, project, [tagger_user], queue.QueueOptions(batch=batch.pk))
    assert set(a.items.values_list("document_id", flat=True)) == {d.pk for d in in_batch}
    do_end_assignment(admin_user, a)
    (b,) = do_create_assignment(admin_user, project, [tagger_user], queue.QueueOptions(q="invoice"), count=1)
    assert b.items.get().document_id in {d.pk for d in in_batch}


# --- Filters and the uncertain order --------------------------------------------------------
def test_filters(project, classes, admin_user, tagger_user):
    batch = UploadBatch.objects.create(project=project, created_by=admin_user)
    tests = make_docs(project, 2, prefix="exam", set="test")
    batched = make_docs(project, 2, prefix="batched", batch=batch)
    make_docs(project, 2, prefix="plain")
    assert sorted(walk(project, tagger_user, queue.QueueOptions(set="test"))) == sorted(d.pk for d in tests)
    assert sorted(walk(project, tagger_user, queue.QueueOptions(batch=batch.pk))) == sorted(
        d.pk for d in batched
    )
    assert len(walk(project, tagger_user, queue.QueueOptions(q="plain"))) == 2


def test_most_uncertain_first(project, classes, tagger_user, admin_user):
    docs = make_docs(project, 6)
    assert not queue.uncertainty_available(project)
    version = ModelVersion.objects.create(
        project=project, number=1, kind=project.kind, artifact="none", artifact_sha256="0" * 64
    )
    scores = {docs[0].pk: 0.1, docs[1].pk: 0.9, docs[2].pk: 0.5, docs[3].pk: 0.9}
    for doc_id, u in scores.items():
        Prediction.objects.create(model_version=version, document_id=doc_id, project=project, uncertainty=u)
    assert queue.uncertainty_available(project)
    got = walk(project, tagger_user, queue.QueueOptions(order=queue.ORDER_UNCERTAIN))
    assert got[:4] == [docs[1].pk, docs[3].pk, docs[2].pk, docs[0].pk]
    assert sorted(got[4:]) == sorted([docs[4].pk, docs[5].pk])  # unscored: the shuffle after


def test_options_from_parameters(project):
    opts = queue.parse_options(
        {"scope": "mine", "order": "uncertain", "set": "test", "batch": "7", "q": " a  b "}
    )
    assert opts == queue.QueueOptions("mine", "uncertain", "test", 7, "a b")
    bad = queue.parse_options({"scope": "x", "order": "y", "set": "seed", "batch": "-1"})
    assert bad == queue.QueueOptions()
    assert queue.parse_options(opts.params()) == opts


def test_pace():
    now = timezone.now()
    assert queue.pace([now]) is None
    steady = [now - timedelta(seconds=30 * i) for i in range(11)]  # 10 steps in 5 minutes
    assert queue.pace(steady) == 120.0
    # A long pause ends the session: only the latest run counts.
    assert queue.pace([*steady, now - timedelta(hours=2), now - timedelta(hours=2, minutes=1)]) == 120.0


def test_tagger_progress_and_totals(project, classes, tagger_user, admin_user):
    docs = make_docs(project, 4)
    for d in docs[:3]:
        do_tag_document(tagger_user, project, d, [classes[0]])
    do_skip_document(tagger_user, project, docs[3])
    rows = {r.username: r for r in queue.tagger_progress(project)}
    assert (rows["tom"].today, rows["tom"].total, rows["tom"].skipped) == (3, 3, 1)
    assert rows["alice"].total == 0 and "vera" not in rows
    totals = queue.project_totals(project)
    assert (totals.documents, totals.tagged, totals.complete) == (4, 3, 3)
    counts = {c.name: c.documents for c in queue.class_counts(project)}
    assert counts == {"A": 3, "B": 0, "C": 0}


def test_trainable_class_counts(admin_user, tagger_user):
    project = make_project(admin_user, name="Spotter", kind="trainable")
    do_add_member(admin_user, project, tagger_user, "tagger")
    category = project.classes.get()
    a, b = make_docs(project, 2)
    do_tag_document(tagger_user, project, a, [category], positive=True)
    do_tag_document(tagger_user, project, b, [category], positive=False)
    assert [(c.name, c.documents) for c in queue.class_counts(project)] == [("Match", 1), ("Not a match", 1)]
