"""Synchronous classify with real models: answers, warnings, limits, the log."""

from __future__ import annotations

import json

import pytest

from classifiers import serving
from classifiers.actions.deployments import do_set_log_api_texts
from classifiers.models import ApiCall
from tests.conftest import make_project
from tests.test_api_support import Api, assert_error, classify_url, docs
from tests.training_data import WORDS


@pytest.fixture
def api(project, admin_user):
    return Api(project, admin_user)


def test_single_label(api):
    response = api.classify({"documents": [*docs(3, "sport"), {"id": "f", "text": WORDS["finance"]}]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["project"] == api.project.slug and body["deployment"] == "production"
    assert body["modelVersion"] == 1 and body["kind"] == "single_label"
    assert [d["id"] for d in body["documents"]] == ["0", "1", "2", "f"]
    assert [d["classes"][0]["category"] for d in body["documents"]] == ["sport"] * 3 + ["finance"]
    assert all(0 <= d["classes"][0]["confidenceScore"] <= 1 for d in body["documents"])


def test_bare_list_integer_ids_and_language(api):
    response = api.classify([{"id": 7, "text": WORDS["tech"], "language": "en"}])
    assert response.status_code == 200
    assert response.json()["documents"][0]["id"] == "7"


def test_multi_label_and_trainable(admin_user):
    multi = Api(make_project(admin_user, name="Multi", kind="multi_label"), admin_user)
    body = multi.classify({"documents": [{"id": "1", "text": WORDS["sport"] + " " + WORDS["tech"]}]}).json()
    assert body["kind"] == "multi_label"
    assert {"sport", "tech"} <= {c["category"] for c in body["documents"][0]["classes"]}
    trainable = Api(make_project(admin_user, name="Finance docs", kind="trainable"), admin_user)
    body = trainable.classify(
        {"documents": [{"id": "1", "text": WORDS["finance"]}, {"id": "2", "text": WORDS["sport"]}]}
    ).json()
    first, second = body["documents"]
    assert first["match"] == "match" and first["classes"] == [
        {"category": "match", "confidenceScore": first["confidenceScore"]}
    ]
    assert second["match"] in ("no_match", "close_match") and second["classes"] == []


def test_per_document_warnings(api):
    long_text = (WORDS["sport"] + " ") * 400
    body = api.classify({"documents": [{"id": "e", "text": ""}, {"id": "t", "text": long_text}]}).json()
    empty, truncated = body["documents"]
    assert [w["code"] for w in empty["warnings"]] == ["EmptyText"] and empty["classes"] == []
    assert [w["code"] for w in truncated["warnings"]] == ["DocumentTruncated"]
    assert truncated["classes"][0]["category"] == "sport"


def test_nul_and_lone_surrogates_are_cleaned_not_500(api, settings):
    do_set_log_api_texts(api.admin, api.project, True)
    raw = '{"documents": [{"id": "1", "text": "goal\\u0000team \\ud800 match"}]}'
    response = api.classify(raw)
    assert response.status_code == 200
    (call,) = ApiCall.objects.all()
    assert "\x00" not in call.texts[0]["text"]


@pytest.mark.parametrize(
    ("body", "status", "code", "target"),
    [
        ("{not json", 400, "InvalidJson", "body"),
        ("", 400, "InvalidJson", "body"),
        ({"docs": []}, 400, "InvalidArgument", "documents"),
        ({"documents": []}, 400, "InvalidArgument", "documents"),
        ({"documents": {"id": "1"}}, 400, "InvalidArgument", "documents"),
        (42, 400, "InvalidArgument", "body"),
        ({"documents": ["text"]}, 400, "InvalidArgument", "documents[0]"),
        ({"documents": [{"text": "a"}]}, 400, "InvalidArgument", "documents[0].id"),
        ({"documents": [{"id": "", "text": "a"}]}, 400, "InvalidArgument", "documents[0].id"),
        ({"documents": [{"id": True, "text": "a"}]}, 400, "InvalidArgument", "documents[0].id"),
        ({"documents": [{"id": "x" * 65, "text": "a"}]}, 400, "InvalidArgument", "documents[0].id"),
        (
            {"documents": [{"id": "1", "text": "a"}, {"id": "1", "text": "b"}]},
            400,
            "InvalidArgument",
            "documents[1].id",
        ),
        ({"documents": [{"id": "1", "text": None}]}, 400, "InvalidArgument", "documents[0].text"),
        (
            {"documents": [{"id": "1", "text": "a", "language": 5}]},
            400,
            "InvalidArgument",
            "documents[0].language",
        ),
    ],
)
def test_bad_requests_name_the_field(api, body, status, code, target):
    assert_error(api.classify(body), status, code, target)


def test_limits(api, settings):
    settings.STUDIO_API_MAX_DOCUMENTS = 3
    error = assert_error(api.classify({"documents": docs(4)}), 413, "TooManyDocuments", "documents")
    assert "STUDIO_API_MAX_DOCUMENTS" in error["message"] and "3" in error["message"]
    assert api.classify({"documents": docs(3)}).status_code == 200
    settings.STUDIO_API_MAX_CHARS = 1000
    big = [{"id": "1", "text": "a" * 600}, {"id": "2", "text": "b" * 600}]
    error = assert_error(api.classify({"documents": big}), 413, "TooManyCharacters", "documents")
    assert "STUDIO_API_MAX_CHARS" in error["message"]
    settings.STUDIO_API_MAX_BODY_BYTES = 2048
    error = assert_error(
        api.classify({"documents": [{"id": "1", "text": "c" * 3000}]}), 413, "RequestTooLarge", "body"
    )
    assert "STUDIO_API_MAX_BODY_BYTES" in error["message"]


def test_body_over_djangos_form_limit_is_read(api, settings):
    """The API applies its own body limit, not DATA_UPLOAD_MAX_MEMORY_SIZE."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    assert api.classify({"documents": docs(20)}).status_code == 200


def test_not_json(api):
    response = api.client.post(
        classify_url(api.project),
        data="id,text",
        content_type="text/csv",
        HTTP_AUTHORIZATION=f"Bearer {api.plain}",
    )
    assert_error(response, 415, "UnsupportedMediaType")


def test_unknown_slot_and_method(api):
    assert_error(api.classify({"documents": docs(1)}, slot="staging"), 404, "NotFound", "deployment")
    response = api.get(classify_url(api.project))
    assert_error(response, 405, "MethodNotAllowed")
    assert response["Allow"] == "POST"


def test_model_unavailable_is_503(api, settings):
    from pathlib import Path

    serving.clear_cache()
    (Path(settings.MEDIA_ROOT) / api.version.artifact).unlink()
    assert_error(api.classify({"documents": docs(1)}), 503, "ModelUnavailable", "deployment")


def test_unexpected_failure_is_json_500_and_logged(api, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(serving, "classify_response", broken)
    error = assert_error(api.classify({"documents": docs(1)}), 500, "InternalServerError")
    assert "boom" not in error["message"]
    assert any("boom" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    assert ApiCall.objects.get().status_code == 500


def test_every_call_is_logged_without_texts(api):
    api.classify({"documents": docs(2)})
    api.classify({"documents": docs(1)}, slot="staging")
    ok, missing = ApiCall.objects.order_by("id")
    assert (ok.endpoint, ok.status_code, ok.documents, ok.slot) == ("classify", 200, 2, "production")
    assert ok.token == api.token and ok.token_name == "app" and ok.model_version == api.version
    assert ok.latency_ms > 0 and ok.texts is None
    assert (missing.status_code, missing.slot, missing.model_version) == (404, "staging", None)


def test_texts_logged_when_the_admin_turns_it_on(api):
    do_set_log_api_texts(api.admin, api.project, True)
    api.project.refresh_from_db()
    api.classify({"documents": [{"id": "a", "text": "hello goal"}]})
    assert ApiCall.objects.get().texts == [{"id": "a", "text": "hello goal"}]


def test_deployments_endpoints(api):
    body = api.get(f"/api/v1/projects/{api.project.slug}/deployments").json()
    assert body["deployments"] == [
        {
            "name": "production",
            "modelVersion": 1,
            "deployedDateTime": body["deployments"][0]["deployedDateTime"],
            "classes": ["finance", "sport", "tech"],
        }
    ]
    one = api.get(f"/api/v1/projects/{api.project.slug}/deployments/production").json()
    assert one["name"] == "production" and one["kind"] == "single_label"
    assert_error(api.get(f"/api/v1/projects/{api.project.slug}/deployments/nope"), 404, "NotFound")


def test_djangos_own_errors_are_json_under_api(api):
    assert_error(api.client.get("/api/v1/nothing-here"), 404, "NotFound")
    assert_error(api.client.get("/language/analyze-text/nothing"), 404, "NotFound")
    assert_error(api.client.get(f"/api/v1/projects/{api.project.slug}/jobs/not-a-uuid"), 404)
    # Elsewhere the studio keeps its HTML pages.
    page = api.client.get("/nothing-here/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_response_is_plain_json(api):
    response = api.classify({"documents": docs(1)})
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["documents"]
    assert "Set-Cookie" not in response
