"""Deployments: slots and their history, deploy / swap / delete / roll back; API tokens and
the API page; try a deployment; the classification log.

Viewers read everything here except tokens; Taggers may also try a deployment (it runs the
model, changes nothing and is not logged); only Admins change slots, tokens or logging.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classifiers import ingest, serving
from classifiers.access import get_project_for_user
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
from classifiers.api import stats
from classifiers.api.documents import parse_documents
from classifiers.api.errors import ApiError
from classifiers.models import (
    PRODUCTION_SLOT,
    ApiCall,
    ApiToken,
    Deployment,
    DeploymentEvent,
    ModelVersion,
    Project,
    Role,
    validate_deployment_name,
)

SECTION = "deployments"


# --- Forms ----------------------------------------------------------------------------------------
class DeployForm(forms.Form):
    slot = forms.CharField(
        label="Slot",
        max_length=40,
        validators=[validate_deployment_name],
        help_text="An existing slot to re-point, or a new name (lower-case letters, digits, '-').",
        widget=forms.TextInput(attrs={"list": "slot-names", "autocomplete": "off"}),
    )
    version = forms.ModelChoiceField(label="Model version", queryset=ModelVersion.objects.none())

    def __init__(self, project: Project, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["version"]
        field.queryset = ModelVersion.objects.filter(project=project).order_by("-number")
        field.label_from_instance = _version_label


def _version_label(version: ModelVersion) -> str:
    figures = ", ".join(f"{name} {value:.3f}" for name, value in figures_of(version) if value is not None)
    return f"v{version.number} ({version.created_at:%Y-%m-%d}{', ' + figures if figures else ''})"


class SwapForm(forms.Form):
    slot_a = forms.ChoiceField(label="Swap")
    slot_b = forms.ChoiceField(label="with")

    def __init__(self, slots: list[str], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(s, s) for s in slots]
        self.fields["slot_a"].choices = choices
        self.fields["slot_b"].choices = choices
        if len(slots) >= 2 and not self.is_bound:
            self.initial = {"slot_a": slots[0], "slot_b": slots[1]}

    def clean(self) -> dict:
        data = super().clean()
        if data.get("slot_a") and data.get("slot_a") == data.get("slot_b"):
            raise forms.ValidationError("Pick two different slots.")
        return data


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="Who or what uses it, e.g. 'ticket router (prod)'."
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=ApiToken.Scope.choices,
        initial=[ApiToken.Scope.CLASSIFY],
        widget=forms.CheckboxSelectMultiple,
        help_text="Classify: classify and run jobs. Read results: read every job of the project.",
    )


class TryForm(forms.Form):
    slot = forms.ChoiceField(label="Deployment")
    text = forms.CharField(label="Text", required=False, widget=forms.Textarea(attrs={"rows": 8}))
    file = forms.FileField(label="…or a file", required=False)

    def __init__(self, slots: list[str], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [(s, s) for s in slots]

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("file") and not (data.get("text") or "").strip():
            raise forms.ValidationError("Paste a text or choose a file.")
        return data


# --- Helpers ------------------------------------------------------------------------------------------
def figures_of(version: ModelVersion) -> list[tuple[str, float | None]]:
    """The figures a slot shows for its version (trainable: of 'match')."""
    metrics = version.metrics or {}
    if version.kind == Project.Kind.TRAINABLE:
        match = metrics.get("per_class", {}).get("match", {})
        return [
            ("Precision", match.get("precision")),
            ("Recall", match.get("recall")),
            ("F1", match.get("f1")),
        ]
    return [
        ("Macro F1", metrics.get("macro", {}).get("f1")),
        ("Micro F1", metrics.get("micro", {}).get("f1")),
    ]


def _slots(project: Project) -> list[Deployment]:
    slots = list(
        Deployment.objects.filter(project=project)
        .select_related("model_version", "deployed_by")
        .order_by("name")
    )
    counts = stats.calls_since(project, timezone.now() - timedelta(hours=24))
    for deployment in slots:
        deployment.calls_24h = counts.get(deployment.name, 0)  # type: ignore[attr-defined]
        deployment.figures = figures_of(deployment.model_version)  # type: ignore[attr-defined]
    return slots


def _is_admin(project: Project) -> bool:
    return project.membership.is_admin  # type: ignore[attr-defined]


def _list_page(
    request: HttpRequest,
    project: Project,
    *,
    deploy_form: DeployForm | None = None,
    swap_form: SwapForm | None = None,
    status: int = 200,
) -> HttpResponse:
    slots = _slots(project)
    names = [d.name for d in slots]
    suggestions = sorted(set(names) | {PRODUCTION_SLOT, "staging"})
    context = {
        "project": project,
        "section": SECTION,
        "slots": slots,
        "slot_suggestions": suggestions,
        "has_versions": ModelVersion.objects.filter(project=project).exists(),
        "deploy_form": deploy_form
        or DeployForm(project, initial={"slot": names[0] if names else PRODUCTION_SLOT}),
        "swap_form": swap_form or SwapForm(names),
        "production": PRODUCTION_SLOT,
    }
    return render(request, "deployments/list.html", context, status=status)


# --- Slots --------------------------------------------------------------------------------------------
@login_required
@require_GET
def deployments(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    return _list_page(request, project)


@login_required
@require_POST
def deployment_deploy(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    form = DeployForm(project, request.POST)
    if form.is_valid():
        slot, version = form.cleaned_data["slot"], form.cleaned_data["version"]
        try:
            deployment = do_deploy(request.user, project, slot, version)
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The {deployment.name} slot now serves v{version.number}.")
            return redirect("deployment_detail", project.slug, deployment.pk)
    return _list_page(request, project, deploy_form=form, status=422)


@login_required
@require_POST
def deployment_swap(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    names = list(Deployment.objects.filter(project=project).order_by("name").values_list("name", flat=True))
    form = SwapForm(names, request.POST)
    if form.is_valid():
        try:
            a, b = do_swap(request.user, project, form.cleaned_data["slot_a"], form.cleaned_data["slot_b"])
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Swapped: {a.name} serves v{a.model_version.number}, {b.name} serves v{b.model_version.number}.",
            )
            return redirect("deployments", project.slug)
    return _list_page(request, project, swap_form=form, status=422)


def _get_deployment(project: Project, deployment_id: int) -> Deployment:
    return get_object_or_404(
        Deployment.objects.select_related("model_version", "deployed_by"), pk=deployment_id, project=project
    )


@login_required
@require_GET
def deployment_detail(request: HttpRequest, slug: str, deployment_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug)
    deployment = _get_deployment(project, deployment_id)
    events = list(
        DeploymentEvent.objects.filter(project=project, slot=deployment.name)
        .select_related("from_version", "to_version", "actor")
        .order_by("-id")[:100]
    )
    # A version may be rolled back to if it served this slot before and still exists.
    seen: set[int] = set()
    for event in events:
        version = event.to_version
        event.can_roll_back = (  # type: ignore[attr-defined]
            version is not None and version.pk != deployment.model_version_id and version.pk not in seen
        )
        if version is not None:
            seen.add(version.pk)
    now = timezone.now()
    context = {
        "project": project,
        "section": SECTION,
        "deployment": deployment,
        "figures": figures_of(deployment.model_version),
        "events": events,
        "day": stats.summary(project, deployment.name, now - timedelta(hours=24)),
        "week": stats.summary(project, deployment.name, now - timedelta(days=7)),
        "production": PRODUCTION_SLOT,
    }
    return render(request, "deployments/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def deployment_delete(request: HttpRequest, slug: str, deployment_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    deployment = _get_deployment(project, deployment_id)
    if request.method == "POST":
        try:
            do_delete_deployment(request.user, project, deployment.name)
        except ActionError as exc:
            messages.error(request, str(exc))
            return redirect("deployment_detail", project.slug, deployment.pk)
        messages.success(request, f"The {deployment.name} slot is deleted; its clients now get 404.")
        return redirect("deployments", project.slug)
    calls = ApiCall.objects.filter(
        project=project, slot=deployment.name, created_at__gte=timezone.now() - timedelta(hours=24)
    ).count()
    context = {
        "project": project,
        "section": SECTION,
        "deployment": deployment,
        "calls_24h": calls,
        "production": PRODUCTION_SLOT,
    }
    return render(request, "deployments/delete.html", context)


@login_required
@require_POST
def deployment_rollback(request: HttpRequest, slug: str, deployment_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    deployment = _get_deployment(project, deployment_id)
    try:
        version_id = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "Pick a version to roll back to.")
        return redirect("deployment_detail", project.slug, deployment.pk)
    version = get_object_or_404(ModelVersion, pk=version_id, project=project)
    try:
        do_rollback(request.user, project, deployment.name, version)
    except ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Rolled back: {deployment.name} serves v{version.number} again.")
    return redirect("deployment_detail", project.slug, deployment.pk)


# --- API page and tokens ---------------------------------------------------------------------------
def _curl_examples(request: HttpRequest, project: Project, slot: str) -> list[tuple[str, str]]:
    base = request.build_absolute_uri("/").rstrip("/")
    api = f"{base}/api/v1/projects/{project.slug}"
    sample = "Quarterly revenue rose 4% on strong sales of the new range."
    kind = (
        "CustomMultiLabelClassification"
        if project.kind == Project.Kind.MULTI_LABEL
        else ("CustomSingleLabelClassification")
    )
    azure_body = json.dumps(
        {
            "displayName": "Classify documents",
            "analysisInput": {"documents": [{"id": "1", "language": project.language, "text": sample}]},
            "tasks": [
                {
                    "kind": kind,
                    "taskName": "classify",
                    "parameters": {"projectName": project.slug, "deploymentName": slot},
                }
            ],
        }
    )
    documents = json.dumps({"documents": [{"id": "1", "text": sample}]})
    auth = '-H "Authorization: Bearer $CS_TOKEN"'
    return [
        (
            "Classify now (synchronous)",
            f"curl -s -X POST {api}/deployments/{slot}/classify \\\n  {auth} \\\n"
            f"  -H 'Content-Type: application/json' \\\n  -d '{documents}'",
        ),
        (
            "Submit a job (asynchronous; the answer's Location is where to poll)",
            f"curl -s -i -X POST {api}/deployments/{slot}/jobs \\\n  {auth} \\\n"
            f"  -H 'Content-Type: application/json' \\\n  -d '{documents}'",
        ),
        ("Poll a job and read its results", f"curl -s '{api}/jobs/JOB_ID?top=100&skip=0' \\\n  {auth}"),
        ("Cancel a job", f"curl -s -X POST {api}/jobs/JOB_ID/cancel \\\n  {auth}"),
        ("List the deployments", f"curl -s {api}/deployments \\\n  {auth}"),
        (
            "Azure AI Language client (same token in Azure's header)",
            f"curl -s -i -X POST '{base}/language/analyze-text/jobs?api-version=2022-05-01' \\\n"
            f"  -H \"Ocp-Apim-Subscription-Key: $CS_TOKEN\" \\\n  -H 'Content-Type: application/json' \\\n"
            f"  -d '{azure_body}'",
        ),
    ]


def _api_context(request: HttpRequest, project: Project) -> dict:
    slots = list(Deployment.objects.filter(project=project).order_by("name").values_list("name", flat=True))
    slot = PRODUCTION_SLOT if PRODUCTION_SLOT in slots or not slots else slots[0]
    context = {
        "project": project,
        "section": SECTION,
        "slots": slots,
        "examples": _curl_examples(request, project, slot),
        "openapi_url": request.build_absolute_uri("/api/v1/openapi.json"),
        "limits": {
            "documents": settings.STUDIO_API_MAX_DOCUMENTS,
            "characters": settings.STUDIO_API_MAX_CHARS,
            "job_documents": settings.STUDIO_API_JOB_MAX_DOCUMENTS,
            "job_characters": settings.STUDIO_API_JOB_MAX_CHARS,
            "rate": settings.STUDIO_API_RATE_LIMIT,
            "job_hours": settings.STUDIO_API_JOB_TTL_SECONDS / 3600,
        },
    }
    if _is_admin(project):
        context["tokens"] = ApiToken.objects.filter(project=project).select_related("created_by")
        context.setdefault("token_form", TokenForm())
    return context


def _tokens_response(request: HttpRequest, project: Project, status: int = 200, **extra) -> HttpResponse:
    context = {**_api_context(request, project), **extra}
    template = "deployments/api.html#tokens" if request.htmx else "deployments/api.html"
    response = render(request, template, context, status=status)
    if "new_token" in extra:
        response["Cache-Control"] = "no-store"  # the plain token must not sit in any cache
    return response


@login_required
@require_GET
def api_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    return render(request, "deployments/api.html", _api_context(request, project))


@login_required
@require_POST
def api_token_create(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, plain = do_create_token(
                request.user, project, form.cleaned_data["name"], form.cleaned_data["scopes"]
            )
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            # Shown in this answer only (not through a redirect and a session message).
            return _tokens_response(request, project, new_token=plain, new_token_row=token)
    return _tokens_response(request, project, status=422, token_form=form)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, slug: str, token_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    token = get_object_or_404(ApiToken, pk=token_id, project=project)
    try:
        do_revoke_token(request.user, token)
        messages.success(
            request, f"Token {token.name} ({token.prefix}…) is revoked: it gets 401 from now on."
        )
    except ActionError as exc:
        messages.error(request, str(exc))
    if request.htmx:
        return _tokens_response(request, project)
    return redirect("api_page", project.slug)


# --- Try a deployment ---------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def deployment_try(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.TAGGER)
    slots = list(Deployment.objects.filter(project=project).order_by("name").values_list("name", flat=True))
    context: dict = {"project": project, "section": SECTION, "slots": slots}
    status = 200
    if request.method == "POST":
        form = TryForm(slots, request.POST, request.FILES)
        if form.is_valid():
            try:
                context["result"] = _try(project, form)
            except (ActionError, ApiError) as exc:
                form.add_error(None, getattr(exc, "message", None) or str(exc))
        if form.errors:
            status = 422
    else:
        initial = {"slot": PRODUCTION_SLOT if PRODUCTION_SLOT in slots else (slots[0] if slots else "")}
        form = TryForm(slots, initial=initial)
    context["form"] = form
    if request.htmx:
        return render(request, "deployments/try.html#result", context, status=status)
    return render(request, "deployments/try.html", context, status=status)


def _try(project: Project, form: TryForm) -> str:
    """The same JSON the synchronous API answers, for one document."""
    from classifiers.uploads import limits

    upload = form.cleaned_data.get("file")
    if upload:
        if upload.size > settings.STUDIO_MAX_FILE_BYTES:
            raise ActionError(
                f"The file is larger than {settings.STUDIO_MAX_FILE_BYTES // (1024 * 1024)} MiB."
            )
        try:
            extracted = ingest.extract(upload.name, upload.read(), limits())
        except ingest.Rejected as exc:
            raise ActionError(f"{upload.name}: {exc.message}") from None
        text, doc_id = extracted.text, upload.name[:64]
    else:
        text, doc_id = form.cleaned_data["text"], "1"
    documents = parse_documents(
        [{"id": doc_id, "text": text}],
        target="documents",
        max_documents=settings.STUDIO_API_MAX_DOCUMENTS,
        max_chars=settings.STUDIO_API_MAX_CHARS,
        limit_names=("STUDIO_API_MAX_DOCUMENTS", "STUDIO_API_MAX_CHARS"),
    )
    deployment = (
        Deployment.objects.select_related("model_version")
        .filter(project=project, name=form.cleaned_data["slot"])
        .first()
    )
    if deployment is None:
        raise ActionError("That slot no longer exists.")
    try:
        body = serving.classify_response(
            deployment.model_version,
            documents,
            project_slug=project.slug,
            deployment=deployment.name,
            project_language=project.language,
        )
    except serving.ModelUnavailable as exc:
        raise ActionError(str(exc)) from None
    return json.dumps(body, indent=2, ensure_ascii=False)


# --- Classification log -------------------------------------------------------------------------------
@login_required
@require_GET
def deployment_log(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    now = timezone.now()
    current = list(Deployment.objects.filter(project=project).order_by("name").values_list("name", flat=True))
    past = (
        ApiCall.objects.filter(project=project, created_at__gte=now - stats.RANGES["7d"])
        .exclude(slot="")
        .values_list("slot", flat=True)
        .distinct()
    )
    slots = sorted(set(current) | set(past))
    slot = request.GET.get("slot") or (
        PRODUCTION_SLOT if PRODUCTION_SLOT in slots else (slots[0] if slots else "")
    )
    range_key = request.GET.get("range") if request.GET.get("range") in stats.RANGES else "24h"
    points = stats.hourly(project, slot, range_key, now) if slot else []
    title = f"{slot}, last {range_key}"
    calls = ApiCall.objects.filter(project=project).select_related("model_version").order_by("-id")
    if slot:
        calls = calls.filter(slot=slot)
    context = {
        "project": project,
        "section": SECTION,
        "slots": slots,
        "slot": slot,
        "range": range_key,
        "ranges": list(stats.RANGES),
        "calls_chart": stats.calls_chart(points, f"Calls per hour: {title}"),
        "latency_chart": stats.latency_chart(points, f"Latency per hour: {title}"),
        "summary": stats.summary(project, slot, now - stats.RANGES[range_key]) if slot else None,
        "calls": calls[:50],
        "show_texts": _is_admin(project),
    }
    return render(request, "deployments/log.html", context)


@login_required
@require_POST
def deployment_log_texts(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    enabled = request.POST.get("enabled") in ("1", "on", "true")
    try:
        do_set_log_api_texts(request.user, project, enabled)
        messages.success(
            request,
            "API calls now keep their texts in the log."
            if enabled
            else "API calls no longer keep their texts.",
        )
    except ActionError as exc:
        messages.error(request, str(exc))
    return redirect("deployment_log", project.slug)
