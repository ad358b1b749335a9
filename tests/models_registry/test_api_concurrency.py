"""One-call registrations sent at the same time, each on its own connection."""

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from kernel import roles
from models_registry.models import ModelVersion, TrainingRun
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    artifact_body,
    client_for,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
    run_body,
)

pytestmark = pytest.mark.django_db(transaction=True)

VERSIONS = f"{API}models/credit-scoring/versions/"


@pytest.fixture(autouse=True)
def _role_permissions(transactional_db):
    """Give the roles their registry permissions again before the personas exist.

    An earlier transactional test ends with a flush; post_migrate then re-creates
    the role groups from portal's handler, which runs before the permissions of
    models_registry (listed after portal) exist, so the groups come back without
    them.
    """
    from django.apps import apps

    roles.sync_role_groups(apps)


def _send_together(clients, bodies) -> list[int]:
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    failures: list[BaseException] = []

    def send(client, body):
        try:
            barrier.wait()
            statuses.append(client.post(VERSIONS, body, format="json").status_code)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=pair)
        for pair in zip(clients, bodies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return sorted(statuses)


def test_the_same_registration_sent_four_times_at_once_is_one_version(
    data_scientist, team
):
    factories.make_model(data_scientist, team, name="credit-scoring")
    train = factories.make_snapshot(data_scientist, team)
    body = {"artifact": artifact_body(), "run": run_body((train, "train"))}
    clients = [client_for(data_scientist) for _ in range(4)]
    events = AuditEvent.objects.count()
    assert _send_together(clients, [body] * 4) == [200, 200, 200, 201]
    assert ModelVersion.objects.count() == 1
    assert TrainingRun.objects.count() == 1
    assert AuditEvent.objects.count() == events + 2


def test_ten_different_registrations_at_once_get_ten_gapless_numbers(
    data_scientist, team
):
    factories.make_model(data_scientist, team, name="credit-scoring")
    clients = [client_for(data_scientist) for _ in range(10)]
    bodies = [{"artifact": artifact_body(), "run": run_body()} for _ in range(10)]
    assert _send_together(clients, bodies) == [201] * 10
    numbers = sorted(ModelVersion.objects.values_list("version", flat=True))
    assert numbers == list(range(1, 11))
    assert TrainingRun.objects.count() == 10
