"""kernel.db: fixed SQL texts prepared once per connection, seen by Django's
query capture, and rows turned into model instances as the ORM would."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from kernel import db
from models_registry.models import ModelVersion
from tests.models_registry import factories

pytestmark = pytest.mark.django_db

PROBE = "SELECT %s::int + 1 AS gatehouse_db_probe"


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_rows_runs_a_prepared_statement_seen_by_query_capture():
    with CaptureQueriesContext(connection) as captured:
        assert db.rows(PROBE, [41]) == [(42,)]
        assert db.rows(PROBE, [1]) == [(2,)]
    # Logged as sent: the text with its placeholders.
    assert [query["sql"] for query in captured] == [
        "SELECT $1::int + 1 AS gatehouse_db_probe"
    ] * 2
    assert [text for text in _prepared() if "gatehouse_db_probe" in text] == [
        "SELECT $1::int + 1 AS gatehouse_db_probe"
    ]


@override_settings(DB_PREPARED_STATEMENTS=False)
def test_prepared_statements_can_be_switched_off():
    text = "SELECT %s::int AS gatehouse_db_unprepared"
    assert db.rows(text, [7]) == [(7,)]
    assert not [name for name in _prepared() if "gatehouse_db_unprepared" in name]


def test_in_list_pads_to_few_texts_and_never_matches_on_empty():
    """Off PostgreSQL (the demo's SQLite): an IN list padded to few texts."""
    assert db.in_list("x", []) == ("1 = 0", [])
    assert db._padded_in_list("x", [5]) == ("x IN (%s)", [5])
    sql, params = db._padded_in_list("x", [1, 2, 3])
    assert sql == "x IN (%s, %s, %s, %s)"
    assert params == [1, 2, 3, 3]
    texts = {db._padded_in_list("x", list(range(n)))[0] for n in range(1, 1025)}
    assert len(texts) == 11
    sql, params = db._padded_in_list("x", list(range(1500)))
    assert sql.count("%s") == 1500
    assert params == list(range(1500))


def test_in_list_on_postgresql_is_one_text_with_one_array_parameter():
    texts = set()
    for values in ([3], [1, 2, 3], list(range(1, 700))):
        sql, params = db.in_list("n", values)
        texts.add(sql)
        found = db.rows(
            f"SELECT n FROM generate_series(1, 1000) AS n WHERE {sql} ORDER BY n",
            params,
        )
        assert [n for (n,) in found] == sorted(values)
    assert texts == {"n = ANY(%s)"}
    assert db.in_list("n", []) == ("1 = 0", [])


def test_instance_converts_like_the_orm_in_any_column_order(data_scientist, team):
    model = factories.make_model(data_scientist, team, name="credit")
    version = factories.make_version(data_scientist, model)
    version.tags = {"quality": "gold", "n": 3}
    version.save(update_fields=["tags"])
    names = ("tags", "version", "id", "created_at", "model_id")
    (row,) = db.rows(
        "SELECT tags, version, id, created_at, model_id "
        "FROM models_registry_modelversion WHERE id = %s",
        [version.pk],
    )
    built = db.instance(ModelVersion, names, row)
    stored = ModelVersion.objects.get(pk=version.pk)
    assert built.pk == stored.pk
    assert built.version == stored.version
    assert built.tags == {"quality": "gold", "n": 3}
    assert built.created_at == stored.created_at
    assert built._state.adding is False
    # Columns not read load on access, as with only().
    assert built.get_deferred_fields() >= {"description", "status"}
    assert built.status == stored.status
