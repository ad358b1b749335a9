"""The fixed SQL texts of the reads are planned once per connection: a
prepared statement that PostgreSQL plans again on every execution costs more
than the read itself."""

import pytest
from django.db import connection

from mlflow_bridge import services
from mlflow_bridge.selectors import fixed_sql
from tests.mlflow_bridge.conftest import sha_tags, token_for

pytestmark = pytest.mark.django_db


def _plans(fragment: str) -> tuple[int, int]:
    """(generic, custom) plans of this connection's prepared statements whose
    text holds ``fragment``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(generic_plans), 0), COALESCE(SUM(custom_plans), 0) "
            "FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return cursor.fetchone()


def test_one_models_latest_versions_use_one_plan(data_scientist):
    model = services.registered_model_create(actor=data_scientist, name="churn")
    for number in range(3):
        services.model_version_create(
            actor=data_scientist,
            name="churn",
            source=f"s3://m/churn/{number}",
            tags=sha_tags(f"churn-{number}"),
        )
    # PostgreSQL makes five custom plans before it may settle on a generic one.
    for _ in range(6):
        assert [v.version for v in fixed_sql.latest_versions([model.pk])] == [3]
    generic, custom = _plans("CROSS JOIN LATERAL")
    for _ in range(5):
        fixed_sql.latest_versions([model.pk])
    assert _plans("CROSS JOIN LATERAL") == (generic + 5, custom)


@pytest.mark.parametrize("path", ["registered-models/search", "model-versions/search"])
def test_a_search_the_orm_knows_matches_nothing_answers_an_empty_page(
    client, data_scientist, path
):
    # A LIKE on the prompt marker that cannot match "true" compiles to no SQL
    # at all (Django's EmptyResultSet): the page is empty, not an error.
    services.registered_model_create(actor=data_scientist, name="churn")
    response = client.get(
        f"/api/2.0/mlflow/{path}",
        {"filter": "tags.`mlflow.prompt.is_prompt` LIKE 'x%'"},
        HTTP_AUTHORIZATION=f"Bearer {token_for(data_scientist)}",
    )
    assert response.status_code == 200, response.content
    key = "registered_models" if path.startswith("registered") else "model_versions"
    assert response.json() == {key: []}
