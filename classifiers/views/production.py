"""Production: the content explorer (site-wide), feedback on items (one, a selection, or the
close-matches-first queue), labels and label policies."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from classifiers import explorer
from classifiers.access import get_project_for_user
from classifiers.actions.base import ActionError
from classifiers.actions.production import (
    can_change_label,
    can_manage_labels,
    do_bulk_feedback,
    do_create_label,
    do_create_policy,
    do_delete_label,
    do_delete_policy,
    do_give_feedback,
    do_update_label,
    do_withdraw_feedback,
)
from classifiers.models import (
    Classification,
    Document,
    DocumentSet,
    Feedback,
    Label,
    LabelPolicy,
    Membership,
    Project,
    Role,
)
from classifiers.production import latest_run, published_version, throughput
from classifiers.retraining import next_feedback_item, retrain_status


# --- The content explorer ----------------------------------------------------------------------------
def _member_projects(user) -> list[Project]:
    projects = list(Project.objects.filter(memberships__user=user).order_by("name"))
    roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
    for p in projects:
        p.role = roles.get(p.pk)
    return projects


@login_required
def content_explorer(request: HttpRequest) -> HttpResponse:
    projects = _member_projects(request.user)
    counts = explorer.counts_per_classifier(projects)
    slug = request.GET.get("classifier", "")
    if slug:
        project = next((p for p in projects if p.slug == slug), None)
        if project is None:
            raise Http404("No such classifier among your projects.")
    else:
        project = next((p for p in projects if counts[p.pk]["total"]), projects[0] if projects else None)
    query, errors = explorer.parse(request.GET)
    context = {
        "section": "explorer",
        "projects": [(p, counts[p.pk]) for p in projects],
        "selected": project,
        "query": query,
        "errors": errors,
        "labels": explorer.labels(),
        "outcomes": explorer.OUTCOMES,
    }
    if project is not None:
        rows, next_after = explorer.page(project, query)
        total, capped = explorer.count(project, query, counts[project.pk])
        context.update(
            rows=rows,
            next_after=next_after,
            total=total,
            capped=capped,
            published=published_version(project),
            run=latest_run(project),
            can_give_feedback=project.role in (Role.ADMIN, Role.TAGGER),
            classes=list(project.classes.filter(archived=False).values_list("name", flat=True)),
            base_query=query.params(classifier=project.slug),
        )
    template = "production/explorer.html#results" if request.htmx else "production/explorer.html"
    return render(request, template, context)


@login_required
@require_POST
def explorer_feedback(request: HttpRequest, slug: str) -> HttpResponse:
    """Match / Not a match on the ticked items of one classifier."""
    project = get_project_for_user(request, slug, Role.TAGGER)
    answer = request.POST.get("answer", "")
    try:
        count, run = do_bulk_feedback(request.user, project, request.POST.getlist("document"), answer)
    except ActionError as exc:
        messages.error(request, str(exc))
    else:
        label = dict(Feedback.Answer.choices).get(answer, answer)
        messages.success(request, f"Feedback “{label}” recorded on {count} item{'s' if count != 1 else ''}.")
        if run is not None:
            messages.info(request, "Enough new feedback: the classifier is re-training.")
    back = request.POST.get("next", "")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("content_explorer") + f"?classifier={project.slug}"
    return redirect(back)


# --- Feedback on one item ------------------------------------------------------------------------------
class FeedbackForm(forms.Form):
    answer = forms.ChoiceField(choices=Feedback.Answer.choices)
    corrected = forms.CharField(required=False, max_length=100)
    suggest = forms.SlugField(required=False, max_length=110)


def _suggestable(request: HttpRequest, project: Project) -> list[Project]:
    return list(
        Project.objects.filter(
            memberships__user=request.user, memberships__role__in=[Role.ADMIN, Role.TAGGER]
        ).exclude(pk=project.pk)
    )


@login_required
@require_POST
def feedback_give(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.TAGGER)
    document = get_object_or_404(Document, pk=document_id, project=project)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Answer Match or Not a match.")
        return _after_feedback(request, project, document)
    suggest = None
    if form.cleaned_data["suggest"]:
        suggest = next(
            (p for p in _suggestable(request, project) if p.slug == form.cleaned_data["suggest"]), None
        )
        if suggest is None:
            messages.error(request, "Suggest a classifier of a project where you tag or administer.")
            return _after_feedback(request, project, document)
    corrected = [form.cleaned_data["corrected"]] if form.cleaned_data["corrected"] else []
    try:
        _, run = do_give_feedback(
            request.user, project, document, form.cleaned_data["answer"], corrected=corrected, suggest=suggest
        )
    except ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, "Thanks: feedback recorded." + (f" Sent to {suggest.name} too." if suggest else "")
        )
        if run is not None:
            messages.info(request, "Enough new feedback: the classifier is re-training.")
    return _after_feedback(request, project, document)


def _after_feedback(request: HttpRequest, project: Project, document: Document) -> HttpResponse:
    if request.POST.get("from") == "queue":
        return redirect("feedback_queue", project.slug)
    return redirect("document_detail", project.slug, document.pk)


@login_required
@require_POST
def feedback_withdraw(request: HttpRequest, slug: str, feedback_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.TAGGER)
    feedback = get_object_or_404(Feedback, pk=feedback_id, project=project)
    try:
        do_withdraw_feedback(request.user, feedback, is_admin=project.membership.is_admin)
    except ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Feedback withdrawn.")
    return redirect("document_detail", project.slug, feedback.document_id)


@login_required
def feedback_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """One production item at a time, close matches first; m / n / s keys."""
    project = get_project_for_user(request, slug, Role.TAGGER)
    item = next_feedback_item(project, request.user)
    context = {
        "project": project,
        "section": "feedback",
        "item": item,
        "published": published_version(project),
        "status": retrain_status(project),
        "classes": list(project.classes.filter(archived=False).values_list("name", flat=True)),
        "suggestable": _suggestable(request, project),
    }
    return render(request, "production/feedback_queue.html", context)


def classification_context(request: HttpRequest, project: Project, document: Document) -> dict:
    """The document page's production panel (its classification, labels and feedback)."""
    if document.set != DocumentSet.PRODUCTION:
        return {}
    classification = Classification.objects.filter(document=document).select_related("model_version").first()
    return {
        "classification": classification,
        "applied_labels": document.applied_labels.select_related("label", "policy", "model_version"),
        "feedback_history": document.feedback.select_related("user", "withdrawn_by", "suggested_project"),
        "suggestable": _suggestable(request, project) if project.membership.can_tag else [],
        "feedback_classes": list(project.classes.filter(archived=False).values_list("name", flat=True)),
    }


# --- Labels (site-wide) and label policies (per project) ------------------------------------------
class LabelForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    colour = forms.RegexField(regex=r"^#[0-9a-fA-F]{6}$", initial="#7a4b94", max_length=7,
                              widget=forms.TextInput(attrs={"type": "color"}))  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def label_list(request: HttpRequest) -> HttpResponse:
    can_manage = can_manage_labels(request.user)
    form = LabelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Labels are managed by project Admins and operators.")
        if form.is_valid():
            try:
                label = do_create_label(request.user, **form.cleaned_data)
            except ActionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Label “{label.name}” created.")
                return redirect("label_list")
        status = 422
    labels = Label.objects.all()
    policies = LabelPolicy.objects.filter(project__memberships__user=request.user).select_related(
        "label", "project"
    )
    return render(
        request,
        "production/labels.html",
        {
            "section": "labels",
            "form": form,
            "labels": labels,
            "policies": policies,
            "can_manage": can_manage,
            "editable": {lab.pk for lab in labels if can_change_label(request.user, lab)},
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def label_edit(request: HttpRequest, label_id: int) -> HttpResponse:
    label = get_object_or_404(Label, pk=label_id)
    if not can_change_label(request.user, label):
        raise PermissionDenied(
            "Only the label's creator or an operator changes it: other projects may use it."
        )
    form = LabelForm(request.POST or None, initial={"name": label.name, "description": label.description,
                                                   "colour": label.colour})  # fmt: skip
    if request.method == "POST":
        if request.POST.get("delete") == "yes":
            do_delete_label(request.user, label)
            messages.success(request, f"Label “{label.name}” deleted, with its policies and applied labels.")
            return redirect("label_list")
        if form.is_valid():
            try:
                do_update_label(request.user, label, **form.cleaned_data)
            except ActionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Label saved.")
                return redirect("label_list")
    return render(
        request,
        "production/label_edit.html",
        {
            "section": "labels",
            "form": form,
            "label": label,
            # Only policies of the user's own projects are named; the rest are counted.
            "policies": label.policies.filter(project__memberships__user=request.user).select_related(
                "project"
            ),
            "all_policies": label.policies.count(),
        },
        status=422 if request.method == "POST" else 200,
    )


class PolicyForm(forms.Form):
    label = forms.ModelChoiceField(queryset=Label.objects.all(), empty_label=None)
    class_name = forms.CharField(required=False, max_length=100, label="Class")
    min_score = forms.FloatField(required=False, min_value=0.0, max_value=1.0, label="Only at or above score")


@login_required
@require_http_methods(["GET", "POST"])
def label_policies(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    form = PolicyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not project.membership.is_admin:
            raise PermissionDenied("Label policies are set by the project's Admins.")
        if form.is_valid():
            try:
                do_create_policy(request.user, project, **form.cleaned_data)
            except ActionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Policy saved: the label is being applied to the items it matches.")
                return redirect("label_policies", project.slug)
        status = 422
    policies = project.label_policies.select_related("label")
    counts = {p.pk: p.applied.count() for p in policies}
    return render(
        request,
        "production/policies.html",
        {
            "project": project,
            "section": "labels",
            "form": form,
            "policies": [(p, counts[p.pk]) for p in policies],
            "classes": list(project.classes.filter(archived=False).values_list("name", flat=True)),
            "has_labels": Label.objects.exists(),
            "can_manage_labels": can_manage_labels(request.user),
        },
        status=status,
    )


@login_required
@require_POST
def label_policy_delete(request: HttpRequest, slug: str, policy_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    policy = get_object_or_404(LabelPolicy, pk=policy_id, project=project)
    do_delete_policy(request.user, policy)
    messages.success(request, f"Policy removed: “{policy.label.name}” no longer applies here.")
    return redirect("label_policies", project.slug)


@login_required
def production_status(request: HttpRequest, slug: str) -> HttpResponse:
    """The (re-)classification progress (polled while a run is active)."""
    from django_htmx.http import HttpResponseStopPolling

    project = get_project_for_user(request, slug)
    run = latest_run(project)
    response = render(request, "production/_run.html", {"project": project, "run": run,
                                                         "rate": throughput(run) if run else None})  # fmt: skip
    if request.htmx and (run is None or run.state not in ("queued", "running")):
        response.status_code = HttpResponseStopPolling.status_code
    return response
