"""SCIM 2.0 provisioning: the IdP creates, updates, deactivates and deletes
people and groups; deactivation ends sessions and stops tokens at once; bad
input is a SCIM 400 that changes nothing."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from audit.models import AuditEvent
from identity.models import ExternalIdentity, ScimGroup, UserSession
from kernel import roles
from kernel.roles import user_roles
from portal.services import api_token_create

pytestmark = pytest.mark.django_db

User = get_user_model()
SECRET = "scim-test-secret-0123456789"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture(autouse=True)
def _scim_on(settings):
    settings.SCIM_TOKEN = SECRET


def call(method, path, body=None, *, secret=SECRET, raw=None):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    data = raw if raw is not None else (json.dumps(body) if body is not None else "")
    return getattr(client, method)(
        f"/scim/v2/{path}", data=data, content_type="application/scim+json", **headers
    )


def new_user(username="alice", **extra):
    body = {
        "schemas": [USER_SCHEMA],
        "userName": username,
        "externalId": f"ext-{username}",
        "name": {"givenName": username.title(), "familyName": "Ng"},
        "emails": [{"value": f"{username}@corp.example", "primary": True}],
        "active": True,
        **extra,
    }
    answer = call("post", "Users", body)
    assert answer.status_code == 201, answer.json()
    return answer.json()


def patch(path, *operations):
    return call(
        "patch", path, {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}
    )


def _state():
    return (
        list(User.objects.order_by("pk").values_list("username", "is_active")),
        list(ExternalIdentity.objects.values_list("external_id", flat=True)),
        list(ScimGroup.objects.values_list("display_name", flat=True)),
        AuditEvent.objects.count(),
    )


def test_it_creates_a_user(client):
    body = new_user()
    alice = User.objects.get(username="alice")
    assert (alice.email, alice.first_name, alice.is_active) == (
        "alice@corp.example",
        "Alice",
        True,
    )
    assert not alice.has_usable_password()
    assert body["id"] == str(alice.external_identity.scim_id)
    assert body["externalId"] == "ext-alice"
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")
    assert not alice.groups.exists()
    event = AuditEvent.objects.get(action="identity.user_provisioned")
    assert event.actor_text == "scim"


def test_it_finds_users_by_filter(client):
    new_user("alice")
    new_user("bob")
    answer = call("get", 'Users?filter=userName eq "bob"')
    assert answer["Content-Type"] == "application/scim+json"
    body = answer.json()
    assert body["totalResults"] == 1
    assert [r["userName"] for r in body["Resources"]] == ["bob"]
    everyone = call("get", "Users?startIndex=2&count=1").json()
    assert (everyone["totalResults"], everyone["itemsPerPage"]) == (2, 1)
    assert everyone["Resources"][0]["userName"] == "bob"


def test_listing_users_takes_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        new_user(name)
    with django_assert_max_num_queries(4):
        assert len(call("get", "Users").json()["Resources"]) == 5


def test_deactivation_ends_sessions_and_stops_tokens_at_once():
    body = new_user()
    alice = User.objects.get(username="alice")
    _, token = api_token_create(user=alice, name="ci")
    browser = Client()
    browser.force_login(alice)
    assert browser.get("/api/v1/me/").status_code == 200
    assert (
        Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code
        == 200
    )
    (session_key,) = UserSession.objects.filter(user=alice).values_list(
        "session_key", flat=True
    )

    answer = patch(
        f"Users/{body['id']}", {"op": "Replace", "path": "active", "value": "False"}
    )
    assert answer.status_code == 200
    assert answer.json()["active"] is False
    assert not UserSession.objects.filter(user=alice).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert browser.get("/api/v1/me/").status_code == 401
    assert browser.get("/")["Location"].startswith("/login/")
    refused = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert refused.status_code == 401
    event = AuditEvent.objects.get(action="identity.user_deactivated")
    assert '"sessions_ended":1' in event.payload_json

    # And back (Okta's form: no path, an object value).
    patch(f"Users/{body['id']}", {"op": "replace", "value": {"active": True}})
    assert User.objects.get(pk=alice.pk).is_active
    assert AuditEvent.objects.filter(action="identity.user_reactivated").count() == 1


def test_delete_deactivates_keeps_history_and_takes_access_away(team):
    from identity.models import GroupMapping

    GroupMapping.objects.create(claim="gh-reviewers", role=roles.REVIEWER)
    body = new_user()
    call(
        "post",
        "Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "gh-reviewers",
            "members": [{"value": body["id"]}],
        },
    )
    alice = User.objects.get(username="alice")
    assert user_roles(alice) == {roles.REVIEWER}
    assert call("delete", f"Users/{body['id']}").status_code == 204
    alice = User.objects.get(username="alice")
    assert not alice.is_active
    assert not alice.groups.exists()
    assert call("get", f"Users/{body['id']}").status_code == 404
    assert AuditEvent.objects.filter(target_id=str(alice.pk)).count() >= 4


def test_groups_grant_and_take_away_mapped_roles_and_teams(team):
    from identity.models import GroupMapping

    GroupMapping.objects.create(claim="gh-reviewers", role=roles.REVIEWER)
    GroupMapping.objects.create(claim="00000000-aaaa", team=team)
    alice, bob = new_user("alice"), new_user("bob")
    group = call(
        "post",
        "Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "gh-reviewers",
            "members": [{"value": alice["id"]}],
        },
    ).json()
    credit = call(
        "post",
        "Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "Credit risk",
            "externalId": "00000000-aaaa",
        },
    ).json()
    assert user_roles(User.objects.get(username="alice")) == {roles.REVIEWER}
    # Entra ID's add and remove of members.
    patch(
        f"Groups/{group['id']}",
        {"op": "Add", "path": "members", "value": [{"value": bob["id"]}]},
    )
    patch(
        f"Groups/{group['id']}",
        {"op": "Remove", "path": f'members[value eq "{alice["id"]}"]'},
    )
    patch(
        f"Groups/{credit['id']}",
        {"op": "add", "path": "members", "value": [{"value": bob["id"]}]},
    )
    assert user_roles(User.objects.get(username="alice")) == frozenset()
    bob_user = User.objects.get(username="bob")
    assert user_roles(bob_user) == {roles.REVIEWER}
    assert list(bob_user.groups.filter(team__isnull=False)) == [team.group]
    listed = call("get", f"Groups/{group['id']}").json()
    assert [m["display"] for m in listed["members"]] == ["bob"]
    revoked = AuditEvent.objects.get(action="identity.role_revoked")
    assert revoked.target_text == "alice"
    assert '"missing_claims":["gh-reviewers"]' in revoked.payload_json
    joined = AuditEvent.objects.get(action="identity.team_joined")
    assert '"claims":["00000000-aaaa"]' in joined.payload_json

    assert call("delete", f"Groups/{credit['id']}").status_code == 204
    assert (
        not User.objects.get(username="bob").groups.filter(team__isnull=False).exists()
    )


def test_listing_groups_takes_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    members = [{"value": new_user(f"u{i}")["id"]} for i in range(4)]
    for name in ("g1", "g2", "g3"):
        call(
            "post",
            "Groups",
            {"schemas": [GROUP_SCHEMA], "displayName": name, "members": members},
        )
    with django_assert_max_num_queries(4):
        body = call("get", "Groups").json()
    assert [len(g["members"]) for g in body["Resources"]] == [4, 4, 4]


@pytest.mark.parametrize(
    ("secret", "status"), [(None, 401), ("wrong", 401), (SECRET + "x", 401)]
)
def test_a_wrong_secret_is_refused(secret, status):
    answer = call("get", "Users", secret=secret)
    assert answer.status_code == status
    assert answer.json()["schemas"] == [ERROR_SCHEMA]
    assert (
        call(
            "post", "Users", {"schemas": [USER_SCHEMA], "userName": "x"}, secret=secret
        ).status_code
        == status
    )
    assert not User.objects.filter(username="x").exists()


def test_wrong_secrets_from_one_address_are_throttled():
    # Counted like bad API tokens (per address, 10 within the cool-off).
    for _ in range(9):
        assert call("get", "Users", secret="guess").status_code == 401
    answer = call("get", "Users", secret="guess")
    assert answer.status_code == 429
    assert answer["Retry-After"] == "900"
    assert answer.json()["schemas"] == [ERROR_SCHEMA]
    assert "Too many failed authentication attempts" in answer.json()["detail"]
    refused = call(
        "post", "Users", {"schemas": [USER_SCHEMA], "userName": "x"}, secret="guess"
    )
    assert refused.status_code == 429
    assert not User.objects.filter(username="x").exists()
    # The identity provider's own secret still works from there.
    assert call("get", "Users").status_code == 200
    failed = AuditEvent.objects.filter(action="auth.login_failed")
    assert failed.exists()


def test_without_a_secret_configured_there_is_no_scim(settings):
    settings.SCIM_TOKEN = ""
    assert call("get", "Users").status_code == 404
    assert call("get", "Users", secret="").status_code == 404


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"userName": "x"}, "invalidSyntax"),  # no schemas
        ({"schemas": [USER_SCHEMA]}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "has space"}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "x" * 151}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "nul\x00"}, "invalidSyntax"),
        ({"schemas": [USER_SCHEMA], "userName": "x", "active": "maybe"}, None),
        ({"schemas": [USER_SCHEMA], "userName": "x", "emails": "x@y"}, None),
        (
            {"schemas": [USER_SCHEMA], "userName": "x", "emails": [{"value": "no"}]},
            None,
        ),
        ({"schemas": [USER_SCHEMA], "userName": "x", "name": "X"}, None),
        ([1, 2], "invalidSyntax"),
    ],
)
def test_bad_user_input_is_a_scim_400_and_changes_nothing(body, scim_type):
    before = _state()
    answer = call("post", "Users", body)
    assert answer.status_code == 400
    error = answer.json()
    assert error["schemas"] == [ERROR_SCHEMA]
    assert error["status"] == "400"
    assert error["scimType"] == (scim_type or "invalidValue")
    assert _state() == before


def test_malformed_json_is_a_scim_400():
    answer = call("post", "Users", raw="{not json")
    assert answer.status_code == 400
    assert answer.json()["scimType"] == "invalidSyntax"


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "replace", "path": "active", "value": "perhaps"}],
        [{"op": "replace", "path": "password", "value": "x"}],
        [{"op": "remove", "path": "userName"}],
        [{"op": "jump", "path": "active", "value": False}],
        # One good operation and one bad: neither is applied.
        [
            {"op": "replace", "path": "active", "value": False},
            {"op": "replace", "path": "userName", "value": "bad name"},
        ],
        [],
    ],
)
def test_a_bad_patch_changes_nothing(operations):
    body = new_user()
    before = _state()
    answer = call(
        "patch",
        f"Users/{body['id']}",
        {"schemas": [PATCH_SCHEMA], "Operations": operations},
    )
    assert answer.status_code == 400
    assert answer.json()["schemas"] == [ERROR_SCHEMA]
    assert _state() == before
    assert User.objects.get(username="alice").is_active


def test_a_taken_user_name_is_a_conflict():
    from tests.conftest import make_user

    make_user("root-admin", is_superuser=True)
    new_user("alice")
    before = _state()
    for name in ("alice", "root-admin"):
        answer = call("post", "Users", {"schemas": [USER_SCHEMA], "userName": name})
        assert answer.status_code == 409
        assert answer.json()["scimType"] == "uniqueness"
    assert _state() == before


def test_unknown_members_and_filters_are_refused():
    new_user()
    before = _state()
    answer = call(
        "post",
        "Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "g",
            "members": [{"value": "5f1c4a3e-0000-4000-8000-000000000000"}],
        },
    )
    assert answer.status_code == 400
    assert _state() == before
    answer = call("get", 'Users?filter=password eq "x"')
    assert (answer.status_code, answer.json()["scimType"]) == (400, "invalidFilter")
    assert call("get", "Users/not-a-uuid").status_code == 400
    assert call("get", "Users/5f1c4a3e-0000-4000-8000-000000000000").status_code == 404


def test_the_service_provider_config_is_served():
    body = call("get", "ServiceProviderConfig").json()
    assert body["patch"] == {"supported": True}
    assert body["bulk"]["supported"] is False
