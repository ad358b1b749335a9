"""The audit pages show people's labels and links, never content-type names."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.services import audit_record
from tests.audit.helpers import login_quietly, record_events
from tests.models_registry import factories

pytestmark = pytest.mark.django_db

LIST = reverse("audit:event-list")


@pytest.fixture
def auditor_client(client, auditor):
    login_quietly(client, auditor)
    return client


def _version_events(data_scientist, team, count: int):
    model = factories.make_model(data_scientist, team)
    versions = [factories.make_version(data_scientist, model) for _ in range(count)]
    for version in versions:
        audit_record(actor=None, action="test.version", target=version)
    return model, versions


def test_targets_read_as_labels_with_links(auditor_client, data_scientist, team):
    model, (version,) = _version_events(data_scientist, team, 1)
    audit_record(
        actor=None,
        action="request.submitted",
        target_type="approvals.deploymentrequest",
        target_id="9",
        target_text="request 9",
    )
    audit_record(
        actor=None, action="user.created", target_type="auth.user", target_id="4"
    )
    body = auditor_client.get(LIST).content.decode()
    version_url = reverse("registry:version-detail", args=[model.name, 1])
    assert f'<a href="{version_url}">Model version #{version.pk}</a>' in body
    request_url = reverse("approvals:request-detail", args=[9])
    assert f'<a href="{request_url}">Deployment request #9</a> · request 9' in body
    assert "User #4" in body  # no page to link to: a label only
    shown = re.sub(r"<option[^>]*>", "", body)  # option values stay the stored ones
    for internal in ("approvals.deploymentrequest", "models_registry.", "auth.user"):
        assert internal not in shown


def test_filters_offer_the_log_s_values_as_choices(auditor_client):
    record_events(1, action="token.created")
    record_events(1, action="token.revoked", target_type="portal.apitoken")
    record_events(1, action="model.registered", scope="credit-scoring")
    body = auditor_client.get(LIST).content.decode()
    assert "For example auth.user" not in body
    assert '<select name="target_type"' in body
    assert '<option value="portal.apitoken">Api token</option>' in body
    assert '<option value="token.">Every token event</option>' in body
    assert '<option value="token.revoked">API token revoked</option>' in body
    assert '<option value="credit-scoring">credit-scoring</option>' in body
    # The choices filter as the text did; an unknown value stays selected.
    response = auditor_client.get(LIST, {"action": "token."})
    assert re.findall(r'aria-label="Event (\d+)"', response.content.decode()) == [
        "2",
        "1",
    ]
    response = auditor_client.get(LIST, {"target_type": "gone.model"})
    assert response.status_code == 200
    assert '<option value="gone.model" selected>gone.model</option>' in (
        response.content.decode()
    )


def test_detail_shows_the_target_label_and_seconds(auditor_client):
    (event,) = record_events(
        1, target_type="approvals.deployment", target_id="3", target_text="v2"
    )
    body = auditor_client.get(
        reverse("audit:event-detail", args=[event.sequence])
    ).content.decode()
    url = reverse("approvals:deployment-detail", args=[3])
    assert f'<a href="{url}">Deployment #3</a> · v2' in body
    shown = re.search(r'<time datetime="[^"]+" title="[^"]+">([^<]+)</time>', body)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", shown.group(1))


def test_links_cost_one_query_per_target_type(auditor_client, data_scientist, team):
    _version_events(data_scientist, team, 1)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert auditor_client.get(LIST).status_code == 200
        return len(queries)

    count()  # the first request of a session may write the session
    few = count()
    _version_events(data_scientist, team, 6)
    assert count() == few
