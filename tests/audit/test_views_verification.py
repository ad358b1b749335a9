import pytest
from django.urls import reverse

from audit.models import AuditEvent, ChainVerification
from tests.audit.helpers import login_quietly, record_events

pytestmark = pytest.mark.django_db

PAGE = reverse("audit:verification-list")
RUN = reverse("audit:verification-run")


@pytest.fixture
def auditor_client(client, auditor):
    login_quietly(client, auditor)
    return client


def test_verify_button_queues_the_task_on_commit_and_the_result_is_listed(
    auditor_client, django_capture_on_commit_callbacks
):
    record_events(12)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = auditor_client.post(RUN)
    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert len(callbacks) == 1
    verification = ChainVerification.objects.get()
    head = AuditEvent.objects.order_by("-sequence").first()
    assert (verification.is_intact, verification.event_count) == (True, 12)
    assert (verification.head_sequence, verification.head_hash) == (12, head.hash)
    body = auditor_client.get(PAGE).content.decode()
    assert "Chain verification queued" in body
    assert "<strong>intact</strong>" in body


def test_nothing_is_queued_if_the_request_transaction_rolls_back(
    auditor_client, django_capture_on_commit_callbacks
):
    record_events(2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        auditor_client.post(RUN)
    # Queued for the commit, not run inside the transaction.
    assert len(callbacks) == 1
    assert ChainVerification.objects.count() == 0


def test_a_broken_chain_is_listed_with_its_first_broken_event(
    auditor_client, django_capture_on_commit_callbacks
):
    from django.db import connection

    record_events(5)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE audit_auditevent SET payload_json = '{}' WHERE sequence = 3"
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
    with django_capture_on_commit_callbacks(execute=True):
        auditor_client.post(RUN)
    body = auditor_client.get(PAGE).content.decode()
    assert "broken at event 3" in body
    assert "does not match its hash" in body


def test_results_are_listed_latest_first(
    auditor_client, django_capture_on_commit_callbacks
):
    record_events(1)
    with django_capture_on_commit_callbacks(execute=True):
        auditor_client.post(RUN)
    record_events(1)
    with django_capture_on_commit_callbacks(execute=True):
        auditor_client.post(RUN)
    verifications = auditor_client.get(PAGE).context["verifications"]
    assert [verification.event_count for verification in verifications] == [2, 1]


def test_page_without_results_says_so_and_offers_the_button(auditor_client):
    body = auditor_client.get(PAGE).content.decode()
    assert "The chain has not been verified yet." in body
    assert f'action="{RUN}"' in body


def test_verification_page_query_count_is_fixed(
    auditor_client, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    record_events(1)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            auditor_client.post(RUN)
    with django_assert_max_num_queries(6):
        assert auditor_client.get(PAGE).status_code == 200
