"""The HTTP API: token authentication, synchronous classify, asynchronous jobs (also in
Azure's analyze-text jobs shape), JSON errors, rate limiting and the OpenAPI description.

Views never touch the session or CSRF; every failure answers one JSON error shape."""
