"""Reads of the human review queue: the pending items of the models a person
labels, least confident first, and one item."""

from __future__ import annotations

from django.db.models import QuerySet

from monitoring import access
from monitoring.errors import ReviewItemNotFound
from monitoring.models import ReviewItem, ReviewStatus


def _pending_reviews(actor) -> QuerySet:
    return ReviewItem.objects.filter(
        status=ReviewStatus.PENDING,
        target__model__in=access.models_responded_by(actor).values("pk"),
    )


def review_queue_list(*, actor) -> QuerySet:
    """Pending review items of the models the actor labels, least confident
    first (a queryset to page through)."""
    return (
        _pending_reviews(actor)
        .select_related("target__model", "target__version", "target__environment")
        .order_by("confidence", "predicted_at", "pk")
    )


def review_queue(*, actor, limit: int = 100) -> list[ReviewItem]:
    """The first ``limit`` items of ``review_queue_list``."""
    return list(review_queue_list(actor=actor)[:limit])


def review_queue_count(*, actor) -> int:
    return _pending_reviews(actor).count()


def review_item_get(*, actor, id: int) -> ReviewItem:
    item = (
        ReviewItem.objects.select_related(
            "target__model", "target__version", "target__environment", "labelled_by"
        )
        .filter(pk=id)
        .first()
    )
    if item is None or not access.may_view(actor, item.target.model):
        raise ReviewItemNotFound("No such review item.")
    return item
