"""Deployments (named slots pointing at model versions) and API tokens.

Every slot change locks the project row first, so two Admins changing slots at the same
moment queue up instead of interleaving; each writes its DeploymentEvent (the slot's
history, for rollback) and its audit entry in the same transaction. An API request reads a
slot with one query, so during a swap it sees either the old or the new pointing, never a
mix. Publishing a trainable classifier (classifiers.actions.trainable.do_publish) is
deploying it to the production slot with do_deploy: one mechanism, one history.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from classifiers.actions.base import ActionError
from classifiers.actions.training import USE_CHECKS
from classifiers.api.tokens import display_prefix, generate_token, hash_token
from classifiers.models import (
    PRODUCTION_SLOT,
    ApiToken,
    ClassifyJob,
    Deployment,
    DeploymentEvent,
    ModelVersion,
    Project,
    validate_deployment_name,
)
from studio.audit import log_action

MAX_ACTIVE_TOKENS = 50
TOKEN_NAME_MAX = 100


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _lock_project(project: Project) -> None:
    # FOR NO KEY UPDATE: serialises slot changes without blocking (or deadlocking with) the
    # API's log inserts, whose foreign-key checks take FOR KEY SHARE on the project row.
    Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()


def _check_slot(slot: str) -> str:
    slot = (slot or "").strip()
    try:
        validate_deployment_name(slot)
    except ValidationError as exc:
        raise ActionError(" ".join(exc.messages)) from None
    return slot


def _check_version(project: Project, version: ModelVersion) -> None:
    if version.project_id != project.pk:
        raise ActionError("That model version belongs to another project.")
    # Refuse a version whose artifact cannot be served (missing, or not matching its hash),
    # rather than break the slot's clients; this also warms this process's model cache.
    from classifiers import serving

    try:
        serving.get_model(version)
    except serving.ModelUnavailable as exc:
        raise ActionError(str(exc)) from None


def _point(
    actor: Any, project: Project, slot: str, version: ModelVersion, action: str
) -> tuple[Deployment, ModelVersion | None]:
    """Point ``slot`` at ``version`` inside the caller's transaction; the event is written
    here, the audit entry by the caller (its verb differs)."""
    deployment = Deployment.objects.select_for_update(no_key=True).filter(project=project, name=slot).first()
    now = timezone.now()
    previous: ModelVersion | None = None
    if deployment is None:
        if Deployment.objects.filter(project=project).count() >= settings.STUDIO_MAX_DEPLOYMENTS:
            raise ActionError(
                f"A project has at most {settings.STUDIO_MAX_DEPLOYMENTS} slots; delete one first."
            )
        deployment = Deployment.objects.create(
            project=project, name=slot, model_version=version, deployed_at=now, deployed_by=_user(actor)
        )
    else:
        if deployment.model_version_id == version.pk:
            raise ActionError(f"The {slot} slot already serves v{version.number}.")
        previous = deployment.model_version
        deployment.model_version = version
        deployment.deployed_at = now
        deployment.deployed_by = _user(actor)
        deployment.save(update_fields=["model_version", "deployed_at", "deployed_by"])
    DeploymentEvent.objects.create(
        project=project,
        slot=slot,
        action=action,
        from_version=previous,
        to_version=version,
        actor=_user(actor),
    )
    if slot == PRODUCTION_SLOT:
        _production_changed(project, action)
    return deployment, previous


def _production_changed(project: Project, reason: str) -> None:
    """A new published version re-classifies the production items (in the background)."""
    from classifiers.production import request_classification

    request_classification(project, reason)


def do_deploy(actor: Any, project: Project, slot: str, version: ModelVersion) -> Deployment:
    """Create the slot pointing at ``version``, or re-point it."""
    slot = _check_slot(slot)
    _check_version(project, version)
    with transaction.atomic():
        _lock_project(project)
        deployment, previous = _point(actor, project, slot, version, DeploymentEvent.Action.DEPLOY)
        log_action(
            actor,
            "deployment.deploy",
            deployment,
            payload={
                "slot": slot,
                "from_version": previous.number if previous else None,
                "to_version": version.number,
            },
        )
    return deployment


def do_swap(actor: Any, project: Project, slot_a: str, slot_b: str) -> tuple[Deployment, Deployment]:
    """Exchange the versions of two slots in one transaction (e.g. staging <-> production)."""
    slot_a, slot_b = _check_slot(slot_a), _check_slot(slot_b)
    if slot_a == slot_b:
        raise ActionError("Pick two different slots to swap.")
    with transaction.atomic():
        _lock_project(project)
        found = {
            d.name: d
            # of=("self",): lock the slots only, never the joined model versions, which
            # concurrent log inserts reference (found as a deadlock under load on PostgreSQL).
            for d in Deployment.objects.select_for_update(of=("self",), no_key=True)
            .select_related("model_version")
            .filter(project=project, name__in=[slot_a, slot_b])
            .order_by("name")
        }
        missing = [s for s in (slot_a, slot_b) if s not in found]
        if missing:
            raise ActionError(f"No slot named {', '.join(missing)}.")
        a, b = found[slot_a], found[slot_b]
        if a.model_version_id == b.model_version_id:
            raise ActionError(f"Both slots serve v{a.model_version.number}: nothing to swap.")
        version_a, version_b = a.model_version, b.model_version
        now = timezone.now()
        for deployment, new, old in ((a, version_b, version_a), (b, version_a, version_b)):
            deployment.model_version = new
            deployment.deployed_at = now
            deployment.deployed_by = _user(actor)
            deployment.save(update_fields=["model_version", "deployed_at", "deployed_by"])
            DeploymentEvent.objects.create(
                project=project,
                slot=deployment.name,
                action=DeploymentEvent.Action.SWAP,
                from_version=old,
                to_version=new,
                actor=_user(actor),
            )
        if PRODUCTION_SLOT in (slot_a, slot_b):
            _production_changed(project, "swap")
        log_action(
            actor,
            "deployment.swap",
            a,
            payload={"slots": [slot_a, slot_b], slot_a: version_b.number, slot_b: version_a.number},
        )
    return a, b


def do_delete_deployment(actor: Any, project: Project, slot: str) -> None:
    """Remove the slot: its clients get 404 from now on. Its history is kept."""
    with transaction.atomic():
        _lock_project(project)
        deployment = (
            Deployment.objects.select_for_update(of=("self",))
            .select_related("model_version")
            .filter(project=project, name=slot)
            .first()
        )
        if deployment is None:
            raise ActionError(f"No slot named {slot}.")
        DeploymentEvent.objects.create(
            project=project,
            slot=slot,
            action=DeploymentEvent.Action.DELETE,
            from_version=deployment.model_version,
            to_version=None,
            actor=_user(actor),
        )
        log_action(
            actor,
            "deployment.delete",
            deployment,
            payload={"slot": slot, "version": deployment.model_version.number},
        )
        deployment.delete()


def do_rollback(actor: Any, project: Project, slot: str, to_version: ModelVersion) -> Deployment:
    """Point the slot back at a version it served before (re-creating a deleted slot)."""
    slot = _check_slot(slot)
    if to_version.project_id != project.pk:
        raise ActionError("That model version belongs to another project.")
    if not DeploymentEvent.objects.filter(project=project, slot=slot, to_version=to_version).exists():
        raise ActionError(f"v{to_version.number} never served the {slot} slot; deploy it instead.")
    _check_version(project, to_version)
    with transaction.atomic():
        _lock_project(project)
        deployment, previous = _point(actor, project, slot, to_version, DeploymentEvent.Action.ROLLBACK)
        log_action(
            actor,
            "deployment.rollback",
            deployment,
            payload={
                "slot": slot,
                "from_version": previous.number if previous else None,
                "to_version": to_version.number,
            },
        )
    return deployment


# --- What keeps a model version from being deleted ---------------------------------------------
def _deployed(version: ModelVersion) -> str:
    slots = list(Deployment.objects.filter(model_version=version).values_list("name", flat=True))
    if slots:
        return f"it serves the {', '.join(slots)} slot{'s' if len(slots) > 1 else ''}."
    return ""


def _used_by_jobs(version: ModelVersion) -> str:
    active = (ClassifyJob.Status.NOT_STARTED, ClassifyJob.Status.RUNNING)
    if ClassifyJob.objects.filter(model_version=version, status__in=active).exists():
        return "an API job is still classifying with it."
    return ""


def _classified_items(version: ModelVersion) -> str:
    from classifiers.models import Classification

    count = Classification.objects.filter(model_version=version).count()
    if count:
        return f"{count:,} production item{'s' if count != 1 else ''} carry its classification."
    return ""


for _check in (_deployed, _used_by_jobs, _classified_items):
    if _check not in USE_CHECKS:
        USE_CHECKS.append(_check)


# --- API tokens ---------------------------------------------------------------------------------
def do_create_token(actor: Any, project: Project, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """Returns (token row, plain token). The plain token is shown once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > TOKEN_NAME_MAX:
        raise ActionError(f"A token needs a name of 1 to {TOKEN_NAME_MAX} characters.")
    valid = set(ApiToken.Scope.values)
    chosen = sorted(set(scopes or []))
    if not chosen:
        raise ActionError("Pick at least one scope.")
    unknown = [s for s in chosen if s not in valid]
    if unknown:
        raise ActionError(f"Unknown scope {', '.join(unknown)}.")
    with transaction.atomic():
        _lock_project(project)
        active = ApiToken.objects.filter(project=project, revoked_at__isnull=True).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise ActionError(f"A project has at most {MAX_ACTIVE_TOKENS} active tokens; revoke one first.")
        plain = generate_token()
        token = ApiToken.objects.create(
            project=project,
            name=name,
            prefix=display_prefix(plain),
            token_hash=hash_token(plain),
            scopes=chosen,
            created_by=_user(actor),
        )
        log_action(
            actor, "api_token.create", token, payload={"name": name, "prefix": token.prefix, "scopes": chosen}
        )
    return token, plain


def do_revoke_token(actor: Any, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update(no_key=True).get(pk=token.pk)
        if token.revoked_at is not None:
            raise ActionError("This token is already revoked.")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        log_action(actor, "api_token.revoke", token, payload={"name": token.name, "prefix": token.prefix})
    return token


def do_set_log_api_texts(actor: Any, project: Project, enabled: bool) -> Project:
    """Keep (or stop keeping) the texts of API calls in the classification log."""
    with transaction.atomic():
        locked = Project.objects.select_for_update(no_key=True).get(pk=project.pk)
        if locked.log_api_texts == enabled:
            raise ActionError("Texts are already " + ("logged." if enabled else "not logged."))
        locked.log_api_texts = enabled
        locked.save(update_fields=["log_api_texts", "updated_at"])
        log_action(actor, "project.log_api_texts", locked, payload={"enabled": enabled})
    project.log_api_texts = enabled
    return project
