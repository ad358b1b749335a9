"""Webhooks go to public addresses only, unless a network is allowed: internal
addresses (loopback, private, link-local such as cloud metadata) are refused
when the endpoint is saved and again, after resolving the name, when a
delivery is sent; the connection goes to the address that was checked."""

import pytest
from django.urls import reverse

from approvals.models import DeliveryStatus, WebhookEndpoint
from approvals.webhooks import (
    _resolve,
    address_refusal,
    host_refusal,
    webhook_event_record,
)
from tests.approvals.factories import make_endpoint
from tests.approvals.webhook_receiver import WebhookReceiver
from tests.portal.test_settings import _run

pytestmark = pytest.mark.django_db

INTERNAL = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # noqa: S104 (an address under test, not a bind)
    "fd00::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "224.0.0.1",
]


@pytest.fixture(autouse=True)
def _no_network_allowed(settings):
    """The default of a portal (the package's conftest allows loopback)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = []


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.stop()


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused(address):
    assert "is not a public address" in address_refusal(address)
    assert host_refusal(address)


def test_public_addresses_and_names_pass_the_first_check():
    assert address_refusal("93.184.216.34") == ""
    assert address_refusal("2606:2800:220:1:248:1893:25c8:1946") == ""
    assert host_refusal("hooks.example.com") == ""
    assert host_refusal("localhost")
    assert host_refusal("api.localhost")


def test_allowed_networks_let_internal_receivers_in(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16", "fd00:1::/64"]
    assert address_refusal("10.20.3.4") == ""
    assert address_refusal("fd00:1::5") == ""
    assert address_refusal("10.21.0.1")
    assert address_refusal("127.0.0.1")


def test_names_are_checked_by_what_they_resolve_to():
    address, refusal = _resolve("localhost", 80)
    assert address == ""
    assert refusal.startswith("Not sent: localhost resolves to ")
    assert "not a public address" in refusal
    assert _resolve("no-such-host.invalid", 80)[1].startswith(
        "Could not resolve no-such-host.invalid"
    )


def test_a_delivery_to_an_internal_address_is_not_sent(
    receiver, django_capture_on_commit_callbacks
):
    make_endpoint(url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = webhook_event_record(
            event="deployment.executed", data={"deployment": {"id": 1}}
        )
    delivery.refresh_from_db()
    assert receiver.received == []
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("Not sent: 127.0.0.1 is not a public")


def test_the_same_delivery_goes_out_once_the_network_is_allowed(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    make_endpoint(url=receiver.url.replace("127.0.0.1", "localhost"))
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = webhook_event_record(
            event="deployment.executed", data={"deployment": {"id": 1}}
        )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    [received] = receiver.received
    assert received.headers["Host"].startswith("localhost:")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9000/hook", "https://[::1]/hook", "http://169.254.169.254/"],
)
def test_the_admin_refuses_an_internal_endpoint(client, platform_admin, url):
    client.force_login(platform_admin)
    response = client.post(
        reverse("admin:approvals_webhookendpoint_add"),
        {"name": "ci", "url": url, "secret": "s" * 20, "events": ""},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["url"]
    assert "Webhooks go to public addresses" in errors[0]
    assert not WebhookEndpoint.objects.exists()


def test_a_malformed_allowed_network_stops_the_portal_at_start():
    result = _run(
        ["manage.py", "check"], DEBUG="1", WEBHOOK_ALLOWED_NETWORKS="10.0.0.0/33"
    )
    assert result.returncode != 0
    assert "WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/33' is not a network" in result.stderr
