"""Signed webhooks: the outbox, the signature, and sending one delivery.

The database is the outbox. An event becomes one ``WebhookDelivery`` row per
subscribed endpoint, written in the transaction that changed the state, and is
enqueued for sending only after that transaction commits. A delivery that fails
is retried through its ``next_attempt_at`` by the periodic sweeper, which also
picks up deliveries whose enqueue was lost (for example the broker was down at
commit). Delivery is at least once: receivers dedupe on ``X-Gatehouse-Delivery``.
The format and the verification recipe are in docs/webhooks.md.

Endpoints must be public: the host is resolved once per attempt, every address
it resolves to must be globally routable (or inside WEBHOOK_ALLOWED_NETWORKS),
and the connection goes to the address that was checked, so a name that
resolves to a public address for the check and to an internal one for the
connection (DNS rebinding) gets nowhere.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from approvals.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from kernel.outbox import enqueue_on_commit

logger = logging.getLogger(__name__)

SIGNATURE_PREFIX = "sha256="
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
SWEEP_BATCH_SIZE = 500
USER_AGENT = "Gatehouse-Webhooks/1"
# How much of an endpoint's error answer is kept on the row.
ERROR_EXCERPT_CHARS = 300


def signature(*, secret: str, timestamp: str, body: str) -> str:
    """Return the ``X-Gatehouse-Signature`` value for a body sent at a timestamp:
    ``sha256=`` and the hex HMAC-SHA256, keyed with the endpoint's secret, of
    ``f"{timestamp}.{body}"``."""
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256
    ).hexdigest()
    return SIGNATURE_PREFIX + digest


def event_matches(subscribed: list[str], event: str) -> bool:
    """An endpoint with no events takes every event; otherwise an entry is an
    exact event name, or a prefix ending in a dot (``deployment.``)."""
    if not subscribed:
        return True
    return any(
        event == entry or (entry.endswith(".") and event.startswith(entry))
        for entry in subscribed
    )


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 60 s, 120 s, ...
    capped at one hour."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, BACKOFF_CAP_SECONDS))


def _body(*, delivery_id: int, event: str, created_at: datetime, data: dict) -> str:
    document = {
        "id": delivery_id,
        "event": event,
        "created_at": created_at,
        "data": data,
    }
    # ASCII-only JSON: the signed text and the bytes on the wire are the same.
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"))


def _enqueue_after_commit(delivery_id: int) -> None:
    def send() -> None:
        from approvals.tasks import deliver_webhook

        deliver_webhook.delay(delivery_id)

    enqueue_on_commit("enqueue_webhook_delivery", send)


def webhook_event_record(
    *, event: str, data: dict[str, Any], now: datetime | None = None
) -> list[WebhookDelivery]:
    """Write one delivery per active endpoint subscribed to ``event``, in the
    caller's transaction, and enqueue each for sending after commit.

    A fixed number of queries whatever the number of endpoints. The enqueue is
    ``robust``: if the broker is down after commit, the error is logged, the
    committed business change stands, and the sweeper sends the row later.
    """
    now = now or timezone.now()
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by("pk")
        if event_matches(endpoint.events, event)
    ]
    if not endpoints:
        return []
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    endpoint=endpoint,
                    event=event,
                    body="",
                    created_at=now,
                    next_attempt_at=now,
                )
                for endpoint in endpoints
            ]
        )
        # The body names its own delivery id, known only once the row exists.
        for delivery in deliveries:
            delivery.body = _body(
                delivery_id=delivery.pk, event=event, created_at=now, data=data
            )
        WebhookDelivery.objects.bulk_update(deliveries, ["body"])
        for delivery in deliveries:
            _enqueue_after_commit(delivery.pk)
    return deliveries


@dataclass(frozen=True)
class AttemptOutcome:
    status_code: int | None
    error: str

    @property
    def is_delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _allowed_networks() -> list:
    return [
        ipaddress.ip_network(network, strict=False)
        for network in settings.WEBHOOK_ALLOWED_NETWORKS
    ]


def address_refusal(address: str) -> str:
    """Why webhooks may not go to this IP address, or "" if they may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    public = ip.is_global and not ip.is_multicast
    if public or any(ip in network for network in _allowed_networks()):
        return ""
    return (
        f"{ip} is not a public address; allow its network with "
        "WEBHOOK_ALLOWED_NETWORKS if the receiver really lives there."
    )


def host_refusal(host: str) -> str:
    """Why a URL with this host is refused outright ("" if it may be tried):
    literal addresses are checked, names are checked when they are resolved."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if host.rstrip(".").lower() == "localhost" or host.lower().endswith(
            ".localhost"
        ):
            return address_refusal("127.0.0.1")
        return ""
    return address_refusal(host)


def _resolve(host: str, port: int) -> tuple[str, str]:
    """(the address to connect to, "") or ("", why not)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        return "", f"Could not resolve {host}: {error}"
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        if refusal := address_refusal(address):
            return "", f"Not sent: {host} resolves to {refusal}"
    return addresses[0], ""


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever DNS says now."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def connect(self):
        super().connect()
        context = ssl.create_default_context()
        # The certificate must name the URL's host, not the address.
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


def _excerpt(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").strip()[:ERROR_EXCERPT_CHARS]


def post(
    url: str, *, body: str, headers: dict[str, str], timeout: float
) -> AttemptOutcome:
    """POST the body; return the status code, or None and what went wrong.
    Redirects are not followed: a 3xx is an answer, recorded as a failure."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return AttemptOutcome(None, "Only http:// and https:// endpoints are called.")
    host = parts.hostname
    if refusal := host_refusal(host):
        return AttemptOutcome(None, f"Not sent: {refusal}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return AttemptOutcome(None, f"Invalid port in {url}.")
    address, refusal = _resolve(host, port)
    if refusal:
        return AttemptOutcome(None, refusal)
    connection_class = (
        _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    )
    connection = connection_class(host, port, address=address, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        excerpt = _excerpt(response.read(ERROR_EXCERPT_CHARS))
    except TimeoutError:
        return AttemptOutcome(None, f"No answer within {timeout:g} s.")
    except ssl.SSLError as error:
        return AttemptOutcome(None, f"TLS failed: {error}"[:500])
    except ConnectionError as error:
        return AttemptOutcome(None, f"Could not connect: {error}"[:500])
    except (http.client.HTTPException, OSError) as error:
        return AttemptOutcome(None, f"{type(error).__name__}: {error}"[:500])
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return AttemptOutcome(response.status, "")
    answer = f"HTTP {response.status}" + (f": {excerpt}" if excerpt else "")
    return AttemptOutcome(response.status, answer)


def request_headers(delivery: WebhookDelivery, *, timestamp: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Gatehouse-Event": delivery.event,
        "X-Gatehouse-Delivery": str(delivery.pk),
        "X-Gatehouse-Timestamp": timestamp,
        "X-Gatehouse-Signature": signature(
            secret=delivery.endpoint.secret, timestamp=timestamp, body=delivery.body
        ),
    }


def webhook_delivery_send(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one pending delivery that is due, and record the attempt on its row.

    Returns the delivery, or None when there was nothing to send: it is delivered
    or failed already, not due yet (a duplicate enqueue during a backoff), gone,
    or being sent by another worker right now. The row stays locked while the
    request is in flight (``FOR UPDATE SKIP LOCKED``), so two workers never send
    it twice. A worker that dies mid-send rolls back: the row stays pending and
    the sweeper sends it again, which a receiver may see as a repeat.
    """
    with transaction.atomic():
        now = timezone.now()
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(
                pk=delivery_id,
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
            )
            .first()
        )
        if delivery is None:
            return None
        endpoint = delivery.endpoint
        fields = ["status", "attempts", "last_status_code", "last_error"]
        if not endpoint.is_active:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_status_code = None
            delivery.last_error = "Not sent: the endpoint was deactivated."
            delivery.save(update_fields=fields)
            logger.warning(
                "webhook delivery %s (%s) dropped: endpoint %s is inactive",
                delivery.pk,
                delivery.event,
                endpoint.pk,
            )
            return delivery
        timestamp = str(int(now.timestamp()))
        outcome = post(
            endpoint.url,
            body=delivery.body,
            headers=request_headers(delivery, timestamp=timestamp),
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
        finished = timezone.now()
        delivery.attempts += 1
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        delivery.attempt_log = [
            *delivery.attempt_log,
            {
                "at": finished.isoformat(),
                "status_code": outcome.status_code,
                "error": outcome.error,
            },
        ]
        fields.append("attempt_log")
        if outcome.is_delivered:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = finished
            fields.append("delivered_at")
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = finished + backoff(delivery.attempts)
            fields.append("next_attempt_at")
        delivery.save(update_fields=fields)
    log = logger.info if outcome.is_delivered else logger.warning
    log(
        "webhook delivery %s (%s) attempt %s to endpoint %s: %s, now %s",
        delivery.pk,
        delivery.event,
        delivery.attempts,
        endpoint.pk,
        outcome.status_code if outcome.is_delivered else outcome.error,
        delivery.status,
    )
    return delivery


def webhook_deliveries_due(
    *, now: datetime | None = None, limit: int = SWEEP_BATCH_SIZE
) -> list[int]:
    """Ids of pending deliveries whose next attempt is due, oldest first,
    skipping rows a worker is sending right now."""
    now = now or timezone.now()
    with transaction.atomic():
        return list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
