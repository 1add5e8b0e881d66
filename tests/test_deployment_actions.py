"""Deployment and token actions: slots, history, audit, what keeps a version in use."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from classifiers.actions.base import ActionError
from classifiers.actions.deployments import (
    do_create_token,
    do_delete_deployment,
    do_deploy,
    do_revoke_token,
    do_rollback,
    do_set_log_api_texts,
    do_swap,
)
from classifiers.actions.training import do_delete_model_version
from classifiers.api.tokens import hash_token
from classifiers.models import ApiToken, ClassifyJob, Deployment, DeploymentEvent
from studio.models import AuditEntry
from tests.test_api_support import make_version


@pytest.fixture
def versions(project):
    return make_version(project, seed=0), make_version(project, seed=1)


def audit(project, action):
    return list(AuditEntry.objects.filter(project=project, action=action).order_by("id"))


def test_deploy_creates_then_repoints(project, admin_user, versions):
    v1, v2 = versions
    deployment = do_deploy(admin_user, project, "production", v1)
    assert deployment.model_version == v1 and deployment.deployed_by == admin_user
    do_deploy(admin_user, project, "production", v2)
    deployment.refresh_from_db()
    assert deployment.model_version == v2 and Deployment.objects.count() == 1
    events = list(DeploymentEvent.objects.filter(slot="production").order_by("id"))
    assert [(e.action, e.from_version, e.to_version) for e in events] == [
        ("deploy", None, v1),
        ("deploy", v1, v2),
    ]
    entries = audit(project, "deployment.deploy")
    assert [e.payload["to_version"] for e in entries] == [1, 2]
    assert entries[1].payload["from_version"] == 1 and entries[1].actor == admin_user


@pytest.mark.parametrize("name", ["Production", "1st", "a b", "", "x" * 41, "prod_1"])
def test_deploy_refuses_bad_names(project, admin_user, versions, name):
    with pytest.raises(ActionError, match="lower-case"):
        do_deploy(admin_user, project, name, versions[0])
    assert not Deployment.objects.exists()


def test_deploy_refusals(project, other_project, admin_user, outsider_user, versions, settings):
    v1, _ = versions
    do_deploy(admin_user, project, "staging", v1)
    with pytest.raises(ActionError, match="already serves v1"):
        do_deploy(admin_user, project, "staging", v1)
    foreign = make_version(other_project)
    with pytest.raises(ActionError, match="another project"):
        do_deploy(admin_user, project, "staging", foreign)
    settings.STUDIO_MAX_DEPLOYMENTS = 1
    with pytest.raises(ActionError, match="at most 1 slots"):
        do_deploy(admin_user, project, "production", v1)
    assert DeploymentEvent.objects.count() == 1


def test_deploy_refuses_an_unloadable_version(project, admin_user):
    from classifiers import serving

    version = make_version(project)
    (Path(settings.MEDIA_ROOT) / version.artifact).unlink()
    serving.clear_cache()
    with pytest.raises(ActionError, match="cannot be loaded"):
        do_deploy(admin_user, project, "production", version)
    assert not Deployment.objects.exists()


def test_swap(project, admin_user, versions):
    v1, v2 = versions
    do_deploy(admin_user, project, "production", v1)
    do_deploy(admin_user, project, "staging", v2)
    a, _b = do_swap(admin_user, project, "staging", "production")
    assert a.name == "staging" and a.model_version == v1
    assert Deployment.objects.get(name="production").model_version == v2
    swaps = DeploymentEvent.objects.filter(action="swap")
    assert {(e.slot, e.from_version.number, e.to_version.number) for e in swaps} == {
        ("staging", 2, 1),
        ("production", 1, 2),
    }
    (entry,) = audit(project, "deployment.swap")
    assert entry.payload == {"slots": ["staging", "production"], "staging": 1, "production": 2}


def test_swap_refusals(project, admin_user, versions):
    v1, _ = versions
    do_deploy(admin_user, project, "production", v1)
    with pytest.raises(ActionError, match="two different"):
        do_swap(admin_user, project, "production", "production")
    with pytest.raises(ActionError, match="No slot named staging"):
        do_swap(admin_user, project, "production", "staging")
    do_deploy(admin_user, project, "staging", v1)
    with pytest.raises(ActionError, match="nothing to swap"):
        do_swap(admin_user, project, "production", "staging")


def test_delete_and_rollback(project, admin_user, versions):
    v1, v2 = versions
    do_deploy(admin_user, project, "production", v1)
    do_deploy(admin_user, project, "production", v2)
    do_rollback(admin_user, project, "production", v1)
    assert Deployment.objects.get(name="production").model_version == v1
    with pytest.raises(ActionError, match="already serves"):
        do_rollback(admin_user, project, "production", v1)
    do_delete_deployment(admin_user, project, "production")
    assert not Deployment.objects.exists()
    with pytest.raises(ActionError, match="No slot named production"):
        do_delete_deployment(admin_user, project, "production")
    # The history survives the slot: a rollback re-creates it.
    do_rollback(admin_user, project, "production", v2)
    assert Deployment.objects.get(name="production").model_version == v2
    actions = list(
        DeploymentEvent.objects.filter(slot="production").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["deploy", "deploy", "rollback", "delete", "rollback"]
    assert len(audit(project, "deployment.rollback")) == 2 and len(audit(project, "deployment.delete")) == 1


def test_rollback_only_to_versions_the_slot_served(project, admin_user, versions):
    v1, v2 = versions
    do_deploy(admin_user, project, "production", v1)
    do_deploy(admin_user, project, "staging", v2)
    with pytest.raises(ActionError, match="never served the production slot"):
        do_rollback(admin_user, project, "production", v2)


def test_a_deployed_version_cannot_be_deleted(project, admin_user, versions):
    v1, v2 = versions
    do_deploy(admin_user, project, "production", v1)
    with pytest.raises(ActionError, match="serves the production slot"):
        do_delete_model_version(admin_user, v1)
    do_deploy(admin_user, project, "production", v2)
    do_delete_model_version(admin_user, v1)  # no longer deployed: allowed
    assert not type(v1).objects.filter(pk=v1.pk).exists()


def test_a_version_with_a_running_job_cannot_be_deleted(project, admin_user, versions):
    from django.utils import timezone

    v1, _ = versions
    ClassifyJob.objects.create(
        project=project, job_id="00000000-0000-0000-0000-000000000001", slot="x", model_version=v1,
        status="running", expires_at=timezone.now(),
    )  # fmt: skip
    with pytest.raises(ActionError, match="API job"):
        do_delete_model_version(admin_user, v1)


def test_tokens_store_only_a_hash(project, admin_user):
    token, plain = do_create_token(admin_user, project, "  router  ", ["read", "classify", "classify"])
    assert plain.startswith("cs_") and len(plain) > 40
    assert token.name == "router" and token.scopes == ["classify", "read"]
    assert token.token_hash == hash_token(plain) and token.prefix == plain[:10]
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert plain not in str(stored)
    (entry,) = audit(project, "api_token.create")
    assert plain not in str(entry.payload) and entry.payload["prefix"] == token.prefix
    other, other_plain = do_create_token(admin_user, project, "router", ["classify"])
    assert other_plain != plain and other.token_hash != token.token_hash


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("", ["classify"], "name"),
        ("x" * 101, ["classify"], "name"),
        ("a", [], "at least one"),
        ("a", ["admin"], "Unknown"),
    ],
)
def test_token_refusals(project, admin_user, name, scopes, message):
    with pytest.raises(ActionError, match=message):
        do_create_token(admin_user, project, name, scopes)
    assert not ApiToken.objects.exists()


def test_revoke(project, admin_user):
    token, _ = do_create_token(admin_user, project, "app", ["classify"])
    do_revoke_token(admin_user, token)
    token.refresh_from_db()
    assert token.revoked_at is not None and not token.is_active
    with pytest.raises(ActionError, match="already revoked"):
        do_revoke_token(admin_user, token)
    assert len(audit(project, "api_token.revoke")) == 1


def test_log_texts_toggle_is_audited(project, admin_user):
    do_set_log_api_texts(admin_user, project, True)
    project.refresh_from_db()
    assert project.log_api_texts
    with pytest.raises(ActionError):
        do_set_log_api_texts(admin_user, project, True)
    do_set_log_api_texts(admin_user, project, False)
    assert [e.payload["enabled"] for e in audit(project, "project.log_api_texts")] == [True, False]
