"""Celery tasks of approvals: thin, idempotent wrappers around the services.

Webhook retries are not Celery retries: a failed attempt sets the row's
``next_attempt_at`` and the sweeper enqueues it again when it is due, so the
schedule survives worker restarts and broker outages (the database is the
outbox). Emails are retried by Celery, on transient SMTP errors only.
"""

import logging
import smtplib

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from approvals.webhooks import webhook_deliveries_due, webhook_delivery_send

logger = logging.getLogger(__name__)

EMAIL_MAX_RETRIES = 5
EMAIL_RETRY_BASE_SECONDS = 60


@shared_task(name="approvals.tasks.deliver_webhook")
def deliver_webhook(delivery_id: int) -> str | None:
    """Send one webhook delivery if it is pending and due; return its new status
    (None when there was nothing to send)."""
    delivery = webhook_delivery_send(delivery_id=delivery_id)
    return delivery.status if delivery is not None else None


@shared_task(name="approvals.tasks.sweep_webhook_outbox")
def sweep_webhook_outbox() -> int:
    """Enqueue every pending delivery that is due; return how many."""
    due = webhook_deliveries_due()
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)


def _is_transient(error: OSError) -> bool:
    """A 4xx SMTP answer or a lost connection may pass; a 5xx answer will not."""
    if isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    # Any other SMTP error is a protocol problem; other OSErrors are the network.
    return not isinstance(error, smtplib.SMTPException)


@shared_task(
    bind=True,
    name="approvals.tasks.send_notification_email",
    max_retries=EMAIL_MAX_RETRIES,
)
def send_notification_email(self, *, recipient: str, subject: str, body: str) -> None:
    """Send one notification email to one address, retrying transient SMTP
    errors with backoff (1, 2, 4, 8, 16 minutes).

    It takes the rendered text rather than ids: the text was written in the
    transaction that changed the state, so it describes what was committed, not
    what the rows say by the time a worker gets round to it. One address per
    task, so a retry never mails someone twice.
    """
    try:
        send_mail(subject, body, None, [recipient])
    except OSError as error:  # smtplib's errors are OSErrors too
        if not _is_transient(error):
            logger.error("notification email to %s not sent: %s", recipient, error)
            raise
        countdown = EMAIL_RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name="approvals.tasks.expire_stale_requests")
def expire_stale_requests() -> int:
    """Close pending requests whose approval window has ended; return how many."""
    # Imported here: the services import the notifications, which import this
    # module to enqueue their tasks.
    from approvals.services import deployment_requests_expire

    expired = deployment_requests_expire(now=timezone.now())
    if expired:
        logger.info("%s deployment request(s) expired", expired)
    return expired
