"""The same harness results imported twice at the same time, each on its own
connection: one evaluation, one eval-set snapshot, one audit event."""

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from kernel import roles
from models_registry.models import (
    DatasetSnapshot,
    EntryKind,
    LlmEvaluation,
    RegisteredModel,
)
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    client_for,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
)
from tests.models_registry.test_llm_evaluations import fixture

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _role_permissions(transactional_db):
    from django.apps import apps

    roles.sync_role_groups(apps)


def test_concurrent_imports_of_one_document_store_it_once(data_scientist, team):
    model = factories.make_model(data_scientist, team, name="support-assistant")
    RegisteredModel.objects.filter(pk=model.pk).update(kind=EntryKind.PROMPT)
    version = factories.make_version(data_scientist, model)
    snapshots = DatasetSnapshot.objects.count()
    url = f"{API}versions/{version.pk}/llm-evaluations"
    body = {"format": "promptfoo", "results": fixture("promptfoo-results.json")}
    clients = [client_for(data_scientist) for _ in range(2)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send(client):
        try:
            barrier.wait()
            statuses.append(client.post(url, body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 201]
    assert LlmEvaluation.objects.count() == 1
    assert DatasetSnapshot.objects.count() == snapshots + 1
    assert AuditEvent.objects.filter(action="llm_evaluation.imported").count() == 1
