"""Per-token rate limit: a fixed one-minute window counted in a Django cache.

Shared across processes through the cache (the studio's DatabaseCache by default,
STUDIO_API_RATE_CACHE names another alias), but not written on every request: each process
counts locally and adds its count to the shared counter every SYNC_EVERY requests or
SYNC_SECONDS, and on every request once a token is near its limit. A write to the
DatabaseCache is a small transaction, and on PostgreSQL its commit waits for a WAL flush
(measured in bench/bench_api.py: ~10 ms a request when written every time). The price: a
burst may pass the limit by at most SYNC_EVERY requests per process. The DatabaseCache's
increment is also not atomic across processes (a Redis or Memcached cache's is).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

from classifiers.api.errors import ApiError

WINDOW_SECONDS = 60
SYNC_EVERY = 10
SYNC_SECONDS = 1.0


def _now() -> float:
    return time.time()


@dataclass
class _Counter:
    window: int
    shared: int = 0  # the shared count when this process last synced
    pending: int = 0  # this process's requests since then
    synced_at: float = 0.0


_counters: dict[int, _Counter] = {}
_lock = threading.Lock()


def _add_shared(key: str, delta: int) -> int:
    cache = caches[settings.STUDIO_API_RATE_CACHE]
    try:
        return cache.incr(key, delta)
    except ValueError:  # the first count of this window
        if cache.add(key, delta, timeout=WINDOW_SECONDS * 2):
            return delta
        return cache.incr(key, delta)


def check_rate(token_id: int) -> dict[str, str]:
    """Count one request; raise 429 over the limit. Returns the rate headers to send."""
    limit = settings.STUDIO_API_RATE_LIMIT
    if limit <= 0:
        return {}
    now = _now()
    window = int(now // WINDOW_SECONDS)
    with _lock:
        counter = _counters.get(token_id)
        if counter is None or counter.window != window:
            counter = _counters[token_id] = _Counter(window=window)  # synced on its first request
            if len(_counters) > 10_000:  # old tokens' windows: drop them all but this one
                _counters.clear()
                _counters[token_id] = counter
        counter.pending += 1
        estimate = counter.shared + counter.pending
        sync = (
            counter.pending >= SYNC_EVERY
            or now - counter.synced_at >= SYNC_SECONDS
            or estimate >= limit - SYNC_EVERY  # near the limit: count exactly
        )
        delta = counter.pending if sync else 0
        if sync:
            counter.pending = 0
            counter.synced_at = now
    if sync:
        total = _add_shared(f"api-rate:{token_id}:{window}", delta)
        with _lock:
            counter.shared = max(counter.shared, total)  # pending keeps what came in meanwhile
        estimate = total
    reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, limit - estimate)),
        "X-RateLimit-Reset": str(reset),
    }
    if estimate > limit:
        raise ApiError(
            429,
            "TooManyRequests",
            f"This token may make {limit} requests a minute (STUDIO_API_RATE_LIMIT); "
            f"try again in {reset} seconds.",
            headers={**headers, "Retry-After": str(reset)},
        )
    return headers


def reset_local_counts() -> None:
    """Forget this process's unsynced counts (tests)."""
    with _lock:
        _counters.clear()
