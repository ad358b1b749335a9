"""The fixed SQL texts of the reads are planned once per connection: a
prepared statement that PostgreSQL plans again on every execution costs more
than the read itself."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kernel import roles
from mlflow_bridge import services
from mlflow_bridge.params import page_token
from mlflow_bridge.selectors import fixed_sql
from tests.conftest import make_user
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


def _churn(actor, *, versions: int):
    """The model "churn" with this many versions."""
    model = services.registered_model_create(actor=actor, name="churn")
    for number in range(versions):
        services.model_version_create(
            actor=actor,
            name="churn",
            source=f"s3://m/churn/{number}",
            tags=sha_tags(f"churn-{number}"),
        )
    return model


def test_one_models_latest_versions_use_one_plan(data_scientist):
    model = _churn(data_scientist, versions=3)
    # PostgreSQL makes five custom plans before it may settle on a generic one.
    for _ in range(6):
        assert [v.version for v in fixed_sql.latest_versions([model.pk])] == [3]
    generic, custom = _plans("CROSS JOIN LATERAL")
    for _ in range(5):
        fixed_sql.latest_versions([model.pk])
    assert _plans("CROSS JOIN LATERAL") == (generic + 5, custom)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("registered-models/get", {"name": "churn"}),
        ("model-versions/get", {"name": "churn", "version": "2"}),
        ("registered-models/get-latest-versions", {"name": "churn"}),
    ],
)
def test_reads_of_one_object_send_no_array_parameter(
    client, data_scientist, path, query
):
    # PostgreSQL estimates an array parameter at 10 elements in a generic
    # plan, so for a one-element array the custom plan always looks cheaper
    # and the statement is planned on every execution (seen on the page
    # context's alias join: 0.6 ms of planning per get model and get version
    # once the versions table held 2,000 rows). One id goes as one value.
    _churn(data_scientist, versions=2)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            f"/api/2.0/mlflow/{path}",
            query,
            HTTP_AUTHORIZATION=f"Bearer {token_for(data_scientist)}",
        )
    assert response.status_code == 200, response.content
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) >= 3
    assert not [sql for sql in statements if "ANY(" in sql]


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


def test_a_models_versions_search_answers_as_the_general_search(
    client, data_scientist, other_team, auditor
):
    other_data_scientist = make_user("theo", roles.DATA_SCIENTIST, team=other_team)
    # The fixed text of "name = '…'" against the ORM-compiled search, which
    # an extra clause that every version matches sends the same search to.
    services.registered_model_create(actor=data_scientist, name="churn")
    services.registered_model_create(actor=other_data_scientist, name="theirs")
    for name, actor in (("churn", data_scientist), ("theirs", other_data_scientist)):
        for number in range(5):
            services.model_version_create(
                actor=actor,
                name=name,
                source=f"s3://m/{name}/{number}",
                tags=sha_tags(f"{name}-{number}"),
            )
    services.model_version_describe(
        actor=data_scientist, name="churn", number=2, description="updated last"
    )
    searches = [
        ({"filter": "name = 'churn'"}, 5),
        ({"filter": "name='churn'", "max_results": "2"}, 2),
        (
            {"filter": "name='churn'", "max_results": "2", "page_token": page_token(2)},
            2,
        ),
        (
            {"filter": "name='churn'", "max_results": "2", "page_token": page_token(4)},
            1,
        ),
        ({"filter": "name='theirs'"}, 0),
        ({"filter": "name='nothing'"}, 0),
    ]
    for reader in (data_scientist, auditor):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(reader)}"}
        for query, count in searches:
            path = "/api/2.0/mlflow/model-versions/search"
            with CaptureQueriesContext(connection) as captured:
                fast = client.get(path, query, **headers)
            general = client.get(
                path,
                {**query, "filter": f"{query['filter']} AND version_number > 0"},
                **headers,
            )
            assert fast.status_code == general.status_code == 200
            assert fast.content == general.content, query
            versions = fast.json()["model_versions"]
            if reader is auditor and "theirs" in query["filter"]:
                count = 5
            assert len(versions) == count, query
            assert not any("unnest(ARRAY(" in q["sql"] for q in captured), query
        first = client.get(path, {"filter": "name='churn'"}, **headers).json()
        assert first["model_versions"][0]["version"] == "2"  # last updated first
