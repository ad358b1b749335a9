"""What Gatehouse tells people and systems when requests and deployments change.

``approvals.services`` calls each ``notify_*`` function inside its transaction,
after the business rows are written. The function writes the webhook deliveries
into the outbox (``approvals.webhooks``) and registers the emails to send on
commit; if the transaction rolls back, nothing was written and nothing is sent.
Each makes a fixed number of queries, however many people or endpoints there are.

Emails go through the Celery task ``send_notification_email``, one per address,
rather than ``send_mail`` in the on-commit callback: the person who pressed
approve does not wait on the SMTP server, nor see an error page for a commit that
succeeded, and a transient SMTP failure is retried with backoff. The text is
written here, inside the transaction, so it describes what was committed.
"""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from approvals import access as approvals_access
from approvals.models import (
    Decision,
    Deployment,
    DeploymentRequest,
    Outcome,
    RequestStatus,
)
from approvals.tasks import send_notification_email
from approvals.webhooks import webhook_event_record
from kernel.outbox import enqueue_on_commit
from kernel.roles import ROLE_LABELS
from models_registry.checklist import FAIL, NOT_APPLICABLE, PASS

REQUEST_SUBMITTED = "request.submitted"
REQUEST_DECIDED = "request.decided"
DEPLOYMENT_EXECUTED = "deployment.executed"
DEPLOYMENT_ROLLED_BACK = "deployment.rolled_back"
CLOSING_STATUSES = (
    RequestStatus.REJECTED,
    RequestStatus.CANCELLED,
    RequestStatus.EXPIRED,
)
# Every event a webhook endpoint can subscribe to (docs/webhooks.md).
EVENTS = (
    REQUEST_SUBMITTED,
    REQUEST_DECIDED,
    *(f"request.{status}" for status in CLOSING_STATUSES),
    DEPLOYMENT_EXECUTED,
    DEPLOYMENT_ROLLED_BACK,
    # Sent by monitoring through the same outbox (approvals does not import it).
    "alert.opened",
    "alert.escalated",
    "alert.acknowledged",
    "alert.resolved",
)

SUBJECT_PREFIX = "[Gatehouse] "
DECIDED = {
    Outcome.APPROVE: "approved",
    Outcome.REJECT: "rejected",
    Outcome.REQUEST_CHANGES: "asked for changes to",
}


# --- Links and loading --------------------------------------------------------------


def absolute_url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def request_url(request_id: int) -> str:
    return absolute_url(reverse("approvals:request-detail", kwargs={"id": request_id}))


def deployment_url(deployment_id: int) -> str:
    return absolute_url(
        reverse("approvals:deployment-detail", kwargs={"id": deployment_id})
    )


def _load_request(request_id: int) -> DeploymentRequest:
    return DeploymentRequest.objects.select_related(
        "version__model",
        "version__registered_by",
        "environment",
        "requested_by",
    ).get(pk=request_id)


_DEPLOYMENT_RELATIONS = (
    "model__team",
    "version",
    "environment",
    "artifact",
    "request__requested_by",
    "deployed_by",
    "ended_by",
)


# --- Recipients ---------------------------------------------------------------------


def reviewer_emails(request: DeploymentRequest) -> list[str]:
    """The addresses of everyone who may decide the request: the model's
    reviewers (``approvals.access.reviewers_of``) except its requester and the
    version's author. One query.
    """
    emails = (
        approvals_access.reviewers_of(request.version.model_id)
        .exclude(pk__in=[request.requested_by_id, request.version.registered_by_id])
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    return list(emails)


def _team_and_requester_emails(team_group_id: int, requester_id: int) -> list[str]:
    in_team = get_user_model().groups.through.objects.filter(
        user_id=OuterRef("pk"), group_id=team_group_id
    )
    emails = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(Exists(in_team)) | Q(pk=requester_id))
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    return list(emails)


def _send_after_commit(recipient: str, subject: str, body: str) -> None:
    enqueue_on_commit(
        "send_notification_email_after_commit",
        lambda: send_notification_email.delay(
            recipient=recipient, subject=subject, body=body
        ),
    )


def email_on_commit(recipients: Iterable[str], subject: str, body: str) -> None:
    for address in dict.fromkeys(recipients):
        _send_after_commit(address, SUBJECT_PREFIX + subject, body)


def _active_email(user) -> list[str]:
    return [user.email] if user is not None and user.is_active and user.email else []


# --- What is said -------------------------------------------------------------------


def _gate_counts(gates: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "passed": sum(gate.get("status") == PASS for gate in gates),
        "failed": sum(gate.get("status") == FAIL for gate in gates),
        "not_applicable": sum(gate.get("status") == NOT_APPLICABLE for gate in gates),
        "failing": [gate.get("id") for gate in gates if gate.get("status") == FAIL],
    }


def _gate_lines(gates: list[dict[str, Any]]) -> list[str]:
    if not gates:
        return ["Gates: none apply to this request."]
    counts = _gate_counts(gates)
    lines = [
        f"Gates: {counts['passed']} pass, {counts['failed']} fail, "
        f"{counts['not_applicable']} not applicable."
    ]
    marks = {PASS: "pass", FAIL: "FAIL", NOT_APPLICABLE: "n/a "}
    for gate in gates:
        mark = marks.get(gate.get("status"), gate.get("status"))
        lines.append(f"  [{mark}] {gate.get('title')}: {gate.get('reason')}")
    return lines


def _traffic(strategy: str, traffic_percent: int) -> str:
    return f"{strategy}, {traffic_percent}% of traffic"


def _what(request: DeploymentRequest) -> str:
    version = request.version
    return f"{version.model.name} v{version.version} to {request.environment.name}"


def _request_data(request: DeploymentRequest) -> dict[str, Any]:
    version = request.version
    return {
        "id": request.pk,
        "url": request_url(request.pk),
        "model": version.model.name,
        "risk_class": version.model.risk_class,
        "version": version.version,
        "semantic_version": version.semantic_version,
        "environment": request.environment.name,
        "kind": request.kind,
        "strategy": request.strategy,
        "traffic_percent": request.traffic_percent,
        "status": request.status,
        "justification": request.justification,
        "requested_by": request.requested_by.get_username(),
        "created_at": request.created_at,
        "expires_at": request.expires_at,
        "closed_at": request.closed_at,
        "closing_comment": request.closing_comment,
        "gates": _gate_counts(request.gate_results),
    }


def _deployment_data(deployment: Deployment) -> dict[str, Any]:
    return {
        "id": deployment.pk,
        "url": deployment_url(deployment.pk),
        "model": deployment.model.name,
        "version": deployment.version.version,
        "semantic_version": deployment.version.semantic_version,
        "environment": deployment.environment.name,
        "artifact": {
            "id": deployment.artifact_id,
            "uri": deployment.artifact.uri,
            "sha256": deployment.artifact_sha256,
        },
        "strategy": deployment.strategy,
        "traffic_percent": deployment.traffic_percent,
        "status": deployment.status,
        "source": deployment.source,
        "request_id": deployment.request_id,
        "rollback_target_id": deployment.rollback_target_id,
        "restores_id": deployment.restores_id,
        "deployed_by": deployment.deployed_by.get_username(),
        "started_at": deployment.started_at,
        "ended_at": deployment.ended_at,
        "end_reason": deployment.end_reason,
    }


# --- The notifications ----------------------------------------------------------------


def notify_request_submitted(request: DeploymentRequest) -> None:
    """Webhook ``request.submitted``; email everyone who may decide it."""
    with transaction.atomic():
        request = _load_request(request.pk)
        webhook_event_record(
            event=REQUEST_SUBMITTED, data={"request": _request_data(request)}
        )
        version = request.version
        body = "\n".join(
            [
                f"{request.requested_by.get_username()} requests "
                f"{request.get_kind_display().lower()}: {_what(request)} "
                f"({_traffic(request.strategy, request.traffic_percent)}).",
                f"Model: {version.model.name} ({version.model.risk_class} risk), "
                f"version {version.version}"
                + (f" ({version.semantic_version})" if version.semantic_version else "")
                + ".",
                f"Environment: {request.environment.name}.",
                f"Strategy: {_traffic(request.strategy, request.traffic_percent)}.",
                "",
                "Justification:",
                request.justification,
                "",
                *_gate_lines(request.gate_results),
                "",
                f"Decide before {request.expires_at:%Y-%m-%d %H:%M} UTC:",
                request_url(request.pk),
            ]
        )
        email_on_commit(
            reviewer_emails(request),
            f"Review request #{request.pk}: {_what(request)}",
            body,
        )


def notify_decision_recorded(decision: Decision) -> None:
    """Webhook ``request.decided``; email the requester the outcome."""
    with transaction.atomic():
        request = _load_request(decision.request_id)
        reviewer = decision.reviewer
        role = ROLE_LABELS.get(decision.role, decision.role)
        webhook_event_record(
            event=REQUEST_DECIDED,
            data={
                "request": _request_data(request),
                "decision": {
                    "id": decision.pk,
                    "outcome": decision.outcome,
                    "reviewer": reviewer.get_username(),
                    "role": decision.role,
                    "comment": decision.comment,
                    "created_at": decision.created_at,
                },
            },
        )
        verb = DECIDED.get(decision.outcome, decision.outcome)
        lines = [
            f"{reviewer.get_username()} ({role}) {verb} your request #{request.pk}: "
            f"{_what(request)} "
            f"({_traffic(request.strategy, request.traffic_percent)}).",
            "",
            f"Comment: {decision.comment}" if decision.comment else "No comment.",
            f"The request is now {request.get_status_display().lower()}.",
            "",
            request_url(request.pk),
        ]
        email_on_commit(
            _active_email(request.requested_by),
            f"Request #{request.pk} {verb} by {reviewer.get_username()}: "
            f"{_what(request)}",
            "\n".join(lines),
        )


def notify_request_closed(request: DeploymentRequest) -> None:
    """Webhook ``request.rejected``, ``request.cancelled`` or ``request.expired``;
    email the requester, except for a rejection: the decision's email has told
    them already, with the reviewer's comment."""
    if request.status not in CLOSING_STATUSES:
        raise ValueError(f"Request #{request.pk} is {request.status}, not closed.")
    with transaction.atomic():
        request = _load_request(request.pk)
        webhook_event_record(
            event=f"request.{request.status}", data={"request": _request_data(request)}
        )
        if request.status == RequestStatus.REJECTED:
            return
        status = request.get_status_display().lower()
        lines = [
            f"Your request #{request.pk} ({_what(request)}) was {status}"
            + (f": {request.closing_comment}" if request.closing_comment else ".")
        ]
        if request.status == RequestStatus.EXPIRED:
            lines.append("Submit it again if it is still wanted.")
        lines += ["", request_url(request.pk)]
        email_on_commit(
            _active_email(request.requested_by),
            f"Request #{request.pk} {status}: {_what(request)}",
            "\n".join(lines),
        )


def notify_deployment_executed(deployment: Deployment) -> None:
    """Webhook ``deployment.executed``; email the requester that it is live."""
    with transaction.atomic():
        deployment = Deployment.objects.select_related(*_DEPLOYMENT_RELATIONS).get(
            pk=deployment.pk
        )
        webhook_event_record(
            event=DEPLOYMENT_EXECUTED,
            data={"deployment": _deployment_data(deployment)},
        )
        if deployment.request is None:
            return
        what = (
            f"{deployment.model.name} v{deployment.version.version} "
            f"in {deployment.environment.name}"
        )
        lines = [
            f"{what} is live "
            f"({_traffic(deployment.strategy, deployment.traffic_percent)}), "
            f"as deployment #{deployment.pk} from your request "
            f"#{deployment.request_id}.",
            f"Artifact: {deployment.artifact.uri} "
            f"(sha256 {deployment.artifact_sha256}).",
            f"Rollback target: deployment #{deployment.rollback_target_id}."
            if deployment.rollback_target_id
            else "Rollback target: none (it replaced nothing).",
            "",
            deployment_url(deployment.pk),
        ]
        email_on_commit(
            _active_email(deployment.request.requested_by),
            f"Deployed: {what}",
            "\n".join(lines),
        )


def notify_deployment_rolled_back(
    rolled_back: Deployment, restored: Deployment | None
) -> None:
    """Webhook ``deployment.rolled_back``; email the model's team and whoever
    requested the rolled-back deployment. ``restored`` is None when the rollback
    target was still live (a canary pulled back beside its full deployment)."""
    with transaction.atomic():
        ids = [rolled_back.pk] + ([restored.pk] if restored is not None else [])
        loaded = Deployment.objects.select_related(*_DEPLOYMENT_RELATIONS).in_bulk(ids)
        rolled_back = loaded[rolled_back.pk]
        restored = loaded[restored.pk] if restored is not None else None
        model = rolled_back.model
        by = rolled_back.ended_by.get_username() if rolled_back.ended_by else "?"
        webhook_event_record(
            event=DEPLOYMENT_ROLLED_BACK,
            data={
                "rolled_back": _deployment_data(rolled_back),
                "restored": _deployment_data(restored) if restored else None,
                "reason": rolled_back.end_reason,
                "rolled_back_by": by,
            },
        )
        where = f"{model.name} in {rolled_back.environment.name}"
        if restored is not None:
            now_live = (
                f"Live again: v{restored.version.version} as deployment "
                f"#{restored.pk}, artifact {restored.artifact.uri} "
                f"(sha256 {restored.artifact_sha256}), "
                f"{_traffic(restored.strategy, restored.traffic_percent)}."
            )
        else:
            now_live = (
                f"Its traffic returns to deployment #{rolled_back.rollback_target_id}, "
                "which was still live."
            )
        lines = [
            f"{by} rolled back deployment #{rolled_back.pk} of {where} "
            f"(v{rolled_back.version.version}, artifact sha256 "
            f"{rolled_back.artifact_sha256}).",
            f"Reason: {rolled_back.end_reason}",
            now_live,
            "",
            deployment_url(rolled_back.pk),
        ]
        requester = (
            rolled_back.request.requested_by_id
            if rolled_back.request is not None
            else rolled_back.deployed_by_id
        )
        email_on_commit(
            _team_and_requester_emails(model.team.group_id, requester),
            f"Rolled back: {where} (v{rolled_back.version.version})",
            "\n".join(lines),
        )
