"""Scoring stored documents with a model version into Prediction rows (test items for
review, untagged documents for active learning, and later production items)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from classifiers import ml
from classifiers.models import Document, DocumentSet, ModelVersion, Prediction, Review
from classifiers.training import score_dict, uncertainty

CHUNK = 5000


def texts_for(project, ids: list[int]) -> dict[int, str]:
    from django.conf import settings
    from django.db.models.functions import Substr

    out: dict[int, str] = {}
    for start in range(0, len(ids), 2000):
        rows = (
            Document.objects.filter(project=project, id__in=ids[start : start + 2000])
            .annotate(prefix=Substr("text", 1, settings.STUDIO_MODEL_PREFIX_CHARS))
            .values_list("id", "prefix")
        )
        out.update(rows)
    return out


def score_documents(version: ModelVersion, model: ml.TrainedModel, document_ids: Iterable[int]) -> int:
    """Write the version's predictions for these documents (existing ones are kept: a
    second delivery of the same job writes nothing new)."""
    project = version.project
    ids = list(document_ids)
    done = 0
    for start in range(0, len(ids), CHUNK):
        texts = texts_for(project, ids[start : start + CHUNK])
        chunk = [i for i in ids[start : start + CHUNK] if i in texts]
        if not chunk:
            continue
        scores = model.predict_scores([texts[i] for i in chunk])
        predicted = model.predict_from_scores(scores)
        rows = []
        for i, doc_id in enumerate(chunk):
            row_scores = score_dict(scores[i], model.classes)
            pred = predicted[i]
            rows.append(
                Prediction(
                    model_version=version,
                    document_id=doc_id,
                    project=project,
                    labels=[pred] if isinstance(pred, str) else list(pred),
                    scores=row_scores,
                    top_score=max(row_scores.values()) if row_scores else 0.0,
                    uncertainty=uncertainty(row_scores, project.kind),
                )
            )
        with transaction.atomic():
            Prediction.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        done += len(rows)
    return done


def score_test_items(version_id: int) -> int:
    """A trainable classifier's unreviewed test items, scored by this version for review."""
    from classifiers.analysis import load_version_model

    version = ModelVersion.objects.select_related("project").filter(pk=version_id).first()
    if version is None:
        return 0
    reviewed = Review.objects.filter(project=version.project).values("document_id")
    ids = (
        Document.objects.filter(project=version.project, set=DocumentSet.TEST, has_text=True)
        .exclude(id__in=reviewed)
        .exclude(id__in=Prediction.objects.filter(model_version=version).values("document_id"))
        .order_by("id")
        .values_list("id", flat=True)
    )
    ids = list(ids)
    if not ids:
        return 0
    return score_documents(version, load_version_model(version), ids)
