import re

import pytest

from classifiers import ml
from classifiers.models import ModelVersion, TrainingRun, VersionAnalysis
from tests.conftest import make_project
from tests.helpers import htmx, login
from tests.test_evaluation import mistagged_project, train_version
from tests.training_data import tagged_project

TABS = ["overview", "classes", "confusion", "tests", "terms", "curves", "try"]


def url(project, version):
    return f"/projects/{project.slug}/models/{version.pk}/"


@pytest.fixture
def version(project, admin_user, tagger_user, django_capture_on_commit_callbacks):
    mistagged_project(project, tagger_user)
    return train_version(project, admin_user, django_capture_on_commit_callbacks)


def test_admin_reads_every_tab(project, version, admin_user):
    client = login(admin_user)
    for tab in TABS:
        body = client.get(url(project, version), {"tab": tab}).content.decode()
        assert f"version {version.number}" in body, tab
        assert 'aria-current="page">' in body
        partial = htmx(client, "get", url(project, version), {"tab": tab})
        assert partial.status_code == 200 and "<html" not in partial.content.decode()
        assert 'id="version-tabs"' in partial.content.decode()
    body = client.get(url(project, version)).content.decode()
    assert "Delete version 1" in body and "the project's test set" in body and "scikit-learn" in body


def test_overview_figures_and_guidance(project, version, admin_user):
    body = login(admin_user).get(url(project, version)).content.decode()
    assert "Accuracy" in body and "Micro" in body and "Macro" in body
    assert "summed over all classes" in body
    assert "Small test set" in body  # 12 test documents
    m = version.metrics
    assert f"{m['macro']['f1']:.3f}" in body and f"{m['micro']['precision']:.3f}" in body


def test_classes_tab_has_counts_and_supports(project, version, admin_user):
    body = login(admin_user).get(url(project, version), {"tab": "classes"}).content.decode()
    for name in ("finance", "sport", "tech"):
        assert f"class={name}" in body
    assert "Training support" in body and "All classes (micro)" in body
    assert "when this version was trained" in body  # the tags hash still matches


def test_confusion_matrix_modes(project, version, admin_user):
    client = login(admin_user)
    body = client.get(url(project, version), {"tab": "confusion"}).content.decode()
    assert "Predicted</th>" in body and "<span>Actual</span>" in body
    cells = re.findall(r'<td class="cm-cell (cm-hit|cm-miss) shade-(\d)"', body)
    assert len(cells) == 9 and sum(1 for kind, _ in cells if kind == "cm-hit") == 3
    assert "tab=tests&amp;actual=finance&amp;predicted=finance" in body
    normalised = client.get(url(project, version), {"tab": "confusion", "cm": "normalised"}).content.decode()
    assert "%</a>" in normalised and "the diagonal is the recall" in normalised
    errors = client.get(url(project, version), {"tab": "confusion", "cm": "errors"}).content.decode()
    assert "correct predictions hidden" in errors


def test_test_set_details_and_filters(project, version, admin_user):
    client = login(admin_user)
    body = client.get(url(project, version), {"tab": "tests"}).content.decode()
    assert f"{version.test_size} test documents" in body
    assert body.count("/explain/") == version.test_size
    mismatches = client.get(url(project, version), {"tab": "tests", "outcome": "mismatches"}).content.decode()
    wrong = version.metrics["n_documents"] - version.metrics["n_correct"]
    assert f"{wrong} test document" in mismatches
    pair = client.get(
        url(project, version), {"tab": "tests", "actual": "tech", "predicted": "tech"}
    ).content.decode()
    assert f"{version.metrics['confusion_matrix']['matrix'][2][2]} test document" in pair
    bad = client.get(url(project, version), {"tab": "tests", "outcome": "<x>", "class": "nope", "page": "zz"})
    assert (
        bad.status_code == 200
        and "Unknown class" in bad.content.decode()
        and "<x>" not in bad.content.decode()
    )


def test_one_click_retag_only_for_taggers(project, version, admin_user, viewer_user):
    # Make sure one test document is a mismatch.
    from classifiers.models import Prediction

    target = next(
        p
        for p in Prediction.objects.filter(model_version=version, outcome="correct")
        if p.labels != ["sport"]
    )
    Prediction.objects.filter(pk=target.pk).update(outcome="wrong", labels=["sport"])
    body = login(admin_user).get(url(project, version), {"tab": "tests"}).content.decode()
    assert "Tag as sport" in body and "tags changed" not in body
    assert (
        "Tag as sport" not in login(viewer_user).get(url(project, version), {"tab": "tests"}).content.decode()
    )
    # A test document untagged since the version was measured is marked.
    from classifiers.models import Tag

    Tag.objects.filter(document_id=target.document_id).delete()
    body = login(admin_user).get(url(project, version), {"tab": "tests"}).content.decode()
    assert "tags changed" in body and "no agreed tag" in body


def test_curves_learning_curve_and_polling(project, version, admin_user):
    client = login(admin_user)
    body = client.get(url(project, version), {"tab": "curves"}).content.decode()
    assert "has no threshold to tune" in body  # single-label
    assert 'id="learning-chart-t"' in body and "Learning curve of model version 1" in body
    done = htmx(client, "get", url(project, version), {"part": "learning", "tab": "curves"})
    assert done.status_code == 286
    VersionAnalysis.objects.filter(model_version=version).update(state="running")
    running = htmx(client, "get", url(project, version), {"part": "learning", "tab": "curves"})
    assert running.status_code == 200 and "Being worked out" in running.content.decode()
    assert "every 2s" in running.content.decode()
    VersionAnalysis.objects.filter(model_version=version).delete()
    missing = htmx(client, "get", url(project, version), {"part": "mistakes"})
    assert missing.status_code == 200 and "Being worked out" in missing.content.decode()
    VersionAnalysis.objects.create(model_version=version, state="failed", error="Boom: details")
    failed = htmx(client, "get", url(project, version), {"part": "mistakes"})
    assert failed.status_code == 286 and "failed" in failed.content.decode()


def test_multi_label_version(admin_user, django_capture_on_commit_callbacks):
    project = make_project(admin_user, name="Multi", kind="multi_label")
    objs, docs = tagged_project(project, admin_user)
    for doc in docs[::5]:
        from classifiers.models import Tag

        Tag.objects.get_or_create(project=project, document=doc, tag_class=objs["tech"], tagger=admin_user)
    version = train_version(project, admin_user, django_capture_on_commit_callbacks)
    client = login(admin_user)
    confusion = client.get(url(project, version), {"tab": "confusion"}).content.decode()
    assert "no single matrix" in confusion and "Most frequent confusions" in confusion
    curves = client.get(url(project, version), {"tab": "curves", "curve": "sport"}).content.decode()
    assert 'id="threshold-chart-t"' in curves and "model threshold" in curves
    assert '<option value="sport" selected>' in curves
    overview = client.get(url(project, version)).content.decode()
    assert "Exact match" in overview


def test_trainable_version_and_hostile_class_names(project, admin_user):
    """A hand-made trainable version and one whose class names are markup: no 500, escaped."""
    trainable = make_project(admin_user, name="Trainable", kind="trainable")
    metrics = ml.evaluate(["match", "not_match", "match"], ["match", "match", "no_match"], ml.KIND_BINARY, [])
    metrics["threshold_curves"] = {"match": ml.threshold_curve([True, False, True], [0.9, 0.7, 0.3])}
    metrics["top_terms"] = {"match": [["loan", 1.5]], "not_match": [["goal", 1.1]]}
    v = ModelVersion.objects.create(
        project=trainable, number=1, kind="trainable", classes=["match"], artifact="none",
        artifact_sha256="0" * 64, metrics=metrics, threshold=0.5, test_size=3,
    )  # fmt: skip
    client = login(admin_user)
    for tab in TABS:
        assert client.get(url(trainable, v), {"tab": tab}).status_code == 200, tab
    body = client.get(url(trainable, v), {"tab": "confusion"}).content.decode()
    assert "Not a match" in body
    assert "cannot be used" in client.get(url(trainable, v), {"tab": "try"}).content.decode()

    evil = "<script>alert(1)</script>"
    metrics = ml.evaluate([evil, "b", ["b"][0]], [evil, evil, "b"], ml.KIND_SINGLE, [evil, "b"])
    v2 = ModelVersion.objects.create(
        project=project, number=7, kind="single_label", classes=[evil, "b"], artifact="none",
        artifact_sha256="0" * 64, metrics=metrics, test_size=3,
    )  # fmt: skip
    for tab in TABS:
        response = client.get(url(project, v2), {"tab": tab})
        assert response.status_code == 200 and evil not in response.content.decode(), tab
    # Multi-label: the class name also goes into the threshold chart's SVG.
    multi = ml.evaluate([[evil], ["b"]], [[evil], []], ml.KIND_MULTI, [evil, "b"])
    multi["threshold_curves"] = {evil: ml.threshold_curve([True, False], [0.8, 0.3])}
    v3 = ModelVersion.objects.create(
        project=project, number=8, kind="multi_label", classes=[evil, "b"], artifact="none",
        artifact_sha256="0" * 64, metrics=multi, params={"thresholds": {evil: 0.5, "b": 0.5}}, test_size=2,
    )  # fmt: skip
    body = client.get(url(project, v3), {"tab": "curves", "curve": evil}).content.decode()
    assert 'id="threshold-chart-t"' in body and evil not in body and "&lt;script&gt;" in body


def test_roles_and_forged_ids(project, other_project, version, tagger_user, viewer_user, outsider_user):
    assert "Delete version" not in login(tagger_user).get(url(project, version)).content.decode()
    body = login(viewer_user).get(url(project, version), {"tab": "confusion"}).content.decode()
    assert "Predicted</th>" in body and "Delete version" not in body
    assert login(outsider_user).get(url(project, version)).status_code == 404
    run = TrainingRun.objects.create(project=other_project)
    theirs = ModelVersion.objects.create(
        project=other_project,
        number=1,
        training_run=run,
        kind="multi_label",
        artifact="x",
        artifact_sha256="0",
    )
    assert login(viewer_user).get(url(project, theirs)).status_code == 404


def test_unknown_tab_falls_back_to_overview(project, version, viewer_user):
    response = login(viewer_user).get(url(project, version), {"tab": "../../etc"})
    assert response.status_code == 200 and "What to do next" in response.content.decode()
