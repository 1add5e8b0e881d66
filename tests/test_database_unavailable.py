"""A database that is away answers 503 with Retry-After (JSON under /api/), closes the broken
connection, and the next request works again by itself."""

from __future__ import annotations

import contextlib
import time

import pytest
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.utils import OperationalError
from django.test import Client

from tests.helpers import login


@contextlib.contextmanager
def failing_queries(monkeypatch, table: str):
    """Queries touching ``table`` raise OperationalError, as when the server went away."""
    real_execute = CursorWrapper.execute

    def execute(self, sql, params=None):
        if table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return real_execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", execute)
    yield
    monkeypatch.setattr(CursorWrapper, "execute", real_execute)


@pytest.fixture
def closed(monkeypatch):
    """Record the middleware's close instead of closing the test's own transaction."""
    calls: list[int] = []
    monkeypatch.setattr("studio.middleware.close_database_connections", lambda: calls.append(1))
    return calls


def test_page_query_failing_answers_503_then_recovers(project, admin_user, monkeypatch, closed):
    client = login(admin_user)
    with failing_queries(monkeypatch, "classifiers_membership"):
        response = client.get("/projects/")
    assert response.status_code == 503
    assert response["Retry-After"].isdigit() and int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Unavailable for a moment" in body and "try again" in body
    assert "<script" not in body and "style=" not in body  # strict CSP holds for this page too
    assert response["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in response
    assert closed == [1]  # the broken connection is dropped
    # The database is back: the very next request works.
    assert client.get("/projects/").status_code == 200


def test_api_path_answers_json_503(project, admin_user, monkeypatch, closed):
    from classifiers.actions.deployments import do_create_token

    _token, secret = do_create_token(admin_user, project, "CI", ["classify", "read"])
    with failing_queries(monkeypatch, "classifiers_apitoken"):
        response = Client().get(
            f"/api/v1/projects/{project.slug}/deployments", HTTP_AUTHORIZATION=f"Bearer {secret}"
        )
    assert response.status_code == 503 and response["Retry-After"].isdigit()
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "ServiceUnavailable" and "database" in error["message"]
    assert closed == [1]


def test_failure_inside_a_middleware_answers_503_too(project, admin_user, monkeypatch, closed):
    """Raised before the view (the handler's 500 path): server_error answers 503 instead."""

    def process_view(self, request, *args):
        raise OperationalError("database is locked")

    monkeypatch.setattr("django.middleware.csrf.CsrfViewMiddleware.process_view", process_view)
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    response = client.get("/projects/")
    assert response.status_code == 503 and response["Retry-After"].isdigit()
    assert closed == [1]


def test_other_database_errors_stay_500(project, admin_user, monkeypatch, closed):
    from django.db.utils import ProgrammingError

    real_execute = CursorWrapper.execute

    def execute(self, sql, params=None):
        if "classifiers_membership" in sql:
            raise ProgrammingError("a bug, not an outage")
        return real_execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", execute)
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    assert client.get("/projects/").status_code == 500
    assert closed == []


def _terminate_backend() -> None:
    """Kill this test's database session from a second connection, as a server restart or
    a failover would."""
    import psycopg

    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**{k: v for k, v in params.items() if v not in (None, "")}, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
def test_postgres_really_unreachable_then_back(admin_user):
    """A real outage on PostgreSQL: the session is killed server-side, then the server is
    unreachable (nothing listens on the port), then back. Each outage costs one 503 and
    the next request reconnects by itself."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: run with DATABASE_URL=postgres://... (the SQLite test database is in memory)")
    started = time.monotonic()
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    assert client.get("/projects/").status_code == 200

    # 1. The server ends our session (restart, failover, idle-session killer).
    connection.ensure_connection()
    _terminate_backend()
    assert client.get("/projects/").status_code == 503
    assert connection.connection is None  # the dead connection was dropped
    assert client.get("/projects/").status_code == 200  # reconnected by itself

    # 2. Nothing answers at all (the server is down): every request fails fast with 503.
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        response = client.get("/projects/")
        assert response.status_code == 503 and response["Retry-After"].isdigit()
        api = client.get("/api/v1/projects/x/deployments", HTTP_AUTHORIZATION="Bearer nope")
        assert api.status_code == 503 and api.json()["error"]["code"] == "ServiceUnavailable"
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert client.get("/projects/").status_code == 200
    assert time.monotonic() - started < 10
