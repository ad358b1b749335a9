"""Monitoring's vocabularies and audit targets, registered with
``kernel.labels`` when the app is ready (see ``MonitoringConfig.ready``)."""

from kernel import labels
from monitoring.models.alerts import AlertSeverity, AlertStatus, Check


def register() -> None:
    labels.register_vocabulary("alert_check", Check.choices)
    labels.register_vocabulary("alert_severity", AlertSeverity.choices)
    labels.register_vocabulary("alert_status", AlertStatus.choices)
    labels.register_target(
        "monitoring.alert", urls=labels.urls_by_id("monitoring:alert-detail")
    )
    labels.register_target(
        "monitoring.reviewitem", urls=labels.urls_by_id("monitoring:review-item")
    )
