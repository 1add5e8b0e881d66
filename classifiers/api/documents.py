"""Reading a request: the JSON body (size-checked before it is read) and its documents,
with a field path in every refusal ("documents[3].text")."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from classifiers.api.errors import ApiError, bad_request
from classifiers.serving import DocumentIn

MAX_ID_CHARS = 64
MAX_LANGUAGE_CHARS = 20


def read_json(request: HttpRequest) -> Any:
    content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        raise ApiError(
            415, "UnsupportedMediaType", "Send the body as JSON (Content-Type: application/json).", "body"
        )
    limit = settings.STUDIO_API_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _body_too_large(limit)
    # Read the stream ourselves: request.body would apply the form limit
    # (DATA_UPLOAD_MAX_MEMORY_SIZE), not the API's.
    data = request.read(limit + 1)
    if len(data) > limit:
        raise _body_too_large(limit)
    if not data.strip():
        raise bad_request("The request body is empty; send a JSON object.", "body", code="InvalidJson")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"The body is not valid JSON: {exc}"[:300], "body", code="InvalidJson") from None


def _body_too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "RequestTooLarge",
        f"The request body may be at most {limit:,} bytes (STUDIO_API_MAX_BODY_BYTES).",
        "body",
    )


def _clean_text(value: str) -> str:
    # NUL and lone surrogates cannot be stored (PostgreSQL JSON, UTF-8): replaced, not refused.
    if "\x00" in value:
        value = value.replace("\x00", " ")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_documents(
    items: Any, *, target: str, max_documents: int, max_chars: int, limit_names: tuple[str, str]
) -> list[DocumentIn]:
    """``items`` must be a list of {"id", "text", "language"?}; ids unique, 1-64 characters
    (integers are taken as strings). Over a limit: 413 naming the limit's setting."""
    if not isinstance(items, list):
        raise bad_request("Expected a list of documents.", target)
    if not items:
        raise bad_request("Send at least one document.", target)
    if len(items) > max_documents:
        raise ApiError(
            413,
            "TooManyDocuments",
            f"At most {max_documents:,} documents per request ({limit_names[0]}); this one has {len(items):,}.",
            target,
        )
    documents: list[DocumentIn] = []
    seen: set[str] = set()
    total = 0
    for i, item in enumerate(items):
        where = f"{target}[{i}]"
        if not isinstance(item, dict):
            raise bad_request("Each document is an object with 'id' and 'text'.", where)
        doc_id = item.get("id")
        if isinstance(doc_id, int) and not isinstance(doc_id, bool):
            doc_id = str(doc_id)
        if not isinstance(doc_id, str) or not doc_id or len(doc_id) > MAX_ID_CHARS or not _storable(doc_id):
            raise bad_request(f"'id' must be a string of 1 to {MAX_ID_CHARS} characters.", f"{where}.id")
        if doc_id in seen:
            raise bad_request(f"The id {doc_id!r} is used twice; ids must be unique.", f"{where}.id")
        seen.add(doc_id)
        text = item.get("text")
        if not isinstance(text, str):
            raise bad_request("'text' must be a string.", f"{where}.text")
        language = item.get("language")
        if language is None:
            language = ""
        if not isinstance(language, str) or len(language) > MAX_LANGUAGE_CHARS or not _storable(language):
            raise bad_request(
                f"'language' is optional; when given, a string of at most {MAX_LANGUAGE_CHARS} characters.",
                f"{where}.language",
            )
        total += len(text)
        if total > max_chars:
            raise ApiError(
                413,
                "TooManyCharacters",
                f"At most {max_chars:,} characters of text per request ({limit_names[1]}).",
                target,
            )
        documents.append(DocumentIn(id=doc_id, text=_clean_text(text), language=language))
    return documents


def documents_from_body(payload: Any, *, for_job: bool) -> list[DocumentIn]:
    """Our own shape: {"documents": [...]} (or the bare list)."""
    if isinstance(payload, dict):
        if "documents" not in payload:
            raise bad_request('Send {"documents": [{"id": "1", "text": "..."}]}.', "documents")
        items, target = payload["documents"], "documents"
    elif isinstance(payload, list):
        items, target = payload, "documents"
    else:
        raise bad_request("The body must be a JSON object with a 'documents' list.", "body")
    if for_job:
        return parse_documents(
            items,
            target=target,
            max_documents=settings.STUDIO_API_JOB_MAX_DOCUMENTS,
            max_chars=settings.STUDIO_API_JOB_MAX_CHARS,
            limit_names=("STUDIO_API_JOB_MAX_DOCUMENTS", "STUDIO_API_JOB_MAX_CHARS"),
        )
    return parse_documents(
        items,
        target=target,
        max_documents=settings.STUDIO_API_MAX_DOCUMENTS,
        max_chars=settings.STUDIO_API_MAX_CHARS,
        limit_names=("STUDIO_API_MAX_DOCUMENTS", "STUDIO_API_MAX_CHARS"),
    )


def optional_string(payload: Any, key: str, max_chars: int = 200) -> str:
    if not isinstance(payload, dict) or payload.get(key) is None:
        return ""
    value = payload[key]
    if not isinstance(value, str) or len(value) > max_chars or not _storable(value):
        raise bad_request(f"'{key}' must be a string of at most {max_chars} characters.", key)
    return value
