"""Receiving window profiles built by a client (``gatehouse_client.profile``)
and serving the spec they are built on.

A profile document is checked completely against the version's spec (its
active reference's bins and vocabularies, the model's task and fairness
attributes) before anything is written; then it is stored like a row batch
(one ``MonitoringBatch`` of kind ``profiles``, holding the checked document),
its aggregation task enqueued after the commit (the database is the outbox),
and a resent batch id is acknowledged without a second row.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from gatehouse_client.profile import (
    BINARY_MEDIA_TYPE,
    ProfileInvalid,
    ProfileSpec,
    WindowProfile,
    decode_binary,
    document_header,
    encode_binary,
    profiles_document,
    read_windows,
)
from rest_framework.exceptions import ParseError

from audit.services import audit_record
from kernel.guards import loads_checked
from models_registry.selectors import model_get
from monitoring import access, parsing
from monitoring.errors import BatchInvalid, MonitoringPermissionDenied, NoReference
from monitoring.models import (
    BatchFormat,
    BatchKind,
    MonitoringBatch,
    MonitoringTarget,
)
from monitoring.services.aggregation.profiles import spec_of
from monitoring.services.aggregation.references import active_reference
from monitoring.services.ingestion import (
    JSON_TYPES,
    Received,
    UnsupportedMediaType,
    enqueue_after_commit,
    existing_batch,
)
from monitoring.services.payloads import payload_write
from monitoring.services.targets import environment_by_name, live_version, target_for

ROW_COUNT_MAX = 2**31 - 1  # MonitoringBatch.row_count is a PositiveIntegerField


def _pushable(actor, model_name: str, environment_name: str):
    """The model and environment, if the actor may push data for the model."""
    model = model_get(actor=actor, name=model_name)
    environment = environment_by_name(environment_name)
    if not access.may_push(actor, model):
        raise MonitoringPermissionDenied(
            f"You may not push monitoring data for “{model.name}”: that takes the "
            "push_data permission and membership of the owning team."
        )
    return model, environment


def profile_spec_get(
    *, actor, model_name: str, environment_name: str, version=None
) -> ProfileSpec:
    """The spec a client profiles a version's predictions on (for pushers)."""
    model, environment = _pushable(actor, model_name, environment_name)
    model_version = live_version(model, environment, parsing.check_version(version))
    reference = active_reference(model_version.pk)
    if reference is None:
        raise NoReference(
            f"Version {model_version.version} has no reference yet: upload a "
            "reference sample or push a batch of rows first; profiles are made "
            "on the reference's bins."
        )
    target = MonitoringTarget(
        model=model_version.model, version=model_version, environment=environment
    )
    return spec_of(target, reference)


def _document(body: bytes, content_type: str) -> tuple[dict, str]:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    limit = settings.MONITORING_MAX_BODY_BYTES
    try:
        if media in JSON_TYPES:
            text, kind = body, BatchFormat.PROFILE_JSON
        elif media == BINARY_MEDIA_TYPE:
            text, kind = (
                decode_binary(body, max_bytes=limit),
                BatchFormat.PROFILE_BINARY,
            )
        else:
            raise UnsupportedMediaType(
                f"Send application/json or {BINARY_MEDIA_TYPE}.",
                fields={"Content-Type": [f"Unsupported: {media[:60] or 'none'}."]},
            )
        document = loads_checked(text, strict=True)
    except ProfileInvalid as error:
        raise BatchInvalid(error.message, fields=error.fields) from error
    except ParseError as error:
        raise BatchInvalid(
            "The body is not valid JSON.", fields={"body": [str(error.detail)]}
        ) from error
    return document, kind


def _check_hours(windows: list[WindowProfile], now: datetime) -> None:
    latest = now + timedelta(seconds=settings.MONITORING_MAX_CLOCK_SKEW_SECONDS)
    earliest = now - timedelta(days=settings.MONITORING_MAX_AGE_DAYS)
    problems = []
    for window in windows:
        start = window.start.strftime("%Y-%m-%dT%H:00:00Z")
        if window.start > latest:
            problems.append(f"{start}: in the future.")
        elif window.start + timedelta(hours=1) <= earliest:
            problems.append(
                f"{start}: older than {settings.MONITORING_MAX_AGE_DAYS} days "
                "(MONITORING_MAX_AGE_DAYS)."
            )
    if problems:
        raise BatchInvalid(
            "The profile document was refused.", fields={"windows": problems[:10]}
        )


def profiles_receive(
    *,
    actor,
    model_name: str,
    environment_name: str,
    body: bytes,
    content_type: str,
    now: datetime | None = None,
) -> Received:
    """Check and store one profile document; return it and whether it is new.

    Raises a ``ServiceError`` (nothing stored) for every problem: 400 with the
    fields of every bad window, 409 for a batch id used for other content.
    """
    now = now or timezone.now()
    model, environment = _pushable(actor, model_name, environment_name)
    document, body_format = _document(body, content_type)
    try:
        header = document_header(document)
    except ProfileInvalid as error:
        raise BatchInvalid(error.message, fields=error.fields) from error
    model_version = live_version(
        model, environment, parsing.check_version(header.version)
    )
    batch_id = parsing.check_batch_id(header.batch_id)
    digest = hashlib.sha256(body).hexdigest()
    kind = BatchKind.PROFILES
    existing = existing_batch(model, environment, kind, batch_id, digest)
    if existing is not None:
        return Received(batch=existing, created=False)
    reference = active_reference(model_version.pk)
    if reference is None:
        raise NoReference(
            f"Version {model_version.version} has no reference yet: upload a "
            "reference sample or push a batch of rows first."
        )
    spec = spec_of(
        MonitoringTarget(model=model, version=model_version, environment=environment),
        reference,
    )
    try:
        windows = read_windows(document, spec)
    except ProfileInvalid as error:
        raise BatchInvalid(error.message, fields=error.fields) from error
    _check_hours(windows, now)
    rows = sum(window.rows for window in windows)
    stored = encode_binary(
        profiles_document(
            windows, batch_id=batch_id, version=model_version.version, spec=spec
        )
    )
    try:
        with transaction.atomic():
            batch = MonitoringBatch.objects.create(
                target=target_for(model_version, environment),
                model=model,
                environment=environment,
                kind=kind,
                batch_id=batch_id,
                format=body_format,
                body_sha256=digest,
                body_bytes=len(body),
                row_count=min(rows, ROW_COUNT_MAX),
                payload=b"",
                received_by=actor,
                received_at=now,
                enqueued_at=now,
            )
            payload_write(batch.pk, stored)
            audit_record(
                actor=actor,
                action="monitoring.profiles_received",
                target=model_version,
                scope=model.name,
                payload={
                    "batch": batch.pk,
                    "batch_id": batch_id,
                    "environment": environment.name,
                    "reference": reference.pk,
                    "windows": [window.start.isoformat() for window in windows],
                    "rows": rows,
                    "sha256": digest,
                },
            )
            enqueue_after_commit(batch.pk)
    except IntegrityError:
        existing = existing_batch(model, environment, kind, batch_id, digest)
        if existing is None:
            raise
        return Received(batch=existing, created=False)
    return Received(batch=batch, created=True)
