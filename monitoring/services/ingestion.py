"""Receiving batches and reference samples.

A batch is validated completely before anything is written; then it is stored
(one ``MonitoringBatch`` row holding the normalised columns) in one short
transaction, and its aggregation task is enqueued after the commit. If the
broker is down at that moment the row stays pending and the sweeper enqueues it
later: the database is the outbox. A resent batch id finds the stored row and is
acknowledged again without a second row (the unique constraint decides races).
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from kernel.outbox import enqueue_on_commit
from models_registry.selectors import model_get
from monitoring import access, parsing
from monitoring.errors import (
    BatchIdReused,
    BatchInvalid,
    MonitoringPermissionDenied,
)
from monitoring.llm import parsing as llm_parsing
from monitoring.models import (
    MonitoringBatch,
    ReferenceProfile,
    ReferenceSource,
)
from monitoring.services.payloads import payload_write
from monitoring.services.targets import environment_by_name, live_version, target_for
from monitoring.windows import build_reference

logger = logging.getLogger(__name__)

JSON_TYPES = ("application/json", "text/json")
PARQUET_TYPES = (
    "application/vnd.apache.parquet",
    "application/x-parquet",
    "application/parquet",
    "application/octet-stream",
)


class UnsupportedMediaType(BatchInvalid):
    code = "unsupported_media_type"
    status_code = 415


def limits() -> parsing.Limits:
    return parsing.Limits(
        max_body_bytes=settings.MONITORING_MAX_BODY_BYTES,
        max_rows=settings.MONITORING_MAX_ROWS,
        max_features=settings.MONITORING_MAX_FEATURES,
    )


def _is_parquet(content_type: str, body: bytes) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in JSON_TYPES:
        return False
    if media in PARQUET_TYPES:
        return True
    raise UnsupportedMediaType(
        "Send application/json or application/vnd.apache.parquet.",
        fields={"Content-Type": [f"Unsupported: {media or 'none'}."]},
    )


@dataclass
class Received:
    batch: MonitoringBatch
    created: bool


def _enqueue_after_commit(batch_id: int) -> None:
    def send() -> None:
        from monitoring.tasks import apply_batch

        apply_batch.delay(batch_id)

    enqueue_on_commit("enqueue_monitoring_batch", send)


def _existing(model, environment, kind: str, batch_id: str, digest: str):
    existing = (
        MonitoringBatch.objects.filter(
            model=model, environment=environment, kind=kind, batch_id=batch_id
        )
        .only("pk", "body_sha256", "status", "batch_id", "kind")
        .first()
    )
    if existing is not None and existing.body_sha256 != digest:
        raise BatchIdReused(
            f"Batch id “{batch_id}” was used for a different {kind} batch "
            f"(#{existing.pk}): use a new batch id for new data.",
            fields={"batch_id": ["Already used for different content."]},
        )
    return existing


def batch_receive(
    *,
    actor,
    model_name: str,
    environment_name: str,
    kind: str,
    body: bytes,
    content_type: str,
    batch_id: str | None = None,
    version: str | int | None = None,
    now: datetime | None = None,
) -> Received:
    """Validate and store one batch; return it and whether it is new.

    ``batch_id`` and ``version`` come from the query string for Parquet bodies;
    JSON bodies carry them as keys. Raises a ``ServiceError`` (nothing stored)
    for every problem.
    """
    now = now or timezone.now()
    model = model_get(actor=actor, name=model_name)
    environment = environment_by_name(environment_name)
    if not access.may_push(actor, model):
        raise MonitoringPermissionDenied(
            f"You may not push monitoring data for “{model.name}”: that takes the "
            "push_data permission and membership of the owning team."
        )
    if kind not in (*parsing.KINDS, llm_parsing.LLM_CALLS):
        raise BatchInvalid("Unknown batch kind.", fields={"kind": [kind]})
    is_parquet = _is_parquet(content_type, body)
    digest = hashlib.sha256(body).hexdigest()
    layout, document = None, None
    if is_parquet:
        batch_id = parsing.check_batch_id(batch_id)
    else:
        layout, document = parsing.parse_json_body(
            body, max_rows=settings.MONITORING_MAX_ROWS
        )
        batch_id = parsing.check_batch_id(document.get("batch_id"))
        version = document.get("version", version)
    existing = _existing(model, environment, kind, batch_id, digest)
    if existing is not None:
        return Received(batch=existing, created=False)
    version_number = parsing.check_version(version)
    model_version = live_version(model, environment, version_number)
    if kind == llm_parsing.LLM_CALLS:
        parsed = llm_parsing.parse_calls(
            body,
            layout,
            document,
            limits(),
            batch_id=batch_id,
            version=model_version.version,
            now=now,
        )
    else:
        schema = parsing.Schema.for_kind(
            kind, model_version.artifact.feature_spec, model.fairness_attributes
        )
        parsed = (
            parsing.parse_parquet(
                body, schema, limits(), batch_id=batch_id, version=version, now=now
            )
            if is_parquet
            else parsing.parse_json_document(
                layout, document, schema, limits(), now=now, body_bytes=len(body)
            )
        )
    payload = parsing.table_to_bytes(parsed.table)
    target = target_for(model_version, environment)
    try:
        with transaction.atomic():
            batch = MonitoringBatch.objects.create(
                target=target,
                model=model,
                environment=environment,
                kind=kind,
                batch_id=batch_id,
                format=parsed.format,
                body_sha256=digest,
                body_bytes=len(body),
                row_count=parsed.row_count,
                payload=b"",
                received_by=actor,
                received_at=now,
                enqueued_at=now,
            )
            payload_write(batch.pk, payload)
            _enqueue_after_commit(batch.pk)
    except IntegrityError:
        # The same batch id won a race with this request: acknowledge that one.
        existing = _existing(model, environment, kind, batch_id, digest)
        if existing is None:
            raise
        return Received(batch=existing, created=False)
    return Received(batch=batch, created=True)


def reference_upload(
    *,
    actor,
    model_name: str,
    version_number: int,
    body: bytes,
    content_type: str,
) -> ReferenceProfile:
    """Profile a reference sample of a version; it becomes the active reference
    for windows opened from now on (open windows keep theirs)."""
    model = model_get(actor=actor, name=model_name)
    version = (
        model.versions.select_related("artifact").filter(version=version_number).first()
    )
    if version is None:
        from models_registry.errors import VersionNotFound

        raise VersionNotFound("No such model version.")
    if not access.may_push(actor, model):
        raise MonitoringPermissionDenied(
            f"You may not upload references for “{model.name}”."
        )
    is_parquet = _is_parquet(content_type, body)
    schema = parsing.Schema.for_kind(
        parsing.PREDICTIONS, version.artifact.feature_spec, ()
    )
    if not schema.features:
        raise BatchInvalid(
            "The reference sample was refused.",
            fields={"version": ["The version's artifact has no feature spec."]},
        )
    table = parsing.parse_reference(
        body, is_parquet=is_parquet, schema=schema, limits=limits()
    )
    features, score = build_reference(table, list(schema.features))
    digest = hashlib.sha256(body).hexdigest()
    with transaction.atomic():
        reference = ReferenceProfile.objects.create(
            version=version,
            source=ReferenceSource.UPLOAD,
            row_count=table.num_rows,
            sha256=digest,
            features=features,
            score=score,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="monitoring.reference_uploaded",
            target=version,
            scope=model.name,
            payload={
                "reference": reference.pk,
                "version": version.version,
                "rows": table.num_rows,
                "sha256": digest,
                "features": [name for name, _ in schema.features],
                "has_score": score is not None,
            },
        )
    return reference


# Shared with the receipt of window profiles (monitoring.services.profiles).
existing_batch = _existing
enqueue_after_commit = _enqueue_after_commit
