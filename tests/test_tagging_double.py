"""Double tagging end to end through the studio's requests: two taggers at once with
overlap 2, agreement figures checked against scikit-learn, conflicts resolved by an Admin."""

from __future__ import annotations

import re

from sklearn.metrics import cohen_kappa_score

from classifiers.actions.tagging import do_update_tagging_settings
from classifiers.labels import final_labels
from classifiers.models import Tag
from classifiers.tagging import project_agreement
from studio.models import AuditEntry
from tests.helpers import htmx, login
from tests.test_tagging_queue import add_classes, card_doc, make_docs, studio_url

QUEUE = {"scope": "pool", "order": "shuffle", "mode": "queue"}


def answer_for(user_index: int, doc_id: int, classes) -> int:
    """Scripted answers: the taggers agree on most documents, not all."""
    base = doc_id % len(classes)
    if user_index == 1 and doc_id % 4 == 0:
        base = (base + 1) % len(classes)
    return classes[base].pk


def test_two_taggers_overlap_two_agreement_and_conflicts(project, admin_user, tagger_user):
    classes = add_classes(project, "ABCD")
    do_update_tagging_settings(admin_user, project, overlap=2, show_suggestions=False)
    docs = make_docs(project, 20)
    clients = [login(tagger_user), login(admin_user)]
    current = [card_doc(c.get(studio_url(project, "tagging_queue"))) for c in clients]
    assert current[0] == current[1]  # overlap 2: both taggers on the same document at once
    seen: list[list[int]] = [[], []]
    while any(d is not None for d in current):
        for i, client in enumerate(clients):  # interleaved, request by request
            doc = current[i]
            if doc is None:
                continue
            seen[i].append(doc)
            response = htmx(
                client, "post", studio_url(project, "tagging_act"),
                {**QUEUE, "op": "tag", "document": doc, "class": answer_for(i, doc, classes)},
            )  # fmt: skip
            assert response.status_code == 200
            current[i] = card_doc(response)
    assert sorted(seen[0]) == sorted(seen[1]) == sorted(d.pk for d in docs)

    # The same data straight from the database, into scikit-learn.
    tom = dict(Tag.objects.filter(tagger=tagger_user).values_list("document_id", "tag_class__name"))
    alice = dict(Tag.objects.filter(tagger=admin_user).values_list("document_id", "tag_class__name"))
    ids = sorted(tom)
    expected = cohen_kappa_score([tom[d] for d in ids], [alice[d] for d in ids])
    report, _names = project_agreement(project)
    assert report.method == "Cohen's kappa" and report.documents == 20
    assert abs(report.overall - expected) < 1e-9
    page = login(tagger_user).get(studio_url(project, "tagging_agreement")).content.decode()
    assert f"{expected:.3f}" in page

    # Conflicts: exactly the documents they disagree on; the Admin resolves each.
    disagree = {d for d in ids if tom[d] != alice[d]}
    assert disagree
    listing = login(admin_user).get(studio_url(project, "tagging_conflicts")).content.decode()
    assert {int(x) for x in re.findall(r'id="conflict-(\d+)"', listing)} == disagree
    assert all(d not in final_labels(project) for d in disagree)
    by_name = {c.name: c for c in classes}
    for d in disagree:
        response = htmx(
            login(admin_user), "post", f"/projects/{project.slug}/tagging/conflicts/{d}/resolve/",
            {"class": by_name[tom[d]].pk},
        )  # fmt: skip
        assert response.status_code == 200
    labels = final_labels(project)
    assert all(labels[d] == [tom[d]] for d in ids)  # resolved or unanimous: every document counts
    assert AuditEntry.objects.filter(action="tag.resolve").count() == len(disagree)
    assert (
        "No conflicts to resolve."
        in login(admin_user).get(studio_url(project, "tagging_conflicts")).content.decode()
    )
