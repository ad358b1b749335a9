"""Shapes of the approvals API.

Input serializers check shapes and JSON types only (text is text, whole numbers
are integers, dates parse, choices are among the choices); the services answer
every business rule (traffic share per strategy, a comment for a rejection, a
finding's owner) with field errors. Output serializers only render.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from approvals.models import (
    DeploymentStatus,
    FindingStatus,
    Outcome,
    RequestKind,
    RequestStatus,
    Severity,
    Strategy,
    ValidationOutcome,
)
from models_registry.serializers import (
    INT_MAX,
    InputSerializer,
    TextField,
    WholeNumberField,
)

LONG_TEXT = 10_000


@extend_schema_field({"type": "string", "enum": Severity.values})
class SeverityField(serializers.ChoiceField):
    """Severities have the same values as risk classes; an inline enum keeps the
    schema from naming one choice set twice."""

    def __init__(self, **kwargs):
        super().__init__(choices=Severity.choices, **kwargs)


# --- Input -------------------------------------------------------------------------


class RequestSubmitInput(InputSerializer):
    model = serializers.SlugField(max_length=100, help_text="The model's name.")
    version = WholeNumberField(
        min_value=1, max_value=INT_MAX, help_text="The version number (1, 2, …)."
    )
    environment = serializers.SlugField(
        max_length=50, help_text="The environment's name, e.g. staging."
    )
    strategy = serializers.ChoiceField(choices=Strategy.choices)
    traffic_percent = WholeNumberField(
        required=False,
        allow_null=True,
        min_value=-INT_MAX,
        max_value=INT_MAX,
        help_text="Canary: 1-50 (default 10); A/B: 1-99 (default 50); shadow and "
        "full: 100.",
    )
    kind = serializers.ChoiceField(
        choices=RequestKind.choices, default=RequestKind.DEPLOY
    )
    justification = TextField(allow_blank=True, max_length=LONG_TEXT)


class DecisionInput(InputSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    comment = TextField(
        required=False,
        allow_blank=True,
        max_length=LONG_TEXT,
        help_text="Required to reject or to request changes.",
    )


class CancelInput(InputSerializer):
    reason = TextField(required=False, allow_blank=True, max_length=LONG_TEXT)


class RollbackInput(InputSerializer):
    reason = TextField(
        allow_blank=True,
        max_length=LONG_TEXT,
        help_text="Why the deployment is rolled back (required, audited).",
    )


class FindingInput(InputSerializer):
    severity = SeverityField()
    title = TextField(max_length=200)
    description = TextField(required=False, allow_blank=True, max_length=LONG_TEXT)
    owner = TextField(max_length=150, help_text="Username of who must resolve it.")
    due_date = serializers.DateField(required=False, allow_null=True)


class ValidationReportInput(InputSerializer):
    outcome = serializers.ChoiceField(choices=ValidationOutcome.choices)
    summary = TextField(allow_blank=True, max_length=LONG_TEXT)
    findings = FindingInput(many=True, required=False)


class FindingStatusInput(InputSerializer):
    status = serializers.ChoiceField(choices=FindingStatus.choices)
    comment = TextField(required=False, allow_blank=True, max_length=LONG_TEXT)


# --- Query parameters ----------------------------------------------------------------


class RequestFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=RequestStatus.choices, required=False)
    model = serializers.SlugField(required=False, help_text="The model's name.")
    environment = serializers.SlugField(required=False)


class DeploymentFilters(serializers.Serializer):
    model = serializers.SlugField(required=False, help_text="The model's name.")
    environment = serializers.SlugField(required=False)
    status = serializers.ChoiceField(choices=DeploymentStatus.choices, required=False)


class LiveQuery(serializers.Serializer):
    at = serializers.DateTimeField(
        required=False,
        help_text="An ISO-8601 timestamp: answer what was live at that moment.",
    )


# --- Output ------------------------------------------------------------------------


class GateOutput(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField(help_text="pass, fail or not_applicable")
    reason = serializers.CharField()


class PolicySnapshotOutput(serializers.Serializer):
    id = serializers.IntegerField()
    risk_class = serializers.CharField()
    environment = serializers.CharField()
    required_approvals = serializers.IntegerField()
    required_roles = serializers.ListField(child=serializers.CharField())
    gate_items = serializers.ListField(child=serializers.CharField())
    requires_staged_rollout = serializers.BooleanField()
    big_change_requires_ab = serializers.BooleanField()
    approval_valid_days = serializers.IntegerField()
    prompt_gate_items = serializers.ListField(
        child=serializers.CharField(), required=False
    )
    llm_regression_tolerance = serializers.FloatField(required=False)


class RequestVersionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(source="version")
    semantic_version = serializers.CharField()
    artifact_sha256 = serializers.CharField(source="artifact.sha256")
    registered_by = serializers.CharField(source="registered_by.username")


class RequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.SlugField(source="version.model.name")
    risk_class = serializers.CharField(source="version.model.risk_class")
    version = RequestVersionOutput()
    environment = serializers.SlugField(source="environment.name")
    kind = serializers.CharField()
    strategy = serializers.CharField()
    traffic_percent = serializers.IntegerField()
    justification = serializers.CharField()
    status = serializers.CharField(
        source="current_status",
        help_text="As of now: a pending request whose approval window has "
        "ended is expired.",
    )
    requested_by = serializers.CharField(source="requested_by.username")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closing_comment = serializers.CharField()
    policy = PolicySnapshotOutput(
        source="policy_snapshot", help_text="The policy as it was at submission."
    )
    gates = GateOutput(
        source="gate_results", many=True, help_text="Evaluated at submission."
    )
    final_gates = GateOutput(
        source="final_gate_results",
        many=True,
        help_text="Evaluated again at the final approval (empty until then).",
    )
    page_url = serializers.SerializerMethodField(
        help_text="The request's page in the portal, where reviewers decide it: "
        "a path on this API's host."
    )

    def get_page_url(self, request) -> str:
        return reverse("approvals:request-detail", args=[request.pk])


class QueueItemOutput(RequestOutput):
    age_seconds = serializers.SerializerMethodField()
    approvals = serializers.IntegerField(source="approval_count")
    failing_gates = GateOutput(many=True)

    def get_age_seconds(self, request) -> int:
        return int(request.age.total_seconds())


class DecisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    request = serializers.IntegerField(source="request_id")
    reviewer = serializers.CharField(source="reviewer.username")
    outcome = serializers.CharField()
    role = serializers.CharField(help_text="The role the decision counts for.")
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class DecisionResultOutput(serializers.Serializer):
    decision = DecisionOutput()
    request_status = serializers.CharField(source="decision.request.current_status")
    executed = serializers.BooleanField(
        help_text="Whether this decision completed the policy and deployed."
    )
    deployment = serializers.IntegerField(
        source="deployment.pk", allow_null=True, help_text="The new deployment's id."
    )


class MetricComparisonOutput(serializers.Serializer):
    name = serializers.CharField()
    candidate = serializers.FloatField(allow_null=True)
    live = serializers.FloatField(allow_null=True)
    delta = serializers.FloatField(allow_null=True, help_text="candidate - live")
    direction = serializers.CharField(
        allow_null=True, help_text="higher or lower is better, when a target says."
    )


class DeploymentReferenceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(source="version.version")
    artifact_sha256 = serializers.CharField()
    strategy = serializers.CharField()
    traffic_percent = serializers.IntegerField()
    status = serializers.CharField()


class FindingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    report = serializers.IntegerField(source="report_id")
    severity = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    owner = serializers.CharField(source="owner.username")
    due_date = serializers.DateField(allow_null=True)
    updated_at = serializers.DateTimeField()


class ValidationReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(source="version_id")
    validator = serializers.CharField(source="validator.username")
    outcome = serializers.CharField()
    summary = serializers.CharField()
    findings = FindingOutput(source="findings.all", many=True)
    created_at = serializers.DateTimeField()


class RequestDetailOutput(serializers.Serializer):
    request = RequestOutput()
    decisions = DecisionOutput(many=True)
    approvals = serializers.IntegerField(help_text="Approvals so far.")
    live_deployment = DeploymentReferenceOutput(
        source="live",
        allow_null=True,
        help_text="The full deployment live in the environment now, if any.",
    )
    metrics = MetricComparisonOutput(
        many=True, help_text="Latest test metrics, candidate against the live version."
    )
    validation_reports = ValidationReportOutput(many=True)
    can_decide = serializers.BooleanField()
    can_cancel = serializers.BooleanField()


class ArtifactReferenceOutput(serializers.Serializer):
    id = serializers.IntegerField(source="artifact_id")
    uri = serializers.CharField(source="artifact.uri")
    sha256 = serializers.CharField(source="artifact_sha256")


class DeploymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.SlugField(source="model.name")
    environment = serializers.SlugField(source="environment.name")
    version = serializers.IntegerField(source="version.version")
    version_id = serializers.IntegerField()
    artifact = ArtifactReferenceOutput(source="*")
    strategy = serializers.CharField()
    traffic_percent = serializers.IntegerField()
    status = serializers.CharField()
    source = serializers.CharField(help_text="request, or rollback")
    request = serializers.IntegerField(source="request_id", allow_null=True)
    rollback_target = DeploymentReferenceOutput(
        allow_null=True, help_text="Where a rollback of this deployment goes back to."
    )
    restores = DeploymentReferenceOutput(
        allow_null=True, help_text="For a deployment made by a rollback."
    )
    deployed_by = serializers.CharField(source="deployed_by.username")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    ended_by = serializers.CharField(source="ended_by.username", allow_null=True)
    end_reason = serializers.CharField()


class RollbackOutput(serializers.Serializer):
    rolled_back = DeploymentOutput()
    restored = DeploymentOutput(
        allow_null=True,
        help_text="The deployment made live again; null when the target was "
        "still live beside it (a canary rolled back to the full deployment).",
    )


class LiveDeploymentOutput(serializers.Serializer):
    deployment = serializers.IntegerField(source="pk")
    version = serializers.IntegerField(source="version.version")
    version_id = serializers.IntegerField()
    artifact_id = serializers.IntegerField()
    artifact_uri = serializers.CharField(source="artifact.uri")
    sha256 = serializers.CharField(source="artifact_sha256")
    strategy = serializers.CharField()
    traffic_percent = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


class LiveOutput(serializers.Serializer):
    model = serializers.SlugField(source="model.name")
    environment = serializers.SlugField(source="environment.name")
    at = serializers.DateTimeField(
        allow_null=True, help_text="The moment asked about; null for now."
    )
    etag = serializers.CharField(help_text="Also sent as the ETag header.")
    deployments = LiveDeploymentOutput(many=True)
