"""Retraining: the retrained-versus-published overview (figures, disagreements reviewed
blind, the recommendation, the decision), retrain now, settings, history and rollback."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from classifiers.access import get_project_for_user
from classifiers.actions.base import ActionError
from classifiers.actions.production import (
    do_decide,
    do_give_feedback,
    do_recompute_comparison,
    do_republish,
    do_retrain_now,
    do_rollback_published,
    do_set_retraining,
)
from classifiers.models import Classification, Document, DocumentSet, ModelVersion, Role, VersionComparison
from classifiers.production import published_version
from classifiers.retraining import (
    active_feedback,
    blind_order,
    history,
    latest_comparison,
    retrain_status,
)

METRICS = ["accuracy", "precision", "recall", "f1"]


def _rows(figures: dict) -> list[dict]:
    """Per set: the published and retrained figures side by side, with the change."""
    out = []
    for key, title in (("feedback", "Feedback items"), ("original", "Original test and reviewed items"),
                       ("all", "All items")):  # fmt: skip
        pair = figures.get(key)
        if not pair:
            continue
        metrics = []
        for m in METRICS:
            a, b = pair["published"][m], pair["retrained"][m]
            metrics.append({"name": m, "published": a, "retrained": b, "change": b - a})
        classes = []
        for name in sorted(set(pair["published"]["per_class"]) | set(pair["retrained"]["per_class"])):
            a = pair["published"]["per_class"].get(name, {})
            b = pair["retrained"]["per_class"].get(name, {})
            classes.append({"name": name, "support": b.get("support", a.get("support", 0)), "metrics": [
                {"name": m, "published": a.get(m, 0.0), "retrained": b.get(m, 0.0),
                 "change": b.get(m, 0.0) - a.get(m, 0.0)} for m in ("precision", "recall", "f1")]})  # fmt: skip
        out.append(
            {"key": key, "title": title, "n": pair["published"]["n"], "metrics": metrics, "classes": classes}
        )
    return out


@login_required
def retraining(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    comparison = latest_comparison(project)
    if request.GET.get("comparison"):
        try:
            comparison = get_object_or_404(
                VersionComparison, pk=int(request.GET["comparison"]), project=project
            )
        except ValueError:
            comparison = None
    published = published_version(project)
    stale = bool(
        comparison
        and comparison.state == "ready"
        and comparison.feedback_count != active_feedback(project).count()
    )
    context = {
        "project": project,
        "section": "retraining",
        "comparison": comparison,
        "published": published,
        "status": retrain_status(project),
        "rows": _rows(comparison.figures) if comparison and comparison.figures else [],
        "stale": stale,
        "current": comparison is not None
        and published is not None
        and comparison.published_id == published.pk,
        "disagreements": comparison.disagreements if comparison else [],
    }
    if request.htmx and request.GET.get("poll"):
        response = render(request, "production/retraining.html#overview", context)
        computing = comparison is not None and comparison.state == VersionComparison.State.RUNNING
        if not computing and not context["status"].active_run:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "production/retraining.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def retraining_item(request: HttpRequest, slug: str, comparison_id: int, document_id: int) -> HttpResponse:
    """A disagreement reviewed in place, blind: the two answers in a stable random order,
    never saying which version gave which."""
    project = get_project_for_user(request, slug)
    comparison = get_object_or_404(VersionComparison, pk=comparison_id, project=project)
    entry = next((d for d in comparison.disagreements if d["document_id"] == document_id), None)
    document = get_object_or_404(Document, pk=document_id, project=project)
    if entry is None:
        messages.error(request, "The versions do not disagree on this item.")
        return redirect("retraining", project.slug)
    if request.method == "POST":
        if not project.membership.can_tag:
            messages.error(request, "Reviewing needs the Tagger role.")
        else:
            _answer_blind(request, project, comparison, entry, document)
        if request.htmx:
            entry = next((d for d in comparison.disagreements if d["document_id"] == document_id), entry)
        else:
            return redirect("retraining", project.slug)
    answers = _blind_answers(comparison, entry)
    context = {
        "project": project,
        "comparison": comparison,
        "entry": entry,
        "document": document,
        "answers": list(enumerate(answers, start=1)),
        "trainable": project.is_trainable,
        "reviewable": document.set == DocumentSet.PRODUCTION and project.membership.can_tag,
    }
    template = "production/retraining_item.html#item" if request.htmx else "production/retraining_item.html"
    return render(request, template, context)


def _blind_answers(comparison: VersionComparison, entry: dict) -> list[list[str]]:
    """The two versions' answers in the item's stable random order (never which is which)."""
    pair = [entry["published"], entry["retrained"]]
    return pair[::-1] if blind_order(comparison, entry["document_id"]) else pair


def _answer_blind(request, project, comparison, entry, document) -> None:
    if document.set != DocumentSet.PRODUCTION:
        messages.error(request, "This item already has its answer (a review or a tag).")
        return
    choice = request.POST.get("choice", "")
    answers = _blind_answers(comparison, entry)
    if choice in ("1", "2"):
        chosen = answers[int(choice) - 1]
    elif choice == "neither" and not project.is_trainable:
        chosen = [c for c in request.POST.getlist("corrected") if c]
    else:
        messages.error(request, "Pick one of the two answers.")
        return
    current = Classification.objects.filter(document=document).first()
    if project.is_trainable:
        answer, corrected = ("match" if "match" in chosen else "not_match"), []
    else:
        same = current is not None and sorted(current.labels) == sorted(chosen)
        answer, corrected = ("match", []) if same else ("not_match", chosen)
    try:
        do_give_feedback(request.user, project, document, answer, corrected=corrected)
    except ActionError as exc:
        messages.error(request, str(exc))
        return
    # Shown on the overview at once; the figures change on "Recompute".
    truth = ["match" if answer == "match" else "not_match"] if project.is_trainable else (chosen or [])
    rows = [dict(d, truth=truth) if d["document_id"] == document.pk else d for d in comparison.disagreements]
    VersionComparison.objects.filter(pk=comparison.pk).update(disagreements=rows)
    comparison.disagreements = rows
    messages.success(request, "Answer recorded as feedback.")


@login_required
@require_POST
def retraining_decide(request: HttpRequest, slug: str, comparison_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    comparison = get_object_or_404(VersionComparison, pk=comparison_id, project=project)
    decision = request.POST.get("decision", "")
    try:
        if decision == "republish":
            version = do_republish(request.user, comparison)
            messages.success(
                request, f"Version {version.number} is published; production items are re-classified."
            )
        elif decision == "recompute":
            do_recompute_comparison(request.user, comparison)
            messages.info(request, "Recomputing the comparison with the newest feedback.")
        else:
            comparison = do_decide(request.user, comparison, decision)
            messages.success(request, f"{comparison.get_decision_display()}: the published version stays.")
            if decision == "more_feedback":
                return redirect("feedback_queue", project.slug)
    except ActionError as exc:
        messages.error(request, str(exc))
    return redirect("retraining", project.slug)


@login_required
@require_POST
def retrain_now(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    try:
        run = do_retrain_now(request.user, project)
    except ActionError as exc:
        messages.error(request, str(exc))
        return redirect("retraining", project.slug)
    messages.success(request, "Retraining on the original data plus the feedback.")
    return redirect("training_run", project.slug, run.pk)


@login_required
@require_POST
def retraining_settings(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    try:
        after = int(request.POST.get("retrain_after", ""))
        per_day = int(request.POST.get("per_day", ""))
    except ValueError:
        messages.error(request, "Give whole numbers for both settings.")
        return redirect("retraining", project.slug)
    try:
        do_set_retraining(request.user, project, after, per_day)
    except ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Retraining settings saved.")
    return redirect("retraining", project.slug)


@login_required
def publish_history(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    return render(request, "production/history.html", {"project": project, "section": "retraining",
                                                       "rows": history(project)})  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def rollback(request: HttpRequest, slug: str, version_id: int) -> HttpResponse:
    """Roll the published version back to an earlier one, after a confirmation."""
    project = get_project_for_user(request, slug, Role.ADMIN)
    version = get_object_or_404(ModelVersion, pk=version_id, project=project)
    if request.method == "POST":
        try:
            do_rollback_published(
                request.user, project, version, confirmed=request.POST.get("confirm") == "yes"
            )
        except ActionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Rolled back: version {version.number} is published again.")
            return redirect("publish_history", project.slug)
    context = {"project": project, "section": "retraining", "version": version,
               "published": published_version(project)}  # fmt: skip
    return render(
        request, "production/rollback.html", context, status=422 if request.method == "POST" else 200
    )
