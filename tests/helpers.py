"""Small helpers shared by the view tests."""

from __future__ import annotations

from django.test import Client


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def htmx(client: Client, method: str, url: str, data=None, **extra):
    return getattr(client, method)(url, data or {}, HTTP_HX_REQUEST="true", **extra)
