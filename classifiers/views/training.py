"""Training: start a run, watch it live, cancel it; the list of model versions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from classifiers.access import get_project_for_user
from classifiers.actions.base import ActionError
from classifiers.actions.training import do_cancel_training, do_request_training
from classifiers.labels import RULE
from classifiers.models import ModelVersion, Project, Role, TrainingRun
from classifiers.training import gather, problems


def _get_run(project: Project, run_id: int) -> TrainingRun:
    return get_object_or_404(TrainingRun.objects.select_related("requested_by"), pk=run_id, project=project)


def _runs_context(project: Project) -> dict:
    runs = list(project.training_runs.select_related("requested_by", "model_version")[:10])
    return {"runs": runs, "any_active": any(r.is_active for r in runs)}


@login_required
def training(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    context = {"project": project, "section": "training", **_runs_context(project)}
    if request.htmx and request.GET.get("part") == "runs":
        response = render(request, "training/training.html#runs", context)
        return response if context["any_active"] else HttpResponseStopPolling(response.content)
    # A trainable classifier's data (seeds, background, reviews) is described on its page.
    data = None if project.is_trainable else gather(project)
    context.update(
        data=data,
        problems=problems(project, data),
        rule=RULE,
        versions=project.model_versions.select_related("created_by")[:50],
    )
    return render(request, "training/training.html", context)


@login_required
@require_POST
def training_start(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    found = problems(project)
    if found:
        messages.error(request, " ".join(found))
        return redirect("training", project.slug)
    run, created = do_request_training(request.user, project, reason="manual")
    if created:
        active = project.training_runs.filter(state=TrainingRun.State.RUNNING).exclude(pk=run.pk).first()
        if active:
            messages.info(request, f"Queued: it starts when run #{active.pk} has finished.")
        else:
            messages.success(request, f"Training run #{run.pk} queued.")
    else:
        messages.info(request, f"Run #{run.pk} is already waiting to start; it will use the newest tags.")
    return redirect("training_run", project.slug, run.pk)


@login_required
def training_run(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug)
    run = _get_run(project, run_id)
    context = {"project": project, "section": "training", "run": run}
    if request.htmx and request.GET.get("part") == "status":
        if run.state == TrainingRun.State.SUCCEEDED and hasattr(run, "model_version"):
            return HttpResponseClientRedirect(
                reverse("model_version", args=[project.slug, run.model_version.pk])
            )
        response = render(request, "training/run.html#status", context)
        return response if run.is_active else HttpResponseStopPolling(response.content)
    return render(request, "training/run.html", context)


@login_required
@require_POST
def training_cancel(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    run = _get_run(project, run_id)
    try:
        do_cancel_training(request.user, run)
        messages.success(request, "Cancelling: the run stops at its next step.")
    except ActionError as exc:
        messages.error(request, str(exc))
    return redirect("training_run", project.slug, run.pk)


def get_version(project: Project, version_id: int) -> ModelVersion:
    return get_object_or_404(
        ModelVersion.objects.select_related("created_by", "training_run"), pk=version_id, project=project
    )
