"""A model version's evaluation page (tabs: overview, per class, confusion matrix, test set,
terms, curves, try it), one document's explanation, likely tagging mistakes, and deleting a
version.

Figures come from what training stored with the version (``classifiers.evaluation`` turns
them into page data); only "try it" and explanations load the model, through a small cache.
Every member may try a version: it stores nothing and reveals no more than the evaluation.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models.functions import Substr
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from classifiers import evaluation as ev
from classifiers import ingest
from classifiers.access import get_project_for_user
from classifiers.actions.base import ActionError
from classifiers.actions.mistakes import do_confirm_tags, do_retag_mistake
from classifiers.actions.training import do_delete_model_version, version_in_use
from classifiers.analysis import ModelUnavailable, artifact_problem
from classifiers.charts import Line, Marker, line_chart
from classifiers.models import (
    Document,
    DocumentSet,
    ModelVersion,
    Prediction,
    Project,
    Role,
    TagConfirmation,
    VersionAnalysis,
)
from classifiers.views.training import get_version

logger = logging.getLogger(__name__)

TABS = {
    "overview": "Overview",
    "classes": "Per class",
    "confusion": "Confusion matrix",
    "tests": "Test set",
    "terms": "Terms",
    "curves": "Curves",
    "try": "Try it",
}
TEST_PAGE_SIZE = 50
EXCERPT_CHARS = 400
EXPLAIN_TERMS = 12


# --- Shared pieces --------------------------------------------------------------------------
def _analysis(version: ModelVersion) -> VersionAnalysis | None:
    return VersionAnalysis.objects.filter(model_version=version).first()


def _pending(analysis: VersionAnalysis | None) -> bool:
    return analysis is None or analysis.state == VersionAnalysis.State.RUNNING


def _version_url(project: Project, version: ModelVersion, **params: str) -> str:
    url = reverse("model_version", args=[project.slug, version.pk])
    return f"{url}?{urlencode(params)}" if params else url


def _unavailable(version: ModelVersion, exc: Exception) -> str:
    """What people are told (the exception names server paths: it goes to the log only)."""
    logger.warning("model version %s unavailable: %s", version.pk, exc)
    what = (
        "failed its integrity check"
        if "sha256" in str(exc)
        else "is missing, unreadable or failed its integrity check"
    )
    return (
        f"Model version {version.number} cannot be used: its model file {what}. The figures on this "
        "page were stored at training time and still stand, but trying and explaining need the model. "
        "An operator can restore the file from a backup, or an Admin can train a new version."
    )


def _model(version: ModelVersion) -> tuple[Any, str]:
    try:
        return ev.cached_model(version), ""
    except ModelUnavailable as exc:
        return None, _unavailable(version, exc)


def _class_names(version: ModelVersion) -> list[str]:
    return list(version.metrics.get("classes") or version.classes)


def _links(project: Project, version: ModelVersion) -> ev.Links:
    classes = list(project.classes.all())
    category = next((c.pk for c in classes if not c.archived), None) if project.is_trainable else None
    return ev.Links(
        documents_url=reverse("document_list", args=[project.slug]),
        tests_url=_version_url(project, version, tab="tests"),
        class_ids={c.name: c.pk for c in classes},
        training_set="" if project.is_trainable else DocumentSet.TRAINING,
        trainable_category=category,
    )


def _mistake_counts(project: Project, analysis: VersionAnalysis | None) -> ev.MistakeList | None:
    if analysis is None or analysis.state != VersionAnalysis.State.DONE:
        return None
    ids = [int(m["document_id"]) for m in analysis.mistakes]
    confirmed = dict(
        TagConfirmation.objects.filter(project=project, document_id__in=ids).values_list(
            "document_id", "labels_key"
        )
    )
    return ev.open_mistakes(analysis.mistakes, ev.current_labels(project, ids), confirmed)


def _params_summary(version: ModelVersion) -> dict[str, Any]:
    params = version.params or {}
    estimator = params.get("estimator") or {}
    calibration = params.get("calibration") or {}
    return {
        "chosen": params.get("chosen_candidate", ""),
        "reason": params.get("choice_reason", ""),
        "estimator": estimator.get("estimator", "") if isinstance(estimator, dict) else str(estimator),
        "calibration": calibration.get("method", "") if isinstance(calibration, dict) else "",
        "thresholds": params.get("thresholds"),
        "threshold": params.get("threshold"),
        "json": json.dumps(params, indent=2, sort_keys=True, default=str),
    }


def _base_context(request: HttpRequest, project: Project, version: ModelVersion, tab: str) -> dict[str, Any]:
    is_admin = project.membership.is_admin  # type: ignore[attr-defined]
    newest = project.model_versions.order_by("-number").values_list("number", flat=True).first()
    return {
        "project": project,
        "section": "training",
        "version": version,
        "tab": tab,
        "tabs": list(TABS.items()),
        "base_url": _version_url(project, version),
        "is_admin": is_admin,
        "can_tag": project.membership.can_tag,  # type: ignore[attr-defined]
        "in_use": version_in_use(version) if is_admin else "",
        "params": _params_summary(version),
        "newest": newest,
        "kind": version.kind,
        "is_multi": version.kind == ev.MULTI_LABEL,
        "is_trainable": version.kind == ev.TRAINABLE,
        "max_text_chars": settings.STUDIO_MAX_TEXT_CHARS,
        "max_file_mb": settings.STUDIO_MAX_FILE_BYTES / 1048576,
        "prefix_chars": settings.STUDIO_MODEL_PREFIX_CHARS,
        "artifact_error": _artifact_error(version),
    }


def _artifact_error(version: ModelVersion) -> str:
    """Said on every tab: a damaged or missing model file (the stored figures still stand)."""
    problem = artifact_problem(version)
    return _unavailable(version, Exception(problem)) if problem else ""


# --- Tabs -----------------------------------------------------------------------------------
def _overview(request: HttpRequest, project: Project, version: ModelVersion) -> dict[str, Any]:
    support = ev.training_support(version)
    analysis = _analysis(version)
    mistakes = _mistake_counts(project, analysis)
    return {
        "overview": ev.overview(version.metrics, version.kind),
        "support": support,
        "cards": ev.guidance_cards(
            version.metrics,
            version.kind,
            _links(project, version),
            support.counts if support else None,
        ),  # likely mistakes have their own section below the cards (it polls while pending)
        **_analysis_context(project, version, analysis, mistakes),
    }


def _analysis_context(
    project: Project,
    version: ModelVersion,
    analysis: VersionAnalysis | None,
    mistakes: ev.MistakeList | None = None,
) -> dict[str, Any]:
    return {
        "analysis": analysis,
        "analysis_pending": _pending(analysis),
        "mistakes": mistakes if mistakes is not None else _mistake_counts(project, analysis),
    }


def _classes(request: HttpRequest, project: Project, version: ModelVersion) -> dict[str, Any]:
    support = ev.training_support(version)
    return {
        "rows": ev.class_rows(version.metrics, version.kind, support.counts if support else None),
        "support": support,
        "overview": ev.overview(version.metrics, version.kind),
        "micro": version.metrics.get("micro", {}),
        "tests_url": _version_url(project, version, tab="tests"),
    }


def _confusion(request: HttpRequest, project: Project, version: ModelVersion) -> dict[str, Any]:
    mode = request.GET.get("cm", "raw")
    mode = mode if mode in ev.CONFUSION_MODES else "raw"
    return {
        "cm": ev.confusion_table(version.metrics, version.kind, mode),
        "cm_mode": mode,
        "cm_modes": list(ev.CONFUSION_MODES.items()),
        "rows": ev.class_rows(version.metrics, version.kind),
        "confusions": ev.top_confusions(version.metrics),
        "tests_url": _version_url(project, version, tab="tests"),
    }


def _tests(request: HttpRequest, project: Project, version: ModelVersion) -> dict[str, Any]:
    names = _class_names(version)
    test_filter, errors = ev.parse_test_filter(request.GET, names)
    rows = ev.test_rows(version, test_filter)
    page = Paginator(rows, TEST_PAGE_SIZE).get_page(request.GET.get("page"))
    ev.attach_documents(page.object_list, project, version)
    classes = list(project.classes.all())
    category = next((c for c in classes if not c.archived), None) if project.is_trainable else None
    class_ids = {c.name: c.pk for c in classes if not c.archived}
    for row in page.object_list:
        row.predicted_labels = [ev.display_name(n, version.kind) for n in row.predicted]
        row.current_labels = [ev.display_name(n, version.kind) for n in row.current or []]
        row.score = _row_score(row, version.kind)
        row.retag = _retag_choice(row, version.kind, class_ids, category)
    return {
        "test_filter": test_filter,
        "filter_errors": errors,
        "filter_text": test_filter.describe(version.kind),
        "page": page,
        "n_rows": len(rows),
        "outcome_choices": list(ev.TEST_OUTCOME_FILTERS.items()),
        "class_choices": [(n, ev.display_name(n, version.kind)) for n in names],
        "page_query": urlencode({"tab": "tests", **test_filter.params()}),
    }


def _row_score(row: ev.TestRow, kind: str) -> float:
    """The score shown: the predicted class's (single-label), P(match) (trainable), the
    highest class score (multi-label, one per class)."""
    if kind == ev.TRAINABLE:
        return row.scores.get(ev.MATCH, row.top_score)
    if kind == ev.SINGLE_LABEL and row.predicted:
        return row.scores.get(row.predicted[0], row.top_score)
    return row.top_score


def _retag_choice(
    row: ev.TestRow, kind: str, class_ids: dict[str, int], category: Any
) -> dict[str, Any] | None:
    """One-click "tag as predicted" on a mismatch (single-label and trainable: one class)."""
    if row.outcome == "correct" or not row.predicted or kind == ev.MULTI_LABEL:
        return None
    name = row.predicted[0]
    if kind == ev.TRAINABLE:
        if category is None:
            return None
        match = name == ev.MATCH
        return {
            "class_id": category.pk,
            "positive": "1" if match else "0",
            "label": "Match" if match else "Not a match",
        }
    if name not in class_ids:
        return None
    return {"class_id": class_ids[name], "positive": "1", "label": name}


def _terms(request: HttpRequest, project: Project, version: ModelVersion) -> dict[str, Any]:
    groups = []
    for name, terms in (version.metrics.get("top_terms") or {}).items():
        peak = max((w for _t, w in terms), default=0.0)
        groups.append(
            {"name": name, "label": ev.display_name(name, version.kind), "terms": terms, "peak": peak}
        )
    return {"term_groups": groups}


def _curves(request: HttpRequest, project: Project, version: ModelVersion) -> dict[str, Any]:
    curves = version.metrics.get("threshold_curves") or {}
    names = list(curves)
    chosen = request.GET.get("curve", "")
    chosen = chosen if chosen in curves else (names[0] if names else "")
    context: dict[str, Any] = {
        "curve_names": [(n, ev.display_name(n, version.kind)) for n in names],
        "curve_name": chosen,
        "curve_label": ev.display_name(chosen, version.kind) if chosen else "",
    }
    if chosen:
        curve = curves[chosen]
        threshold = _model_threshold(version, chosen)
        label = ev.display_name(chosen, version.kind)
        context["curve_chart"] = line_chart(
            [
                Line("Precision", [(p["threshold"], p["precision"]) for p in curve]),
                Line("Recall", [(p["threshold"], p["recall"]) for p in curve]),
                Line("F1", [(p["threshold"], p["f1"]) for p in curve]),
            ],
            title=f"Precision and recall of {label} against the threshold, model version {version.number}",
            desc=(
                f"Measured on the {version.test_size} test documents: predicting {label} when its score is at "
                "or above the threshold. Raising it trades recall for precision."
            ),
            x_label="Threshold (score at or above which the class is predicted)",
            y_label="Precision, recall, F1",
            markers=[Marker(threshold, f"model threshold {threshold:.2f}")] if threshold is not None else [],
            chart_id="threshold-chart",
        )
        context["curve_table"] = ev.curve_table(curve)
        context["curve_threshold"] = threshold
        context["curve_at_threshold"] = ev.curve_at(curve, threshold) if threshold is not None else None
    context.update(_learning_context(project, version, _analysis(version)))
    return context


def _model_threshold(version: ModelVersion, name: str) -> float | None:
    if version.kind == ev.TRAINABLE:
        return version.threshold
    thresholds = (version.params or {}).get("thresholds") or {}
    value = thresholds.get(name) if isinstance(thresholds, dict) else None
    return float(value) if value is not None else None


def _learning_context(
    project: Project, version: ModelVersion, analysis: VersionAnalysis | None
) -> dict[str, Any]:
    curve = list(analysis.learning_curve) if analysis and analysis.state == VersionAnalysis.State.DONE else []
    context: dict[str, Any] = {
        "analysis": analysis,
        "analysis_pending": _pending(analysis),
        "learning": curve,
    }
    if curve:
        top = max(p["n_train"] for p in curve) or 1
        context["learning_chart"] = line_chart(
            [
                Line("Macro F1", [(p["n_train"], p["macro_f1"]) for p in curve], markers=True,
                     point_label="{x} training documents: macro F1 {y}"),
                Line("Micro F1", [(p["n_train"], p["micro_f1"]) for p in curve], markers=True,
                     point_label="{x} training documents: micro F1 {y}"),
            ],
            title=f"Learning curve of model version {version.number}",
            desc=(
                "Test F1 when training on 25, 50, 75 and 100% of this version's training documents "
                "(nested, stratified shares). A curve still rising at the right means more tags will help."
            ),
            x_label="Training documents",
            y_label="F1 on the test set",
            x_range=(0, top),
            x_ticks=[(p["n_train"], f"{p['n_train']:,} ({p['fraction']:.0%})") for p in curve],
            chart_id="learning-chart",
        )  # fmt: skip
        context["learning_verdict"] = ev.learning_verdict(curve, version.test_size)
    return context


def _try(request: HttpRequest, project: Project, version: ModelVersion) -> dict[str, Any]:
    _model_obj, error = _model(version)
    return {"model_error": error, "explain_choices": _explain_choices(version)}


TAB_CONTEXT = {
    "overview": _overview,
    "classes": _classes,
    "confusion": _confusion,
    "tests": _tests,
    "terms": _terms,
    "curves": _curves,
    "try": _try,
}


# --- Views ----------------------------------------------------------------------------------
@login_required
def model_version(request: HttpRequest, slug: str, version_id: int) -> HttpResponse:
    """The evaluation page; ``?tab=`` picks the tab, htmx requests get the tabs partial.
    ``?part=learning`` / ``?part=mistakes`` are the polls while the analysis runs."""
    project = get_project_for_user(request, slug)
    version = get_version(project, version_id)
    part = request.GET.get("part", "")
    if request.htmx and part in ("learning", "mistakes"):
        analysis = _analysis(version)
        context = _base_context(request, project, version, request.GET.get("tab", "overview"))
        if part == "learning":
            context.update(_learning_context(project, version, analysis))
        else:
            context.update(_analysis_context(project, version, analysis))
        response = render(request, f"evaluation/version.html#{part}", context)
        return response if _pending(analysis) else HttpResponseStopPolling(response.content)
    tab = request.GET.get("tab", "overview")
    tab = tab if tab in TABS else "overview"
    context = _base_context(request, project, version, tab)
    context.update(TAB_CONTEXT[tab](request, project, version))
    # Tabs push their URL; going back restores it with a full-page request (htmx keeps no
    # history cache under our CSP settings), and the browser's cache must not mix the two.
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "evaluation/version.html#tabs", context)
    else:
        response = render(request, "evaluation/version.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _explain_choices(version: ModelVersion) -> list[tuple[str, str]]:
    if version.kind == ev.TRAINABLE:
        return [(ev.MATCH, "Match"), (ev.NOT_MATCH, "Not a match")]
    return [(n, n) for n in version.classes]


def _explanation(version: ModelVersion, model: Any, text: str, wanted: str = "") -> dict[str, Any]:
    """Prediction, scores and the highlighted text of ``text`` (the part the model reads)."""
    from classifiers.training import score_dict

    read = text[: settings.STUDIO_MODEL_PREFIX_CHARS]
    raw = model.predict_scores([read])
    predicted = model.predict_from_scores(raw)[0]
    predicted_list = [predicted] if isinstance(predicted, str) else list(predicted)
    scores = score_dict(raw[0], model.classes)
    thresholds = (version.params or {}).get("thresholds") if version.kind == ev.MULTI_LABEL else None
    choices = dict(_explain_choices(version))
    if wanted not in choices:
        if version.kind == ev.TRAINABLE:
            wanted = ev.MATCH
        elif version.kind == ev.SINGLE_LABEL or not predicted_list:
            wanted = max(scores, key=lambda n: scores[n]) if scores else ""
        else:
            wanted = max(predicted_list, key=lambda n: scores.get(n, 0.0))
    spans = model.explain_spans(read, wanted) if wanted else []
    terms = model.explain(read, wanted, n=EXPLAIN_TERMS) if wanted else []
    return {
        "predicted": [ev.display_name(n, version.kind) for n in predicted_list],
        "scores": ev.score_rows(
            scores,
            predicted_list if version.kind != ev.TRAINABLE else [],
            version.kind,
            thresholds if isinstance(thresholds, dict) else None,
        ),
        "explained": wanted,
        "explained_label": ev.display_name(wanted, version.kind),
        "highlighted": ev.highlight_html(read, spans),
        "towards": [(t, w) for t, w in terms if w > 0],
        "against": [(t, w) for t, w in terms if w < 0],
        "truncated": len(text) > len(read),
        "chars": len(text),
        "threshold": version.threshold,
        "close_match_lower": version.close_match_lower,
    }


def _try_text(request: HttpRequest) -> tuple[str, str, str]:
    """(text, where it came from, error message) of a try-it request."""
    upload = request.FILES.get("file")
    if upload is not None:
        limit = settings.STUDIO_MAX_FILE_BYTES
        if upload.size > limit:
            mib = 1048576
            return "", "", f"The file is {upload.size / mib:,.1f} MiB; the limit is {limit / mib:,.1f} MiB."
        from classifiers.uploads import limits

        try:
            extracted = ingest.extract(upload.name or "upload", upload.read(), limits())
        except ingest.Rejected as exc:
            return "", "", f"{upload.name}: {exc.message}"
        if not extracted.has_text or not extracted.text.strip():
            return "", "", f"{upload.name}: no text was found in this file."
        return extracted.text, f"the file {upload.name}", ""
    text = request.POST.get("text", "")
    if not text.strip():
        return "", "", "Paste some text or choose a file."
    if len(text) > settings.STUDIO_MAX_TEXT_CHARS:
        limit = settings.STUDIO_MAX_TEXT_CHARS
        return "", "", f"The text is {len(text):,} characters long; the limit is {limit:,}."
    return text, "the pasted text", ""


@login_required
@require_POST
def model_version_try(request: HttpRequest, slug: str, version_id: int) -> HttpResponse:
    """Classify pasted text or an uploaded file with this version. Any member may: nothing
    is stored or logged (the text may be confidential), and the answer reveals no more than
    the evaluation does."""
    project = get_project_for_user(request, slug)
    version = get_version(project, version_id)
    context = _base_context(request, project, version, "try")
    context["explain_choices"] = _explain_choices(version)
    status = 200
    text, source, error = _try_text(request)
    if error:
        context["try_error"] = error
        status = 422
    else:
        model, model_error = _model(version)
        if model is None:
            context["try_model_error"] = model_error
        else:
            context["result"] = _explanation(version, model, text, request.POST.get("explain", ""))
            context["result"]["source"] = source
    if request.htmx:
        return render(request, "evaluation/version.html#try_result", context, status=status)
    return render(request, "evaluation/version.html", context, status=status)


@login_required
def model_version_explain(request: HttpRequest, slug: str, version_id: int, document_id: int) -> HttpResponse:
    """One document's words, highlighted by how much they pushed this version's prediction."""
    project = get_project_for_user(request, slug)
    version = get_version(project, version_id)
    document = get_object_or_404(
        Document.objects.annotate(head=Substr("text", 1, settings.STUDIO_MODEL_PREFIX_CHARS + 1)).defer(
            "text"
        ),
        pk=document_id,
        project=project,
    )
    context = _base_context(request, project, version, "")
    prediction = Prediction.objects.filter(model_version=version, document=document).first()
    now = ev.current_labels(project, [document.pk]).get(document.pk)
    context.update(
        document=document,
        prediction=prediction,
        current=[ev.display_name(n, version.kind) for n in now] if now is not None else None,
        explain_choices=_explain_choices(version),
    )
    model, error = _model(version)
    if model is None:
        context["model_error"] = error
    elif not document.has_text or not (document.head or "").strip():
        context["no_text"] = True
    else:
        context["result"] = _explanation(version, model, document.head, request.GET.get("class", ""))
    if request.htmx:
        return render(request, "evaluation/explain.html#explanation", context)
    return render(request, "evaluation/explain.html", context)


@login_required
@require_POST
def model_version_delete(request: HttpRequest, slug: str, version_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    version = get_version(project, version_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Confirm the deletion to delete a model version.")
        return redirect("model_version", project.slug, version.pk)
    number = version.number
    try:
        do_delete_model_version(request.user, version)
    except ActionError as exc:
        messages.error(request, str(exc))
        return redirect("model_version", project.slug, version.pk)
    messages.success(request, f"Model version {number} and its model file were deleted.")
    return redirect("training", project.slug)


# --- Likely mistakes ------------------------------------------------------------------------
def _mistakes_context(request: HttpRequest, project: Project, version: ModelVersion) -> dict[str, Any]:
    analysis = _analysis(version)
    context = _base_context(request, project, version, "")
    context.update(analysis=analysis, analysis_pending=_pending(analysis), section="training")
    found = _mistake_counts(project, analysis)
    if found is not None:
        docs = {
            d.pk: d
            for d in Document.objects.filter(project=project, id__in=[m.document_id for m in found.items])
            .annotate(excerpt=Substr("text", 1, EXCERPT_CHARS + 1))
            .defer("text")
        }
        items = []
        for item in found.items:
            item.document = docs.get(item.document_id)
            if item.document is None:
                continue
            item.given_labels = [ev.display_name(n, version.kind) for n in item.given]
            item.suggested_labels = [ev.display_name(n, version.kind) for n in item.suggested]
            items.append(item)
        context.update(found=found, items=items)
    context["train_size"] = version.train_size
    return context


@login_required
def likely_mistakes(request: HttpRequest, slug: str, version_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug)
    version = get_version(project, version_id)
    context = _mistakes_context(request, project, version)
    if request.htmx and request.GET.get("part") == "list":
        response = render(request, "evaluation/mistakes.html#list", context)
        return response if context["analysis_pending"] else HttpResponseStopPolling(response.content)
    return render(request, "evaluation/mistakes.html", context)


def _flagged(version: ModelVersion, document_id: int) -> dict[str, Any]:
    """The analysis's item for this document, or 404: only flagged documents are acted on here."""
    analysis = _analysis(version)
    for item in analysis.mistakes if analysis else []:
        if int(item["document_id"]) == document_id:
            return item
    raise Http404("This document is not among the version's likely mistakes.")


def _mistake_done(
    request: HttpRequest, project: Project, version: ModelVersion, text: str, level: str = "success"
) -> HttpResponse:
    if request.htmx:
        # The row is swapped for nothing (removed); the status line is swapped out of band.
        return render(request, "evaluation/mistakes.html#done", {"status_text": text, "status_level": level})
    getattr(messages, level)(request, text)
    return redirect("likely_mistakes", project.slug, version.pk)


def _mistake_error(
    request: HttpRequest, project: Project, version: ModelVersion, document: Document, error: str
) -> HttpResponse:
    if request.htmx:
        context = _mistakes_context(request, project, version)
        item = next((i for i in context.get("items", []) if i.document_id == document.pk), None)
        if item is None:
            return _mistake_done(request, project, version, error, "error")
        context.update(item=item, item_error=error)
        return render(request, "evaluation/mistakes.html#item", context, status=422)
    messages.error(request, error)
    return redirect("likely_mistakes", project.slug, version.pk)


@login_required
@require_POST
def mistake_confirm(request: HttpRequest, slug: str, version_id: int, document_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.TAGGER)
    version = get_version(project, version_id)
    document = get_object_or_404(Document, pk=document_id, project=project)
    _flagged(version, document.pk)
    try:
        do_confirm_tags(request.user, version, document)
    except ActionError as exc:
        return _mistake_error(request, project, version, document, str(exc))
    return _mistake_done(
        request, project, version, f"Kept the tags of {document.title}; it will not be listed again."
    )


@login_required
@require_POST
def mistake_retag(request: HttpRequest, slug: str, version_id: int, document_id: int) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.TAGGER)
    version = get_version(project, version_id)
    document = get_object_or_404(Document, pk=document_id, project=project)
    item = _flagged(version, document.pk)
    suggested = item.get("suggested")
    names = [suggested] if isinstance(suggested, str) else list(suggested or [])
    try:
        result = do_retag_mistake(request.user, version, document, names)
    except ActionError as exc:
        return _mistake_error(request, project, version, document, str(exc))
    shown = ", ".join(ev.display_name(n, version.kind) for n in names)
    if result.labels is None:
        return _mistake_done(
            request, project, version,
            f"Tagged {document.title} as {shown}. Another tagger's tag differs, so the document is now a "
            "conflict: it is left out of training until an Admin resolves it (Tag → Conflicts).",
            "warning",
        )  # fmt: skip
    return _mistake_done(request, project, version, f"Re-tagged {document.title} as {shown}.")
