"""Production: labels and label policies, feedback on production items, retraining,
re-publishing after the comparison, rollback of the published version."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from classifiers.actions.base import ActionError
from classifiers.models import (
    PRODUCTION_SLOT,
    Classification,
    Document,
    DocumentSet,
    Feedback,
    Label,
    LabelPolicy,
    Lease,
    Membership,
    ModelVersion,
    Project,
    Role,
    TrainingRun,
    VersionComparison,
    validate_colour,
    validate_label_name,
)
from classifiers.production import published_version, request_classification
from classifiers.retraining import maybe_retrain
from classifiers.tasks import enqueue
from studio.audit import log_action

MAX_BULK_FEEDBACK = 1000
MAX_RETRAIN_AFTER = 10_000
MAX_RETRAINS_PER_DAY = 24


def can_manage_labels(user: Any) -> bool:
    """Labels are site-wide: operators and the Admins of any project manage them."""
    if not user.is_authenticated:
        return False
    return user.is_staff or Membership.objects.filter(user=user, role=Role.ADMIN).exists()


def _require_label_manager(actor: Any) -> None:
    if not can_manage_labels(actor):
        raise ActionError("Labels are managed by project Admins and operators.")


def can_change_label(user: Any, label: Label) -> bool:
    """Other teams' projects may use a label: only its creator or an operator changes it."""
    return user.is_authenticated and (
        user.is_staff or (label.created_by_id == user.pk and can_manage_labels(user))
    )


def _require_label_owner(actor: Any, label: Label) -> None:
    if not can_change_label(actor, label):
        raise ActionError("Only the label's creator or an operator changes it: other projects may use it.")


def _clean_label(name: str, description: str, colour: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    try:
        validate_label_name(name)
        validate_colour(colour)
    except ValidationError as exc:
        raise ActionError(" ".join(exc.messages)) from None
    if len(description or "") > 2000:
        raise ActionError("A label's description has at most 2,000 characters.")
    return name, (description or "").strip(), colour


# --- Labels -------------------------------------------------------------------------------------
def do_create_label(actor: Any, name: str, description: str = "", colour: str = "#7a4b94") -> Label:
    _require_label_manager(actor)
    name, description, colour = _clean_label(name, description, colour)
    try:
        with transaction.atomic():
            label = Label.objects.create(name=name, description=description, colour=colour, created_by=actor)
            log_action(actor, "label.create", label, payload={"name": name})
    except IntegrityError:
        raise ActionError(f"There is already a label named “{name}”.") from None
    return label


def do_update_label(actor: Any, label: Label, name: str, description: str, colour: str) -> Label:
    _require_label_owner(actor, label)
    name, description, colour = _clean_label(name, description, colour)
    before = {"name": label.name, "description": label.description, "colour": label.colour}
    try:
        with transaction.atomic():
            Label.objects.filter(pk=label.pk).update(name=name, description=description, colour=colour)
            log_action(actor, "label.update", label, payload={"before": before, "name": name})
    except IntegrityError:
        raise ActionError(f"There is already a label named “{name}”.") from None
    label.refresh_from_db()
    return label


def do_delete_label(actor: Any, label: Label) -> None:
    """Deleting a label removes its policies and the labels they applied (logged with counts)."""
    _require_label_owner(actor, label)
    with transaction.atomic():
        payload = {"name": label.name, "policies": label.policies.count()}
        log_action(actor, "label.delete", label, payload=payload)
        label.delete()


# --- Label policies ----------------------------------------------------------------------------------
def do_create_policy(
    actor: Any, project: Project, label: Label, class_name: str = "", min_score: float | None = None
) -> LabelPolicy:
    class_name = (class_name or "").strip()
    if project.kind == Project.Kind.TRAINABLE:
        class_name = ""  # a trainable classifier has one category: its matches
    elif not project.classes.filter(name=class_name).exists():
        raise ActionError("Pick one of the project's classes: the label goes on items of that class.")
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        raise ActionError("The minimum score lies between 0 and 1.")
    try:
        with transaction.atomic():
            policy = LabelPolicy.objects.create(
                label=label, project=project, class_name=class_name, min_score=min_score, created_by=actor
            )
            log_action(
                actor,
                "label_policy.create",
                policy,
                payload={"label": label.name, "class": class_name, "min_score": min_score},
            )
            enqueue("classifiers.tasks.apply_label_policy", policy.pk)
    except IntegrityError:
        raise ActionError(f"“{label.name}” is already applied to these items by a policy.") from None
    return policy


def do_delete_policy(actor: Any, policy: LabelPolicy) -> None:
    with transaction.atomic():
        log_action(
            actor,
            "label_policy.delete",
            policy,
            project=policy.project,
            payload={
                "label": policy.label.name,
                "class": policy.class_name,
                "applied": policy.applied.count(),
            },
        )
        policy.delete()


# --- Feedback -----------------------------------------------------------------------------------------
def _check_answer(project: Project, answer: str, corrected: list[str] | None) -> list[str]:
    if answer not in Feedback.Answer.values:
        raise ActionError("Answer Match or Not a match.")
    corrected = [c for c in (corrected or []) if c]
    if project.kind == Project.Kind.TRAINABLE:
        return []
    if answer == Feedback.Answer.MATCH:
        return []
    known = set(project.classes.filter(archived=False).values_list("name", flat=True))
    unknown = [c for c in corrected if c not in known]
    if unknown:
        raise ActionError(f"Not a class of this project: {', '.join(unknown)}.")
    if project.kind == Project.Kind.SINGLE_LABEL and len(corrected) > 1:
        raise ActionError("A single-label project's item has one class: pick one.")
    return sorted(set(corrected))


def _suggest(actor: Any, document: Document, target: Project) -> Document:
    """Send the item to another classifier's project as a production item; it scores it."""
    if target.pk == document.project_id:
        raise ActionError("Suggest another classifier than this one.")
    if not Membership.objects.filter(project=target, user=actor, role__in=[Role.ADMIN, Role.TAGGER]).exists():
        raise ActionError("You can only suggest classifiers of projects where you tag or administer.")
    copy = Document.objects.filter(project=target, text_hash=document.text_hash).first()
    if copy is None:
        copy = Document.objects.create(
            project=target,
            set=DocumentSet.PRODUCTION,
            text=document.text,
            text_chars=document.text_chars,
            has_text=document.has_text,
            text_hash=document.text_hash,
            filename=document.filename,
            external_id=document.external_id,
            content_type=document.content_type,
            size=document.size,
            metadata={
                **document.metadata,
                "suggested_from": {"project": document.project.slug, "document": document.pk},
            },
            created_by=actor,
        )
        log_action(actor, "document.suggested", copy, project=target, payload={"from_document": document.pk})
    if copy.set == DocumentSet.PRODUCTION:
        request_classification(target, "suggested")
    return copy


def do_give_feedback(
    actor: Any,
    project: Project,
    document: Document,
    answer: str,
    *,
    corrected: list[str] | None = None,
    suggest: Project | None = None,
) -> tuple[Feedback, TrainingRun | None]:
    """Record a reviewer's answer on a production item's classification (replacing an
    earlier answer on it, which is kept as withdrawn). May start the automatic retrain."""
    if document.project_id != project.pk or document.set != DocumentSet.PRODUCTION:
        raise ActionError("Feedback is given on the project's production items.")
    corrected = _check_answer(project, answer, corrected)
    with transaction.atomic():
        classification = (
            Classification.objects.select_for_update(of=("self",))
            .filter(document=document)
            .select_related("model_version")
            .first()
        )
        if classification is None:
            raise ActionError(
                "This item has not been classified yet: wait for the published version to classify it."
            )
        feedback = _record(actor, project, document, classification, answer, corrected)
        if suggest is not None:
            copy = _suggest(actor, document, suggest)
            feedback.suggested_project = suggest
            feedback.suggested_document = copy
            feedback.save(update_fields=["suggested_project", "suggested_document"])
        log_action(
            actor,
            "feedback.give",
            document,
            payload={
                "answer": answer,
                "corrected": corrected,
                "predicted": classification.labels,
                "outcome": classification.outcome,
                "score": classification.score,
                "version": classification.model_version.number,
                "suggested": suggest.slug if suggest else None,
            },
        )
        run = maybe_retrain(project)
    return feedback, run


def _record(
    actor: Any,
    project: Project,
    document: Document,
    classification: Classification,
    answer: str,
    corrected: list[str],
) -> Feedback:
    now = timezone.now()
    Feedback.objects.filter(document=document, withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawn_by=actor
    )
    Lease.objects.filter(document=document, tagger=actor, purpose="feedback").delete()
    return Feedback.objects.create(
        project=project,
        document=document,
        model_version=classification.model_version,
        user=actor,
        answer=answer,
        predicted=classification.labels,
        outcome=classification.outcome,
        score=classification.score,
        corrected=corrected,
    )


def do_bulk_feedback(
    actor: Any, project: Project, document_ids: Iterable[Any], answer: str
) -> tuple[int, TrainingRun | None]:
    """The same answer on a selection of classified production items (one audit entry)."""
    _check_answer(project, answer, [])
    ids: list[int] = []
    for value in document_ids:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ActionError("The selection holds an id that is not a number.") from None
    ids = sorted(set(ids))
    if not ids:
        raise ActionError("Select some items first.")
    if len(ids) > MAX_BULK_FEEDBACK:
        raise ActionError(f"Give feedback on at most {MAX_BULK_FEEDBACK:,} items at once.")
    with transaction.atomic():
        rows = list(
            Classification.objects.select_for_update(of=("self",))
            .filter(project=project, document_id__in=ids, document__set=DocumentSet.PRODUCTION)
            .select_related("document", "model_version")
        )
        if len(rows) != len(ids):
            raise ActionError("Some selected items are not classified production items of this project.")
        for row in rows:
            _record(actor, project, row.document, row, answer, [])
        log_action(
            actor, "feedback.bulk", project, project=project, payload={"answer": answer, "documents": ids}
        )
        run = maybe_retrain(project)
    return len(rows), run


def do_withdraw_feedback(actor: Any, feedback: Feedback, *, is_admin: bool) -> Feedback:
    if feedback.withdrawn_at is not None:
        raise ActionError("This feedback was already withdrawn.")
    if feedback.user_id != getattr(actor, "pk", None) and not is_admin:
        raise ActionError("Only the reviewer who gave it, or a project Admin, withdraws feedback.")
    with transaction.atomic():
        updated = Feedback.objects.filter(pk=feedback.pk, withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now(), withdrawn_by=actor
        )
        if not updated:
            raise ActionError("This feedback was already withdrawn.")
        log_action(actor, "feedback.withdraw", feedback.document, project=feedback.project,
                   payload={"answer": feedback.answer, "feedback": feedback.pk})  # fmt: skip
    feedback.refresh_from_db()
    return feedback


# --- Retraining -------------------------------------------------------------------------------------
def do_set_retraining(actor: Any, project: Project, retrain_after: int, per_day: int) -> Project:
    if not 1 <= retrain_after <= MAX_RETRAIN_AFTER:
        raise ActionError(f"Retrain after 1 to {MAX_RETRAIN_AFTER:,} new feedback items.")
    if not 0 <= per_day <= MAX_RETRAINS_PER_DAY:
        raise ActionError(f"At most 0 to {MAX_RETRAINS_PER_DAY} automatic retrains a day (0 turns them off).")
    with transaction.atomic():
        before = {"retrain_after": project.feedback_retrain_after, "per_day": project.retrains_per_day}
        Project.objects.filter(pk=project.pk).update(
            feedback_retrain_after=retrain_after, retrains_per_day=per_day
        )
        log_action(actor, "project.retraining", project, payload={
            "before": before, "retrain_after": retrain_after, "per_day": per_day})  # fmt: skip
    project.refresh_from_db()
    return project


def do_retrain_now(actor: Any, project: Project) -> TrainingRun:
    from classifiers.actions.training import do_request_training

    run, _ = do_request_training(actor, project, reason="retrain")
    return run


def _current(comparison: VersionComparison) -> None:
    published = published_version(comparison.project)
    if published is None or published.pk != comparison.published_id:
        raise ActionError("The published version changed since this comparison: open the newest one.")
    if comparison.decision:
        raise ActionError(f"This comparison was already decided: {comparison.get_decision_display()}.")


def do_republish(actor: Any, comparison: VersionComparison) -> ModelVersion:
    """Publish the retrained version, after the side-by-side comparison."""
    from classifiers.actions.deployments import do_deploy

    project = comparison.project
    with transaction.atomic():
        comparison = (
            VersionComparison.objects.select_for_update()
            .select_related("project", "retrained")
            .get(pk=comparison.pk)
        )
        _current(comparison)
        if comparison.state != VersionComparison.State.READY:
            raise ActionError("The comparison is not ready yet: re-publish once its figures are shown.")
        do_deploy(actor, project, PRODUCTION_SLOT, comparison.retrained)
        VersionComparison.objects.filter(pk=comparison.pk).update(
            decision=VersionComparison.Decision.REPUBLISH, decided_by=actor, decided_at=timezone.now()
        )
        log_action(actor, "classifier.republish", comparison.retrained, project=project, payload={
            "version": comparison.retrained.number, "replaced": comparison.published.number,
            "recommended": comparison.recommendation.get("action")})  # fmt: skip
    return comparison.retrained


def do_decide(actor: Any, comparison: VersionComparison, decision: str) -> VersionComparison:
    """Keep the published version, or ask for more feedback (both keep it published)."""
    if decision not in (VersionComparison.Decision.KEEP, VersionComparison.Decision.MORE_FEEDBACK):
        raise ActionError("Choose Keep the published version or Give more feedback.")
    with transaction.atomic():
        comparison = VersionComparison.objects.select_for_update().get(pk=comparison.pk)
        _current(comparison)
        VersionComparison.objects.filter(pk=comparison.pk).update(
            decision=decision, decided_by=actor, decided_at=timezone.now()
        )
        log_action(actor, f"classifier.{decision}", comparison.retrained, project=comparison.project,
                   payload={"version": comparison.retrained.number, "published": comparison.published.number})  # fmt: skip
    comparison.refresh_from_db()
    return comparison


def do_recompute_comparison(actor: Any, comparison: VersionComparison) -> VersionComparison:
    with transaction.atomic():
        VersionComparison.objects.filter(pk=comparison.pk).update(state=VersionComparison.State.RUNNING)
        log_action(actor, "comparison.recompute", comparison.retrained, project=comparison.project)
        enqueue("classifiers.tasks.compare_versions", comparison.pk)
    comparison.refresh_from_db()
    return comparison


def do_rollback_published(actor: Any, project: Project, version: ModelVersion, *, confirmed: bool) -> None:
    """Point the production slot back at an earlier published version (confirmed step)."""
    from classifiers.actions.deployments import do_rollback

    if not confirmed:
        raise ActionError("Tick the confirmation to roll back.")
    do_rollback(actor, project, PRODUCTION_SLOT, version)
