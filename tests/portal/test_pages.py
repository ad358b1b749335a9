import pytest
from django.urls import reverse

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize("name", ["home", "api-tokens"])
def test_pages_require_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse(name)}"


@pytest.mark.parametrize("name", ["login", "api-docs", "api-schema", "healthz"])
def test_public_pages_answer_without_login(client, name):
    assert client.get(reverse(name)).status_code in {200, 503}


def test_login_and_logout_are_audited(client, data_scientist):
    response = client.post(
        reverse("login"),
        {"username": "dana", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.7",
    )
    assert response.status_code == 302
    client.post(reverse("logout"))
    events = list(AuditEvent.objects.order_by("sequence"))
    assert [event.action for event in events] == ["auth.login", "auth.logout"]
    assert events[0].actor_id == data_scientist.pk
    assert events[0].actor_ip == "192.0.2.7"
    assert len(events[0].request_id) == 32


def test_failed_login_is_audited_without_the_password(client, data_scientist):
    response = client.post(reverse("login"), {"username": "dana", "password": "wrong"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_id, event.actor_text) == (
        "auth.login_failed",
        None,
        "dana",
    )
    assert "wrong" not in event.payload_json


def test_request_id_is_echoed_and_recorded(client, data_scientist):
    response = client.post(
        reverse("login"),
        {"username": "dana", "password": PASSWORD},
        HTTP_X_REQUEST_ID="trace-123",
    )
    assert response["X-Request-ID"] == "trace-123"
    assert AuditEvent.objects.get().request_id == "trace-123"


def test_unsafe_request_ids_are_replaced(client):
    response = client.get(reverse("login"), HTTP_X_REQUEST_ID="<script>")
    assert response["X-Request-ID"] != "<script>"
    assert len(response["X-Request-ID"]) == 32


def test_home_shows_roles_teams_and_my_activity(client, data_scientist, reviewer):
    from portal.services import api_token_create

    api_token_create(user=reviewer, name="reviewers-token")
    api_token_create(user=data_scientist, name="my-token")
    client.force_login(data_scientist)
    body = client.get(reverse("home")).content.decode()
    assert '<li class="tag">Data scientist</li>' in body
    assert "Credit Risk" in body
    assert "1 active API token" in body
    assert '<td data-label="Action">API token created</td>' in body
    assert "token.created" not in body
    assert "data_scientist" not in body
    assert "my-token" in body
    assert "reviewers-token" not in body


def test_auditor_home_shows_everyones_events(client, auditor, data_scientist):
    from portal.services import api_token_create

    api_token_create(user=data_scientist, name="dana-token")
    client.force_login(auditor)
    body = client.get(reverse("home")).content.decode()
    assert "Latest audit events" in body
    assert "dana-token" in body


@pytest.mark.parametrize(
    ("persona", "sees_admin"),
    [("data_scientist", False), ("auditor", False), ("platform_admin", True)],
)
def test_navigation_fits_the_roles(client, request, persona, sees_admin):
    client.force_login(request.getfixturevalue(persona))
    body = client.get(reverse("home")).content.decode()
    assert (reverse("admin:index") in body) is sees_admin


def test_home_query_count_does_not_grow_with_data(
    client, data_scientist, django_assert_max_num_queries
):
    from portal.services import api_token_create

    client.force_login(data_scientist)
    for index in range(15):
        api_token_create(user=data_scientist, name=f"t{index}")
    with django_assert_max_num_queries(8):
        client.get(reverse("home"))


def test_api_docs_use_local_assets(client):
    body = client.get(reverse("api-docs")).content.decode()
    assert "cdn" not in body.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body


def test_schema_documents_the_api(client):
    response = client.get(
        reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    schema = response.json()
    assert "/api/v1/me/" in schema["paths"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]
