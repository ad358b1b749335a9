"""Approvals' vocabularies and audit targets, registered with ``kernel.labels``
when the app is ready (see ``ApprovalsConfig.ready``)."""

from approvals.models import (
    DeploymentSource,
    DeploymentStatus,
    FindingStatus,
    Outcome,
    RequestKind,
    RequestStatus,
    Severity,
    Strategy,
    ValidationOutcome,
)
from kernel import labels
from kernel.roles import ROLE_LABELS

SHORT_STRATEGIES = [
    ("shadow", "Shadow"),
    ("canary", "Canary"),
    ("full", "Full"),
    ("ab", "A/B"),
]


def register() -> None:
    for name, choices in (
        ("strategy", Strategy.choices),
        ("strategy_short", SHORT_STRATEGIES),
        ("request_kind", RequestKind.choices),
        ("request_status", RequestStatus.choices),
        ("decision_outcome", Outcome.choices),
        ("validation_outcome", ValidationOutcome.choices),
        ("finding_severity", Severity.choices),
        ("finding_status", FindingStatus.choices),
        ("deployment_status", DeploymentStatus.choices),
        ("deployment_source", DeploymentSource.choices),
        ("role", ROLE_LABELS.items()),
    ):
        labels.register_vocabulary(name, choices)
    labels.register_target(
        "approvals.deploymentrequest",
        urls=labels.urls_by_id("approvals:request-detail"),
    )
    labels.register_target(
        "approvals.deployment", urls=labels.urls_by_id("approvals:deployment-detail")
    )
