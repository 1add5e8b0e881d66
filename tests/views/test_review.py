import pytest

from classifiers.models import Review
from tests.helpers import htmx, login
from tests.test_trainable import bbc_sport, train  # noqa: F401 (fixture)


@pytest.fixture
def trained(bbc_sport, admin_user, tagger_user, django_capture_on_commit_callbacks):  # noqa: F811
    from classifiers.actions import do_add_member

    project, truth = bbc_sport
    do_add_member(admin_user, project, tagger_user, "tagger")
    train(project, admin_user, django_capture_on_commit_callbacks)
    return project, truth


def test_review_by_key_buttons(trained, tagger_user):
    project, _ = trained
    client = login(tagger_user)
    body = client.get(f"/projects/{project.slug}/review/").content.decode()
    assert "Do you agree?" in body and 'data-key="m"' in body and 'data-key="n"' in body
    doc_id = int(body.split('name="document" value="')[1].split('"')[0])
    response = htmx(
        client, "post", f"/projects/{project.slug}/review/answer/", {"document": doc_id, "answer": "match"}
    )
    assert response.status_code == 200 and 'id="review-card"' in response.content.decode()
    review = Review.objects.get()
    assert (review.document_id, review.answer, review.reviewer) == (doc_id, "match", tagger_user)
    assert review.model_version.number == 1 and review.score is not None
    assert f'name="document" value="{doc_id}"' not in response.content.decode()  # the next item


def test_bad_answer_and_forged_document(trained, tagger_user, other_project):
    from classifiers.models import Document

    project, _ = trained
    client = login(tagger_user)
    htmx(client, "post", f"/projects/{project.slug}/review/answer/", {"document": 1, "answer": "maybe"})
    theirs = Document.objects.create(project=other_project, text="x", text_hash="x", set="test")
    response = client.post(
        f"/projects/{project.slug}/review/answer/", {"document": theirs.pk, "answer": "match"}
    )
    assert response.status_code == 404 and not Review.objects.exists()


def test_viewer_403_outsider_404(trained, admin_user, viewer_user, outsider_user):
    from classifiers.actions import do_add_member

    project, _ = trained
    do_add_member(admin_user, project, viewer_user, "viewer")
    assert login(viewer_user).get(f"/projects/{project.slug}/review/").status_code == 403
    assert login(outsider_user).get(f"/projects/{project.slug}/review/").status_code == 404


def test_threshold_preview_and_save(trained, admin_user, django_capture_on_commit_callbacks):
    from classifiers.models import ModelVersion

    project, _ = trained
    client = login(admin_user)
    body = client.get(f"/projects/{project.slug}/classifier/threshold/?threshold=0.4").content.decode()
    assert "would change outcome" in body
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/{project.slug}/classifier/threshold/",
            {"threshold": "0.4", "close_match_lower": "0.2", "save": "1"},
        )
    assert response.status_code == 302
    assert ModelVersion.objects.filter(project=project).order_by("-number").first().threshold == 0.4
    bad = client.post(f"/projects/{project.slug}/classifier/threshold/", {"threshold": "7", "save": "1"})
    assert bad.status_code == 422


def test_single_label_projects_review_test_predictions(
    project, admin_user, tagger_user, django_capture_on_commit_callbacks
):
    from classifiers.actions.training import do_request_training
    from tests.training_data import tagged_project

    tagged_project(project, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        do_request_training(admin_user, project)
    client = login(tagger_user)
    body = client.get(f"/projects/{project.slug}/review/").content.decode()
    assert "Is that right?" in body and 'name="corrected"' in body
    doc_id = int(body.split('name="document" value="')[1].split('"')[0])
    htmx(
        client,
        "post",
        f"/projects/{project.slug}/review/answer/",
        {"document": doc_id, "answer": "not_match", "corrected": "sport"},
    )
    review = Review.objects.get()
    assert review.answer == "not_match" and review.corrected == ["sport"]
