"""Celery beat's schedule: the portal's periodic tasks (``CELERY_BEAT_SCHEDULE``
in ``portal/settings.py``). Tasks are named, not imported: the settings load
before any app."""

from datetime import timedelta

SCHEDULE = {
    # Write the audit summaries (counts) of failed-login windows that have ended
    # (failures close them too; this covers an attack that stopped).
    "portal-close-login-failure-windows": {
        "task": "portal.tasks.close_login_failure_windows",
        "schedule": timedelta(minutes=5),
    },
    # Recompute the whole audit hash chain every night and keep the result, so a
    # tampered row is noticed within a day even if nobody asks.
    "audit-verify-chain-nightly": {
        "task": "audit.tasks.audit_chain_verify_task",
        "schedule": timedelta(hours=24),
    },
    # Sign the audit chain's head every hour (only if it moved since the last
    # checkpoint), so an exported range can be proven against signed heads.
    "audit-checkpoint-hourly": {
        "task": "audit.tasks.audit_checkpoint_task",
        "schedule": timedelta(hours=1),
    },
    # Send webhook deliveries that are due: retries whose backoff has passed, and
    # any whose enqueue after commit was lost (the database is the outbox).
    "approvals-webhook-outbox-sweep": {
        "task": "approvals.tasks.sweep_webhook_outbox",
        "schedule": timedelta(minutes=1),
    },
    # Close pending deployment requests whose approval window has ended.
    "approvals-expire-stale-requests": {
        "task": "approvals.tasks.expire_stale_requests",
        "schedule": timedelta(minutes=15),
    },
    # Re-enqueue monitoring batches still pending a while after they arrived:
    # their message was lost (Redis down at commit) or their worker died.
    "monitoring-sweep-pending-batches": {
        "task": "monitoring.tasks.sweep_pending_batches",
        "schedule": timedelta(minutes=1),
    },
    # Check every monitoring window that has closed (or received late data or
    # labels) since its last check: drift, skew, performance, latency, KPIs,
    # fairness; raise and clear alerts.
    "monitoring-check-due-windows": {
        "task": "monitoring.tasks.check_due_windows",
        "schedule": timedelta(minutes=5),
    },
    # Retention of batch payloads and label-join rows (see MONITORING_*_DAYS).
    "monitoring-prune": {
        "task": "monitoring.tasks.prune_monitoring",
        "schedule": timedelta(hours=24),
    },
}
