import json
import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_record
from tests.audit.helpers import login_quietly, record_events

pytestmark = pytest.mark.django_db

LIST = reverse("audit:event-list")


def _listed(response) -> list[int]:
    """Sequences of the events on a list page, in page order."""
    body = response.content.decode()
    return [int(n) for n in re.findall(r'aria-label="Event (\d+)"', body)]


def _link(response, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', response.content.decode())
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def auditor_client(client, auditor):
    login_quietly(client, auditor)
    return client


def test_newest_page_lists_fifty_events_newest_first(auditor_client):
    record_events(60)
    response = auditor_client.get(LIST)
    assert response.status_code == 200
    assert _listed(response) == list(range(60, 10, -1))
    assert _link(response, "next") == f"{LIST}?before=11"
    assert _link(response, "prev") is None
    assert _link(response, "first") is None


def test_older_and_newer_links_walk_the_whole_log_by_keyset(auditor_client):
    record_events(120)
    first = auditor_client.get(LIST)
    assert _listed(first) == list(range(120, 70, -1))
    second = auditor_client.get(_link(first, "next"))
    assert _link(first, "next") == f"{LIST}?before=71"
    assert _listed(second) == list(range(70, 20, -1))
    last = auditor_client.get(_link(second, "next"))
    assert _listed(last) == list(range(20, 0, -1))
    assert _link(last, "next") is None
    assert _link(last, "prev") == f"{LIST}?after=20"
    back = auditor_client.get(_link(last, "prev"))
    assert _listed(back) == list(range(70, 20, -1))
    assert _link(back, "prev") == f"{LIST}?after=70"
    newest = auditor_client.get(_link(back, "prev"))
    assert _listed(newest) == list(range(120, 70, -1))
    assert _link(newest, "prev") is None
    assert _link(newest, "next") == f"{LIST}?before=71"


def test_a_log_of_exactly_two_pages_has_no_third(auditor_client):
    record_events(100)
    first = auditor_client.get(LIST)
    assert _link(first, "next") == f"{LIST}?before=51"
    second = auditor_client.get(_link(first, "next"))
    assert _listed(second) == list(range(50, 0, -1))
    assert _link(second, "next") is None
    assert _link(second, "prev") == f"{LIST}?after=50"


def test_a_log_of_one_page_has_no_other_page(auditor_client):
    record_events(50)
    response = auditor_client.get(LIST)
    assert _listed(response) == list(range(50, 0, -1))
    assert (_link(response, "next"), _link(response, "prev")) == (None, None)


def test_older_past_the_end_is_an_empty_page_with_a_way_back(auditor_client):
    record_events(70)
    response = auditor_client.get(LIST, {"before": 1})
    assert response.status_code == 200
    assert _listed(response) == []
    assert "No events on this page." in response.content.decode()
    assert _link(response, "next") is None
    assert _link(response, "prev") == f"{LIST}?after=0"
    oldest = auditor_client.get(_link(response, "prev"))
    assert _listed(oldest) == list(range(50, 0, -1))


def test_newer_past_the_head_is_an_empty_page_with_a_way_back(auditor_client):
    record_events(5)
    response = auditor_client.get(LIST, {"after": 5})
    assert _listed(response) == []
    assert _link(response, "prev") is None
    assert _link(response, "next") == f"{LIST}?before=6"
    assert _listed(auditor_client.get(_link(response, "next"))) == [5, 4, 3, 2, 1]


def test_before_beyond_the_head_shows_the_newest_events(auditor_client):
    record_events(3)
    response = auditor_client.get(LIST, {"before": 10**12})
    assert _listed(response) == [3, 2, 1]
    assert (_link(response, "next"), _link(response, "prev")) == (None, None)


def test_pagination_links_keep_the_filters(auditor_client):
    for _ in range(30):
        record_events(1, action="token.created")
        record_events(1, action="team.created")
    record_events(30, action="team.created")
    assert _listed(auditor_client.get(LIST, {"action": "token."})) == list(
        range(59, 0, -2)
    )
    team_events = list(range(90, 60, -1)) + list(range(60, 0, -2))
    first = auditor_client.get(LIST, {"action": "team.created"})
    assert _listed(first) == team_events[:50]
    older = _link(first, "next")
    assert older == f"{LIST}?action=team.created&before={team_events[49]}"
    second = auditor_client.get(older)
    assert _listed(second) == team_events[50:]
    assert _link(second, "next") is None
    newer = _link(second, "prev")
    assert newer == f"{LIST}?action=team.created&after={team_events[50]}"
    assert _listed(auditor_client.get(newer)) == team_events[:50]


def test_filters_by_actor_action_target_and_model(auditor_client, data_scientist):
    audit_record(actor=data_scientist, action="token.created", payload={})  # 1
    audit_record(actor=data_scientist, action="token.revoked", payload={})  # 2
    audit_record(actor=None, action="token.created", actor_text="system")  # 3
    audit_record(actor=None, action="tokens.purged")  # 4
    audit_record(
        actor=None,
        action="model.registered",
        target_type="models_registry.registeredmodel",
        target_id="7",
        scope="credit-scoring",
    )  # 5
    audit_record(
        actor=None,
        action="model.version_registered",
        target_type="models_registry.modelversion",
        target_id="7",
        scope="credit-scoring",
    )  # 6
    audit_record(actor=None, action="model.registered", scope="churn")  # 7

    def listed(**query):
        response = auditor_client.get(LIST, query)
        assert response.status_code == 200
        return _listed(response)

    assert listed(actor="dana") == [2, 1]
    assert listed(actor="Dana") == []
    assert listed(action="token.created") == [3, 1]
    assert listed(action="token.") == [3, 2, 1]
    assert listed(action="token") == []
    assert listed(target_type="models_registry.registeredmodel") == [5]
    assert listed(target_id="7") == [6, 5]
    assert listed(target_type="models_registry.modelversion", target_id="7") == [6]
    assert listed(model="credit-scoring") == [6, 5]
    assert listed(model="credit-scoring", action="model.registered") == [5]
    assert listed(actor="dana", action="token.revoked") == [2]
    assert listed(actor="nobody") == []


def _event_at(sequence: int, moment: datetime) -> None:
    """Insert an event with a chosen timestamp.

    audit_record takes the time from the database clock; the browser's date
    filters only need rows, not an intact chain.
    """
    AuditEvent.objects.create(
        sequence=sequence,
        timestamp=moment,
        actor_text="robot",
        action="test.recorded",
        prev_hash=f"{sequence - 1:064x}",
        hash=f"{sequence:064x}",
    )


def test_filters_by_date_range_in_utc(auditor_client):
    for sequence, moment in enumerate(
        (
            datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 3, 2, 0, 0, 0, tzinfo=UTC),
            datetime(2026, 3, 2, 12, 30, tzinfo=UTC),
            datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 3, 3, 0, 0, 0, tzinfo=UTC),
        ),
        start=1,
    ):
        _event_at(sequence, moment)

    def listed(**query):
        response = auditor_client.get(LIST, query)
        assert response.status_code == 200, response.content.decode()
        return _listed(response)

    assert listed(date_from="2026-03-02", date_to="2026-03-02") == [4, 3, 2]
    assert listed(date_from="2026-03-02") == [5, 4, 3, 2]
    assert listed(date_to="2026-03-01") == [1]
    assert listed(date_from="2026-03-02T12:30", date_to="2026-03-02T12:30") == [3]
    assert listed(date_from="2026-03-02T12:00:00Z", date_to="2026-03-03T00:00") == [
        5,
        4,
        3,
    ]
    assert listed(date_from="2026-03-02 00:00:00.000001") == [5, 4, 3]
    assert listed(date_from="2027-01-01") == []


def test_date_filters_select_recorded_events_to_the_microsecond(auditor_client):
    events = record_events(5)
    stamps = [event.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%f") for event in events]
    response = auditor_client.get(LIST, {"date_from": stamps[1], "date_to": stamps[3]})
    assert _listed(response) == [4, 3, 2]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_from": "yesterday"}, "date_from", "Not a date"),
        ({"date_to": "2026-02-30"}, "date_to", "Not a date"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to", "before"),
        ({"before": "abc"}, "before", "whole number"),
        ({"before": "0"}, "before", "greater than or equal to 1"),
        ({"after": "-1"}, "after", "greater than or equal to 0"),
        ({"before": str(2**70)}, "before", "less than or equal to"),
        ({"before": "5", "after": "2"}, "__all__", "not both"),
        ({"actor": "da\x00na"}, "actor", "Null characters"),
    ],
)
def test_bad_filters_give_a_form_error_and_no_events(
    auditor_client, query, field, message
):
    record_events(3)
    response = auditor_client.get(LIST, query)
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert response.context["page"] is None
    assert _listed(response) == []
    assert 'role="alert"' in response.content.decode()
    assert AuditEvent.objects.count() == 3


def _query_count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def test_list_page_query_count_is_fixed_whatever_the_page(
    auditor_client, django_assert_max_num_queries
):
    record_events(5)
    newest = _query_count(auditor_client, LIST)
    paged = _query_count(auditor_client, LIST, {"before": 3})
    record_events(300, action="token.created")
    assert _query_count(auditor_client, LIST) == newest
    assert _query_count(auditor_client, LIST, {"before": 60}) == paged
    assert _query_count(auditor_client, LIST, {"after": 10}) == paged
    assert _query_count(auditor_client, LIST, {"before": 1}) == paged
    filtered = {"action": "token.", "actor": "robot", "date_from": "2000-01-01"}
    assert _query_count(auditor_client, LIST, {**filtered, "before": 200}) == paged
    # session, user, the user's and the groups' permissions, roles for the
    # navigation, the actions, target types and models offered as filters, the
    # page; and, past the newest page, whether a newer one exists.
    assert newest == 9
    with django_assert_max_num_queries(10):
        auditor_client.get(LIST, {"before": 150})


def test_detail_shows_payload_hashes_and_neighbours(auditor_client):
    events = record_events(3)
    middle = audit_record(
        actor=None,
        action="model.registered",
        actor_text="dana",
        payload={"name": "credit «β»", "tiers": [1, 2]},
    )
    record_events(1)
    response = auditor_client.get(reverse("audit:event-detail", args=[4]))
    assert response.status_code == 200
    body = response.content.decode()
    pretty = json.dumps(
        {"name": "credit «β»", "tiers": [1, 2]}, indent=2, ensure_ascii=False
    )
    assert response.context["payload"] == pretty
    assert "credit «β»" in body
    assert middle.hash in body
    assert events[2].hash == middle.prev_hash
    assert middle.prev_hash in body
    assert reverse("audit:event-detail", args=[3]) in body
    assert reverse("audit:event-detail", args=[5]) in body
    detail = response.context["detail"]
    assert (detail.previous_sequence, detail.next_sequence) == (3, 5)
    assert (detail.hash_recomputes, detail.links_to_previous) == (True, True)


def test_detail_of_the_first_and_newest_events_link_one_way(auditor_client):
    record_events(2)
    first = auditor_client.get(reverse("audit:event-detail", args=[1])).context[
        "detail"
    ]
    assert (first.previous_sequence, first.next_sequence) == (None, 2)
    assert first.links_to_previous is True
    newest = auditor_client.get(reverse("audit:event-detail", args=[2])).context[
        "detail"
    ]
    assert (newest.previous_sequence, newest.next_sequence) == (1, None)


def test_detail_shows_a_row_edited_behind_the_portals_back(auditor_client):
    record_events(3)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE audit_auditevent SET actor_text = 'mallory' WHERE sequence = 2"
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
    response = auditor_client.get(reverse("audit:event-detail", args=[2]))
    assert response.context["detail"].hash_recomputes is False
    assert "DOES NOT MATCH" in response.content.decode()


def test_detail_of_a_missing_event_is_404(auditor_client):
    record_events(1)
    response = auditor_client.get(reverse("audit:event-detail", args=[2]))
    assert response.status_code == 404


def test_detail_query_count_is_fixed(auditor_client, django_assert_max_num_queries):
    record_events(10)
    with django_assert_max_num_queries(7):
        response = auditor_client.get(reverse("audit:event-detail", args=[5]))
    assert response.status_code == 200


def test_auditors_see_the_audit_link_in_the_navigation(client, auditor, reviewer):
    client.force_login(auditor)
    assert f'href="{LIST}"' in client.get(reverse("home")).content.decode()
    client.force_login(reviewer)
    assert f'href="{LIST}"' not in client.get(reverse("home")).content.decode()
