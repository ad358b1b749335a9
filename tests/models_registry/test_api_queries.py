"""Every list and detail runs a bounded number of queries, whatever the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_registry import services
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    client_for,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
)

pytestmark = pytest.mark.django_db

MAX_QUERIES = 8
# The checklist computes the review from every record of the version (the
# selector's version_detail): fixed, but two more than a list page.
MAX_QUERIES_CHECKLIST = 10


def _fill(actor, team, *, models: int, versions: int, prefix="bulk"):
    """Models with versions, runs with inputs, evaluations with slices, card
    revisions and reproduction checks: every relation a page renders."""
    created = []
    for index in range(models):
        model = factories.make_model(actor, team, name=f"{prefix}-{index:03d}")
        snapshot = factories.make_snapshot(actor, team)
        parent = factories.make_snapshot(actor, team, parents=[snapshot])
        for _ in range(versions):
            run = factories.make_run(
                actor, model, inputs=[(snapshot, "train"), (parent, "test")]
            )
            version = factories.make_version(actor, model, run=run)
            services.evaluation_record(
                actor=actor,
                version=version,
                split="test",
                dataset=parent,
                metrics={"auc": 0.8},
                slices=[
                    {
                        "attribute": "sex",
                        "group": "f",
                        "size": 5,
                        "metrics": {"auc": 0.7},
                    },
                    {
                        "attribute": "sex",
                        "group": "m",
                        "size": 5,
                        "metrics": {"auc": 0.8},
                    },
                ],
            )
            services.model_card_update(
                actor=actor, version=version, caveats=f"Edit {index}"
            )
            services.reproduction_check_record(
                actor=actor, version=version, artifact_sha256=version.artifact.sha256
            )
            created.append(version)
    return created


def _urls(version):
    return [
        f"{API}models/",
        f"{API}models/bulk-000/",
        f"{API}models/bulk-000/versions/",
        f"{API}models/bulk-000/runs/",
        f"{API}versions/",
        f"{API}versions/?tag=none=x&status=registered",
        f"{API}versions/{version.pk}/",
        f"{API}versions/{version.pk}/checklist",
        f"{API}versions/{version.pk}/card",
        f"{API}versions/{version.pk}/card/revisions",
        f"{API}versions/{version.pk}/evaluations",
        f"{API}versions/{version.pk}/reproductions",
        f"{API}datasets/",
        f"{API}datasets/?search=loans",
        f"{API}runs/{version.training_run_id}/",
    ]


def _query_counts(client, urls) -> dict[str, int]:
    counts = {}
    for url in urls:
        client.get(url)  # token last-used bookkeeping happens at most once a minute
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        counts[url] = len(queries)
    return counts


@pytest.mark.parametrize("persona", ["data_scientist", "auditor"])
def test_query_counts_do_not_grow_with_the_data(request, data_scientist, team, persona):
    reader = request.getfixturevalue(persona)
    versions = _fill(data_scientist, team, models=2, versions=1)
    client = client_for(reader)
    small = _query_counts(client, _urls(versions[0]))
    _fill(data_scientist, team, models=12, versions=5, prefix="more")
    large = _query_counts(client, _urls(versions[0]))
    assert large == small
    checklist = f"{API}versions/{versions[0].pk}/checklist"
    assert large.pop(checklist) <= MAX_QUERIES_CHECKLIST
    assert max(large.values()) <= MAX_QUERIES, large


def test_list_pages_stay_within_eight_queries(
    data_scientist, team, auditor, django_assert_max_num_queries
):
    versions = _fill(data_scientist, team, models=10, versions=6)
    for reader in (data_scientist, auditor):
        client = client_for(reader)
        for url in [
            f"{API}models/",
            f"{API}versions/",
            f"{API}datasets/",
            f"{API}models/bulk-000/runs/",
            f"{API}versions/?limit=60",
        ]:
            client.get(url)
            with django_assert_max_num_queries(MAX_QUERIES):
                response = client.get(url)
            assert response.status_code == 200
        page = client.get(f"{API}versions/?limit=60").json()
        assert (page["count"], len(page["results"])) == (60, 60)
    assert len(versions) == 60
