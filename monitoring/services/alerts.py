"""Alerts: raised and cleared by the checks, acknowledged and resolved by people.

One unresolved alert per target, check and subject (a partial unique
constraint): a check that fails again adds an occurrence to it, and raises its
severity if the new failure is worse. Severity comes from the check's verdict
and the model's risk class:

==========  ========  ========  ========  ========
verdict     low risk  medium    high      critical
==========  ========  ========  ========  ========
warning     low       medium    high      high
critical    medium    high      critical  critical
==========  ========  ========  ========  ========

Opening and escalating an alert is audited and notified: a webhook (``alert.opened``,
``alert.escalated``) through the approvals outbox, and an email to the owning
team, plus the model's reviewers when the alert is high or critical.
Acknowledging and resolving are audited and sent as webhooks
(``alert.acknowledged``, ``alert.resolved``).

On a high or critical risk model, acknowledging an alert of a check listed in
the model's ``retrain_checks`` (default ``MONITORING_RETRAIN_CHECKS``) opens a
retrain request through ``approvals.services.deployment_request_submit``, on
behalf of the person who acknowledges it. If the request cannot be opened (one
is pending already, no policy, no permission), the acknowledgement stands and
the reason is returned.

Lock order: the window being checked, the target row, alerts by pk, the audit chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from approvals import services as approvals_services
from approvals.models import RequestKind, Strategy
from approvals.notifications import absolute_url, email_on_commit
from approvals.selectors import deployment_live_for
from approvals.webhooks import webhook_event_record
from audit.services import audit_record
from kernel.errors import ServiceError
from models_registry import access as registry_access
from models_registry.models import (
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
)
from monitoring import access
from monitoring.errors import (
    AlertNotFound,
    AlertStateInvalid,
    MonitoringInvalid,
    MonitoringPermissionDenied,
)
from monitoring.models import (
    Alert,
    AlertSeverity,
    AlertStatus,
    Check,
    CheckSeverity,
    MonitoringTarget,
)
from monitoring.services.targets import config_for

if TYPE_CHECKING:
    from approvals.models import Deployment

ALERT_OPENED = "alert.opened"
ALERT_ESCALATED = "alert.escalated"
ALERT_ACKNOWLEDGED = "alert.acknowledged"
ALERT_RESOLVED = "alert.resolved"
EVENTS = (ALERT_OPENED, ALERT_ESCALATED, ALERT_ACKNOWLEDGED, ALERT_RESOLVED)

RETRAIN_RISK_CLASSES = ("high", "critical")
ROLLBACK_RISK_CLASSES = ("high", "critical")

_ORDER = [
    AlertSeverity.LOW,
    AlertSeverity.MEDIUM,
    AlertSeverity.HIGH,
    AlertSeverity.CRITICAL,
]
_SEVERITY = {
    CheckSeverity.WARNING: {
        "low": AlertSeverity.LOW,
        "medium": AlertSeverity.MEDIUM,
        "high": AlertSeverity.HIGH,
        "critical": AlertSeverity.HIGH,
    },
    CheckSeverity.CRITICAL: {
        "low": AlertSeverity.MEDIUM,
        "medium": AlertSeverity.HIGH,
        "high": AlertSeverity.CRITICAL,
        "critical": AlertSeverity.CRITICAL,
    },
}


def alert_severity(verdict: str, risk_class: str) -> str:
    return _SEVERITY[verdict].get(risk_class, AlertSeverity.MEDIUM)


def severity_rank(severity: str) -> int:
    return _ORDER.index(severity)


def alert_url(alert_id: int) -> str:
    return absolute_url(f"/monitoring/alerts/{alert_id}/")


def _title(check: str, subject: str, details: dict[str, Any]) -> str:
    label = Check(check).label
    if check == Check.LATENCY:
        return f"{label}: {subject} latency above {details.get('slo_ms', 0):g} ms"
    if check == Check.KPI:
        return f"{label}: {subject} misses its target"
    if check == Check.CONCEPT_DRIFT:
        return f"{label}: {subject} below the test evaluation"
    if check == Check.FAIRNESS:
        attribute, _, metric = subject.partition(":")
        return f"{label}: {metric.replace('_', ' ')} gap across {attribute}"
    return f"{label}: {subject}" if subject else label


def live_deployment(target: MonitoringTarget) -> Deployment | None:
    return deployment_live_for(
        version_id=target.version_id, environment_id=target.environment_id
    )


def alert_data(alert: Alert) -> dict[str, Any]:
    target = alert.target
    deployment = live_deployment(target)
    return {
        "id": alert.pk,
        "url": alert_url(alert.pk),
        "model": target.model.name,
        "risk_class": target.model.risk_class,
        "version": target.version.version,
        "environment": target.environment.name,
        "deployment_id": deployment.pk if deployment else None,
        "check": alert.kind,
        "subject": alert.subject,
        "title": alert.title,
        "severity": alert.severity,
        "status": alert.status,
        "score": alert.details.get("score"),
        "threshold": alert.details.get("threshold"),
        "occurrences": alert.occurrences,
        "first_window_start": alert.first_window_start,
        "last_window_start": alert.last_window_start,
        "opened_at": alert.opened_at,
        "acknowledged_at": alert.acknowledged_at,
        "resolved_at": alert.resolved_at,
        "note": alert.note,
        "retrain_request_id": alert.retrain_request_id,
    }


def _recipients(alert: Alert) -> list[str]:
    """The owning team; with the model's reviewers when it is high or critical."""
    model = alert.target.model
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    in_team = get_user_model().groups.through.objects.filter(
        user_id=OuterRef("pk"), group_id=model.team.group_id
    )
    wanted = Q(Exists(in_team))
    if severity_rank(alert.severity) >= severity_rank(AlertSeverity.HIGH):
        reviews_directly = RegisteredModelUserObjectPermission.objects.filter(
            content_object_id=model.pk,
            user=OuterRef("pk"),
            permission__codename=registry_access.REVIEW,
        )
        reviews_through_group = RegisteredModelGroupObjectPermission.objects.filter(
            content_object_id=model.pk,
            group__user=OuterRef("pk"),
            permission__codename=registry_access.REVIEW,
        )
        wanted |= Q(Exists(reviews_directly)) | Q(Exists(reviews_through_group))
    return list(users.filter(wanted).order_by("pk").values_list("email", flat=True))


def _email(alert: Alert, verb: str) -> None:
    target = alert.target
    details = alert.details
    lines = [
        f"{target.model.name} v{target.version.version} in "
        f"{target.environment.name}: {alert.title}.",
        f"Severity: {alert.get_severity_display().lower()} "
        f"({target.model.risk_class} risk model).",
    ]
    if details.get("score") is not None:
        threshold = details.get("threshold")
        lines.append(
            f"Value {details['score']:.4g} against threshold "
            f"{'—' if threshold is None else f'{threshold:.4g}'} in the window "
            f"starting {alert.last_window_start:%Y-%m-%d %H:%M} UTC."
        )
    lines += ["", alert_url(alert.pk)]
    email_on_commit(
        _recipients(alert),
        f"Alert {verb}: {alert.title} ({target.model.name}, {target.environment.name})",
        "\n".join(lines),
    )


def _notify(alert: Alert, event: str) -> None:
    webhook_event_record(event=event, data={"alert": alert_data(alert)})
    if event == ALERT_OPENED:
        _email(alert, "opened")
    elif event == ALERT_ESCALATED:
        _email(alert, "escalated")


def _audit(alert: Alert, action: str, actor=None, **payload) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=alert,
        scope=alert.target.model.name,
        payload={
            "check": alert.kind,
            "subject": alert.subject,
            "severity": alert.severity,
            "status": alert.status,
            "environment": alert.target.environment.name,
            "version": alert.target.version.version,
            **payload,
        },
    )


def alerts_sync(*, window, verdicts, now: datetime) -> list[Alert]:
    """Open, update or clear the target's alerts from one window's verdicts.

    Called by ``window_check`` inside its transaction, holding the window lock.
    A passing verdict clears (``cleared_at``) an unresolved alert raised by an
    earlier window; it never resolves it: people do.
    """
    target = window.target
    model = target.model
    failing = {(v.check, v.subject): v for v in verdicts if v.is_failing}
    passing = {(v.check, v.subject) for v in verdicts if v.is_passing}
    # Serialise alert changes of one target (NO KEY: batches keep inserting rows
    # that reference the target meanwhile).
    MonitoringTarget.objects.select_for_update(no_key=True).filter(pk=target.pk).first()
    unresolved = {
        (alert.kind, alert.subject): alert
        for alert in Alert.objects.select_for_update()
        .filter(target=target)
        .exclude(status=AlertStatus.RESOLVED)
        .order_by("pk")
    }
    touched = []
    for key, verdict in failing.items():
        severity = alert_severity(verdict.severity, model.risk_class)
        details = {
            "score": verdict.score,
            "threshold": verdict.threshold,
            "verdict": verdict.severity,
            "window_start": window.start.isoformat(),
            **verdict.details,
        }
        alert = unresolved.get(key)
        if alert is None:
            alert = Alert(
                target=target,
                kind=verdict.check,
                subject=verdict.subject,
                severity=severity,
                title=_title(verdict.check, verdict.subject, verdict.details)[:300],
                details=details,
                first_window_start=window.start,
                last_window_start=window.start,
                opened_at=now,
            )
            alert.save()
            _audit(alert, "alert.opened", window=window.start.isoformat())
            _notify(alert, ALERT_OPENED)
            touched.append(alert)
            continue
        escalated = severity_rank(severity) > severity_rank(alert.severity)
        alert.occurrences += 1
        if window.start >= alert.last_window_start:
            alert.last_window_start = window.start
            alert.details = details
            alert.cleared_at = None
        if window.start < alert.first_window_start:
            alert.first_window_start = window.start
        if escalated:
            previous = alert.severity
            alert.severity = severity
        alert.save(
            update_fields=[
                "occurrences",
                "last_window_start",
                "first_window_start",
                "details",
                "cleared_at",
                "severity",
            ]
        )
        if escalated:
            _audit(alert, "alert.escalated", previous_severity=previous)
            _notify(alert, ALERT_ESCALATED)
        touched.append(alert)
    for key in passing:
        alert = unresolved.get(key)
        if (
            alert is not None
            and alert.cleared_at is None
            and window.start > alert.last_window_start
        ):
            alert.cleared_at = now
            alert.save(update_fields=["cleared_at"])
            _audit(alert, "alert.cleared", window=window.start.isoformat())
    return touched


# --- People ------------------------------------------------------------------------


def _lock_alert(actor, alert_id: int) -> Alert:
    alert = (
        Alert.objects.select_for_update(of=("self",))
        .select_related("target__model__team", "target__version", "target__environment")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or not access.may_view(actor, alert.target.model):
        raise AlertNotFound("No such alert.")
    if not access.may_respond(actor, alert.target.model):
        raise MonitoringPermissionDenied(
            f"Only the team owning “{alert.target.model.name}” and its reviewers "
            "acknowledge and resolve its alerts."
        )
    return alert


def _clean_note(note: str, *, required: bool) -> str:
    from kernel.secrets import secret_errors

    note = (note or "").strip()
    errors = []
    if required and not note:
        errors.append("Say what was done (or why nothing needs doing).")
    if len(note) > 4000:
        errors.append("At most 4,000 characters.")
    if note and (secrets := secret_errors(note)):
        errors.extend(secrets)
    if errors:
        raise MonitoringInvalid("The alert was not changed.", fields={"note": errors})
    return note


def retrain_policy_applies(alert: Alert) -> bool:
    model = alert.target.model
    return (
        model.risk_class in RETRAIN_RISK_CLASSES
        and alert.kind in config_for(model).retrain_checks
    )


def alert_acknowledge(
    *, actor, alert_id: int, note: str = "", now: datetime | None = None
) -> tuple[Alert, str | None]:
    """Acknowledge an open alert; return it and, when the retrain policy applies
    but no request could be opened, why."""
    note = _clean_note(note, required=False)
    now = now or timezone.now()
    with transaction.atomic():
        alert = _lock_alert(actor, alert_id)
        if alert.status != AlertStatus.OPEN:
            raise AlertStateInvalid(
                f"Alert #{alert.pk} is {alert.status}: only an open alert is "
                "acknowledged."
            )
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by = actor
        if note:
            alert.note = note
        retrain_problem = None
        if retrain_policy_applies(alert):
            retrain_problem = _open_retrain(actor, alert, note)
        alert.save(
            update_fields=[
                "status",
                "acknowledged_at",
                "acknowledged_by",
                "note",
                "retrain_request",
            ]
        )
        _audit(
            alert,
            "alert.acknowledged",
            actor=actor,
            note=note,
            retrain_request=alert.retrain_request_id,
        )
        _notify(alert, ALERT_ACKNOWLEDGED)
    return alert, retrain_problem


def _open_retrain(actor, alert: Alert, note: str) -> str | None:
    target = alert.target
    justification = (
        f"Monitoring alert #{alert.pk} ({alert.title}, {alert.severity}) on "
        f"{target.environment.name}, acknowledged by {actor.get_username()}: "
        "retrain requested by the monitoring policy."
        + (f" Note: {note}" if note else "")
    )
    try:
        with transaction.atomic():
            request = approvals_services.deployment_request_submit(
                actor=actor,
                version=target.version,
                environment=target.environment,
                strategy=Strategy.FULL,
                kind=RequestKind.RETRAIN,
                justification=justification,
            )
    except ServiceError as error:
        reasons = [
            message for messages in error.fields.values() for message in messages
        ]
        return " ".join([error.message, *reasons])
    alert.retrain_request = request
    return None


def alert_resolve(
    *, actor, alert_id: int, note: str, now: datetime | None = None
) -> Alert:
    """Resolve an open or acknowledged alert, saying what was done."""
    note = _clean_note(note, required=True)
    now = now or timezone.now()
    with transaction.atomic():
        alert = _lock_alert(actor, alert_id)
        if alert.status == AlertStatus.RESOLVED:
            raise AlertStateInvalid(f"Alert #{alert.pk} is resolved already.")
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = now
        alert.resolved_by = actor
        alert.note = note
        alert.save(update_fields=["status", "resolved_at", "resolved_by", "note"])
        _audit(alert, "alert.resolved", actor=actor, note=note)
        _notify(alert, ALERT_RESOLVED)
    return alert


def may_offer_rollback(alert: Alert) -> bool:
    return alert.target.model.risk_class in ROLLBACK_RISK_CLASSES


__all__ = [
    "EVENTS",
    "alert_acknowledge",
    "alert_resolve",
    "alert_severity",
    "alerts_sync",
    "live_deployment",
    "may_offer_rollback",
    "retrain_policy_applies",
]
