"""Approvals in the Django admin.

Platform admins edit environments, approval policies and webhook endpoints here;
each save is an audit event recorded in the admin's transaction (the admin wraps
every change view in ``transaction.atomic``). Everything the workflow writes —
requests, decisions, deployments, validation reports, findings and webhook
deliveries — is read-only: it changes only through the services.
"""

from typing import Any

from django.contrib import admin

from approvals.forms import ApprovalPolicyAdminForm, WebhookEndpointAdminForm
from approvals.models import (
    ApprovalPolicy,
    Decision,
    Deployment,
    DeploymentRequest,
    Environment,
    Finding,
    ValidationReport,
    WebhookDelivery,
    WebhookEndpoint,
)
from approvals.services import policy_change_record, policy_snapshot
from audit.services import audit_record
from kernel.admin import ReadOnlyAdmin

ENVIRONMENT_FIELDS = ("name", "title", "order", "is_production")
# What an endpoint change records: never the secret itself.
WEBHOOK_FIELDS = ("name", "url", "events", "is_active")


class NoDeleteAdmin(admin.ModelAdmin):
    """Deleting would leave requests and deployments without their context."""

    def has_delete_permission(self, request, obj=None):
        return False


def _values(obj, fields) -> dict[str, Any]:
    return {field: getattr(obj, field) for field in fields}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    return {
        key: [before.get(key), value]
        for key, value in after.items()
        if before.get(key) != value
    }


@admin.register(Environment)
class EnvironmentAdmin(NoDeleteAdmin):
    list_display = ["name", "title", "order", "is_production"]
    ordering = ["order"]

    def save_model(self, request, obj, form, change):
        before = (
            _values(Environment.objects.get(pk=obj.pk), ENVIRONMENT_FIELDS)
            if change
            else {}
        )
        super().save_model(request, obj, form, change)
        after = _values(obj, ENVIRONMENT_FIELDS)
        audit_record(
            actor=request.user,
            action="environment.changed" if change else "environment.created",
            target=obj,
            payload={"environment": after, "diff": _diff(before, after)},
        )


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(NoDeleteAdmin):
    form = ApprovalPolicyAdminForm
    list_display = [
        "risk_class",
        "environment",
        "required_approvals",
        "required_roles",
        "requires_staged_rollout",
        "big_change_requires_ab",
        "approval_valid_days",
        "updated_at",
    ]
    list_filter = ["environment", "risk_class"]
    list_select_related = ["environment"]

    def get_readonly_fields(self, request, obj=None):
        # Which policy a row is never changes; create another one instead.
        return ["risk_class", "environment"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        before = (
            policy_snapshot(
                ApprovalPolicy.objects.select_related("environment").get(pk=obj.pk)
            )
            if change
            else {}
        )
        super().save_model(request, obj, form, change)
        policy_change_record(actor=request.user, policy=obj, before=before)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(NoDeleteAdmin):
    form = WebhookEndpointAdminForm
    list_display = ["name", "url", "events", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]

    def save_model(self, request, obj, form, change):
        previous = WebhookEndpoint.objects.get(pk=obj.pk) if change else None
        before = _values(previous, WEBHOOK_FIELDS) if previous else {}
        super().save_model(request, obj, form, change)
        after = _values(obj, WEBHOOK_FIELDS)
        audit_record(
            actor=request.user,
            action="webhook.endpoint_changed",
            target=obj,
            payload={
                "created": not change,
                "endpoint": after,
                "diff": _diff(before, after),
                "secret_changed": previous is None or previous.secret != obj.secret,
            },
        )


@admin.register(DeploymentRequest)
class DeploymentRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "version",
        "environment",
        "kind",
        "strategy",
        "traffic_percent",
        "status",
        "requested_by",
        "created_at",
    ]
    list_filter = ["status", "environment", "kind", "strategy"]
    list_select_related = ["version__model", "environment", "requested_by"]
    search_fields = ["version__model__name", "requested_by__username"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["request", "reviewer", "outcome", "role", "created_at"]
    list_filter = ["outcome", "role"]
    list_select_related = [
        "request__version__model",
        "request__environment",
        "reviewer",
    ]


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "model",
        "version",
        "environment",
        "strategy",
        "traffic_percent",
        "status",
        "started_at",
        "ended_at",
    ]
    list_filter = ["status", "environment", "strategy"]
    list_select_related = ["model", "version__model", "environment"]
    search_fields = ["model__name", "artifact_sha256"]


@admin.register(ValidationReport)
class ValidationReportAdmin(ReadOnlyAdmin):
    list_display = ["version", "validator", "outcome", "created_at"]
    list_filter = ["outcome"]
    list_select_related = ["version__model", "validator"]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["title", "severity", "status", "owner", "due_date", "report"]
    list_filter = ["severity", "status"]
    list_select_related = ["owner", "report__version__model"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event"]
    list_select_related = ["endpoint"]
