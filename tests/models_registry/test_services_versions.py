import threading
from datetime import UTC, datetime

import pytest
from django.db import InternalError, ProgrammingError, connection, transaction

from audit.models import AuditEvent
from models_registry import services
from models_registry.errors import CardFrozen, RegistryConflict, RegistryInvalid
from models_registry.models import (
    Artifact,
    DatasetSnapshot,
    ImmutableRecordError,
    ModelCardRevision,
    ModelVersion,
    RegisteredModel,
)
from tests.models_registry import factories

pytestmark = pytest.mark.django_db


def _counts():
    return (
        ModelVersion.objects.count(),
        Artifact.objects.count(),
        DatasetSnapshot.objects.count(),
        AuditEvent.objects.count(),
    )


def test_registration_is_idempotent_by_artifact_sha256(data_scientist, credit_model):
    version = factories.make_version(data_scientist, credit_model)
    before = _counts()
    again, created = services.model_version_register(
        actor=data_scientist,
        model=credit_model,
        artifact={
            "uri": "s3://elsewhere/model.pkl",
            "sha256": version.artifact.sha256,
            "size_bytes": 1,
            "format": "onnx",
        },
    )
    assert (again.pk, created) == (version.pk, False)
    assert _counts() == before


def test_versions_are_numbered_per_model(data_scientist, team, credit_model):
    other = factories.make_model(data_scientist, team, name="other")
    numbers = [
        factories.make_version(data_scientist, credit_model).version for _ in range(3)
    ]
    assert numbers == [1, 2, 3]
    assert factories.make_version(data_scientist, other).version == 1
    event = AuditEvent.objects.filter(action="version.registered").last()
    assert event.scope == "other"
    assert (
        event.payload["artifact"]["sha256"]
        == ModelVersion.objects.get(model=other).artifact.sha256
    )


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_registrations_get_ten_gapless_numbers(data_scientist, team):
    model = factories.make_model(data_scientist, team, name="busy")
    barrier = threading.Barrier(10)
    errors = []

    def register(index):
        try:
            barrier.wait()
            factories.make_version(
                data_scientist,
                model,
                artifact={"sha256": factories.digest(f"c{index}")},
            )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(
        ModelVersion.objects.filter(model=model).values_list("version", flat=True)
    )
    assert numbers == list(range(1, 11))
    assert RegisteredModel.objects.get(pk=model.pk).last_version_number == 10


@pytest.mark.parametrize(
    ("artifact", "field"),
    [
        ({"sha256": "ABC"}, "artifact.sha256"),
        ({"sha256": "g" * 64}, "artifact.sha256"),
        ({"uri": "ftp://host/model.pkl"}, "artifact.uri"),
        ({"uri": "https://user:hunter22@host/model.pkl"}, "artifact.uri"),
        ({"size_bytes": -1}, "artifact.size_bytes"),
        ({"format": "pickle-ish"}, "artifact.format"),
        ({"feature_spec": [{"name": "x", "type": "vector"}]}, "artifact.feature_spec"),
    ],
)
def test_bad_artifacts_are_refused(data_scientist, credit_model, artifact, field):
    before = _counts()
    with pytest.raises(RegistryInvalid) as caught:
        factories.make_version(data_scientist, credit_model, artifact=artifact)
    assert field in caught.value.fields
    assert _counts() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tags": {"aws": "AKIAIOSFODNN7EXAMPLE"}}, "tags"),
        ({"tags": {"api_token": "s3cr3t-value"}}, "tags"),
        ({"description": "-----BEGIN RSA PRIVATE KEY-----\nabc"}, "description"),
        (
            {
                "card": {
                    "caveats": "call with Bearer eyJhbGciOiJIUzI1NiJ9.abcdefghijklmnop"
                }
            },
            "card.caveats",
        ),
        ({"semantic_version": "v2"}, "semantic_version"),
        ({"card": {"colour": "blue"}}, "card.colour"),
    ],
)
def test_secrets_and_bad_fields_never_get_in(
    data_scientist, credit_model, overrides, field
):
    before = _counts()
    with pytest.raises(RegistryInvalid) as caught:
        factories.make_version(data_scientist, credit_model, **overrides)
    assert field in caught.value.fields
    assert _counts() == before


def test_secret_messages_name_what_was_found(data_scientist, credit_model):
    with pytest.raises(RegistryInvalid) as caught:
        factories.make_run(
            data_scientist,
            credit_model,
            parameters={"db": "postgres://u:hunter22@db/x"},
        )
    assert "a password in a URI" in caught.value.fields["parameters"][0]


def test_run_of_another_model_is_refused(data_scientist, team, credit_model):
    other = factories.make_model(data_scientist, team, name="other")
    run = factories.make_run(data_scientist, other)
    with pytest.raises(RegistryInvalid) as caught:
        factories.make_version(data_scientist, credit_model, run=run)
    assert "training_run" in caught.value.fields


def test_dataset_snapshots_are_idempotent_and_conflicts_refused(data_scientist, team):
    first = factories.make_snapshot(
        data_scientist, team, sha256=factories.digest("d"), uri="s3://a/b"
    )
    again, created = services.dataset_snapshot_create(
        actor=data_scientist,
        team=team,
        name="same",
        uri="s3://a/b",
        sha256=first.sha256,
        row_count=first.row_count,
        schema=first.schema,
    )
    assert (again.pk, created) == (first.pk, False)
    with pytest.raises(RegistryConflict):
        services.dataset_snapshot_create(
            actor=data_scientist,
            team=team,
            name="other",
            uri="s3://a/c",
            sha256=first.sha256,
            row_count=1,
            schema=first.schema,
        )
    assert DatasetSnapshot.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"pii_columns": [{"column": "ssn", "handling": "hashed"}]}, "pii_columns"),
        ({"pii_columns": [{"column": "email", "handling": "kept"}]}, "pii_columns"),
        ({"pii_columns": [{"column": "email", "handling": "ignored"}]}, "pii_columns"),
        ({"sha256": "xyz"}, "sha256"),
        ({"uri": "/local/path.csv"}, "uri"),
        ({"row_count": -5}, "row_count"),
        ({"schema": []}, "schema"),
        ({"time_column": "missing"}, "time_column"),
        ({"name": "loans aws_secret_access_key=" + "a" * 40}, "name"),
    ],
)
def test_bad_snapshots_are_refused(data_scientist, team, overrides, field):
    with pytest.raises(RegistryInvalid) as caught:
        factories.make_snapshot(data_scientist, team, **overrides)
    assert field in caught.value.fields
    assert DatasetSnapshot.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_kept_pii_with_a_legal_basis_is_accepted(data_scientist, team):
    snapshot = factories.make_snapshot(
        data_scientist,
        team,
        pii_columns=[
            {"column": "email", "handling": "kept", "legal_basis": "contract"}
        ],
    )
    assert snapshot.pii_columns[0]["legal_basis"] == "contract"


def test_immutable_records_refuse_the_orm(data_scientist, credit_model):
    version = factories.make_version(data_scientist, credit_model)
    snapshot = factories.make_snapshot(data_scientist, credit_model.team)
    for record in (version.artifact, snapshot):
        record.uri = "s3://tampered"
        with pytest.raises(ImmutableRecordError):
            record.save()
        with pytest.raises(ImmutableRecordError):
            record.delete()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE models_registry_artifact SET sha256 = repeat('0', 64)",
        "DELETE FROM models_registry_artifact",
        "UPDATE models_registry_datasetsnapshot SET row_count = 1",
        "DELETE FROM models_registry_datasetsnapshot_parents",
        "UPDATE models_registry_modelcardrevision SET content = '{}'",
    ],
)
def test_immutable_records_refuse_raw_sql_and_bulk_updates(
    data_scientist, credit_model, statement
):
    version = factories.make_version(data_scientist, credit_model)
    parent = factories.make_snapshot(data_scientist, credit_model.team)
    factories.make_snapshot(data_scientist, credit_model.team, parents=[parent])
    with (
        pytest.raises((ProgrammingError, InternalError), match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert Artifact.objects.get().sha256 == version.artifact.sha256
    with pytest.raises((ProgrammingError, InternalError)), transaction.atomic():
        Artifact.objects.update(uri="s3://bulk")


def test_card_edits_keep_history_and_freeze_after_production_approval(
    data_scientist, credit_model
):
    version = factories.make_version(data_scientist, credit_model)
    services.model_card_update(
        actor=data_scientist, version=version, caveats="New caveat."
    )
    services.model_card_update(
        actor=data_scientist, version=version, caveats="New caveat."
    )
    revisions = list(
        ModelCardRevision.objects.filter(card__version=version).order_by("revision")
    )
    assert [r.revision for r in revisions] == [1, 2]
    assert revisions[1].content["caveats"] == "New caveat."
    event = AuditEvent.objects.get(action="card.updated")
    assert event.payload["diff"] == {
        "caveats": [factories.FULL_CARD["caveats"], "New caveat."]
    }
    ModelVersion.objects.filter(pk=version.pk).update(
        production_approved_at=datetime.now(UTC)
    )
    with pytest.raises(CardFrozen):
        services.model_card_update(
            actor=data_scientist, version=version, caveats="Later."
        )
    assert ModelCardRevision.objects.filter(card__version=version).count() == 2


def test_evaluation_refuses_non_finite_metrics_and_bad_slices(
    data_scientist, credit_model
):
    version = factories.make_version(data_scientist, credit_model)
    snapshot = factories.make_snapshot(data_scientist, credit_model.team)
    for metrics, slices, field in [
        ({"auc": float("nan")}, [], "metrics"),
        ({"auc": float("inf")}, [], "metrics"),
        ({"auc": "high"}, [], "metrics"),
        ({}, [], "metrics"),
        ({"auc": 0.8}, [{"attribute": "sex", "group": "f", "size": -1}], "slices[0]"),
        (
            {"auc": 0.8},
            [{"attribute": "sex", "group": "f", "size": 3, "metrics": {"auc": True}}],
            "slices[0]",
        ),
    ]:
        with pytest.raises(RegistryInvalid) as caught:
            services.evaluation_record(
                actor=data_scientist,
                version=version,
                split="test",
                dataset=snapshot,
                metrics=metrics,
                slices=slices,
            )
        assert field in caught.value.fields, (metrics, slices)
    assert not version.evaluations.exists()


@pytest.mark.parametrize(
    ("tolerance", "rerun_sha", "rerun_metrics", "passed"),
    [
        ({"mode": "exact_hash"}, "same", {}, True),
        ({"mode": "exact_hash"}, factories.digest("other"), {}, False),
        (
            {"mode": "metrics", "tolerances": {"auc": 0.01}},
            factories.digest("x"),
            {"auc": 0.805},
            True,
        ),
        (
            {"mode": "metrics", "tolerances": {"auc": 0.01}},
            factories.digest("x"),
            {"auc": 0.78},
            False,
        ),
        (
            {"mode": "metrics", "tolerances": {"auc": 0.01}},
            factories.digest("x"),
            {},
            False,
        ),
    ],
)
def test_reproduction_checks_compare_under_the_tolerance(
    data_scientist, team, tolerance, rerun_sha, rerun_metrics, passed
):
    model = factories.make_model(
        data_scientist, team, reproducibility_tolerance=tolerance
    )
    version = factories.make_passing_version(data_scientist, model)
    check = services.reproduction_check_record(
        actor=data_scientist,
        version=version,
        artifact_sha256=version.artifact.sha256 if rerun_sha == "same" else rerun_sha,
        metrics=rerun_metrics,
    )
    assert check.is_passed is passed
    if tolerance["mode"] == "metrics" and rerun_metrics:
        assert check.differences["metrics"]["auc"]["original"] == 0.81


def test_card_update_refuses_a_stale_revision(data_scientist, credit_model):
    from models_registry.errors import CardRevisionConflict

    version = factories.make_version(data_scientist, credit_model)
    services.model_card_update(
        actor=data_scientist, version=version, expected_revision=1, caveats="Mine."
    )
    with pytest.raises(CardRevisionConflict):
        services.model_card_update(
            actor=data_scientist, version=version, expected_revision=1, caveats="Other."
        )
    version.card.refresh_from_db()
    assert (version.card.revision, version.card.caveats) == (2, "Mine.")
