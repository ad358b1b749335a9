"""Token scopes: one table for every API and MLflow route, checked on every
token call; expiry and deactivation on the token path; old tokens keep their
rights."""

import importlib
import json
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.views import APIView

from kernel import scopes
from kernel.authentication import ApiTokenAuthentication
from kernel.models import ApiToken
from mlflow_bridge import services as mlflow_services
from portal.services import api_token_create
from tests.mlflow_bridge.conftest import sha_tags

MLFLOW = "/api/2.0/mlflow/"
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _routes(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _api_routes():
    for route, view in _routes():
        if route.startswith(("api/", "ajax-api/")):
            yield route, view


def _methods(view) -> tuple[str, ...]:
    """The methods a route answers (DRF: its handlers; MLflow's function
    views: every method, since their decorator decides)."""
    cls = getattr(view, "cls", None)
    if cls is None:
        return ALL_METHODS
    return tuple(m.upper() for m in cls.http_method_names if hasattr(cls, m)) or (
        "GET",
    )


def _takes_tokens(view) -> bool:
    cls = getattr(view, "cls", None)
    if cls is None or not issubclass(cls, APIView):
        return True  # MLflow's views authenticate tokens themselves
    return any(
        issubclass(auth, ApiTokenAuthentication) for auth in cls.authentication_classes
    )


def test_every_api_route_has_a_scope_for_every_method():
    missing = [
        f"{method} {route} ({scopes.view_key(view)})"
        for route, view in _api_routes()
        if _takes_tokens(view)
        for method in _methods(view)
        if method != "OPTIONS"
        and scopes.required_scope(scopes.view_key(view), method) is None
    ]
    assert missing == [], "Add these views to kernel/scopes.py:\n" + "\n".join(missing)


def test_the_walk_sees_the_routes_that_matter():
    keys = {scopes.view_key(view) for _, view in _api_routes()}
    assert {
        "models_registry.api.registered_models.ModelListCreate",
        "approvals.api.requests.RequestDecisions",
        "monitoring.api.PredictionIngest",
        "audit.api.event_list",
        "mlflow_bridge.api.model_version_create",
        "portal.accounts.api.ServiceAccountListCreate",
    } <= keys


@pytest.mark.parametrize(
    ("key", "method", "scope"),
    [
        (
            "models_registry.api.registered_models.ModelListCreate",
            "GET",
            "registry:read",
        ),
        (
            "models_registry.api.registered_models.ModelListCreate",
            "POST",
            "registry:write",
        ),
        ("approvals.api.requests.RequestListSubmit", "POST", "requests:create"),
        ("approvals.api.requests.RequestDecisions", "POST", "decisions:write"),
        (
            "approvals.api.deployments.DeploymentRollback",
            "POST",
            "deployments:rollback",
        ),
        ("approvals.api.validations.VersionValidations", "GET", "requests:read"),
        ("approvals.api.validations.VersionValidations", "POST", "validations:write"),
        ("monitoring.api.PredictionIngest", "POST", "monitoring:push"),
        ("monitoring.api.AlertAcknowledge", "POST", "monitoring:write"),
        ("audit.api.event_list", "GET", "audit:read"),
        ("mlflow_bridge.api.registered_model_get", "GET", "registry:read"),
        ("mlflow_bridge.api.model_version_create", "POST", "registry:write"),
        ("portal.api.me", "GET", scopes.ANY_SCOPE),
        ("somewhere.new.View", "GET", None),
    ],
)
def test_the_table_and_the_method_defaults(key, method, scope):
    assert scopes.required_scope(key, method) == scope


def test_a_read_only_route_takes_no_write():
    assert scopes.required_scope("audit.api.event_list", "POST") is None
    assert "No API token may call POST" in scopes.missing_scope(
        scopes.SCOPE_NAMES, "audit.api.event_list", "POST"
    )


def _auth(plaintext: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {plaintext}"}


@pytest.mark.django_db
class TestOnTheApi:
    def test_a_token_within_its_scope_reads(self, client, data_scientist):
        _, plaintext = api_token_create(
            user=data_scientist, name="reader", scopes=["registry:read"]
        )
        assert client.get("/api/v1/models/", **_auth(plaintext)).status_code == 200

    def test_out_of_scope_is_403_naming_the_scope_and_changes_nothing(
        self, client, data_scientist
    ):
        _, plaintext = api_token_create(
            user=data_scientist, name="reader", scopes=["registry:read"]
        )
        response = client.post(
            "/api/v1/models/", {}, content_type="application/json", **_auth(plaintext)
        )
        assert response.status_code == 403
        assert response.json()["code"] == "missing_scope"
        assert "'registry:write'" in response.json()["message"]
        assert apps.get_model("models_registry", "RegisteredModel").objects.count() == 0

    def test_the_scope_is_checked_before_the_body(self, client, data_scientist):
        _, plaintext = api_token_create(
            user=data_scientist, name="pusher", scopes=["monitoring:push"]
        )
        response = client.get("/api/v1/audit/events/", **_auth(plaintext))
        assert response.status_code == 403
        assert "'audit:read'" in response.json()["message"]

    def test_any_token_may_ask_who_it_is(self, client, data_scientist):
        _, plaintext = api_token_create(
            user=data_scientist, name="narrow", scopes=["monitoring:push"]
        )
        assert client.get(reverse("api-me"), **_auth(plaintext)).status_code == 200

    def test_sessions_are_not_scoped(self, client, data_scientist):
        client.force_login(data_scientist)
        assert client.get("/api/v1/models/").status_code == 200

    def test_an_expired_token_is_401_saying_so(self, client, data_scientist):
        token, plaintext = api_token_create(
            user=data_scientist, name="short", expires_in_days=1
        )
        with time_machine.travel(token.expires_at + timedelta(seconds=1), tick=False):
            response = client.get(reverse("api-me"), **_auth(plaintext))
        assert response.status_code == 401
        body = response.json()
        assert body["code"] == "authentication_failed"
        assert body["message"].startswith("This API token expired on ")

    def test_a_deactivated_account_stops_its_tokens_at_once(
        self, client, data_scientist
    ):
        _, plaintext = api_token_create(user=data_scientist, name="ci")
        assert client.get(reverse("api-me"), **_auth(plaintext)).status_code == 200
        data_scientist.is_active = False
        data_scientist.save(update_fields=["is_active"])
        response = client.get(reverse("api-me"), **_auth(plaintext))
        assert response.status_code == 401
        assert response.json()["message"] == (
            "The account of this API token is deactivated."
        )

    def test_a_revoked_token_says_when(self, client, data_scientist):
        from portal.services import api_token_revoke

        token, plaintext = api_token_create(user=data_scientist, name="old")
        api_token_revoke(actor=data_scientist, token_id=token.pk)
        response = client.get(reverse("api-me"), **_auth(plaintext))
        assert response.status_code == 401
        assert response.json()["message"].startswith("This API token was revoked on")


@pytest.mark.django_db
class TestOnMlflow:
    @pytest.fixture
    def churn(self, data_scientist):
        model = mlflow_services.registered_model_create(
            actor=data_scientist, name="churn"
        )
        mlflow_services.model_version_create(
            actor=data_scientist, name=model.name, source="s3://m/1", tags=sha_tags("1")
        )
        return model

    def _call(self, client, plaintext, method, path, data=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
        if method == "GET":
            return client.get(MLFLOW + path, data or {}, **headers)
        return getattr(client, method.lower())(
            MLFLOW + path,
            json.dumps(data or {}),
            content_type="application/json",
            **headers,
        )

    def test_a_read_token_reads_and_may_not_write(self, client, data_scientist, churn):
        _, plaintext = api_token_create(
            user=data_scientist, name="reader", scopes=["registry:read"]
        )
        read = self._call(
            client, plaintext, "GET", "registered-models/get", {"name": "churn"}
        )
        assert read.status_code == 200
        write = self._call(
            client,
            plaintext,
            "POST",
            "registered-models/set-tag",
            {"name": "churn", "key": "k", "value": "v"},
        )
        assert write.status_code == 403
        assert write.json()["error_code"] == "PERMISSION_DENIED"
        assert "'registry:write'" in write.json()["message"]
        tags = apps.get_model("mlflow_bridge", "RegisteredModelTag").objects
        assert not tags.filter(key="k").exists()

    def test_a_governed_alias_also_needs_requests_create(
        self, client, data_scientist, churn
    ):
        from approvals.models import DeploymentRequest

        _, plaintext = api_token_create(
            user=data_scientist, name="writer", scopes=["registry:write"]
        )
        response = self._call(
            client,
            plaintext,
            "POST",
            "registered-models/alias",
            {"name": "churn", "alias": "champion", "version": "1"},
        )
        assert response.status_code == 403
        assert "'requests:create'" in response.json()["message"]
        assert DeploymentRequest.objects.count() == 0

    def test_an_alias_governed_only_for_prompts_is_free_on_a_model(
        self, client, data_scientist, churn
    ):
        """'production' is governed for prompts, not for models: a token
        without requests:create sets it on a model."""
        _, plaintext = api_token_create(
            user=data_scientist, name="writer", scopes=["registry:write"]
        )
        response = self._call(
            client,
            plaintext,
            "POST",
            "registered-models/alias",
            {"name": "churn", "alias": "production", "version": "1"},
        )
        assert response.status_code == 200, response.json()

    def test_an_expired_token_is_unauthenticated(self, client, data_scientist, churn):
        token, plaintext = api_token_create(
            user=data_scientist, name="short", expires_in_days=1
        )
        with time_machine.travel(token.expires_at + timedelta(minutes=1), tick=False):
            response = self._call(
                client, plaintext, "GET", "registered-models/get", {"name": "churn"}
            )
        assert response.status_code == 401
        assert response.json()["error_code"] == "UNAUTHENTICATED"
        assert "expired on" in response.json()["message"]


@pytest.mark.django_db
def test_tokens_made_before_scopes_keep_every_right(data_scientist):
    """The data migration gives existing tokens every scope and no expiry."""
    migration = importlib.import_module(
        "kernel.migrations.0006_existing_tokens_all_scopes"
    )
    old, _ = api_token_create(user=data_scientist, name="old")
    ApiToken.objects.filter(pk=old.pk).update(scopes="", expires_at=None)
    migration.grant_all_scopes(apps, None)
    old.refresh_from_db()
    assert old.scope_set == frozenset(scopes.SCOPE_NAMES)
    assert old.expires_at is None
    assert old.is_usable(timezone.now() + timedelta(days=3650))


def test_new_tokens_get_scopes_and_an_expiry_by_default(db, data_scientist):
    token, _ = api_token_create(user=data_scientist, name="script")
    assert token.scope_set == frozenset(scopes.SCOPE_NAMES)
    assert token.expires_at is not None
