import pytest
from django.urls import reverse

from audit.models import AuditEvent
from kernel.errors import NotFound, ServiceError, TokenAlreadyRevoked
from kernel.models import ApiToken
from kernel.scopes import SCOPE_NAMES
from kernel.tokens import token_digest
from portal.services import MAX_ACTIVE_TOKENS, api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def _auth(plaintext, keyword="Token"):
    return {"HTTP_AUTHORIZATION": f"{keyword} {plaintext}"}


def test_created_token_authenticates_the_api(client, data_scientist):
    token, plaintext = api_token_create(
        user=data_scientist, name="ci", expires_in_days=30
    )
    assert token.digest == token_digest(plaintext)
    assert plaintext not in {token.digest, token.prefix}
    response = client.get(reverse("api-me"), **_auth(plaintext))
    assert response.status_code == 200
    assert response.json() == {
        "username": "dana",
        "email": "",
        "roles": ["data_scientist"],
        "teams": ["credit-risk"],
        "authenticated_with": "token",
        "service_account": False,
        "token_scopes": sorted(token.scope_set, key=SCOPE_NAMES.index),
        "token_expires_at": token.expires_at.isoformat().replace("+00:00", "Z"),
    }
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_me_names_a_narrow_tokens_scopes_and_a_session_has_none(client, data_scientist):
    token, plaintext = api_token_create(
        user=data_scientist, name="read", scopes=["registry:read"], expires_in_days=7
    )
    body = client.get(reverse("api-me"), **_auth(plaintext)).json()
    assert body["token_scopes"] == ["registry:read"]
    assert body["token_expires_at"].startswith(f"{token.expires_at:%Y-%m-%dT%H:%M}")
    client.force_login(data_scientist)
    body = client.get(reverse("api-me")).json()
    assert body["authenticated_with"] == "session"
    assert body["token_scopes"] is None
    assert body["token_expires_at"] is None


def test_bearer_keyword_is_accepted(client, data_scientist):
    _, plaintext = api_token_create(user=data_scientist, name="mlflow")
    assert (
        client.get(reverse("api-me"), **_auth(plaintext, "Bearer")).status_code == 200
    )


@pytest.mark.parametrize(
    "header",
    ["Token gh_abcdefghij_" + "x" * 43, "Token not-a-token", "Token", "Token a b"],
)
def test_bad_tokens_are_refused(client, header):
    response = client.get(reverse("api-me"), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_revoked_and_expired_tokens_stop_working(client, data_scientist):
    token, plaintext = api_token_create(user=data_scientist, name="old")
    api_token_revoke(actor=data_scientist, token_id=token.pk)
    assert client.get(reverse("api-me"), **_auth(plaintext)).status_code == 401

    token, plaintext = api_token_create(
        user=data_scientist, name="short", expires_in_days=1
    )
    import time_machine

    with time_machine.travel(token.expires_at, tick=False):
        assert client.get(reverse("api-me"), **_auth(plaintext)).status_code == 401


def test_api_requires_authentication(client):
    response = client.get(reverse("api-me"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_creation_and_revocation_are_audited(data_scientist):
    token, _ = api_token_create(user=data_scientist, name="nightly")
    api_token_revoke(actor=data_scientist, token_id=token.pk)
    events = list(AuditEvent.objects.order_by("sequence"))
    assert [event.action for event in events] == ["token.created", "token.revoked"]
    assert {event.actor_id for event in events} == {data_scientist.pk}
    assert events[0].target_id == str(token.pk)
    assert events[0].payload["prefix"] == token.prefix
    assert events[0].payload["scopes"] == token.scopes.split()
    assert events[0].payload["owner"] == "dana"
    assert "digest" not in events[0].payload_json


@pytest.mark.parametrize(
    ("name", "days", "field"),
    [
        ("", None, "name"),
        ("   ", 5, "name"),
        ("x" * 101, None, "name"),
        ("ok", 0, "expires_in_days"),
        ("ok", 366, "expires_in_days"),
        ("ok", None, "expires_in_days"),
    ],
)
def test_bad_token_input_changes_nothing(data_scientist, name, days, field):
    with pytest.raises(ServiceError) as caught:
        api_token_create(user=data_scientist, name=name, expires_in_days=days)
    assert field in caught.value.fields
    assert ApiToken.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_active_token_limit(data_scientist):
    for index in range(MAX_ACTIVE_TOKENS):
        api_token_create(user=data_scientist, name=f"t{index}")
    with pytest.raises(ServiceError, match="active tokens"):
        api_token_create(user=data_scientist, name="one too many")
    assert ApiToken.objects.count() == MAX_ACTIVE_TOKENS


def test_nobody_revokes_another_persons_token(data_scientist, reviewer):
    token, _ = api_token_create(user=data_scientist, name="mine")
    with pytest.raises(NotFound):
        api_token_revoke(actor=reviewer, token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_platform_admin_may_revoke_anyones_token(data_scientist, platform_admin):
    token, _ = api_token_create(user=data_scientist, name="leaked")
    api_token_revoke(actor=platform_admin, token_id=token.pk)
    with pytest.raises(TokenAlreadyRevoked):
        api_token_revoke(actor=platform_admin, token_id=token.pk)


class TestTokenPage:
    def test_it_requires_login(self, client):
        response = client.get(reverse("api-tokens"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_creates_with_scopes_and_expiry_and_shows_the_token_once(
        self, client, data_scientist
    ):
        client.force_login(data_scientist)
        response = client.post(
            reverse("api-tokens"),
            {
                "name": "laptop",
                "scopes": ["registry:read", "monitoring:push"],
                "expires_in_days": "7",
            },
        )
        # Redirect after POST: a reload does not create a second token.
        assert response.status_code == 302
        assert response["Location"] == reverse("api-tokens")
        token = ApiToken.objects.get()
        assert token.scope_set == {"registry:read", "monitoring:push"}
        assert (token.expires_at - token.created_at).days == 7
        shown = client.get(reverse("api-tokens"))
        plaintext = shown.context["new_token"]["plaintext"]
        assert token.digest == token_digest(plaintext)
        assert plaintext in shown.content.decode()
        assert "no-store" in shown["Cache-Control"]
        assert 'data-copy-target="new-token"' in shown.content.decode()
        assert "<script>" not in shown.content.decode()  # CSP: no inline script
        # Shown once: the next GET (a reload) no longer has it.
        again = client.get(reverse("api-tokens"))
        assert plaintext not in again.content.decode()
        assert "laptop" in again.content.decode()
        assert ApiToken.objects.count() == 1

    def test_it_shows_form_errors_and_creates_nothing(self, client, data_scientist):
        client.force_login(data_scientist)
        response = client.post(
            reverse("api-tokens"),
            {"name": "", "scopes": ["not:a-scope"], "expires_in_days": "9999"},
        )
        assert response.status_code == 400
        assert set(response.context["form"].errors) == {
            "name",
            "scopes",
            "expires_in_days",
        }
        assert ApiToken.objects.count() == 0

    def test_a_token_needs_a_scope(self, client, data_scientist):
        client.force_login(data_scientist)
        response = client.post(
            reverse("api-tokens"), {"name": "none", "expires_in_days": "30"}
        )
        assert response.status_code == 400
        assert "scopes" in response.context["form"].errors
        assert ApiToken.objects.count() == 0

    def test_it_lists_only_my_tokens(self, client, data_scientist, reviewer):
        api_token_create(user=reviewer, name="reviewer-secret-name")
        client.force_login(data_scientist)
        assert (
            "reviewer-secret-name"
            not in client.get(reverse("api-tokens")).content.decode()
        )

    def test_revoke_button(self, client, data_scientist, reviewer):
        token, _ = api_token_create(user=data_scientist, name="old")
        client.force_login(reviewer)
        client.post(reverse("api-token-revoke", args=[token.pk]))
        token.refresh_from_db()
        assert token.revoked_at is None
        client.force_login(data_scientist)
        response = client.post(
            reverse("api-token-revoke", args=[token.pk]), follow=True
        )
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert "revoked" in response.content.decode()

    def test_revoke_needs_post(self, client, data_scientist):
        token, _ = api_token_create(user=data_scientist, name="old")
        client.force_login(data_scientist)
        assert (
            client.get(reverse("api-token-revoke", args=[token.pk])).status_code == 405
        )


@pytest.mark.parametrize(
    ("scopes", "message"),
    [([], "Choose at least one scope."), (["registry:nope"], "Unknown scope")],
)
def test_bad_scopes_change_nothing(data_scientist, scopes, message):
    with pytest.raises(ServiceError) as caught:
        api_token_create(user=data_scientist, name="ci", scopes=scopes)
    assert message in caught.value.fields["scopes"][0]
    assert ApiToken.objects.count() == 0
