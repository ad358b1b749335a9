"""The official MLflow client against Gatehouse on a live test server.

``MlflowClient`` reads its credentials from the environment on every request,
so ``ClientAs`` sets them around each call: one client per person.
"""

import os
from contextlib import contextmanager

import pytest

from portal.services import api_token_create

CREDENTIAL_VARIABLES = (
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
)


@contextmanager
def credentials(**values: str):
    saved = {name: os.environ.get(name) for name in CREDENTIAL_VARIABLES}
    try:
        for name in CREDENTIAL_VARIABLES:
            os.environ.pop(name, None)
        for name, value in values.items():
            os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class ClientAs:
    """An MlflowClient whose every call is made with one person's credentials."""

    def __init__(self, url: str, **values: str):
        from mlflow import MlflowClient

        self._client = MlflowClient(tracking_uri=url, registry_uri=url)
        self._values = values

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            with credentials(**self._values):
                return method(*args, **kwargs)

        return call


def token_for(user) -> str:
    return api_token_create(user=user, name="mlflow client")[1]


@pytest.fixture
def mlflow_url(live_server, monkeypatch):
    """Point MLflow at the live server; fail fast instead of retrying."""
    from django.db import connection

    # The live server answers each request in a new thread: close its database
    # connection when the request ends, or it outlives the test database.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", live_server.url)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", live_server.url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return live_server.url


@pytest.fixture
def client_for(mlflow_url):
    """client_for(user) → a client authenticating with a new API token."""

    def make(user, **values):
        return ClientAs(
            mlflow_url, **(values or {"MLFLOW_TRACKING_TOKEN": token_for(user)})
        )

    return make


@pytest.fixture
def file_roots(settings, tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    settings.MLFLOW_FILE_SOURCE_ROOTS = [str(root)]
    return root


def sha_tags(text: str, size: int = 1234) -> dict[str, str]:
    import hashlib

    return {
        "gatehouse.sha256": hashlib.sha256(text.encode()).hexdigest(),
        "gatehouse.size_bytes": str(size),
    }
