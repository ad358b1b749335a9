"""Signed webhooks: signature, outbox, delivery, retries, idempotency, filtering.

A real HTTP server on a loopback port plays the receiver; nothing is mocked.
"""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction

from approvals.models import DeliveryStatus, WebhookDelivery
from approvals.webhooks import (
    backoff,
    event_matches,
    signature,
    webhook_deliveries_due,
    webhook_delivery_send,
    webhook_event_record,
)
from tests.approvals.factories import make_endpoint
from tests.approvals.webhook_receiver import WebhookReceiver
from tests.services import free_port

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db

DATA = {"deployment": {"id": 7, "model": "credit-scoring", "traffic_percent": 10}}


def documented_verifier():
    """The verification recipe of docs/webhooks.md, exactly as published."""
    section = DOCS.read_text().split("## Verifying a delivery", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102
    return namespace["verify_gatehouse_webhook"]


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.stop()


@pytest.fixture
def endpoint(db, receiver):
    return make_endpoint(url=receiver.url)


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Record an event and run what the commit runs (tasks are eager)."""

    def record(event="deployment.executed", data=DATA):
        with django_capture_on_commit_callbacks(execute=True):
            deliveries = webhook_event_record(event=event, data=data)
        for delivery in deliveries:
            delivery.refresh_from_db()
        return deliveries

    return record


def _state(delivery):
    delivery.refresh_from_db()
    return (
        delivery.status,
        delivery.attempts,
        delivery.last_status_code,
        delivery.last_error,
    )


# --- Signature ------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = '{"id":1,"event":"request.submitted"}'
    assert signature(secret="whsec-test-secret", timestamp="1767225600", body=body) == (
        "sha256=2e26aa9ee39a55106d95e241b82d6792aaf57ad704f3d3be1d8998ef438ddb04"
    )


def test_delivery_verifies_with_the_documented_recipe(receiver, endpoint, send):
    verify = documented_verifier()
    send()
    [received] = receiver.received
    sent_at = int(received.headers["X-Gatehouse-Timestamp"])
    assert abs(sent_at - time.time()) < 5
    assert verify(endpoint.secret, received.headers, received.body) is True
    assert verify("another-secret", received.headers, received.body) is False
    tampered = received.body.replace(b'"traffic_percent":10', b'"traffic_percent":90')
    assert tampered != received.body
    assert verify(endpoint.secret, received.headers, tampered) is False


def test_documented_recipe_refuses_replays_outside_five_minutes(receiver, send):
    endpoint = make_endpoint(url=receiver.url, secret="s3cret")
    verify = documented_verifier()
    send()
    [received] = receiver.received
    sent_at = int(received.headers["X-Gatehouse-Timestamp"])
    for offset, expected in ((299, True), (300, True), (301, False), (-301, False)):
        assert (
            verify(
                endpoint.secret, received.headers, received.body, now=sent_at + offset
            )
            is expected
        ), offset


def test_request_carries_event_delivery_id_and_a_json_body(
    receiver, endpoint, send, time_machine
):
    time_machine.move_to(START, tick=False)
    [delivery] = send()
    [received] = receiver.received
    assert received.path == "/hooks/gatehouse"
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["X-Gatehouse-Event"] == "deployment.executed"
    assert received.headers["X-Gatehouse-Delivery"] == str(delivery.pk)
    assert received.headers["X-Gatehouse-Timestamp"] == str(int(START.timestamp()))
    assert received.headers["X-Gatehouse-Signature"] == signature(
        secret=endpoint.secret,
        timestamp=str(int(START.timestamp())),
        body=received.body.decode(),
    )
    assert received.body == delivery.body.encode()
    assert json.loads(received.body) == {
        "id": delivery.pk,
        "event": "deployment.executed",
        "created_at": "2026-01-01T09:00:00Z",
        "data": DATA,
    }


# --- Outbox and commit ------------------------------------------------------------


def test_nothing_is_sent_before_commit(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            [delivery] = webhook_event_record(event="deployment.executed", data=DATA)
        assert WebhookDelivery.objects.filter(pk=delivery.pk).exists()
        assert receiver.received == []
    assert len(callbacks) == 1
    assert len(receiver.received) == 1


def test_nothing_is_written_or_sent_when_the_transaction_rolls_back(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    class BusinessRuleBrokeError(Exception):
        pass

    def service_that_fails_after_recording():
        with transaction.atomic():
            webhook_event_record(event="deployment.executed", data=DATA)
            raise BusinessRuleBrokeError

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(BusinessRuleBrokeError),
    ):
        service_that_fails_after_recording()
    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0
    assert receiver.received == []


# --- Delivery ------------------------------------------------------------------------


def test_a_2xx_answer_marks_the_delivery_delivered(receiver, endpoint, send):
    [delivery] = send()
    assert _state(delivery) == (DeliveryStatus.DELIVERED, 1, 200, "")
    assert delivery.delivered_at is not None
    assert len(receiver.received) == 1


def test_a_failed_attempt_is_recorded_and_retried_after_backoff(
    receiver, endpoint, send, time_machine
):
    time_machine.move_to(START, tick=False)
    receiver.status = 500
    [delivery] = send()
    assert _state(delivery) == (
        DeliveryStatus.PENDING,
        1,
        500,
        "HTTP 500: receiver says no",
    )
    assert delivery.next_attempt_at == START + timedelta(seconds=30)

    # Not due yet: a duplicate enqueue sends nothing.
    time_machine.move_to(START + timedelta(seconds=29), tick=False)
    assert webhook_delivery_send(delivery_id=delivery.pk) is None
    assert len(receiver.received) == 1

    time_machine.move_to(START + timedelta(seconds=30), tick=False)
    webhook_delivery_send(delivery_id=delivery.pk)
    assert _state(delivery)[:2] == (DeliveryStatus.PENDING, 2)
    assert delivery.next_attempt_at == START + timedelta(seconds=30 + 60)

    receiver.status = 204
    time_machine.move_to(START + timedelta(seconds=90), tick=False)
    webhook_delivery_send(delivery_id=delivery.pk)
    assert _state(delivery) == (DeliveryStatus.DELIVERED, 3, 204, "")
    assert delivery.delivered_at == START + timedelta(seconds=90)
    assert len(receiver.received) == 3


def test_backoff_doubles_from_30_seconds_and_is_capped_at_an_hour():
    assert [backoff(n).total_seconds() for n in range(1, 10)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_retries_stop_after_the_limit(receiver, endpoint, send, settings, time_machine):
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    time_machine.move_to(START, tick=False)
    receiver.status = 500
    [delivery] = send()
    for _ in range(3):
        time_machine.move_to(delivery.next_attempt_at, tick=False)
        webhook_delivery_send(delivery_id=delivery.pk)
        delivery.refresh_from_db()
    assert _state(delivery) == (
        DeliveryStatus.FAILED,
        4,
        500,
        "HTTP 500: receiver says no",
    )
    assert len(receiver.received) == 4
    assert [entry["status_code"] for entry in delivery.attempt_log] == [500] * 4
    assert delivery.attempt_log[-1]["error"] == "HTTP 500: receiver says no"

    time_machine.move_to(START + timedelta(days=1), tick=False)
    assert webhook_delivery_send(delivery_id=delivery.pk) is None
    assert webhook_deliveries_due() == []
    assert len(receiver.received) == 4
    assert _state(delivery)[:2] == (DeliveryStatus.FAILED, 4)


def test_a_delivered_row_is_not_sent_again(receiver, endpoint, send):
    [delivery] = send()
    assert webhook_delivery_send(delivery_id=delivery.pk) is None
    assert len(receiver.received) == 1
    assert _state(delivery) == (DeliveryStatus.DELIVERED, 1, 200, "")


def test_a_timeout_is_a_failed_attempt(receiver, endpoint, send, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.5
    [delivery] = send()
    assert _state(delivery) == (
        DeliveryStatus.PENDING,
        1,
        None,
        "No answer within 0.3 s.",
    )
    assert len(receiver.received) == 1


def test_a_refused_connection_is_a_failed_attempt(send):
    make_endpoint(url=f"http://127.0.0.1:{free_port()}/hook")
    [delivery] = send()
    status, attempts, code, error = _state(delivery)
    assert (status, attempts, code) == (DeliveryStatus.PENDING, 1, None)
    assert error.startswith("Could not connect: ")
    assert "refused" in error.lower()


def test_redirects_are_not_followed(receiver, endpoint, send):
    receiver.status = 302
    receiver.location = receiver.url + "/elsewhere"
    [delivery] = send()
    assert _state(delivery) == (
        DeliveryStatus.PENDING,
        1,
        302,
        "HTTP 302: receiver says no",
    )
    assert [received.path for received in receiver.received] == ["/hooks/gatehouse"]


def test_only_http_and_https_urls_are_called(send):
    make_endpoint(url="file:///etc/passwd")
    [delivery] = send()
    assert _state(delivery) == (
        DeliveryStatus.PENDING,
        1,
        None,
        "Only http:// and https:// endpoints are called.",
    )


def test_a_deactivated_endpoint_gets_nothing(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        [delivery] = webhook_event_record(event="deployment.executed", data=DATA)
    endpoint.is_active = False
    endpoint.save()
    webhook_delivery_send(delivery_id=delivery.pk)
    assert _state(delivery) == (
        DeliveryStatus.FAILED,
        0,
        None,
        "Not sent: the endpoint was deactivated.",
    )
    assert receiver.received == []


# --- Event filtering ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("subscribed", "event", "expected"),
    [
        ([], "request.submitted", True),
        (["request.submitted"], "request.submitted", True),
        (["deployment.executed"], "deployment.rolled_back", False),
        (["deployment."], "deployment.rolled_back", True),
        (["deployment."], "request.decided", False),
        (["deployment"], "deployment.executed", False),
        (["request.", "deployment.executed"], "deployment.executed", True),
        (["request.decided"], "request.decided.extra", False),
    ],
)
def test_event_matches(subscribed, event, expected):
    assert event_matches(subscribed, event) is expected


def test_an_event_goes_only_to_active_endpoints_that_subscribe(receiver, send):
    everything = make_endpoint(url=receiver.url, name="everything")
    requests_only = make_endpoint(
        url=receiver.url, name="requests", events=["request."]
    )
    exact = make_endpoint(
        url=receiver.url, name="exact", events=["deployment.executed"]
    )
    make_endpoint(url=receiver.url, name="other", events=["deployment.rolled_back"])
    make_endpoint(url=receiver.url, name="off", is_active=False)

    deliveries = send(event="deployment.executed")

    assert {d.endpoint for d in deliveries} == {everything, exact}
    assert requests_only not in {d.endpoint for d in deliveries}
    assert WebhookDelivery.objects.count() == 2
    assert sorted(
        r.headers["X-Gatehouse-Delivery"] for r in receiver.received
    ) == sorted(str(d.pk) for d in deliveries)


def test_no_subscribed_endpoint_means_no_rows(receiver, send):
    make_endpoint(url=receiver.url, events=["request.submitted"])
    assert send(event="deployment.executed") == []
    assert WebhookDelivery.objects.count() == 0


def test_recording_takes_the_same_queries_for_one_or_many_endpoints(
    receiver, django_capture_on_commit_callbacks, django_assert_num_queries
):
    make_endpoint(url=receiver.url)
    with django_capture_on_commit_callbacks(execute=False):
        with django_assert_num_queries(5):
            webhook_event_record(event="deployment.executed", data=DATA)
        for number in range(8):
            make_endpoint(url=receiver.url, name=f"endpoint-{number}")
        with django_assert_num_queries(5):
            webhook_event_record(event="deployment.executed", data=DATA)
    assert WebhookDelivery.objects.count() == 1 + 9


# --- Two workers, one delivery (separate connections, committed rows) ---------------


def _pending_row(endpoint):
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event="deployment.executed", body='{"id":0}'
    )


@pytest.mark.django_db(transaction=True)
def test_a_row_being_sent_is_skipped_not_waited_for(receiver):
    delivery = _pending_row(make_endpoint(url=receiver.url))
    holding, release = threading.Event(), threading.Event()

    def worker_mid_send():
        try:
            with transaction.atomic():
                WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=worker_mid_send)
    worker.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        assert webhook_delivery_send(delivery_id=delivery.pk) is None
        assert webhook_deliveries_due() == []
        assert time.monotonic() - started < 1
    finally:
        release.set()
        worker.join()
    assert receiver.received == []
    assert _state(delivery) == (DeliveryStatus.PENDING, 0, None, "")


@pytest.mark.django_db(transaction=True)
def test_two_workers_given_the_same_delivery_send_it_once(receiver):
    delivery = _pending_row(make_endpoint(url=receiver.url))
    receiver.delay = 0.5
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            outcomes.append(webhook_delivery_send(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(receiver.received) == 1
    assert sorted(outcome is None for outcome in outcomes) == [False, True]
    assert _state(delivery) == (DeliveryStatus.DELIVERED, 1, 200, "")
