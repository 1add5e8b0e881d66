"""One JSON error shape for every API failure (Azure-like):

{"error": {"code": "TooManyDocuments", "message": "...", "target": "documents"}}
"""

from __future__ import annotations

from django.http import JsonResponse

# Django's status -> our code, for errors not raised by our views (404 of an unknown path,
# 405, a 500 from deeper down, a 413 from Django's own body limit).
STATUS_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "RequestTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def error_body(code: str, message: str, target: str | None = None) -> dict:
    error = {"code": code, "message": message}
    if target:
        error["target"] = target
    return {"error": error}


def error_response(
    status: int, code: str, message: str, target: str | None = None, headers: dict[str, str] | None = None
) -> JsonResponse:
    response = JsonResponse(error_body(code, message, target), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class ApiError(Exception):
    """Raised anywhere under an API view; answered as the JSON error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        target: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        return error_response(self.status, self.code, self.message, self.target, self.headers)


def bad_request(message: str, target: str | None = None, code: str = "InvalidArgument") -> ApiError:
    return ApiError(400, code, message, target)


def not_found(message: str, target: str | None = None) -> ApiError:
    return ApiError(404, "NotFound", message, target)
