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


def test_in_list_on_postgresql_is_one_value_or_one_array_parameter():
    texts = set()
    for values in ([3], (4,), [1, 2, 3], list(range(1, 700))):
        sql, params = db.in_list("n", values)
        texts.add(sql)
        found = db.rows(
            f"SELECT n FROM generate_series(1, 1000) AS n WHERE {sql} ORDER BY n",
            params,
        )
        assert [n for (n,) in found] == sorted(values)
    assert texts == {"n = %s", "n = ANY(%s)"}
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


def _stored_values(obj) -> dict:
    return {
        field.attname: getattr(obj, field.attname)
        for field in type(obj)._meta.concrete_fields
    }


def test_insert_writes_the_row_save_writes_with_one_prepared_statement(
    data_scientist, team
):
    from models_registry.models import RegisteredModel

    values = {
        "team": team,
        "created_by": data_scientist,
        "title": "Credit",
        "domain": "credit",
        "risk_class": "high",
        "regulatory_tier": "high",
        "serving_mode": "batch",
        "offline_success_metrics": [
            {"metric": "auc", "direction": "higher", "threshold": 0.7}
        ],
        "fairness_attributes": ["age"],
    }
    with CaptureQueriesContext(connection) as captured:
        fast = db.insert(RegisteredModel(name="fast", **values))
    assert len(captured) == 1
    sql = captured[0]["sql"]
    assert sql.startswith('INSERT INTO "models_registry_registeredmodel"')
    assert "$1" in sql  # bound on the server, prepared
    assert fast.pk is not None
    assert fast._state.adding is False
    assert fast.created_at is not None  # auto_now_add, as save() stamps it
    assert fast.updated_at is not None
    slow = RegisteredModel.objects.create(name="slow", **values)
    fast_row = _stored_values(RegisteredModel.objects.get(pk=fast.pk))
    slow_row = _stored_values(RegisteredModel.objects.get(pk=slow.pk))
    assert fast_row == _stored_values(fast)
    different = {"id", "name", "created_at", "updated_at"}
    assert {k: v for k, v in fast_row.items() if k not in different} == {
        k: v for k, v in slow_row.items() if k not in different
    }


def test_insert_goes_through_save_when_a_receiver_listens(data_scientist, team):
    from django.db.models.signals import post_save

    from mlflow_bridge.models import RegisteredModelTag

    model = factories.make_model(data_scientist, team, name="listened")
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.key, created))

    post_save.connect(receiver, sender=RegisteredModelTag)
    try:
        tag = db.insert(RegisteredModelTag(model=model, key="k", value="v"))
        db.insert_many([RegisteredModelTag(model=model, key="j", value="w")])
    finally:
        post_save.disconnect(receiver, sender=RegisteredModelTag)
    assert heard == [("k", True)]  # bulk_create sends no signals, as in the ORM
    assert tag.pk is not None
    assert set(model.mlflow_tags.values_list("key", flat=True)) == {"k", "j"}


def test_insert_many_writes_every_row_in_one_round_trip(data_scientist, team):
    from django.utils import timezone

    from mlflow_bridge.models import RegisteredModelTag

    model = factories.make_model(data_scientist, team, name="tagged")
    now = timezone.now()
    tags = [
        RegisteredModelTag(model=model, key=f"k{n}", value=f"v{n}", updated_at=now)
        for n in range(5)
    ]
    with CaptureQueriesContext(connection) as captured:
        db.insert_many(tags)
        db.insert_many([])
    assert len(captured) == 1
    assert captured[0]["sql"].startswith("5 times: INSERT INTO")
    stored = dict(
        RegisteredModelTag.objects.filter(model=model).values_list("key", "value")
    )
    assert stored == {f"k{n}": f"v{n}" for n in range(5)}
    assert all(tag._state.adding is False for tag in tags)


def _version_rows(data_scientist, model, number):
    """A version with its artifact, card and first revision, not saved, each
    pointing at the one before."""
    from django.utils import timezone

    from models_registry.models import (
        Artifact,
        ModelCard,
        ModelCardRevision,
    )

    artifact = Artifact(
        model=model,
        uri=f"s3://b/{number}",
        sha256=f"{number:064x}",
        size_bytes=10,
        format="onnx",
        created_by=data_scientist,
    )
    version = ModelVersion(
        model=model,
        version=number,
        artifact=artifact,
        tags={"q": "gold"},
        registered_by=data_scientist,
    )
    now = timezone.now()
    card = ModelCard(
        version=version,
        revision=1,
        updated_at=now,
        updated_by=data_scientist,
        intended_use="x",
    )
    revision = ModelCardRevision(
        card=card, revision=1, content={"a": 1}, edited_by=data_scientist, edited_at=now
    )
    return artifact, version, card, revision


def test_insert_together_links_the_rows_in_one_statement(data_scientist, team):
    from models_registry.models import ModelCardRevision

    model = factories.make_model(data_scientist, team, name="linked")
    rows = _version_rows(data_scientist, model, 1)
    with CaptureQueriesContext(connection) as captured:
        db.insert_together(*rows)
    assert len(captured) == 1
    assert captured[0]["sql"].startswith("WITH i0 AS (INSERT INTO")
    artifact, version, card, revision = rows
    assert all(row.pk is not None for row in rows)
    assert all(row._state.adding is False for row in rows)
    # The keys each insert returned, and the related objects still cached.
    assert version.artifact_id == artifact.pk
    assert card.version_id == version.pk
    assert revision.card_id == card.pk
    with CaptureQueriesContext(connection) as reading:
        assert version.artifact is artifact
        assert revision.card is card
    assert len(reading) == 0
    stored = ModelCardRevision.objects.select_related("card__version__artifact").get(
        pk=revision.pk
    )
    assert stored.card.version.artifact.sha256 == artifact.sha256
    assert stored.card.version.tags == {"q": "gold"}
    assert stored.content == {"a": 1}
    assert stored.card.intended_use == "x"


def test_insert_together_inserts_one_by_one_when_a_receiver_listens(
    data_scientist, team
):
    from django.db.models.signals import pre_save

    from models_registry.models import ModelCard

    model = factories.make_model(data_scientist, team, name="listened-together")
    rows = _version_rows(data_scientist, model, 2)
    heard = []

    def receiver(sender, instance, **kwargs):
        heard.append(instance.version_id)

    pre_save.connect(receiver, sender=ModelCard)
    try:
        with CaptureQueriesContext(connection) as captured:
            db.insert_together(*rows)
    finally:
        pre_save.disconnect(receiver, sender=ModelCard)
    artifact, version, card, revision = rows
    assert heard == [version.pk]  # linked before it was saved
    assert len(captured) == 4
    assert revision.card_id == card.pk
    assert ModelVersion.objects.get(pk=version.pk).artifact_id == artifact.pk
