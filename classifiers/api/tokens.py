"""API tokens: made here, shown once, stored as their SHA-256 only."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "cs_"
PREFIX_CHARS = 10  # what lists show ("cs_" + 7 characters), enough to tell tokens apart


def generate_token() -> str:
    """A new plain token: 'cs_' + 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # A plain SHA-256 suffices (no salt, no slow hash): the token is 256 random bits, not a
    # password, and one indexed lookup on the hash keeps authentication cheap.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def display_prefix(token: str) -> str:
    return token[:PREFIX_CHARS]
