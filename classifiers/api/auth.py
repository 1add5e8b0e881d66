"""Token authentication: ``Authorization: Bearer <token>`` or Azure's
``Ocp-Apim-Subscription-Key: <token>``. One indexed query on the token's hash (with its
project); last_used_at is written at most once a minute. Sessions are never read."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone

from classifiers.api.errors import ApiError
from classifiers.api.tokens import hash_token
from classifiers.models import ApiToken

LAST_USED_EVERY = timedelta(minutes=1)
MAX_TOKEN_CHARS = 200


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "Unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def token_from_request(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("Send the token as 'Authorization: Bearer <token>'.")
        return value.strip()
    key = request.META.get("HTTP_OCP_APIM_SUBSCRIPTION_KEY", "").strip()
    if key:
        return key
    raise _unauthorized(
        "This API needs a token: 'Authorization: Bearer <token>' or 'Ocp-Apim-Subscription-Key: <token>'."
    )


def authenticate(request: HttpRequest) -> ApiToken:
    plain = token_from_request(request)
    if len(plain) > MAX_TOKEN_CHARS:
        raise _unauthorized("The token is not valid.")
    token = ApiToken.objects.select_related("project").filter(token_hash=hash_token(plain)).first()
    if token is None:
        raise _unauthorized("The token is not valid.")
    if token.revoked_at is not None:
        raise _unauthorized("The token has been revoked.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def require_scope(token: ApiToken, scope: str) -> None:
    if scope not in token.scopes:
        raise ApiError(403, "Forbidden", f"This token lacks the '{scope}' scope.", target="scope")
