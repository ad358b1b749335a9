"""Service accounts: who may create and manage them (service, page, API), their
scoped tokens, that they never sign in and never approve, and that
deactivating one stops its tokens at once."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from kernel import roles
from kernel.errors import InvalidInput, PermissionDenied
from kernel.models import ApiToken, ServiceAccount
from kernel.scopes import SERVICE_ACCOUNT_SCOPES
from portal.accounts import services
from portal.services import api_token_create, user_password_set
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
API = "/api/v1/service-accounts/"


@pytest.fixture
def lead(team):
    return make_user("lee", roles.TEAM_LEAD, roles.DATA_SCIENTIST, team=team)


@pytest.fixture
def other_lead(other_team):
    return make_user("lou", roles.TEAM_LEAD, team=other_team)


@pytest.fixture
def account(lead, team):
    return services.service_account_create(
        actor=lead, name="nightly-ci", team_id=team.pk, description="Nightly training"
    )


def token_client(user, **extra) -> APIClient:
    client = APIClient()
    _, plaintext = api_token_create(user=user, name="tests", **extra)
    client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    return client


# --- Who creates and manages -------------------------------------------------------


def test_a_team_lead_creates_an_account_of_their_team(lead, team):
    account = services.service_account_create(
        actor=lead, name="Nightly-CI ", team_id=team.pk
    )
    user = account.user
    assert user.username == "svc-nightly-ci"
    assert not user.has_usable_password()
    assert set(user.groups.values_list("name", flat=True)) == {
        "team:credit-risk",
        roles.DATA_SCIENTIST,
    }
    event = AuditEvent.objects.get(action="service_account.created")
    assert (event.actor_id, event.payload["team"]) == (lead.pk, "credit-risk")


def test_a_platform_admin_creates_one_for_any_team(platform_admin, other_team):
    account = services.service_account_create(
        actor=platform_admin, name="scorer", team_id=other_team.pk
    )
    assert account.team == other_team


@pytest.mark.parametrize(
    "persona", ["other_lead", "data_scientist", "auditor", "reviewer", "outsider"]
)
def test_others_may_not_create_one(request, persona, team):
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        services.service_account_create(actor=actor, name="sneaky", team_id=team.pk)
    assert not ServiceAccount.objects.exists()
    assert not AuditEvent.objects.filter(action="service_account.created").exists()


def test_a_service_account_creates_no_service_account(account, team):
    Group.objects.get(name=roles.TEAM_LEAD).user_set.add(account.user)
    actor = type(account.user).objects.get(pk=account.user.pk)
    with pytest.raises(PermissionDenied):
        services.service_account_create(actor=actor, name="child", team_id=team.pk)
    assert ServiceAccount.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "team_given", "field"),
    [
        ("", True, "name"),
        ("x", True, "name"),
        ("Bad name!", True, "name"),
        ("ok-name", False, "team"),
    ],
)
def test_bad_input_creates_nothing(lead, team, name, team_given, field):
    with pytest.raises(InvalidInput) as caught:
        services.service_account_create(
            actor=lead, name=name, team_id=team.pk if team_given else None
        )
    assert field in caught.value.fields
    assert not ServiceAccount.objects.exists()


def test_a_taken_name_is_refused(lead, team, account):
    with pytest.raises(InvalidInput) as caught:
        services.service_account_create(actor=lead, name="nightly-ci", team_id=team.pk)
    assert "taken" in caught.value.fields["name"][0]


# --- Tokens ------------------------------------------------------------------------


def test_its_tokens_carry_scopes_and_never_an_approving_one(lead, account):
    token, _ = services.service_account_token_create(
        actor=lead,
        account_id=account.pk,
        name="ci",
        scopes=["registry:write", "requests:create"],
        expires_in_days=30,
    )
    assert token.user == account.user
    assert token.scope_set == {"registry:write", "requests:create"}
    event = AuditEvent.objects.get(action="token.created")
    assert (event.actor_id, event.payload["owner"]) == (lead.pk, "svc-nightly-ci")
    for scope in ("decisions:write", "validations:write", "deployments:rollback"):
        with pytest.raises(InvalidInput) as caught:
            services.service_account_token_create(
                actor=lead,
                account_id=account.pk,
                name="approver",
                scopes=[scope],
                expires_in_days=30,
            )
        assert "approve nothing" in caught.value.fields["scopes"][0]
    # Made without a list, a service account's token still gets no approving one.
    default, _ = api_token_create(user=account.user, name="default")
    assert default.scope_set == set(SERVICE_ACCOUNT_SCOPES)


@pytest.mark.parametrize("persona", ["other_lead", "data_scientist", "auditor"])
def test_others_make_no_token_for_it(request, persona, account):
    with pytest.raises((PermissionDenied, services.NotFound)):
        services.service_account_token_create(
            actor=request.getfixturevalue(persona),
            account_id=account.pk,
            name="stolen",
            scopes=["registry:read"],
            expires_in_days=7,
        )
    assert not ApiToken.objects.exists()


def test_deactivating_stops_its_tokens_at_once(lead, account):
    client = token_client(account.user, scopes=["registry:read"])
    assert client.get("/api/v1/models/").status_code == 200
    services.service_account_deactivate(actor=lead, account_id=account.pk)
    response = client.get("/api/v1/models/")
    assert response.status_code == 401
    assert "deactivated" in response.json()["message"]
    with pytest.raises(InvalidInput):
        services.service_account_token_create(
            actor=lead,
            account_id=account.pk,
            name="again",
            scopes=["registry:read"],
            expires_in_days=7,
        )


def test_a_lead_revokes_its_token_and_an_other_lead_may_not(lead, other_lead, account):
    token, _ = api_token_create(user=account.user, name="ci")
    with pytest.raises((PermissionDenied, services.NotFound)):
        services.service_account_token_revoke(
            actor=other_lead, account_id=account.pk, token_id=token.pk
        )
    token.refresh_from_db()
    assert token.revoked_at is None
    services.service_account_token_revoke(
        actor=lead, account_id=account.pk, token_id=token.pk
    )
    token.refresh_from_db()
    assert token.revoked_at is not None


# --- Never a session ---------------------------------------------------------------


def test_it_never_signs_in_even_with_a_password(client, platform_admin, account):
    user_password_set(actor=platform_admin, user=account.user, password="pw-123456!")
    response = client.post(
        reverse("login"), {"username": "svc-nightly-ci", "password": "pw-123456!"}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302  # back to the login page
    with pytest.raises(DjangoPermissionDenied):
        client.force_login(account.user)


def test_mlflow_refuses_its_password(client, platform_admin, account):
    import base64

    user_password_set(actor=platform_admin, user=account.user, password="pw-123456!")
    basic = base64.b64encode(b"svc-nightly-ci:pw-123456!").decode()
    response = client.get(
        "/api/2.0/mlflow/registered-models/search",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 401
    assert "API tokens" in response.json()["message"]


# --- Pages -------------------------------------------------------------------------


class TestPages:
    @pytest.mark.parametrize(
        ("persona", "status"),
        [
            ("lead", 200),
            ("platform_admin", 200),
            ("auditor", 200),
            ("data_scientist", 403),
            ("outsider", 403),
        ],
    )
    def test_who_sees_the_list(self, request, client, account, persona, status):
        client.force_login(request.getfixturevalue(persona))
        response = client.get(reverse("service-accounts"))
        assert response.status_code == status
        if status == 200:
            assert "svc-nightly-ci" in response.content.decode()

    def test_anonymous_goes_to_the_login_page(self, client):
        response = client.get(reverse("service-accounts"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_an_auditor_sees_no_form_and_may_not_post(self, client, auditor, team):
        client.force_login(auditor)
        assert client.get(reverse("service-accounts")).context["form"] is None
        response = client.post(
            reverse("service-accounts"), {"name": "x-y-z", "team": team.pk}
        )
        assert response.status_code == 403
        assert not ServiceAccount.objects.exists()

    def test_a_lead_creates_one_and_lands_on_its_page(self, client, lead, team):
        client.force_login(lead)
        response = client.post(
            reverse("service-accounts"),
            {"name": "scorer", "team": team.pk, "description": "Batch scoring"},
        )
        account = ServiceAccount.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("service-account", args=[account.pk])

    def test_the_form_offers_only_the_leads_teams(self, client, lead, other_team):
        client.force_login(lead)
        form = client.get(reverse("service-accounts")).context["form"]
        assert list(form.fields["team"].queryset.values_list("slug", flat=True)) == [
            "credit-risk"
        ]
        response = client.post(
            reverse("service-accounts"), {"name": "sneaky", "team": other_team.pk}
        )
        assert response.status_code == 400
        assert "team" in response.context["form"].errors
        assert not ServiceAccount.objects.exists()

    def test_a_token_is_made_on_its_page_and_shown_once(self, client, lead, account):
        client.force_login(lead)
        url = reverse("service-account", args=[account.pk])
        page = client.get(url)
        offered = [value for value, _ in page.context["form"].fields["scopes"].choices]
        assert "decisions:write" not in offered
        response = client.post(
            url,
            {"name": "ci", "scopes": ["registry:write"], "expires_in_days": "30"},
        )
        assert response.status_code == 302
        assert response["Location"] == url
        shown = client.get(url)
        token = ApiToken.objects.get(user=account.user)
        assert shown.context["new_token"]["plaintext"].startswith(f"gh_{token.prefix}_")
        assert client.get(url).context["new_token"] is None

    def test_an_approving_scope_posted_anyway_is_refused(self, client, lead, account):
        client.force_login(lead)
        response = client.post(
            reverse("service-account", args=[account.pk]),
            {"name": "ci", "scopes": ["decisions:write"], "expires_in_days": "30"},
        )
        assert response.status_code == 400
        assert not ApiToken.objects.exists()

    def test_another_teams_lead_gets_404(self, client, other_lead, account):
        client.force_login(other_lead)
        url = reverse("service-account", args=[account.pk])
        assert client.get(url).status_code == 404
        assert (
            client.post(
                reverse("service-account-deactivate", args=[account.pk])
            ).status_code
            == 404
        )
        account.user.refresh_from_db()
        assert account.user.is_active

    def test_an_auditor_reads_but_changes_nothing(self, client, auditor, account):
        client.force_login(auditor)
        url = reverse("service-account", args=[account.pk])
        page = client.get(url)
        assert page.status_code == 200
        assert page.context["form"] is None
        assert "Deactivate" not in page.content.decode()
        response = client.post(
            url, {"name": "ci", "scopes": ["registry:read"], "expires_in_days": "7"}
        )
        assert response.status_code == 403
        deactivate = client.post(
            reverse("service-account-deactivate", args=[account.pk])
        )
        assert deactivate.status_code == 403
        assert not ApiToken.objects.exists()

    def test_the_lead_deactivates_it(self, client, lead, account):
        client.force_login(lead)
        client.post(reverse("service-account-deactivate", args=[account.pk]))
        account.user.refresh_from_db()
        assert not account.user.is_active
        assert AuditEvent.objects.filter(
            action="service_account.deactivated", actor=lead
        ).exists()

    def test_the_list_takes_a_fixed_number_of_queries(
        self, client, platform_admin, team, django_assert_max_num_queries
    ):
        for index in range(6):
            account = services.service_account_create(
                actor=platform_admin, name=f"job-{index}", team_id=team.pk
            )
            api_token_create(user=account.user, name="ci")
        client.force_login(platform_admin)
        client.get(reverse("service-accounts"))  # warm caches
        with django_assert_max_num_queries(12) as counted:
            response = client.get(reverse("service-accounts"))
        assert response.content.decode().count("svc-job-") == 6
        assert len(counted) <= 12


# --- API ---------------------------------------------------------------------------


class TestApi:
    def test_a_lead_creates_reads_and_tokens_one(self, lead):
        client = token_client(lead)
        response = client.post(
            API, {"name": "scorer", "team": "credit-risk"}, format="json"
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["username"], body["team"], body["is_active"]) == (
            "svc-scorer",
            "credit-risk",
            True,
        )
        assert client.get(API).json()["results"][0]["username"] == "svc-scorer"
        made = client.post(
            f"{API}{body['id']}/tokens",
            {"name": "ci", "scopes": ["registry:read"], "expires_in_days": 30},
            format="json",
        )
        assert made.status_code == 201
        secret = made.json()["token"]
        robot = APIClient()
        robot.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        assert robot.get("/api/v1/models/").status_code == 200
        # The account's token may not manage accounts (no scope, no rule).
        assert robot.get(API).status_code == 403
        listed = client.get(f"{API}{body['id']}/tokens").json()["results"]
        assert [token["scopes"] for token in listed] == [["registry:read"]]
        assert "token" not in listed[0]

    def test_permission_comes_before_the_body(self, data_scientist):
        response = token_client(data_scientist).post(API, {"name": 5}, format="json")
        assert response.status_code == 403
        assert not ServiceAccount.objects.exists()

    def test_another_teams_slug_is_refused(self, lead, other_team):
        response = token_client(lead).post(
            API, {"name": "sneaky", "team": "recommendations"}, format="json"
        )
        assert response.status_code == 403
        assert not ServiceAccount.objects.exists()

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"team": "credit-risk"}, "name"),
            ({"name": "Bad Name", "team": "credit-risk"}, "name"),
            ({"name": "ok-name"}, "team"),
            ({"name": "ok-name", "team": "no-such-team"}, "team"),
        ],
    )
    def test_bad_input_is_400_and_creates_nothing(self, lead, body, field):
        response = token_client(lead).post(API, body, format="json")
        assert response.status_code == 400
        assert field in response.json()["fields"]
        assert not ServiceAccount.objects.exists()

    def test_an_approving_scope_is_400(self, lead, account):
        response = token_client(lead).post(
            f"{API}{account.pk}/tokens",
            {"name": "ci", "scopes": ["deployments:rollback"], "expires_in_days": 7},
            format="json",
        )
        assert response.status_code == 400
        assert "scopes" in response.json()["fields"]
        assert not ApiToken.objects.filter(user=account.user).exists()

    def test_deactivate_over_the_api(self, lead, account):
        _, secret = api_token_create(user=account.user, name="ci")
        response = token_client(lead).post(f"{API}{account.pk}/deactivate")
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        robot = APIClient()
        robot.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        assert robot.get("/api/v1/models/").status_code == 401

    def test_a_read_only_token_may_not_create(self, lead):
        response = token_client(lead, scopes=["accounts:read"]).post(
            API, {"name": "scorer", "team": "credit-risk"}, format="json"
        )
        assert response.status_code == 403
        assert "'accounts:write'" in response.json()["message"]


@pytest.mark.parametrize(
    ("persona", "shown"),
    [
        ("platform_admin", True),
        ("lead", True),
        ("auditor", True),
        ("data_scientist", False),
        ("reviewer", False),
    ],
)
def test_the_navigation_links_service_accounts_for_who_may_see_them(
    client, request, persona, shown
):
    client.force_login(request.getfixturevalue(persona))
    page = client.get(reverse("home")).content.decode()
    link = f'href="{reverse("service-accounts")}"'
    assert (link in page) is shown
    assert client.get(reverse("service-accounts")).status_code == (
        200 if shown else 403
    )
