"""Writes of approvals and deployments. Each service is one transaction with
its audit events and notifications (written to the outbox in the transaction,
sent after commit). Who may do what is ``approvals.access``: the services raise
its refusals.

Lock order, whenever several rows are locked: the registered model row, then the
deployment request, then deployments (by pk), then the audit chain (taken by
``audit_record``). Locking the model row first serialises every state change of
one model's deployments, so two final approvals cannot both deploy.

The modules, by sub-domain: ``policies`` (which policy applies, its snapshot,
strategy rules, policy changes), ``requests`` (submit, cancel, expire),
``decisions`` (decide; the final approval deploys), ``deployments`` (execute,
roll back), ``validation`` (validation reports and findings). Callers use
``from approvals import services`` and the names below.
"""

from approvals import notifications  # noqa: F401 (services.notifications, for tests)
from approvals.access import APPROVING_ROLES
from approvals.services.decisions import decision_record
from approvals.services.deployments import deployment_execute, deployment_rollback
from approvals.services.policies import (
    policy_change_record,
    policy_for,
    policy_snapshot,
    strategy_errors,
)
from approvals.services.requests import (
    deployment_request_cancel,
    deployment_request_submit,
    deployment_requests_expire,
)
from approvals.services.validation import (
    finding_status_change,
    validation_report_record,
)

__all__ = [
    "APPROVING_ROLES",
    "decision_record",
    "deployment_execute",
    "deployment_request_cancel",
    "deployment_request_submit",
    "deployment_requests_expire",
    "deployment_rollback",
    "finding_status_change",
    "policy_change_record",
    "policy_for",
    "policy_snapshot",
    "strategy_errors",
    "validation_report_record",
]
