"""Trainable classifiers: the flow's page (stepper, figures, publish, threshold) and the
review screen (match / not a match, by key or click)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from classifiers.access import get_project_for_user
from classifiers.actions.base import ActionError
from classifiers.actions.trainable import do_publish, do_review, do_set_threshold
from classifiers.charts import Line, Marker, line_chart
from classifiers.models import Document, DocumentSet, Project, Review, Role
from classifiers.trainable import (
    BATCH_SIZE,
    STEPS,
    current_batch,
    gather_seed,
    latest_version,
    next_review_item,
    publishable,
    published_version,
    review_figures,
    seed_problems,
    state,
    test_mix,
)


def _trainable(request: HttpRequest, slug: str, role: str = Role.VIEWER) -> Project:
    project = get_project_for_user(request, slug, role)
    if not project.is_trainable:
        raise Http404("Only trainable classifiers have this page.")
    return project


def accuracy_chart(figures: dict) -> str:
    batches = figures["batches"]
    if not batches:
        return ""
    last = max(b["batch"] for b in batches)
    return line_chart(
        [
            Line(
                "Batch accuracy",
                [(b["batch"], b["accuracy"]) for b in batches],
                markers=True,
                point_label="batch {x}: {y}",
            ),
            Line(
                "Cumulative accuracy",
                [(b["batch"], b["cumulative_accuracy"]) for b in batches],
                markers=True,
                point_label="after batch {x}: {y}",
            ),
        ],
        title="Accuracy per review batch",
        desc="Accuracy of each review batch, and of all reviewed items so far, against the review batch number.",
        x_label="Review batch",
        y_label="Accuracy",
        x_range=(1, max(2, last)),
        x_ticks=[(b["batch"], str(b["batch"])) for b in batches],
        chart_id="accuracy",
    )


@login_required
def classifier(request: HttpRequest, slug: str) -> HttpResponse:
    project = _trainable(request, slug)
    current = state(project)
    figures = review_figures(project)
    ok, why = publishable(figures)
    data = gather_seed(project)
    version = latest_version(project)
    codes = [code for code, _ in STEPS]
    context = {
        "project": project,
        "section": "classifier",
        "state": current,
        "steps": [(code, label, codes.index(code) < codes.index(current.code)) for code, label in STEPS],
        "figures": figures,
        "publishable": ok,
        "publish_reason": why,
        "seed": data,
        "seed_problems": seed_problems(project, data),
        "left_out": Document.objects.filter(pk__in=data.left_out_ids[:50]),
        "version": version,
        "published": published_version(project),
        "test_count": Document.objects.filter(project=project, set=DocumentSet.TEST).count(),
        "mix": test_mix(project),
        "chart": accuracy_chart(figures),
        "batch_size": BATCH_SIZE,
        "runs": project.training_runs.all()[:3],
    }
    return render(request, "trainable/classifier.html", context)


@login_required
def review(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.TAGGER)
    version = latest_version(project)
    item = next_review_item(project, request.user, version) if version else None
    context = {
        "project": project,
        "section": "review",
        "version": version,
        "item": item,
        "batch": current_batch(project),
        "in_batch": Review.objects.filter(project=project).exclude(answer="skip").count() % BATCH_SIZE,
        "batch_size": BATCH_SIZE,
        "trainable": project.is_trainable,
        "classes": project.classes.filter(archived=False),
    }
    template = "trainable/review.html#card" if request.htmx else "trainable/review.html"
    return render(request, template, context)


class ReviewForm(forms.Form):
    document = forms.IntegerField()
    answer = forms.ChoiceField(choices=Review.Answer.choices)
    corrected = forms.CharField(required=False, max_length=100)


@login_required
@require_POST
def review_answer(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.TAGGER)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Answer Match, Not a match or Skip.")
        return review(request, slug)
    document = get_object_or_404(Document, pk=form.cleaned_data["document"], project=project)
    corrected = [form.cleaned_data["corrected"]] if form.cleaned_data["corrected"] else []
    try:
        _review, retrain = do_review(
            request.user, project, document, form.cleaned_data["answer"], corrected=corrected
        )
    except ActionError as exc:
        messages.warning(request, str(exc))
    else:
        if retrain:
            messages.success(request, "Batch done: retraining on the seeds and every reviewed item.")
    if request.htmx:
        return review(request, slug)
    return redirect("review", project.slug)


@login_required
@require_POST
def classifier_publish(request: HttpRequest, slug: str) -> HttpResponse:
    project = _trainable(request, slug, Role.ADMIN)
    if request.POST.get("confirm") != "publish":
        messages.error(request, "Tick the confirmation to publish.")
        return redirect("classifier", project.slug)
    try:
        version = do_publish(request.user, project)
    except ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Version {version.number} is published.")
    return redirect("classifier", project.slug)


class ThresholdForm(forms.Form):
    threshold = forms.FloatField(min_value=0.01, max_value=0.99)
    close_match_lower = forms.FloatField(min_value=0.0, max_value=0.99, required=False)


def threshold_changes(project: Project, threshold: float) -> dict:
    """How many reviewed items would change outcome at this threshold (review-time scores)."""
    rows = Review.objects.filter(project=project, score__isnull=False).exclude(answer="skip")
    changed = right_before = right_after = 0
    for score, predicted, answer in rows.values_list("score", "predicted", "answer"):
        before = "match" in predicted
        after = score >= threshold
        truth = answer == "match"
        changed += before != after
        right_before += before == truth
        right_after += after == truth
    return {
        "changed": changed,
        "correct_before": right_before,
        "correct_after": right_after,
        "n": rows.count(),
    }


@login_required
def classifier_threshold(request: HttpRequest, slug: str) -> HttpResponse:
    project = _trainable(request, slug, Role.ADMIN)
    version = latest_version(project)
    if version is None:
        raise Http404("No model version yet.")
    form = ThresholdForm(
        request.POST or request.GET or None,
        initial={"threshold": version.threshold, "close_match_lower": version.close_match_lower},
    )
    preview = None
    if form.is_bound and form.is_valid():
        preview = threshold_changes(project, form.cleaned_data["threshold"])
        if request.method == "POST" and request.POST.get("save"):
            try:
                new = do_set_threshold(
                    request.user,
                    version,
                    form.cleaned_data["threshold"],
                    form.cleaned_data["close_match_lower"],
                )
            except ActionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, f"Version {new.number}: version {version.number} with the new threshold."
                )
                return redirect("classifier", project.slug)
    from classifiers import ml

    reviews = list(
        Review.objects.filter(project=project, score__isnull=False)
        .exclude(answer="skip")
        .values_list("score", "answer")
    )
    curve = ml.threshold_curve([a == "match" for _, a in reviews], [s for s, _ in reviews]) if reviews else []
    chart = ""
    if curve:
        chart = line_chart(
            [
                Line("Precision", [(p["threshold"], p["precision"]) for p in curve]),
                Line("Recall", [(p["threshold"], p["recall"]) for p in curve]),
            ],
            title="Precision and recall of reviewed items by threshold",
            desc="Precision and recall of the reviewed items at each decision threshold, from their review-time scores.",
            x_label="Threshold",
            y_label="Share",
            markers=[Marker(version.threshold or 0.5, "current")],
            chart_id="threshold",
        )
    context = {
        "project": project,
        "section": "classifier",
        "version": version,
        "form": form,
        "preview": preview,
        "chart": chart,
        "reviews": len(reviews),
    }
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "trainable/threshold.html", context, status=status)


def require_trainable(project: Project) -> None:
    if not project.is_trainable:
        raise PermissionDenied("Only trainable classifiers.")
