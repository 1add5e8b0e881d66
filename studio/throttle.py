"""Failed sign-ins counted per username and per client address, in the default cache.

The default cache is a DatabaseCache, shared by every web process. Each key holds the
times of the recent failures (a sliding window of STUDIO_LOGIN_WINDOW_SECONDS), written
with an explicit timeout: BaseCache.incr (which the DatabaseCache uses) would reset the
expiry to the cache's default. Read-modify-write is not atomic across processes, so two
failures at the same instant may count once: a small undercount, never a lockout by error.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger("studio.auth")

PREFIX = "login-failures"


@dataclass(frozen=True)
class Throttle:
    reason: str  # "username" or "address"
    retry_after: int  # seconds until an attempt is allowed again

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))

    @property
    def message(self) -> str:
        unit = "minute" if self.minutes == 1 else "minutes"
        return f"Too many failed sign-ins; try again in {self.minutes} {unit}."


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind STUDIO_TRUSTED_PROXIES proxies the address the outermost
    trusted proxy saw (entries left of it in X-Forwarded-For are the client's to forge)."""
    proxies = settings.STUDIO_TRUSTED_PROXIES
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies][:64]
    return request.META.get("REMOTE_ADDR", "")[:64] or "unknown"


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().casefold().encode()).hexdigest()[:40]
    return f"{PREFIX}:{kind}:{digest}"


def _limits(username: str, address: str) -> list[tuple[str, str, int]]:
    out = []
    if username and settings.STUDIO_LOGIN_MAX_FAILURES:
        out.append(("username", _key("user", username), settings.STUDIO_LOGIN_MAX_FAILURES))
    if settings.STUDIO_LOGIN_MAX_FAILURES_PER_IP:
        out.append(("address", _key("ip", address), settings.STUDIO_LOGIN_MAX_FAILURES_PER_IP))
    return out


def _recent(key: str, now: float) -> list[float]:
    window = settings.STUDIO_LOGIN_WINDOW_SECONDS
    stamps = cache.get(key) or []
    return [t for t in stamps if isinstance(t, (int, float)) and now - window < t <= now]


def check(username: str, address: str) -> Throttle | None:
    """The throttle in force for this attempt, or None when it may go ahead."""
    now = time.time()
    window = settings.STUDIO_LOGIN_WINDOW_SECONDS
    worst: Throttle | None = None
    for reason, key, limit in _limits(username, address):
        stamps = _recent(key, now)
        if len(stamps) >= limit:
            # Allowed again once enough of the failures have left the window.
            retry_after = math.ceil(sorted(stamps)[-limit] + window - now)
            if worst is None or retry_after > worst.retry_after:
                worst = Throttle(reason, max(1, retry_after))
    return worst


def record_failure(username: str, address: str) -> None:
    now = time.time()
    window = settings.STUDIO_LOGIN_WINDOW_SECONDS
    for reason, key, limit in _limits(username, address):
        stamps = [*_recent(key, now), now][-limit:]
        cache.set(key, stamps, timeout=window)
        if len(stamps) >= limit:
            logger.warning(
                "sign-in throttled by %s after %d failures: username=%r address=%s",
                reason, len(stamps), username[:150], address,
            )  # fmt: skip


def reset_username(username: str) -> None:
    if username:
        cache.delete(_key("user", username))
