"""Hostile requests to the JSON API (classify, jobs, Azure analyze-text): malformed and
truncated JSON, wrong content types, deep nesting, huge and many documents, wrong types in
every field, NUL bytes and lone surrogates (JSON escapes), hostile query strings, and
another project's token, job ids and slugs.

tests/test_api_schemathesis.py already fuzzes each operation from the OpenAPI description;
this file sends what a description does not generate: bodies that are not JSON at all,
nesting deep enough to hit the recursion limit, a token of project B on project A's URLs.

Every answer is below 500 and, when an error, JSON in the API's error shape; a refused
submission creates no job; the other project's rows never change.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.models import ClassifyJob
from tests.hostile import strategies as hs
from tests.hostile.conftest import World, diff, fingerprint

EXAMPLES = 40  # per endpoint below (7 endpoints: 280 requests), plus the fixed cases

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False), hs.text,
)  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(hs.text, children, max_size=4)),
    max_leaves=12,
)
document = st.fixed_dictionaries(
    {},
    optional={"id": st.one_of(json_values, st.sampled_from(["1", "x" * 65, "a\x00b", "\ud800"])),
              "text": st.one_of(json_values, hs.text), "language": json_values},
)  # fmt: skip
documents = st.one_of(st.lists(document, max_size=4), json_values)


def _raw(obj) -> bytes:
    # ensure_ascii: lone surrogates travel as \\ud800 escapes, as a client's JSON encoder sends them.
    return json.dumps(obj).encode()


DEEP = [b"[" * 100_000, b'{"documents": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", b'{"a":' * 20_000]
MALFORMED = [
    b"", b" ", b"\x00", b"{", b'{"documents": [', b"nul\x00l", b"\xff\xfe\x00{", b"[1,]", b"NaN",
    b'{"documents": [{"id": "1", "text": "\\ud800"}]}', b'{"documents": "' + b"x" * 600_000 + b'"}',
    "{\"documents\": [{\"id\": \"1\", \"text\": \"caf\u00e9\"}]}".encode("latin-1"), *DEEP,
]  # fmt: skip
CONTENT_TYPES = [
    "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "", "application/problem+json", "application/json; charset=latin-1",
    "APPLICATION/JSON", "application/jsonx", "\x00",
]  # fmt: skip


def ours_body(world: World, kind: str) -> st.SearchStrategy:
    if kind == "azure":
        return st.one_of(
            json_values,
            st.fixed_dictionaries(
                {},
                optional={
                    "analysisInput": st.one_of(json_values, st.fixed_dictionaries({"documents": documents})),
                    "tasks": st.one_of(json_values, st.lists(st.fixed_dictionaries({}, optional={
                        "kind": st.sampled_from(["CustomSingleLabelClassification", "CustomMultiLabelClassification", "x"]),
                        "taskName": json_values,
                        "parameters": st.one_of(json_values, st.fixed_dictionaries({}, optional={
                            "projectName": st.sampled_from([world.project.slug, world.other.slug, "", "x"]),
                            "deploymentName": st.sampled_from(["production", "nope", "", "../x"]),
                        })),
                    }), max_size=2)),
                    "displayName": json_values,
                },
            ),
        )  # fmt: skip
    return st.one_of(
        json_values,
        documents,
        st.fixed_dictionaries({"documents": documents}, optional={"displayName": json_values}),
    )


def _request(world: World, kind: str) -> st.SearchStrategy:
    body = st.one_of(ours_body(world, kind).map(_raw), st.sampled_from(MALFORMED))
    token = st.sampled_from([world.plain, world.plain, world.other_plain, "cs_forged", "", "\x00", "x" * 5000])
    query = st.fixed_dictionaries(
        {}, optional={"api-version": st.one_of(hs.text, st.just("2022-05-01")), "top": hs.numbers, "skip": hs.numbers}
    )  # fmt: skip
    return st.tuples(body, st.sampled_from(CONTENT_TYPES), token, query)


def _jobs(world: World) -> tuple[str, str]:
    ours = ClassifyJob.objects.filter(project=world.project).values_list("job_id", flat=True).first()
    theirs = ClassifyJob.objects.filter(project=world.other).values_list("job_id", flat=True).first()
    return str(ours), str(theirs)


ENDPOINTS = ["classify", "job_submit", "job_status", "job_cancel", "azure_submit", "azure_status", "azure_cancel"]


def _url(world: World, endpoint: str, job: str, slug: str) -> tuple[str, str]:
    base = f"/api/v1/projects/{slug}"
    return {
        "classify": ("post", f"{base}/deployments/production/classify"),
        "job_submit": ("post", f"{base}/deployments/production/jobs"),
        "job_status": ("get", f"{base}/jobs/{job}"),
        "job_cancel": ("post", f"{base}/jobs/{job}/cancel"),
        "azure_submit": ("post", "/language/analyze-text/jobs"),
        "azure_status": ("get", f"/language/analyze-text/jobs/{job}"),
        "azure_cancel": ("post", f"/language/analyze-text/jobs/{job}:cancel"),
    }[endpoint]


def check(world: World, endpoint: str, body: bytes, content_type: str, token: str, query: dict,
          job: str, slug: str) -> None:  # fmt: skip
    method, url = _url(world, endpoint, job, slug)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if endpoint.startswith("azure"):
        headers = {"HTTP_OCP_APIM_SUBSCRIPTION_KEY": token}
    other_before = fingerprint(world.other.pk, skip={"ApiCall"})
    jobs_before = ClassifyJob.objects.filter(project=world.project).count()
    from urllib.parse import urlencode

    if query:
        url = f"{url}?{urlencode(query)}"
    if method == "post":
        response = world.client.post(url, data=body, content_type=content_type, **headers)
    else:
        response = world.client.get(url, **headers)
    status = response.status_code
    shown = (endpoint, url[:120], body[:80], content_type, token[:12])
    assert status < 500, (status, response.content[:300], shown)
    if status >= 400:
        assert response["Content-Type"].startswith("application/json"), shown
        error = json.loads(response.content)["error"]
        assert error["code"] and error["message"], shown
        assert ClassifyJob.objects.filter(project=world.project).count() == jobs_before, shown
    other_after = fingerprint(world.other.pk, skip={"ApiCall"})
    assert not diff(other_before, other_after), (diff(other_before, other_after), shown)


@pytest.fixture
def api_world(world, settings):
    settings.STUDIO_API_JOB_MAX_DOCUMENTS = 20  # keeps accepted jobs small
    world.client.logout()  # the API takes tokens only; a session must not matter
    return world


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_hostile_api(api_world, endpoint, django_capture_on_commit_callbacks):
    world = api_world
    ours, theirs = _jobs(world)

    @given(request=_request(world, endpoint), job=st.sampled_from([ours, ours, theirs, "0" * 32]),
           slug=st.sampled_from([world.project.slug, world.project.slug, world.other.slug]))  # fmt: skip
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(request, job, slug):
        body, content_type, token, query = request
        with django_capture_on_commit_callbacks(execute=True):
            check(world, endpoint, body, content_type, token, query, job, slug)

    run()


@pytest.mark.parametrize("body", MALFORMED, ids=lambda b: repr(b[:20]))
@pytest.mark.parametrize("endpoint", ["classify", "job_submit", "azure_submit"])
def test_malformed_bodies(api_world, endpoint, body):
    """Each fixed malformed body, on our own URL with our own token: a 4xx JSON error."""
    world = api_world
    ours, _ = _jobs(world)
    check(world, endpoint, body, "application/json", world.plain, {"api-version": "2022-05-01"}, ours,
          world.project.slug)  # fmt: skip


def test_other_projects_job_is_not_found(api_world):
    """A valid token of project A asking for project B's job, by both APIs: 404, not 403."""
    world = api_world
    _, theirs = _jobs(world)
    for url in (f"/api/v1/projects/{world.project.slug}/jobs/{theirs}",
                f"/language/analyze-text/jobs/{theirs}?api-version=2022-05-01"):  # fmt: skip
        response = world.client.get(url, HTTP_AUTHORIZATION=f"Bearer {world.plain}")
        assert response.status_code == 404, (url, response.content)
    response = world.client.post(
        f"/api/v1/projects/{world.project.slug}/jobs/{theirs}/cancel", HTTP_AUTHORIZATION=f"Bearer {world.plain}"
    )
    assert response.status_code == 404
    assert ClassifyJob.objects.get(job_id=theirs).status == "notStarted"
