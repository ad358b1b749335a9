"""Serializers of the monitoring API: inputs only validate, outputs only render.

The batch body serializers exist for the OpenAPI schema: batches are parsed by
``monitoring.parsing`` (JSON and Parquet alike), not by DRF.
"""

from django.urls import reverse
from rest_framework import serializers

from monitoring.models import Alert, AlertStatus, Check, MonitoringBatch, Task


class PredictionRowDoc(serializers.Serializer):
    timestamp = serializers.DateTimeField(
        help_text="ISO 8601 with a UTC offset, or epoch seconds."
    )
    prediction_id = serializers.CharField(max_length=200)
    score = serializers.FloatField(required=False, allow_null=True)
    confidence = serializers.FloatField(required=False, allow_null=True)
    prediction = serializers.CharField(required=False, allow_null=True)
    latency_ms = serializers.FloatField(required=False, allow_null=True)
    label = serializers.CharField(required=False, allow_null=True)


class BatchJsonDoc(serializers.Serializer):
    batch_id = serializers.CharField(
        max_length=200, help_text="The client's id of the batch: a resend is a no-op."
    )
    version = serializers.IntegerField(
        required=False,
        help_text="The version that made the predictions; default: the live one.",
    )
    records = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Row layout: one object per row (feature columns by name).",
    )
    columns = serializers.DictField(
        child=serializers.ListField(),
        required=False,
        help_text="Column layout: one array per column, all of the same length.",
    )


class ReferenceJsonDoc(serializers.Serializer):
    records = serializers.ListField(child=serializers.DictField(), required=False)
    columns = serializers.DictField(child=serializers.ListField(), required=False)


def batch_status_url(batch_id: int) -> str:
    return reverse("api-monitoring-batch", kwargs={"id": batch_id})


class BatchOutput(serializers.ModelSerializer):
    # Plain text, not enums: "status" and "kind" name other choice sets elsewhere
    # in the API, and one enum component per name keeps the schema unambiguous.
    kind = serializers.CharField(help_text="predictions, labels or metrics")
    format = serializers.CharField(help_text="json_rows, json_columns or parquet")
    status = serializers.CharField(help_text="pending, applied or failed")
    status_url = serializers.SerializerMethodField()
    model = serializers.CharField(source="model.name")
    environment = serializers.CharField(source="environment.name")
    version = serializers.IntegerField(source="target.version.version")
    rows = serializers.IntegerField(source="row_count")

    class Meta:
        model = MonitoringBatch
        fields = [
            "id",
            "batch_id",
            "kind",
            "format",
            "model",
            "environment",
            "version",
            "rows",
            "status",
            "attempts",
            "error",
            "result",
            "received_at",
            "applied_at",
            "status_url",
        ]

    def get_status_url(self, batch) -> str:
        return batch_status_url(batch.pk)


class BatchAccepted(serializers.Serializer):
    id = serializers.IntegerField()
    batch_id = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    rows = serializers.IntegerField()
    duplicate = serializers.BooleanField(
        help_text="True when this batch id was received before: nothing was added."
    )
    status_url = serializers.CharField()


class ReferenceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(source="version.version")
    source = serializers.CharField()
    rows = serializers.IntegerField(source="row_count")
    sha256 = serializers.CharField()
    features = serializers.SerializerMethodField()
    has_score = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_features(self, reference) -> list[str]:
        return list(reference.features)

    def get_has_score(self, reference) -> bool:
        return reference.score is not None


class AlertOutput(serializers.ModelSerializer):
    model = serializers.CharField(source="target.model.name")
    version = serializers.IntegerField(source="target.version.version")
    environment = serializers.CharField(source="target.environment.name")
    check = serializers.CharField(
        source="kind",
        help_text="data_drift, prediction_drift, skew, concept_drift, latency, "
        "kpi or fairness",
    )
    severity = serializers.CharField(help_text="low, medium, high or critical")
    status = serializers.CharField(help_text="open, acknowledged or resolved")
    acknowledged_by = serializers.SerializerMethodField()
    resolved_by = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "model",
            "version",
            "environment",
            "check",
            "subject",
            "title",
            "severity",
            "status",
            "occurrences",
            "details",
            "first_window_start",
            "last_window_start",
            "cleared_at",
            "opened_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
            "note",
            "retrain_request",
        ]

    def get_acknowledged_by(self, alert) -> str | None:
        return alert.acknowledged_by.get_username() if alert.acknowledged_by else None

    def get_resolved_by(self, alert) -> str | None:
        return alert.resolved_by.get_username() if alert.resolved_by else None


class AlertFilters(serializers.Serializer):
    model = serializers.SlugField(required=False)
    environment = serializers.SlugField(required=False)
    status = serializers.CharField(
        required=False, help_text="open, acknowledged or resolved"
    )
    check = serializers.CharField(required=False, help_text="a check name")

    def validate_status(self, value):
        if value not in AlertStatus.values:
            raise serializers.ValidationError(
                f"Must be one of: {', '.join(AlertStatus.values)}."
            )
        return value

    def validate_check(self, value):
        if value not in Check.values:
            raise serializers.ValidationError(
                f"Must be one of: {', '.join(Check.values)}."
            )
        return value


class AlertNoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class AlertResolveInput(serializers.Serializer):
    note = serializers.CharField(max_length=4000)


class AcknowledgedOutput(AlertOutput):
    retrain_problem = serializers.SerializerMethodField()

    class Meta(AlertOutput.Meta):
        fields = [*AlertOutput.Meta.fields, "retrain_problem"]

    def get_retrain_problem(self, alert) -> str | None:
        return self.context.get("retrain_problem")


class WindowCheckOutput(serializers.Serializer):
    """One check's verdict on one subject of a window, with every number it
    was taken on."""

    check = serializers.CharField(
        source="kind",
        help_text="data_drift, prediction_drift, skew, concept_drift, latency, "
        "kpi or fairness",
    )
    subject = serializers.CharField(
        help_text="The feature (drift, skew), metric, KPI or attribute; empty "
        "for window-wide checks."
    )
    status = serializers.CharField(
        help_text="ok, insufficient_data, no_reference, no_baseline or no_data"
    )
    severity = serializers.CharField(help_text="none, warning or critical")
    score = serializers.FloatField(
        allow_null=True, help_text="The number the verdict was taken on."
    )
    threshold = serializers.FloatField(
        allow_null=True, help_text="The warning threshold it was compared with."
    )
    details = serializers.JSONField(
        help_text="Everything the check computed. Drift checks: `method` (the "
        "deciding statistic), `kind` (numeric or categorical), `statistics` "
        "(numeric: wasserstein (W1 over the reference std), wasserstein_distance, "
        "reference_std, ks, ks_error_bound, ks_pvalue, jensenshannon, psi, "
        "mean_difference, out_of_range_rate; categorical: chi2, chi2_dof, "
        "chi2_pvalue, jensenshannon, psi, unseen_share), `p_value` (KS or "
        "chi-square), `corrected_p_value` (after the multiple-testing correction "
        "over the window's features), `critical_threshold`, `reference_count`, "
        "`current_count` (non-missing values), `current_missing` and "
        "`missing_rate`. Other checks: their own numbers (skew: missing-rate "
        "difference and range violations; performance, latency, KPI and "
        "fairness: the metric, its baseline or target and the gap). See "
        "docs/drift.md."
    )


class WindowOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    predictions = serializers.IntegerField(source="prediction_count")
    fed_by = serializers.ChoiceField(
        choices=["rows", "profiles", "both"],
        allow_null=True,
        help_text="How the window was fed: rows, window profiles built by a "
        "client, or both (null while it holds no prediction).",
    )
    labels = serializers.IntegerField(source="label_count")
    latency_p50 = serializers.FloatField(allow_null=True)
    latency_p95 = serializers.FloatField(allow_null=True)
    latency_p99 = serializers.FloatField(allow_null=True)
    score_mean = serializers.FloatField(allow_null=True)
    checked_at = serializers.DateTimeField(allow_null=True)
    drift = serializers.JSONField(help_text="{feature: drift score} of the checks")
    summary = serializers.JSONField()
    checks = WindowCheckOutput(
        source="check_results",
        many=True,
        help_text="Every check of the window, every feature included (passing "
        "ones too), with all the statistics it computed; empty until the window "
        "is checked.",
    )


class WindowFilters(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)
    hours = serializers.IntegerField(required=False, min_value=1, max_value=24 * 400)


class ConfigInput(serializers.Serializer):
    task = serializers.ChoiceField(choices=Task.choices, required=False)
    decision_threshold = serializers.FloatField(
        required=False, min_value=0, max_value=1
    )
    drift = serializers.DictField(required=False)
    performance_tolerance = serializers.FloatField(required=False, min_value=0)
    retrain_checks = serializers.ListField(
        child=serializers.ChoiceField(choices=Check.choices), required=False
    )
    llm = serializers.DictField(
        required=False,
        help_text="LLM call limits: cost spike ratios, judge baselines and "
        "tolerance, safety-flag rates (docs/llm-monitoring.md).",
    )


class ConfigOutput(serializers.Serializer):
    task = serializers.CharField()
    decision_threshold = serializers.FloatField()
    drift = serializers.DictField()
    performance_tolerance = serializers.FloatField()
    retrain_checks = serializers.ListField(child=serializers.CharField())
    llm = serializers.DictField()
