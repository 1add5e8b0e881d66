"""Hostile values posted to every form view (and hostile query strings sent to every page
that reads one), as the project's own Admin, against a project full of objects.

Each example draws, per field, nothing, a plausible value or a hostile one (see
``strategies.NASTY``: NUL bytes, control characters, bidi overrides, 100,000 characters,
``"²"`` that ``isdigit()`` accepts and ``int()`` refuses, 30-digit and negative numbers,
lists where one value is expected), and for ids in the URL or the body the ids of another
project's classes, documents, memberships, model versions, deployments, tokens, batches...

Every answer must be below 500; a 4xx answer must have written nothing (every row of the
project, its audit entries included, unchanged); and the other project's rows never change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile import strategies as hs
from tests.hostile.conftest import VOLATILE, World, diff, fingerprint

EXAMPLES = 25  # per form view (POST); 53 of them below: 1,325 hostile requests
GET_EXAMPLES = 15  # per page read with a hostile query string (GET); 32 of them: 480 requests


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    route: str  # "{slug}" and "{<kind>}" placeholders, e.g. "{class}" for a class id
    fields: dict[str, st.SearchStrategy] = field(default_factory=dict)
    trainable: bool = False  # runs against alice's trainable project

    def __hash__(self) -> int:
        return hash(self.name)


def one(*values: str) -> st.SearchStrategy:
    return st.sampled_from(values)


ANY = st.just("1")
SETS = one("training", "test", "seed", "production", "")
FILTERS = {  # the document browser's query, read by several views
    "q": one("goal", "invoice OR", ""), "set": SETS, "class": one("1", ""), "batch": one("1", ""),
    "untagged": one("on", ""), "tagged_by_me": one("on"), "has_text": one("yes", "no"),
    "date_from": one("2026-01-01", "2026-13-45"), "date_to": one("2099-12-31"),
    "sort": one("new", "old", "name", "relevance"), "after": one("1"), "before": one("1"), "last": one("1"),
}  # fmt: skip
QUEUE = {
    "scope": one("pool", "mine", "all"), "order": one("shuffle", "uncertain", "oldest"), "set": SETS,
    "batch": one("1"), "q": one("goal"),
}  # fmt: skip

# fmt: off
ENDPOINTS = [
    # --- projects -----------------------------------------------------------------------------
    Endpoint("project_list", "get", "/projects/", {"q": one("x"), "page": one("2")}),
    Endpoint("project_create", "post", "/projects/new/", {
        "name": one("Hostile one", "Contracts"), "kind": one("single_label", "multi_label", "trainable"),
        "description": one("d"), "language": one("en", "xx"),
    }),
    Endpoint("project_settings", "post", "/projects/{slug}/settings/", {
        "name": one("Contracts", "Secret HR cases", "Renamed"), "description": one("d"), "language": one("de"),
    }),
    Endpoint("member_add", "post", "/projects/{slug}/members/add/", {
        "user": one("vera", "mallory", "eve@example.com", "nobody"), "role": one("admin", "tagger", "viewer"),
    }),
    Endpoint("member_role", "post", "/projects/{slug}/members/{membership}/role/", {
        "role": one("admin", "tagger", "viewer", "owner"),
    }),
    Endpoint("member_remove", "post", "/projects/{slug}/members/{membership}/remove/"),
    Endpoint("project_activity", "get", "/projects/{slug}/activity/", {
        "action": one("schema.class_add"), "user": one("alice"), "page": one("2", "last"),
    }),
    Endpoint("project_overview", "get", "/projects/{slug}/", {"tab": ANY}),
    # --- schema ------------------------------------------------------------------------------------
    Endpoint("class_add", "post", "/projects/{slug}/schema/classes/add/", {
        "name": one("New class", "finance"), "description": one("d"), "colour": one("#2f5d8a", "red"),
        "hotkey": one("x", "s", "1", ""),
    }),
    Endpoint("class_edit", "post", "/projects/{slug}/schema/classes/{class}/edit/", {
        "name": one("Renamed", "sport"), "description": one("d"), "colour": one("#ffffff"), "hotkey": one("k"),
    }),
    Endpoint("class_archive", "post", "/projects/{slug}/schema/classes/{class}/archive/", {
        "archived": one("1", "0", "true", "false"),
    }),
    Endpoint("class_merge", "post", "/projects/{slug}/schema/classes/{class}/merge/", {"target": ANY}),
    Endpoint("class_delete", "post", "/projects/{slug}/schema/classes/{class}/delete/", {"confirm": one("4", "0")}),
    Endpoint("class_move", "post", "/projects/{slug}/schema/classes/{class}/move/", {
        "direction": one("up", "down", "top"),
    }),
    Endpoint("project_guidelines", "post", "/projects/{slug}/schema/guidelines/", {
        "guidelines": one("# Rules\n\n[x](javascript:alert(1))"), "preview": one("1"),
    }),
    # --- documents -----------------------------------------------------------------------------------
    Endpoint("document_list", "get", "/projects/{slug}/documents/", FILTERS),
    Endpoint("document_detail", "get", "/projects/{slug}/documents/{document}/", FILTERS),
    Endpoint("document_bulk", "post", "/projects/{slug}/documents/bulk/", {
        "action": one("set", "tag", "untag", "delete", "not_match"), "scope": one("selected", "all"),
        "target_set": SETS, "target_class": ANY, "confirm": one("0", "3"), "ids": ANY,
    }),
    Endpoint("document_set", "post", "/projects/{slug}/documents/{document}/set/", {"set": SETS}),
    Endpoint("document_tag", "post", "/projects/{slug}/documents/{document}/tags/", {
        "op": one("add", "remove", "set"), "class": ANY, "positive": one("0", "1"),
    }),
    Endpoint("document_original", "get", "/projects/{slug}/documents/{document}/original/"),
    Endpoint("document_thumbnail", "get", "/projects/{slug}/documents/{document}/thumbnail.png"),
    Endpoint("dataset_dashboard", "get", "/projects/{slug}/dashboard/", {"set": SETS}),
    Endpoint("test_split", "post", "/projects/{slug}/dashboard/test-split/", {
        "percent": one("20", "90", "91"), "seed": one("0", "7"),
    }),
    # --- uploads and exports -----------------------------------------------------------------------
    Endpoint("upload", "post", "/projects/{slug}/upload/", {"set": SETS, "azure": one("on")}),
    Endpoint("upload_batch", "get", "/projects/{slug}/uploads/{batch}/", {
        "status": one("rejected", "imported"), "page": one("2"), "part": one("progress"),
    }),
    Endpoint("upload_columns", "post", "/projects/{slug}/uploads/{batch}/columns/", {
        "text_column": one("text"), "label_columns": one("label"), "id_column": one("id"),
        "label_separator": one(";", "||||"),
    }),
    Endpoint("upload_retry", "post", "/projects/{slug}/uploads/{batch}/retry/"),
    Endpoint("export_list", "post", "/projects/{slug}/exports/", {
        "format": one("jsonl", "csv", "azure"), "filters": one("q=goal&set=test", "class=99999999999999999999"),
    }),
    Endpoint("export_list_get", "get", "/projects/{slug}/exports/", {**FILTERS, "part": one("jobs")}),
    Endpoint("export_download", "get", "/projects/{slug}/exports/{export}/download/"),
    # --- training and evaluation ----------------------------------------------------------------------
    Endpoint("training", "get", "/projects/{slug}/training/", {"part": one("runs")}),
    Endpoint("training_start", "post", "/projects/{slug}/training/start/", {"confirm": ANY}),
    Endpoint("training_run", "get", "/projects/{slug}/training/runs/{run}/", {"part": one("status")}),
    Endpoint("training_cancel", "post", "/projects/{slug}/training/runs/{run}/cancel/"),
    Endpoint("model_version", "get", "/projects/{slug}/models/{version}/", {
        "tab": one("overview", "classes", "confusion", "tests", "terms", "curves", "try", "learning"),
        "part": one("analysis", "tab"), "cm": one("raw", "normalised"), "curve": one("finance"),
        "page": one("2"), "actual": one("sport"), "predicted": one("tech"), "correct": one("0", "1"),
        "min_score": one("0.5"), "max_score": one("2"), "q": one("goal"),
    }),
    Endpoint("model_version_try", "post", "/projects/{slug}/models/{version}/try/", {
        "text": one("goal team player", "invoice"), "explain": one("sport", "nope"),
    }),
    Endpoint("model_version_explain", "get", "/projects/{slug}/models/{version}/documents/{document}/explain/",
             {"class": one("sport")}),
    Endpoint("model_version_delete", "post", "/projects/{slug}/models/{version}/delete/", {"confirm": one("yes")}),
    Endpoint("likely_mistakes", "get", "/projects/{slug}/models/{version}/mistakes/", {
        "part": one("list"), "page": one("2"), "class": one("sport"),
    }),
    Endpoint("mistake_confirm", "post", "/projects/{slug}/models/{version}/mistakes/{document}/confirm/"),
    Endpoint("mistake_retag", "post", "/projects/{slug}/models/{version}/mistakes/{document}/retag/",
             {"class": ANY}),
    # --- tagging ------------------------------------------------------------------------------------
    Endpoint("tagging", "get", "/projects/{slug}/tagging/", {"tagger": ANY}),
    Endpoint("tagging_queue", "get", "/projects/{slug}/tagging/queue/", {**QUEUE, "doc": ANY}),
    Endpoint("tagging_act", "post", "/projects/{slug}/tagging/act/", {
        **QUEUE, "op": one("tag", "skip", "undo", "nope"), "document": ANY, "class": ANY, "classes": ANY,
        "match": one("0", "1"), "reason": one("unclear"), "pos": one("1", "3"), "mode": one("queue", "history", "retag"),
    }),
    Endpoint("tagging_history", "get", "/projects/{slug}/tagging/history/", {
        **QUEUE, "step": one("back", "forward"), "pos": one("0", "2"),
    }),
    Endpoint("tagging_assign", "post", "/projects/{slug}/tagging/assign/", {
        "op": one("end", "create"), "assignment": ANY, "taggers": ANY, "count": one("5", "0"),
        "set": SETS, "batch": ANY, "q": one("goal"),
    }),
    Endpoint("tagging_settings", "post", "/projects/{slug}/tagging/settings/", {
        "overlap": one("1", "2", "99"), "show_suggestions": one("on", ""),
    }),
    Endpoint("tagging_agreement", "get", "/projects/{slug}/tagging/agreement/", {"class": ANY}),
    Endpoint("tagging_conflicts", "get", "/projects/{slug}/tagging/conflicts/", {"page": one("2")}),
    Endpoint("tagging_resolve", "post", "/projects/{slug}/tagging/conflicts/{document}/resolve/", {
        "class": ANY, "classes": ANY, "match": one("1"),
    }),
    Endpoint("tagging_my_tags", "get", "/projects/{slug}/tagging/mine/", {"class": ANY, "before": ANY}),
    # --- trainable classifiers (against alice's trainable project) ------------------------------------
    Endpoint("classifier", "get", "/projects/{slug}/classifier/", {"step": ANY}, trainable=True),
    Endpoint("review", "get", "/projects/{slug}/review/", {"doc": ANY}, trainable=True),
    Endpoint("review_answer", "post", "/projects/{slug}/review/answer/", {
        "document": ANY, "answer": one("match", "not_match", "skip"), "corrected": one("x"),
    }, trainable=True),
    Endpoint("classifier_publish", "post", "/projects/{slug}/classifier/publish/", {"confirm": one("publish")},
             trainable=True),
    Endpoint("classifier_threshold", "post", "/projects/{slug}/classifier/threshold/", {
        "threshold": one("0.5", "0.01", "0.99"), "close_match_lower": one("0.3"), "save": one("1"),
    }, trainable=True),
    Endpoint("classifier_threshold_get", "get", "/projects/{slug}/classifier/threshold/", {
        "threshold": one("0.5"), "close_match_lower": one("0.3"),
    }, trainable=True),
    Endpoint("trainable_bulk", "post", "/projects/{slug}/documents/bulk/", {
        "action": one("not_match", "tag"), "scope": one("all"), "confirm": one("0"), "ids": ANY,
    }, trainable=True),
    # --- deployments and the API page ---------------------------------------------------------------
    Endpoint("deployments", "get", "/projects/{slug}/deployments/"),
    Endpoint("deployment_deploy", "post", "/projects/{slug}/deployments/deploy/", {
        "slot": one("staging", "production", "Bad Name"), "version": ANY,
    }),
    Endpoint("deployment_swap", "post", "/projects/{slug}/deployments/swap/", {
        "slot_a": one("production", "staging"), "slot_b": one("staging", "production"),
    }),
    Endpoint("deployment_try", "post", "/projects/{slug}/deployments/try/", {
        "slot": one("production"), "text": one("goal team"),
    }),
    Endpoint("deployment_detail", "get", "/projects/{slug}/deployments/{deployment}/", {"page": one("2")}),
    Endpoint("deployment_delete", "post", "/projects/{slug}/deployments/{deployment}/delete/", {"confirm": ANY}),
    Endpoint("deployment_rollback", "post", "/projects/{slug}/deployments/{deployment}/rollback/", {"version": ANY}),
    Endpoint("deployment_log", "get", "/projects/{slug}/deployments/log/", {
        "slot": one("production", "nope"), "range": one("24h", "7d", "1y"), "page": one("2"), "status": one("200"),
    }),
    Endpoint("deployment_log_texts", "post", "/projects/{slug}/deployments/log/texts/", {"enabled": one("1", "0")}),
    Endpoint("api_page", "get", "/projects/{slug}/api/", {"slot": one("production")}),
    Endpoint("api_token_create", "post", "/projects/{slug}/api/tokens/", {
        "name": one("ci", "x" * 101), "scopes": one("classify", "read", "admin"),
    }),
    Endpoint("api_token_revoke", "post", "/projects/{slug}/api/tokens/{token}/revoke/"),
    # --- production: explorer, feedback, labels, retraining, history ------------------------------
    Endpoint("content_explorer", "get", "/explorer/", {
        "classifier": one("contracts", "secret-hr-cases", "nope"), "outcome": one("match", "close_match", "x"),
        "cls": one("finance", "|"), "label": ANY, "date_from": one("2026-01-01", "2026-13-45"),
        "date_to": one("2099-12-31"), "score_min": one("0.2", "2", "nan"), "score_max": one("0.9", "-1", "inf"),
        "q": one("goal", "AND (", '"'), "after": ANY,
    }),
    Endpoint("explorer_feedback", "post", "/projects/{slug}/explorer/feedback/", {
        "answer": one("match", "not_match", "maybe"), "document": ANY, "next": one("/", "//evil.example", "javascript:x"),
    }),
    Endpoint("feedback_give", "post", "/projects/{slug}/documents/{document}/feedback/", {
        "answer": one("match", "not_match"), "corrected": one("finance", "nope"),
        "suggest": one("contracts-finder", "secret-hr-cases"), "from": one("queue"),
    }),
    Endpoint("feedback_withdraw", "post", "/projects/{slug}/feedback/{feedback}/withdraw/"),
    Endpoint("feedback_queue", "get", "/projects/{slug}/feedback/"),
    Endpoint("label_list", "post", "/labels/", {
        "name": one("Retain 7y", "Retain 0", "x" * 101), "description": one("why"), "colour": one("#336699", "red"),
    }),
    Endpoint("label_edit", "post", "/labels/{label}/", {
        "name": one("Retain 9y", "Retain 2"), "description": one("why"), "colour": one("#112233", "#zzzzzz"),
        "delete": one("yes", "no"),
    }),
    Endpoint("label_policies", "post", "/projects/{slug}/labels/", {
        "label": ANY, "class_name": one("finance", "nope", ""), "min_score": one("0.5", "2", "-1", "nan"),
    }),
    Endpoint("label_policy_delete", "post", "/projects/{slug}/labels/{policy}/delete/"),
    Endpoint("retraining", "get", "/projects/{slug}/retraining/", {"comparison": ANY, "poll": one("1")}),
    Endpoint("retraining_item", "post", "/projects/{slug}/retraining/{comparison}/items/{document}/", {
        "choice": one("1", "2", "neither", "3"), "corrected": one("finance", "nope"),
    }),
    Endpoint("retraining_decide", "post", "/projects/{slug}/retraining/{comparison}/decide/", {
        "decision": one("republish", "keep", "more_feedback", "recompute", "drop"),
    }),
    Endpoint("retraining_settings", "post", "/projects/{slug}/retraining/settings/", {
        "retrain_after": one("30", "0", "1e9"), "per_day": one("2", "99", "-1"),
    }),
    Endpoint("rollback", "post", "/projects/{slug}/history/{version}/rollback/", {"confirm": one("yes", "no")}),
]
# fmt: on

ID_FIELDS = {  # body fields that carry an object id: they get forged ids too
    "target": "class", "class": "class", "classes": "class", "target_class": "class", "ids": "document",
    "document": "document", "doc": "document", "assignment": "assignment", "taggers": "membership",
    "batch": "batch", "version": "version", "before": "document", "tagger": "membership",
    "label": "label", "comparison": "comparison", "after": "document",
}  # fmt: skip


def _route_kinds(route: str) -> list[str]:
    import re

    return [k for k in re.findall(r"\{(\w+)\}", route) if k != "slug"]


def _request(world: World, endpoint: Endpoint) -> st.SearchStrategy:
    all_ids = world.forged_ids + [i for ids in world.own.values() for i in ids]
    body_fields = {}
    for name, plausible in endpoint.fields.items():
        kind = ID_FIELDS.get(name)
        if kind:
            plausible = st.one_of(plausible, st.sampled_from([str(i) for i in world.ids(kind)]))
        body_fields[name] = plausible
    path = st.fixed_dictionaries({k: st.sampled_from(world.ids(k)) for k in _route_kinds(endpoint.route)})
    return st.tuples(path, hs.form(body_fields, all_ids), st.booleans())


def _check(world: World, endpoint: Endpoint, path_ids: dict, data: dict, htmx: bool, other_before: dict) -> None:
    project = world.trainable if endpoint.trainable else world.project
    project.refresh_from_db()  # a rename changes nothing in the slug, but read it fresh anyway
    url = endpoint.route.format(slug=project.slug, **path_ids)
    ours_before = fingerprint(project.pk, skip=VOLATILE)
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = getattr(world.client, endpoint.method)(url, data, **extra)
    status = response.status_code
    shown = {k: (v[:40] + f"...({len(v)})" if isinstance(v, str) and len(v) > 40 else v) for k, v in data.items()}
    assert status < 500, (endpoint.name, url, shown, status)
    ours_after, other_after = fingerprint(project.pk, skip=VOLATILE), fingerprint(world.other.pk)
    assert not diff(other_before, other_after), (endpoint.name, url, shown, diff(other_before, other_after))
    if 400 <= status < 500:
        changed = diff(ours_before, ours_after)
        assert not changed, f"{endpoint.name} answered {status} but changed {changed} ({url}, {shown})"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_hostile_form(world, endpoint):
    other_before = fingerprint(world.other.pk)  # must hold after every example

    @given(request=_request(world, endpoint))
    @settings(
        max_examples=EXAMPLES if endpoint.method == "post" else GET_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(request):
        path_ids, data, htmx = request
        _check(world, endpoint, path_ids, data, htmx, other_before)

    run()
