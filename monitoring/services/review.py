"""The human review queue: people label low-confidence predictions.

Items are queued by the aggregation (``_queue_reviews``): predictions whose
confidence (the ``confidence`` column, else the score) is under the model's
``low_confidence_threshold``, sampled at random within each batch and at most
``MONITORING_REVIEW_PER_WINDOW`` per window. A reviewer's label joins the
prediction like a delayed label does, so it feeds the concept-drift metrics of
its window, exactly once (a prediction already labelled keeps its label).

Lock order: the review item, the prediction record, its window, the audit chain
(the same order a label batch takes).
"""

from __future__ import annotations

import math
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from gatehouse_client.profile import outcomes

from audit.services import audit_record
from kernel.secrets import secret_errors
from monitoring import access
from monitoring.errors import (
    MonitoringInvalid,
    MonitoringPermissionDenied,
    ReviewItemLabelled,
    ReviewItemNotFound,
)
from monitoring.models import PredictionRecord, ReviewItem, ReviewStatus
from monitoring.services.aggregation import label_outcomes_merge
from monitoring.services.targets import config_for

MAX_LABEL_LENGTH = 200


def _clean_label(task: str, label: str) -> str:
    label = (label or "").strip()
    errors = []
    if not label:
        errors.append("Give the label.")
    elif len(label) > MAX_LABEL_LENGTH:
        errors.append(f"At most {MAX_LABEL_LENGTH} characters.")
    elif task == outcomes.BINARY and math.isnan(outcomes.binary_values([label])[0]):
        errors.append("A binary model takes 1 or 0 (or true / false).")
    elif task == outcomes.REGRESSION and math.isnan(outcomes.as_numbers([label])[0]):
        errors.append("A regression model takes a number.")
    if errors:
        raise MonitoringInvalid("The label was not recorded.", fields={"label": errors})
    return label


def review_item_label(
    *,
    actor,
    item_id: int,
    label: str,
    comment: str = "",
    now: datetime | None = None,
) -> ReviewItem:
    """Record a person's label for a queued prediction and score it."""
    now = now or timezone.now()
    comment = (comment or "").strip()
    with transaction.atomic():
        item = (
            ReviewItem.objects.select_for_update(of=("self",))
            .select_related("target__model", "target__environment", "target__version")
            .filter(pk=item_id)
            .first()
        )
        if item is None or not access.may_view(actor, item.target.model):
            raise ReviewItemNotFound("No such review item.")
        model = item.target.model
        if not access.may_respond(actor, model):
            raise MonitoringPermissionDenied(
                f"Only the team owning “{model.name}” and its reviewers label its "
                "predictions."
            )
        config = config_for(model)
        label = _clean_label(config.task, label)
        if comment and (secrets := secret_errors(comment)):
            raise MonitoringInvalid(
                "The label was not recorded.", fields={"comment": secrets}
            )
        if item.status != ReviewStatus.PENDING:
            raise ReviewItemLabelled(
                f"Prediction {item.prediction_id} is labelled already ({item.label!r})."
            )
        item.status = ReviewStatus.LABELLED
        item.label = label
        item.comment = comment[:2000]
        item.labelled_by = actor
        item.labelled_at = now
        item.save(
            update_fields=["status", "label", "comment", "labelled_by", "labelled_at"]
        )
        record = (
            PredictionRecord.objects.select_for_update()
            .filter(
                target_id=item.target_id,
                prediction_id=item.prediction_id,
                label__isnull=True,
            )
            .order_by("pk")
            .first()
        )
        joined = record is not None
        if joined:
            record.label = label
            record.labelled_at = now
            record.save(update_fields=["label", "labelled_at"])
            label_outcomes_merge([record], config, now)
        audit_record(
            actor=actor,
            action="review.labelled",
            target=item,
            scope=model.name,
            payload={
                "prediction_id": item.prediction_id,
                "label": label,
                "comment": item.comment,
                "environment": item.target.environment.name,
                "version": item.target.version.version,
                "joined": joined,
            },
        )
    return item
