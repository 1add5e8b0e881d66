"""A small published trainable classifier with production items, made in seconds."""

from __future__ import annotations

import random

from classifiers.actions.deployments import do_deploy
from classifiers.actions.training import do_request_training
from classifiers.models import PRODUCTION_SLOT, Document, ModelVersion
from tests.conftest import make_project
from tests.training_data import make_text


def add(project, texts, doc_set, prefix):
    return Document.objects.bulk_create(
        [
            Document(
                project=project,
                set=doc_set,
                text=t,
                text_chars=len(t),
                text_hash=f"{project.pk}-{prefix}-{i}",
            )
            for i, t in enumerate(texts)
        ]
    )


def train(project, user, capture):
    with capture(execute=True):
        run, _ = do_request_training(user, project)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    return ModelVersion.objects.get(training_run=run)


def published_sport_classifier(admin, capture, *, production: int = 40, name: str = "Sport finder"):
    """Seeds about sport, a background of finance and tech, ``production`` mixed items;
    version 1 published (the production items are classified on commit)."""
    rng = random.Random(1)
    project = make_project(admin, name=name, kind="trainable")
    add(project, [f"{make_text(rng, 'sport', 30)} s{i}" for i in range(60)], "seed", "seed")
    add(
        project,
        [f"{make_text(rng, c, 30)} b{i}" for i in range(80) for c in ("finance", "tech")],
        "background",
        "bg",
    )
    version = train(project, admin, capture)
    with capture(execute=True):
        do_deploy(admin, project, PRODUCTION_SLOT, version)
    with capture(execute=True):
        from classifiers.actions.documents import do_assign_set

        docs = add(
            project,
            [f"{make_text(rng, ('sport', 'finance', 'tech')[i % 3], 30)} p{i}" for i in range(production)],
            "training",
            "prod",
        )
        do_assign_set(admin, project, [d.pk for d in docs], "production")
    return project, version


def classified_project(project, admin, capture, *, items: int = 6):
    """The conftest ``project`` (single-label) with a published version that classified
    ``items`` production items. Returns (version, documents)."""
    from classifiers.actions.documents import do_assign_set
    from tests.test_api_support import make_version

    rng = random.Random(5)
    version = make_version(project)
    with capture(execute=True):
        do_deploy(admin, project, PRODUCTION_SLOT, version)
        docs = add(project, [make_text(rng, ("sport", "tech")[i % 2], 20) + f" v{i}" for i in range(items)],
                   "training", "view")  # fmt: skip
        do_assign_set(admin, project, [d.pk for d in docs], "production")
    return version, [Document.objects.get(pk=d.pk) for d in docs]
