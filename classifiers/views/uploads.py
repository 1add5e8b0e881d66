"""Upload: the form, the batch page with live progress and per-file results, exports."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from classifiers import ingest
from classifiers.access import get_project_for_user
from classifiers.actions.base import ActionError
from classifiers.actions.uploads import (
    do_create_export,
    do_create_upload_batch,
    do_retry_upload_batch,
    do_set_tabular_options,
    tabular_columns,
)
from classifiers.models import DocumentSet, ExportJob, Project, Role, UploadBatch, UploadResult


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError("Choose at least one file.")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


ACCEPT = ",".join(sorted({*ingest.SUPPORTED_EXTENSIONS, ".zip", ".csv", ".jsonl", ".json"}))


class UploadForm(forms.Form):
    files = MultipleFileField(
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
        help_text="Text, Markdown, HTML, e-mail (.eml, .msg), Word (.docx), PDF, images, zip archives; "
        "or one CSV / JSON-lines file with a text column; or an Azure labels JSON with its texts.",
    )
    set = forms.ChoiceField(label="Add to set")
    azure = forms.BooleanField(
        required=False,
        label="These files are an Azure custom text classification export (labels JSON + texts)",
    )

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["set"].choices = [(s.value, s.label) for s in DocumentSet.for_kind(project.kind)]
        self.fields["set"].initial = DocumentSet.SEED if project.is_trainable else DocumentSet.TRAINING

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > settings.STUDIO_MAX_FILES_PER_BATCH:
            raise forms.ValidationError(
                f"At most {settings.STUDIO_MAX_FILES_PER_BATCH} files in one upload; put more in a zip archive."
            )
        return files


class TabularOptionsForm(forms.Form):
    text_column = forms.ChoiceField(label="Text column")
    label_columns = forms.MultipleChoiceField(
        required=False,
        label="Label column(s)",
        widget=forms.CheckboxSelectMultiple,
        help_text="Their values become tags; unknown class names are added to the schema.",
    )
    id_column = forms.ChoiceField(required=False, label="Id column (optional)")
    label_separator = forms.CharField(
        required=False,
        max_length=3,
        strip=False,
        label="Several labels in one cell, separated by",
        help_text="For example ; or |. Leave empty for one label per cell.",
    )

    def __init__(self, *args, columns: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(c, c) for c in columns]
        self.fields["text_column"].choices = choices
        self.fields["label_columns"].choices = choices
        self.fields["id_column"].choices = [("", "(none)"), *choices]
        guess = next((c for c in columns if c.lower() in ("text", "body", "content", "message")), None)
        if guess:
            self.fields["text_column"].initial = guess
        self.fields["label_columns"].initial = [
            c for c in columns if c.lower() in ("label", "labels", "class")
        ]


def _can_upload(project: Project) -> None:
    if not project.membership.can_tag:
        raise PermissionDenied("Uploading needs the Tagger or Admin role.")


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.TAGGER)
    form = UploadForm(request.POST or None, request.FILES or None, project=project)
    if request.method == "POST":
        if form.is_valid():
            try:
                batch = do_create_upload_batch(
                    request.user,
                    project,
                    form.cleaned_data["files"],
                    form.cleaned_data["set"],
                    azure=form.cleaned_data["azure"],
                )
            except ActionError as exc:
                form.add_error(None, str(exc))
            else:
                url = batch_url(batch)
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        status = 422
    else:
        status = 200
    batches = project.upload_batches.select_related("created_by")[:20]
    context = {
        "project": project,
        "section": "upload",
        "form": form,
        "batches": batches,
        "max_mb": settings.STUDIO_MAX_FILE_BYTES // 2**20,
    }
    template = "uploads/upload.html#form" if request.htmx else "uploads/upload.html"
    return render(request, template, context, status=status)


def batch_url(batch: UploadBatch) -> str:
    from django.urls import reverse

    return reverse("upload_batch", args=[batch.project.slug, batch.pk])


def _get_batch(project: Project, batch_id: int) -> UploadBatch:
    return get_object_or_404(UploadBatch.objects.select_related("created_by"), pk=batch_id, project=project)


RESULT_FILTERS = {"imported", "duplicate", "rejected"}


@login_required
def upload_batch(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug)
    batch = _get_batch(project, batch_id)
    status_filter = request.GET.get("status", "")
    results = batch.results.select_related("document", "duplicate_of")
    if status_filter in RESULT_FILTERS:
        results = results.filter(status=status_filter)
    page = Paginator(results, 100).get_page(request.GET.get("page"))
    reasons = (
        batch.results.filter(status=UploadResult.Status.REJECTED)
        .values_list("reason", flat=True)
        .order_by("reason")
    )
    context = {
        "project": project,
        "section": "upload",
        "batch": batch,
        "page": page,
        "status_filter": status_filter,
        "reason_counts": _count(reasons),
    }
    if batch.status == UploadBatch.Status.NEEDS_OPTIONS:
        try:
            context["options_form"] = TabularOptionsForm(columns=tabular_columns(batch))
        except (ingest.Rejected, ValueError) as exc:
            context["options_error"] = str(exc)
    if request.htmx and request.GET.get("part") == "progress":
        response = render(request, "uploads/batch.html#progress", context)
        if batch.is_finished:
            # Stop polling; the page reloads itself once to show the final results.
            response = HttpResponseStopPolling(response.content)
            response["HX-Refresh"] = "true"
        return response
    if request.htmx:
        return render(request, "uploads/batch.html#results", context)
    return render(request, "uploads/batch.html", context)


def _count(values) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])


@login_required
@require_POST
def upload_columns(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.TAGGER)
    batch = _get_batch(project, batch_id)
    if batch.created_by_id != request.user.id and not project.membership.is_admin:
        raise PermissionDenied("Only the person who uploaded the file, or an Admin, chooses its columns.")
    if batch.status != UploadBatch.Status.NEEDS_OPTIONS:
        messages.error(request, "This import has already started.")
        return redirect(batch_url(batch))
    try:
        columns = tabular_columns(batch)
    except (ingest.Rejected, ValueError) as exc:
        messages.error(request, str(exc))
        return redirect(batch_url(batch))
    form = TabularOptionsForm(request.POST, columns=columns)
    if form.is_valid():
        try:
            do_set_tabular_options(request.user, batch, **form.cleaned_data)
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(batch_url(batch))
    context = {
        "project": project,
        "section": "upload",
        "batch": batch,
        "options_form": form,
        "page": Paginator(batch.results.all(), 100).get_page(1),
        "reason_counts": [],
    }
    return render(request, "uploads/batch.html", context, status=422)


@login_required
@require_POST
def upload_retry(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    batch = _get_batch(project, batch_id)
    try:
        do_retry_upload_batch(request.user, batch)
        messages.success(request, "Queued again: it continues where it stopped.")
    except ActionError as exc:
        messages.error(request, str(exc))
    return redirect(batch_url(batch))


# --- Exports -----------------------------------------------------------------------------------
class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=ExportJob.Format.choices, widget=forms.RadioSelect, initial="jsonl")
    filters = forms.CharField(required=False, widget=forms.HiddenInput, max_length=4000)


@login_required
@require_http_methods(["GET", "POST"])
def export_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    initial_filters = request.GET.urlencode() if request.method == "GET" else ""
    form = ExportForm(request.POST or None, initial={"filters": initial_filters, "format": "jsonl"})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            from django.http import QueryDict

            filters = {
                k: v
                for k, v in QueryDict(form.cleaned_data["filters"]).items()
                if k not in ("after", "before")
            }
            try:
                do_create_export(request.user, project, form.cleaned_data["format"], filters)
            except ActionError as exc:
                form.add_error(None, str(exc))
                status = 422
            else:
                messages.success(request, "Export started: it is ready to download below when done.")
                return redirect("export_list", project.slug)
        else:
            status = 422
    exports = project.exports.select_related("created_by")[:30]
    running = any(e.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING) for e in exports)
    context = {
        "project": project,
        "section": "exports",
        "form": form,
        "exports": exports,
        "running": running,
        "filters": initial_filters,
    }
    if request.htmx and request.GET.get("part") == "jobs":
        response = render(request, "uploads/exports.html#jobs", context)
        return response if running else HttpResponseStopPolling(response.content)
    return render(request, "uploads/exports.html", context, status=status)


@login_required
def export_download(request: HttpRequest, slug: str, export_id: int) -> FileResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    job = get_object_or_404(ExportJob, pk=export_id, project=project)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404("This export is not ready.")
    try:
        handle = job.file.open("rb")
    except OSError:
        raise Http404("The export file is gone; start a new export.") from None
    name = job.file.name.rsplit("/", 1)[-1]
    response = FileResponse(
        handle, as_attachment=True, filename=name, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    # The whole project's data: never kept by a shared cache or the browser's cache.
    response["Cache-Control"] = "private, no-store"
    return response
