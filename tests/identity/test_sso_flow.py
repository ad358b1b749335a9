"""Sign-in through a real OpenID provider (tests/oidc/provider.mjs): discovery,
PKCE, state and nonce, ID-token checks, just-in-time accounts, and roles and
teams set from the groups claim at every sign-in."""

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.test import Client

from audit.models import AuditEvent
from identity.backends import OidcBackend
from identity.models import ExternalIdentity
from kernel import roles
from kernel.roles import user_roles
from tests.identity.flow import authorize, query, sign_in

pytestmark = pytest.mark.django_db

User = get_user_model()


def _events(action: str):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def _signed_in_as(client) -> str | None:
    me = client.get("/api/v1/me/")
    return me.json().get("username") if me.status_code == 200 else None


def test_the_login_page_offers_the_provider(client, sso):
    page = client.get("/login/")
    assert "Sign in with Test IdP" in page.content.decode()
    assert 'href="/sso/start/"' in page.content.decode()


def test_the_start_sends_pkce_state_and_nonce(client, sso):
    start = client.get("/sso/start/")
    params = query(start["Location"])
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert params["client_id"] == sso.client_id
    assert params["scope"] == "openid email profile groups"
    assert params["redirect_uri"] == "http://testserver/sso/callback/"
    assert len(params["state"]) >= 32
    assert len(params["nonce"]) >= 32
    states = client.session["oidc_states"]
    assert states[params["state"]]["nonce"] == params["nonce"]


def test_first_sign_in_creates_the_person_with_mapped_roles_and_team(
    client, sso, mapped
):
    sso.set_account("rita", groups=["gh-reviewers", "gh-credit", "gh-unmapped"])
    answer = sign_in(client, sso, "rita")
    assert answer.status_code == 302
    assert answer["Location"] == "/"
    assert _signed_in_as(client) == "rita"
    rita = User.objects.get(username="rita")
    assert (rita.email, rita.first_name, rita.has_usable_password()) == (
        "rita@example.com",
        "Rita",
        False,
    )
    assert user_roles(rita) == {roles.REVIEWER}
    assert list(rita.groups.filter(team__isnull=False)) == [mapped.group]
    identity = ExternalIdentity.objects.get(user=rita)
    assert (identity.issuer, identity.subject) == (sso.issuer, "rita")
    assert identity.groups == ["gh-credit", "gh-reviewers", "gh-unmapped"]
    (provisioned,) = _events("identity.user_provisioned")
    assert provisioned.actor_text == f"idp:{sso.issuer}"
    (granted,) = _events("identity.role_granted")
    assert granted.payload_json == (
        '{"claims":["gh-reviewers"],"role":"reviewer","source":"idp:'
        + sso.issuer
        + '"}'
    )
    (joined,) = _events("identity.team_joined")
    assert '"claims":["gh-credit"]' in joined.payload_json
    assert _events("auth.login")[-1].actor_text == "rita"


def test_a_removed_group_takes_the_role_away_at_the_next_sign_in(client, sso, mapped):
    sso.set_account("rita", groups=["gh-reviewers", "gh-credit"])
    sign_in(client, sso, "rita")
    sso.set_account("rita", groups=["gh-unmapped"])
    later = Client()
    assert sign_in(later, sso, "rita").status_code == 302
    rita = User.objects.get(username="rita")
    # Keeps the account and history, can do nothing.
    assert rita.is_active
    assert not rita.groups.exists()
    (revoked,) = _events("identity.role_revoked")
    assert '"missing_claims":["gh-reviewers"]' in revoked.payload_json
    assert '"role":"reviewer"' in revoked.payload_json
    (left,) = _events("identity.team_left")
    assert '"missing_claims":["gh-credit"]' in left.payload_json
    assert later.get("/api/v1/models/").json()["count"] == 0


def test_a_hand_given_role_is_taken_away_and_staff_follows_platform_admin(
    client, sso, mapped
):
    sso.set_account("pat", groups=["gh-admins"])
    sign_in(client, sso, "pat")
    pat = User.objects.get(username="pat")
    assert pat.is_staff
    assert user_roles(pat) == {roles.PLATFORM_ADMIN}
    pat.groups.add(pat.groups.model.objects.get(name=roles.AUDITOR))
    sso.set_account("pat", groups=["gh-risk"])
    sign_in(Client(), sso, "pat")
    pat.refresh_from_db()
    assert not pat.is_staff
    assert user_roles(User.objects.get(pk=pat.pk)) == {roles.RISK_OFFICER}
    revoked = {e.payload_json for e in _events("identity.role_revoked")}
    assert any('"missing_claims":[],"role":"auditor"' in p for p in revoked)


def test_the_same_subject_signs_in_to_the_same_account(client, sso, mapped):
    sso.set_account("rita", groups=["gh-reviewers"])
    sign_in(client, sso, "rita")
    sign_in(Client(), sso, "rita")
    assert User.objects.filter(username__startswith="rita").count() == 1
    assert len(_events("identity.user_provisioned")) == 1
    assert len(_events("identity.role_granted")) == 1


def test_a_replayed_callback_signs_nobody_in(client, sso, mapped):
    sso.set_account("rita", groups=["gh-reviewers"])
    callback = authorize(client, sso, "rita")
    assert client.get(callback).status_code == 302
    # The same browser again: the state was spent.
    again = client.get(callback)
    assert again.status_code == 400
    assert "The sign-in answer was not valid." in again.content.decode()
    # Someone else's browser with the stolen callback URL.
    stranger = Client()
    assert stranger.get(callback).status_code == 400
    assert _signed_in_as(stranger) is None
    assert len(_events("auth.login")) == 1


def test_a_state_from_another_browser_is_refused(client, sso):
    sso.set_account("rita")
    callback = authorize(client, sso, "rita")
    other = Client()
    other.get("/sso/start/")  # has states of its own, not this one
    assert other.get(callback).status_code == 400
    assert _signed_in_as(other) is None
    assert not User.objects.filter(username="rita").exists()


def _tamper(monkeypatch, sso, change):
    """Let the real code exchange happen, then replace the ID token."""
    exchange = OidcBackend.get_token

    def tampered(self, payload):
        answer = exchange(self, payload)
        claims = jwt.decode(answer["id_token"], options={"verify_signature": False})
        answer["id_token"] = change(claims)
        return answer

    monkeypatch.setattr(OidcBackend, "get_token", tampered)


def _refused(client, sso, login="mallory"):
    sso.set_account(login, groups=["gh-admins"])
    answer = sign_in(client, sso, login)
    assert answer.status_code == 400
    assert "The sign-in answer was not valid." in answer.content.decode()
    assert _signed_in_as(client) is None
    assert not User.objects.filter(username=login).exists()
    assert not _events("auth.login")


def test_a_token_with_a_bad_signature_is_refused(client, sso, mapped, monkeypatch):
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _tamper(monkeypatch, sso, lambda claims: sso.mint(claims, key=impostor))
    _refused(client, sso)


def test_a_token_for_another_audience_is_refused(client, sso, mapped, monkeypatch):
    _tamper(monkeypatch, sso, lambda claims: sso.mint({**claims, "aud": "other-app"}))
    _refused(client, sso)


def test_an_expired_token_is_refused(client, sso, mapped, monkeypatch):
    past = int(time.time()) - 7200
    _tamper(
        monkeypatch,
        sso,
        lambda claims: sso.mint({**claims, "iat": past, "exp": past + 600}),
    )
    _refused(client, sso)


def test_a_token_from_another_issuer_is_refused(client, sso, mapped, monkeypatch):
    _tamper(
        monkeypatch,
        sso,
        lambda claims: sso.mint({**claims, "iss": "https://evil.example"}),
    )
    _refused(client, sso)


def test_a_token_with_another_nonce_is_refused(client, sso, mapped, monkeypatch):
    _tamper(monkeypatch, sso, lambda claims: sso.mint({**claims, "nonce": "x" * 32}))
    _refused(client, sso)


def test_a_deactivated_person_is_refused(client, sso, mapped):
    sso.set_account("rita", groups=["gh-reviewers"])
    sign_in(client, sso, "rita")
    User.objects.filter(username="rita").update(is_active=False)
    later = Client()
    answer = sign_in(later, sso, "rita")
    assert answer.status_code == 403
    assert "deactivated" in answer.content.decode()
    assert _signed_in_as(later) is None


def test_an_unlinked_local_account_of_the_same_name_is_not_taken_over(
    client, sso, mapped
):
    from tests.conftest import make_user

    local = make_user("rita", roles.DATA_SCIENTIST)
    sso.set_account("rita", groups=["gh-admins"])
    answer = sign_in(client, sso, "rita")
    assert answer.status_code == 403
    assert "already exists" in answer.content.decode()
    assert user_roles(User.objects.get(pk=local.pk)) == {roles.DATA_SCIENTIST}
    assert not ExternalIdentity.objects.exists()


def test_linking_local_accounts_when_allowed(client, sso, mapped, settings):
    from tests.conftest import make_user

    settings.OIDC_LINK_LOCAL_ACCOUNTS = True
    local = make_user("rita", roles.DATA_SCIENTIST)
    sso.set_account("rita", groups=["gh-reviewers"])
    assert sign_in(client, sso, "rita").status_code == 302
    assert user_roles(User.objects.get(pk=local.pk)) == {roles.REVIEWER}
    (linked,) = _events("identity.linked")
    assert '"linked":"local_account"' in linked.payload_json


def test_next_is_followed_after_sign_in(client, sso):
    sso.set_account("rita")
    answer = sign_in(client, sso, "rita", next_url="/approvals/")
    assert answer["Location"] == "/approvals/"


def test_sign_out_ends_the_session_at_the_provider_too(client, sso):
    sso.set_account("rita")
    sign_in(client, sso, "rita")
    id_token = client.session["oidc_id_token"]
    answer = client.post("/logout/")
    assert answer.status_code == 302
    target = answer["Location"]
    assert target.startswith(f"{sso.issuer}/session/end")
    params = query(target)
    assert params["id_token_hint"] == id_token
    assert params["post_logout_redirect_uri"] == "http://testserver/login/"
    assert _signed_in_as(client) is None
    # The provider accepts the hint (the browser test goes through its pages).
    confirm = requests.get(target, timeout=10)
    assert confirm.status_code == 200
    assert "/session/end/confirm" in confirm.text


def test_a_provider_that_cannot_be_reached_gets_a_clear_page(client, settings):
    from identity import discovery

    settings.OIDC_ISSUER = "http://127.0.0.1:9"
    settings.OIDC_RP_CLIENT_ID = "x"
    settings.OIDC_RP_CLIENT_SECRET = "y"
    settings.OIDC_TIMEOUT = 2
    discovery.forget()
    answer = client.get("/sso/start/")
    assert answer.status_code == 502
    assert "cannot be reached" in answer.content.decode()
    discovery.forget()


def test_without_an_issuer_there_is_no_sso(client):
    assert client.get("/sso/start/").status_code == 404
    assert client.get("/sso/callback/?code=x&state=y").status_code == 404
    assert "Sign in with" not in client.get("/login/").content.decode()


def test_an_idp_outage_stops_neither_passwords_nor_open_sessions(
    client, settings, data_scientist
):
    from identity import discovery

    settings.OIDC_ISSUER = "http://127.0.0.1:9"
    settings.OIDC_RP_CLIENT_ID = "x"
    settings.OIDC_RP_CLIENT_SECRET = "y"
    discovery.forget()
    answer = client.post(
        "/login/", {"username": "dana", "password": "correct horse battery staple"}
    )
    assert answer.status_code == 302
    sso_session = Client()
    sso_session.force_login(data_scientist, backend="identity.backends.OidcBackend")
    assert sso_session.get("/").status_code == 200
    discovery.forget()
