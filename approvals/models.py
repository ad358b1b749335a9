"""Policies, deployment requests, decisions, validation, deployments, webhooks.

Tables and invariants only; every write goes through ``approvals.services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from models_registry.models import Artifact, ModelVersion, RegisteredModel, RiskClass


class Environment(models.Model):
    name = models.SlugField(max_length=50, unique=True)
    title = models.CharField(max_length=100)
    # Promotion order: staging (10) before production (20).
    order = models.PositiveIntegerField(unique=True)
    is_production = models.BooleanField(default=False)

    class Meta:
        ordering = ["order"]

    def __str__(self):
        return self.name


class Strategy(models.TextChoices):
    SHADOW = "shadow", "Shadow (no traffic served)"
    CANARY = "canary", "Canary (a share of traffic)"
    FULL = "full", "Full traffic"
    AB = "ab", "A/B test (split traffic)"


class ApprovalPolicy(models.Model):
    """What a deployment of a model of one risk class to one environment needs."""

    risk_class = models.CharField(max_length=10, choices=RiskClass.choices)
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="policies"
    )
    required_approvals = models.PositiveSmallIntegerField(default=1)
    # Roles that must be among the approvers, e.g. ["risk_officer"].
    required_roles = models.JSONField(default=list, blank=True)
    # Checklist item ids that block approval when failing, plus the special
    # gate "independent_validation".
    gate_items = models.JSONField(default=list, blank=True)
    # Production must first run as shadow or canary before full traffic.
    requires_staged_rollout = models.BooleanField(default=False)
    # A new major version, or an offline metric worse than the live version's,
    # must go out as an A/B test.
    big_change_requires_ab = models.BooleanField(default=False)
    approval_valid_days = models.PositiveSmallIntegerField(default=14)
    # Prompt versions: the prompt gates (approvals.prompt_gates) that block
    # approval when failing; the trained-model items of gate_items do not
    # apply to them.
    prompt_gate_items = models.JSONField(default=list, blank=True)
    # How much worse than the live version a prompt's declared metric may be
    # (absolute, on each metric) before the "no regression" gate fails.
    llm_regression_tolerance = models.FloatField(default=0.02)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["environment__order", "risk_class"]
        verbose_name_plural = "approval policies"
        constraints = [
            models.UniqueConstraint(
                fields=["risk_class", "environment"], name="one_policy_per_class_env"
            ),
            models.CheckConstraint(
                condition=Q(required_approvals__gte=1), name="policy_needs_an_approval"
            ),
            models.CheckConstraint(
                condition=Q(approval_valid_days__gte=1), name="policy_validity_positive"
            ),
            models.CheckConstraint(
                condition=Q(llm_regression_tolerance__gte=0)
                & Q(llm_regression_tolerance__lte=1),
                name="policy_llm_tolerance_range",
            ),
        ]

    def __str__(self):
        return f"{self.risk_class} → {self.environment}"


class RequestKind(models.TextChoices):
    DEPLOY = "deploy", "Deploy"
    PROMOTE = "promote", "Promote canary to full"
    RETRAIN = "retrain", "Retrain"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    EXECUTED = "executed", "Executed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class DeploymentRequestQuerySet(models.QuerySet):
    """Expiry is a fact at read time: a pending request whose approval window
    has ended reads as expired, whether or not the sweep
    (``approvals.tasks.expire_stale_requests``) has closed it yet."""

    def pending(self, *, now=None):
        """Requests still open for decisions: pending and inside their window."""
        return self.filter(
            status=RequestStatus.PENDING, expires_at__gt=now or timezone.now()
        )

    def with_current_status(self, status: str, *, now=None):
        """Requests whose ``current_status`` is ``status``."""
        now = now or timezone.now()
        if status == RequestStatus.PENDING:
            return self.pending(now=now)
        if status == RequestStatus.EXPIRED:
            return self.filter(
                Q(status=RequestStatus.EXPIRED)
                | Q(status=RequestStatus.PENDING, expires_at__lte=now)
            )
        return self.filter(status=status)


class DeploymentRequest(models.Model):
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="deployment_requests"
    )
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="requests"
    )
    kind = models.CharField(max_length=10, choices=RequestKind.choices)
    strategy = models.CharField(max_length=10, choices=Strategy.choices)
    # Canary: share of traffic; A/B: share sent to this version.
    traffic_percent = models.PositiveSmallIntegerField(default=100)
    justification = models.TextField()
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    # The policy as it was at submission, and the gates evaluated then and at the
    # final approval, so reviewers see exactly what was checked.
    policy_snapshot = models.JSONField(default=dict)
    gate_results = models.JSONField(default=list)
    final_gate_results = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # Rejections and cancellations say why.
    closing_comment = models.TextField(blank=True)

    objects = DeploymentRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["version", "environment"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(traffic_percent__gte=1, traffic_percent__lte=100),
                name="request_traffic_percent",
            ),
        ]

    def __str__(self):
        return f"request #{self.pk}: {self.version} → {self.environment}"

    @property
    def is_overdue(self) -> bool:
        """Stored as pending, but its approval window has ended: it is expired
        (``current_status``), and the service or the sweep closes it."""
        return (
            self.status == RequestStatus.PENDING and self.expires_at <= timezone.now()
        )

    @property
    def current_status(self) -> str:
        """The status as read now: what every page, answer and report shows."""
        return RequestStatus.EXPIRED if self.is_overdue else self.status

    def get_current_status_display(self) -> str:
        return RequestStatus(self.current_status).label


class Outcome(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_CHANGES = "request_changes", "Request changes"


class Decision(models.Model):
    request = models.ForeignKey(
        DeploymentRequest, on_delete=models.PROTECT, related_name="decisions"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # The role the decision counts for, checked when it was made.
    role = models.CharField(max_length=20)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # Each person counts once on a request.
            models.UniqueConstraint(
                fields=["request", "reviewer"], name="one_decision_per_reviewer"
            ),
        ]

    def __str__(self):
        return f"{self.outcome} by {self.reviewer_id} as {self.role}"


class ValidationOutcome(models.TextChoices):
    PASSED = "passed", "Passed"
    PASSED_WITH_FINDINGS = "passed_with_findings", "Passed with findings"
    FAILED = "failed", "Failed"


class ValidationReport(models.Model):
    """An independent validator's effective challenge of one model version."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="validation_reports"
    )
    validator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=24, choices=ValidationOutcome.choices)
    summary = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"validation of {self.version}: {self.outcome}"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    ACCEPTED = "accepted", "Risk accepted"


class Finding(models.Model):
    report = models.ForeignKey(
        ValidationReport, on_delete=models.CASCADE, related_name="findings"
    )
    severity = models.CharField(max_length=10, choices=Severity.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["report", "pk"]

    def __str__(self):
        return f"{self.severity}: {self.title}"


class DeploymentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"
    ROLLED_BACK = "rolled_back", "Rolled back"


class DeploymentSource(models.TextChoices):
    REQUEST = "request", "Approved request"
    ROLLBACK = "rollback", "Restored by a rollback"


class Deployment(models.Model):
    """One artifact live (or once live) in one environment. Rows are never
    overwritten: a deployment ends (superseded or rolled back) and a new row
    starts, so what was live at any moment can be answered."""

    model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="deployments"
    )
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="deployments"
    )
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="deployments"
    )
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="+")
    artifact_sha256 = models.CharField(max_length=64)
    strategy = models.CharField(max_length=10, choices=Strategy.choices)
    traffic_percent = models.PositiveSmallIntegerField(default=100)
    status = models.CharField(
        max_length=12, choices=DeploymentStatus.choices, default=DeploymentStatus.ACTIVE
    )
    source = models.CharField(
        max_length=10,
        choices=DeploymentSource.choices,
        default=DeploymentSource.REQUEST,
    )
    request = models.ForeignKey(
        DeploymentRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deployments",
    )
    # The deployment this one replaced: where a rollback goes back to.
    rollback_target = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # For a row made by a rollback: the earlier deployment it restores.
    restores = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["model", "environment", "started_at"]),
            models.Index(fields=["model", "environment", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "environment"],
                condition=Q(status="active", strategy="full"),
                name="one_active_full_deployment",
            ),
            models.CheckConstraint(
                condition=Q(traffic_percent__gte=0, traffic_percent__lte=100),
                name="deployment_traffic_percent",
            ),
            models.CheckConstraint(
                condition=Q(status="active", ended_at__isnull=True)
                | (~Q(status="active") & Q(ended_at__isnull=False)),
                name="deployment_end_matches_status",
            ),
        ]

    def __str__(self):
        return f"{self.model.name} v{self.version.version} in {self.environment}"


class WebhookEndpoint(models.Model):
    """A receiver of signed event notifications (serving systems, CD pipelines)."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200)
    # Event names such as "deployment.executed"; empty means every event.
    events = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed for good"


class WebhookDelivery(models.Model):
    """One event to one endpoint; the database is the outbox a sweeper retries."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=100)
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Every attempt: {"at", "status_code", "error"}.
    attempt_log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id} ({self.status})"
