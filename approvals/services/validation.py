"""Independent validation reports (effective challenge) and their findings."""

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from approvals import access as approvals_access
from approvals.errors import ApprovalInvalid, ApprovalPermissionDenied, FindingNotFound
from approvals.models import (
    Finding,
    FindingStatus,
    Severity,
    ValidationOutcome,
    ValidationReport,
)
from audit.services import audit_record
from kernel.roles import VALIDATOR, user_roles
from kernel.secrets import secret_errors
from models_registry import access
from models_registry.errors import ModelNotFound
from models_registry.models import ModelVersion


def validation_report_record(
    *,
    actor,
    version: ModelVersion,
    outcome: str,
    summary: str,
    findings: list[dict[str, Any]] | None = None,
) -> ValidationReport:
    """Record an independent validator's report (effective challenge)."""
    findings = findings or []
    model = version.model
    if not access.has_model_permission(actor, model, access.VIEW):
        raise ModelNotFound("No such model.")
    if refusal := approvals_access.validate_refusal(actor, version):
        raise refusal
    errors: dict[str, list[str]] = {}
    if outcome not in ValidationOutcome.values:
        errors["outcome"] = [f"Must be one of: {', '.join(ValidationOutcome.values)}."]
    if not (summary or "").strip():
        errors["summary"] = ["Summarise the validation."]
    owners = {
        user.get_username(): user
        for user in get_user_model().objects.filter(
            username__in=[f.get("owner") for f in findings if isinstance(f, dict)],
            is_active=True,
        )
    }
    for index, finding in enumerate(findings):
        where = f"findings[{index}]"
        if not isinstance(finding, dict):
            errors[where] = ["Must be an object."]
            continue
        problems = []
        if finding.get("severity") not in Severity.values:
            problems.append(f"severity must be one of: {', '.join(Severity.values)}.")
        if not str(finding.get("title", "")).strip():
            problems.append("title is required.")
        if finding.get("owner") not in owners:
            problems.append("owner must be an active user's username.")
        text = f"{finding.get('title', '')} {finding.get('description', '')}"
        problems.extend(secret_errors(text))
        due = finding.get("due_date")
        if due is not None and not isinstance(due, date):
            problems.append("due_date must be a date.")
        if problems:
            errors[where] = problems
    if outcome == ValidationOutcome.PASSED and findings:
        errors.setdefault("outcome", []).append(
            "With findings, the outcome is passed_with_findings or failed."
        )
    for field, text in (("summary", summary or ""),):
        if secrets := secret_errors(text):
            errors.setdefault(field, []).extend(secrets)
    if errors:
        raise ApprovalInvalid("The validation report was not recorded.", fields=errors)
    with transaction.atomic():
        report = ValidationReport.objects.create(
            version=version, validator=actor, outcome=outcome, summary=summary.strip()
        )
        Finding.objects.bulk_create(
            [
                Finding(
                    report=report,
                    severity=finding["severity"],
                    title=finding["title"].strip(),
                    description=finding.get("description", ""),
                    owner=owners[finding["owner"]],
                    due_date=finding.get("due_date"),
                )
                for finding in findings
            ]
        )
        audit_record(
            actor=actor,
            action="validation.recorded",
            target=version,
            scope=model.name,
            payload={
                "report": report.pk,
                "outcome": outcome,
                "findings": [
                    {
                        "severity": f["severity"],
                        "title": f["title"],
                        "owner": f["owner"],
                    }
                    for f in findings
                ],
            },
        )
    return report


def finding_status_change(
    *, actor, finding_id: int, status: str, comment: str = ""
) -> Finding:
    """Validators (or the finding's owner, for resolution) move a finding."""
    with transaction.atomic():
        finding = (
            Finding.objects.select_for_update(of=("self",))
            .select_related("report__version__model")
            .filter(pk=finding_id)
            .first()
        )
        if finding is None or not access.has_model_permission(
            actor, finding.report.version.model, access.VIEW
        ):
            raise FindingNotFound("No such finding.")
        if status not in FindingStatus.values:
            raise ApprovalInvalid(
                "The finding was not changed.",
                fields={
                    "status": [f"Must be one of: {', '.join(FindingStatus.values)}."]
                },
            )
        if secrets := secret_errors(comment or ""):
            raise ApprovalInvalid(
                "The finding was not changed.", fields={"comment": secrets}
            )
        is_validator = VALIDATOR in user_roles(actor)
        if status == FindingStatus.ACCEPTED and not is_validator:
            raise ApprovalPermissionDenied("Only validators accept a finding's risk.")
        if not (is_validator or actor.pk == finding.owner_id):
            raise ApprovalPermissionDenied(
                "Only validators and the owner move a finding."
            )
        previous = finding.status
        finding.status = status
        finding.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="finding.status_changed",
            target=finding.report.version,
            scope=finding.report.version.model.name,
            payload={
                "finding": finding.pk,
                "diff": {"status": [previous, status]},
                "comment": comment,
            },
        )
    return finding
