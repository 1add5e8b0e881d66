"""Back and forward through my tags and skips, without changing anything."""

from classifiers.actions.tagging import do_skip_document, do_tag_document
from classifiers.models import Tag, TaggingAction
from tests.helpers import htmx, login
from tests.test_tagging_queue import add_classes, card_doc, make_docs, studio_url


def step(client, project, direction, pos=None):
    params = {"step": direction, "scope": "pool"}
    if pos:
        params["pos"] = pos
    return htmx(client, "get", studio_url(project, "tagging_history"), params)


def test_back_and_forward(project, tagger_user):
    a, b, _c = add_classes(project)
    d1, d2, d3, d4 = make_docs(project, 4)
    do_tag_document(tagger_user, project, d1, [a])
    do_skip_document(tagger_user, project, d2, "later")
    do_tag_document(tagger_user, project, d3, [b])
    s1, s2, s3 = TaggingAction.objects.order_by("id")
    client = login(tagger_user)
    tags_before = list(Tag.objects.values_list("id", "tag_class_id"))

    back = step(client, project, "back")
    assert card_doc(back) == d3.pk and "you tagged this “B”" in back.content.decode()
    assert (
        f'name="pos" value="{s3.pk}"' in back.content.decode()
        and 'data-key="ArrowRight"' in back.content.decode()
    )
    back = step(client, project, "back", s3.pk)
    assert card_doc(back) == d2.pk and "you skipped this" in back.content.decode()
    back = step(client, project, "back", s2.pk)
    assert card_doc(back) == d1.pk
    start = step(client, project, "back", s1.pk)  # nothing earlier: stay
    assert card_doc(start) == d1.pk and "start of your history" in start.content.decode()
    forward = step(client, project, "forward", s1.pk)
    assert card_doc(forward) == d2.pk
    queue = step(client, project, "forward", s3.pk)  # past the latest: the queue again
    assert card_doc(queue) == d4.pk and "Back in the queue" in queue.content.decode()
    assert list(Tag.objects.values_list("id", "tag_class_id")) == tags_before  # nothing changed


def test_undone_steps_are_not_history(project, tagger_user):
    a, _b, _c = add_classes(project)
    d1, _d2 = make_docs(project, 2)
    do_tag_document(tagger_user, project, d1, [a])
    TaggingAction.objects.update(undone=True)
    response = step(login(tagger_user), project, "back")
    assert "No history yet" in response.content.decode()


def test_history_is_mine_only(project, tagger_user, admin_user, viewer_user, outsider_user):
    a, _b, _c = add_classes(project)
    (d1,) = make_docs(project, 1)
    do_tag_document(admin_user, project, d1, [a])
    assert "No history yet" in step(login(tagger_user), project, "back").content.decode()
    assert step(login(viewer_user), project, "back").status_code == 403
    assert step(login(outsider_user), project, "back").status_code == 404
