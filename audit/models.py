import json

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One link of the append-only, hash-chained audit log.

    Rows are written only by ``audit.services.audit_record``. The database refuses
    UPDATE, DELETE and TRUNCATE on this table (migration 0002), and the portal's
    runtime role holds only SELECT and INSERT on it (``audit_db_role``).
    """

    # Assigned under the chain lock as head + 1, so the chain has no gaps; it is
    # not a database sequence (those skip numbers on rollback).
    sequence = models.BigIntegerField(primary_key=True)
    timestamp = models.DateTimeField(db_index=True)
    # No database constraint: deleting or renaming a user must never touch (and
    # so be refused by) the audit table. actor_text keeps who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_text = models.CharField(max_length=300, blank=True)
    # Text, not inet: the hashed form must come back byte for byte.
    actor_ip = models.CharField(max_length=45, null=True, blank=True)  # noqa: DJ001
    request_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    target_text = models.CharField(max_length=300, blank=True)
    # The registered model (its slug) the event belongs to, if any: lets auditors
    # list a model's whole history whatever the target (version, request, ...).
    scope = models.CharField(max_length=100, blank=True)
    # The canonical JSON text exactly as hashed (see audit/canonical.py).
    payload_json = models.TextField(default="{}")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["actor", "sequence"]),
            models.Index(fields=["scope", "sequence"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1), name="audit_sequence_positive"
            ),
        ]
        permissions = [
            ("export_auditevent", "Can export audit events"),
            ("verify_auditevent", "Can verify the audit chain"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.action} by {self.actor_text or 'system'}"

    @property
    def payload(self):
        return json.loads(self.payload_json)


class ChainVerification(models.Model):
    """The result of one full verification of the audit chain."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    event_count = models.BigIntegerField()
    head_sequence = models.BigIntegerField(null=True)
    head_hash = models.CharField(max_length=64, blank=True)
    is_intact = models.BooleanField()
    first_broken_sequence = models.BigIntegerField(null=True)
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-finished_at"]

    def __str__(self):
        verdict = (
            "intact" if self.is_intact else f"broken at {self.first_broken_sequence}"
        )
        return f"verification {self.finished_at:%Y-%m-%d %H:%M} {verdict}"


class AuditCheckpoint(models.Model):
    """A signed statement of the chain's head: "event ``sequence`` has ``head_hash``".

    Written only by ``audit.services.audit_checkpoint_create``; the database refuses
    UPDATE, DELETE and TRUNCATE on this table (migration 0004). The signed message
    is ``audit.signing.checkpoint_message`` (docs/audit-checkpoints.md).
    """

    sequence = models.BigIntegerField(unique=True)
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    # Ed25519 signature (64 bytes) as standard base64.
    signature = models.CharField(max_length=88)
    # sha256 of the raw 32-byte public key, lowercase hex.
    key_id = models.CharField(max_length=64)

    class Meta:
        ordering = ["-sequence"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1),
                name="audit_checkpoint_sequence_positive",
            ),
        ]

    def __str__(self):
        return f"checkpoint #{self.sequence} {self.head_hash[:12]}"
