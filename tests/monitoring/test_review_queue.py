"""The human review queue: low-confidence predictions sampled with a bound per
window, labelled by people in the browser, their labels feeding the online
performance; who may label and who may only look."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from monitoring.models import MonitoringWindow, PredictionRecord, ReviewItem
from tests.monitoring.batches import (
    hour_ago,
    ingest,
    prediction_rows,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bound(settings):
    settings.MONITORING_REVIEW_PER_WINDOW = 5
    return 5


def _queued_per_window():
    return dict(
        MonitoringWindow.objects.values_list("start", "review_queued").order_by("start")
    )


def test_low_confidence_predictions_are_queued_up_to_the_bound_per_window(world, bound):
    first = ingest(world, prediction_rows(100, start=hour_ago(3)), "a")
    ingest(world, prediction_rows(100, start=hour_ago(3), prefix="b", seed=1), "b")
    ingest(world, prediction_rows(100, start=hour_ago(2), prefix="c", seed=2), "c")
    assert first.result["review_queued"] == bound
    assert _queued_per_window() == {hour_ago(3): 5, hour_ago(2): 5}
    items = list(ReviewItem.objects.all())
    assert len(items) == 10
    assert all(item.confidence < 0.3 for item in items)
    assert all(item.confidence == item.score for item in items)
    item = items[0]
    assert set(item.features) == {"income", "region", "sex"}


def test_the_confidence_column_is_used_when_sent(world, bound):
    rows = prediction_rows(40, start=hour_ago(3))
    for index, row in enumerate(rows):
        row["score"] = 0.9
        row["confidence"] = 0.1 if index < 3 else 0.8
    ingest(world, rows, "a")
    assert sorted(ReviewItem.objects.values_list("prediction_id", flat=True)) == [
        "p0",
        "p1",
        "p2",
    ]


def test_a_model_without_a_threshold_queues_nothing(world, bound):
    type(world.model).objects.filter(pk=world.model.pk).update(
        low_confidence_threshold=None
    )
    ingest(world, prediction_rows(100, start=hour_ago(3)), "a")
    assert ReviewItem.objects.count() == 0


def _item(world):
    ingest(world, prediction_rows(100, start=hour_ago(3)), "a")
    return ReviewItem.objects.order_by("confidence").first()


def test_a_reviewer_labels_in_the_browser_and_the_label_scores_the_prediction(
    world, client, bound
):
    item = _item(world)
    client.force_login(world.users.reviewer)
    page = client.get(reverse("monitoring:review-item", args=[item.pk]))
    assert page.status_code == 200
    assert b"Save the label" in page.content
    response = client.post(
        reverse("monitoring:review-item", args=[item.pk]),
        {"label": "0", "comment": "Income was misread."},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.label, item.labelled_by) == (
        "labelled",
        "0",
        world.users.reviewer,
    )
    record = PredictionRecord.objects.get(prediction_id=item.prediction_id)
    assert record.label == "0"
    window = MonitoringWindow.objects.get()
    assert (window.label_count, window.outcomes["n"]) == (1, 1)
    assert window.needs_check is True
    event = AuditEvent.objects.get(action="review.labelled")
    assert (event.scope, event.actor_id) == ("credit-scoring", world.users.reviewer.pk)


def test_a_label_is_given_once(world, client, bound):
    item = _item(world)
    client.force_login(world.users.requester)
    target = reverse("monitoring:review-item", args=[item.pk])
    client.post(target, {"label": "1"})
    window = MonitoringWindow.objects.get()
    again = client.post(target, {"label": "0"})
    assert again.status_code == 409
    assert b"is labelled already" in again.content
    item.refresh_from_db()
    assert item.label == "1"
    assert MonitoringWindow.objects.get().outcomes == window.outcomes


def test_a_label_the_model_cannot_read_is_refused(world, client, bound):
    item = _item(world)
    client.force_login(world.users.requester)
    response = client.post(
        reverse("monitoring:review-item", args=[item.pk]), {"label": "maybe"}
    )
    assert response.status_code == 400
    assert b"A binary model takes 1 or 0 (or true / false)." in response.content
    item.refresh_from_db()
    assert item.status == "pending"
    assert MonitoringWindow.objects.get().label_count == 0


@pytest.mark.parametrize(
    ("person", "get", "post"),
    [
        ("auditor", 200, 403),
        ("validator", 200, 403),
        ("stranger", 404, 404),
        ("outsider", 404, 404),
    ],
)
def test_who_may_only_look_or_not_even_that(world, client, bound, person, get, post):
    item = _item(world)
    client.force_login(getattr(world.users, person))
    target = reverse("monitoring:review-item", args=[item.pk])
    assert client.get(target).status_code == get
    assert client.post(target, {"label": "1"}).status_code == post
    item.refresh_from_db()
    assert item.status == "pending"
    assert MonitoringWindow.objects.get().label_count == 0


def test_the_queue_page_lists_what_one_may_label(world, client, bound):
    _item(world)
    client.force_login(world.users.reviewer)
    mine = client.get(reverse("monitoring:review-queue"))
    assert mine.status_code == 200
    assert mine.content.count(b'href="/monitoring/review/') == 5
    client.force_login(world.users.auditor)
    theirs = client.get(reverse("monitoring:review-queue"))
    assert b"Nothing waits for a label from you." in theirs.content


def test_a_delayed_label_settles_the_review(world, bound, client):
    item = _item(world)
    batch = ingest(
        world,
        [{"prediction_id": item.prediction_id, "label": 1}],
        "labels",
        kind="labels",
    )
    assert batch.result["matched"] == 1
    item.refresh_from_db()
    assert (item.status, item.label, item.labelled_by) == ("labelled", "1", None)
    assert item.comment == "Labelled by batch labels."
