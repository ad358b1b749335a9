from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.canonical import format_timestamp


@extend_schema_field(OpenApiTypes.DATETIME)
class UtcTimestampField(serializers.Field):
    """A timestamp in the hash's canonical UTC text (six fraction digits, Z)."""

    def to_representation(self, value):
        return format_timestamp(value)


class AuditEventSummaryOutput(serializers.Serializer):
    sequence = serializers.IntegerField()
    timestamp = UtcTimestampField()
    actor_text = serializers.CharField()
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    target_text = serializers.CharField()
    model = serializers.CharField(source="scope")


class AuditEventOutput(AuditEventSummaryOutput):
    actor_id = serializers.IntegerField(allow_null=True)
    actor_ip = serializers.CharField(allow_null=True)
    request_id = serializers.CharField()
    payload = serializers.JSONField()
    payload_json = serializers.CharField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class AuditEventPageOutput(serializers.Serializer):
    events = AuditEventSummaryOutput(many=True)
    older_before = serializers.IntegerField(
        allow_null=True, help_text="Pass as before= for the next older page."
    )
    newer_after = serializers.IntegerField(
        allow_null=True, help_text="Pass as after= for the next newer page."
    )


class AuditEventDetailOutput(serializers.Serializer):
    event = AuditEventOutput()
    previous_sequence = serializers.IntegerField(allow_null=True)
    next_sequence = serializers.IntegerField(allow_null=True)
    hash_recomputes = serializers.BooleanField()
    links_to_previous = serializers.BooleanField(allow_null=True)


class AuditCheckpointOutput(serializers.Serializer):
    sequence = serializers.IntegerField(source="checkpoint.sequence")
    hash = serializers.CharField(source="checkpoint.head_hash")
    time = UtcTimestampField(source="checkpoint.created_at")
    key_id = serializers.CharField(source="checkpoint.key_id")
    signature = serializers.CharField(source="checkpoint.signature")
    signature_is_valid = serializers.BooleanField(allow_null=True)
    matches_log = serializers.BooleanField()


class AuditCheckpointPageOutput(serializers.Serializer):
    checkpoints = AuditCheckpointOutput(many=True, source="rows")
    older_before = serializers.IntegerField(allow_null=True)
