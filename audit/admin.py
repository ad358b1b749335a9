from django.contrib import admin

from audit.models import AuditCheckpoint, AuditEvent, ChainVerification
from kernel.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "timestamp", "actor_text", "action", "target_text"]
    list_filter = ["action"]
    search_fields = ["action", "actor_text", "target_text", "target_id"]
    show_full_result_count = False


@admin.register(ChainVerification)
class ChainVerificationAdmin(ReadOnlyAdmin):
    list_display = ["finished_at", "event_count", "is_intact", "first_broken_sequence"]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "created_at", "head_hash", "key_id"]
