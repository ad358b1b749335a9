"""Model versions through the official MLflow client."""

import hashlib
import json
import subprocess

import pytest
from mlflow.exceptions import RestException

from audit.models import AuditEvent
from mlflow_bridge.models import ModelAlias, VersionLink
from models_registry.models import Artifact, ModelVersion, TrainingRun
from tests.mlflow_bridge.conftest import sha_tags
from tests.models_registry import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:.*deprecated since 2.9.0:FutureWarning"),
]

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LINEAGE = {
    "gatehouse.code_repository": "https://git.example.com/churn",
    "gatehouse.code_commit": COMMIT,
    "gatehouse.environment_lock_hash": hashlib.sha256(b"lock").hexdigest(),
    "gatehouse.random_seed": "7",
}


@pytest.fixture
def client(client_for, data_scientist):
    client = client_for(data_scientist)
    client.create_registered_model("churn")
    return client


def _model_dir(root, name="model-1"):
    directory = root / name
    (directory / "data").mkdir(parents=True)
    (directory / "MLmodel").write_text("flavors: {}\n")
    (directory / "data" / "model.pkl").write_bytes(b"\x00weights" * 100)
    (directory / "requirements.txt").write_text("scikit-learn==1.9.1\n")
    return directory


def test_a_file_source_directory_is_hashed_as_documented(client, file_roots):
    directory = _model_dir(file_roots)
    created = client.create_model_version(
        "churn", f"file://{directory}", description="first"
    )
    assert (created.version, created.status, created.current_stage) == (
        "1",
        "READY",
        "None",
    )
    # docs/mlflow.md: the digest of `sha256sum` over the sorted file list.
    pipeline = subprocess.run(  # noqa: S602 (a fixed command line)
        "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum"
        " | sha256sum",
        shell=True,
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = pipeline.stdout.split()[0]
    artifact = Artifact.objects.get()
    assert (artifact.sha256, artifact.size_bytes, artifact.uri, artifact.format) == (
        expected,
        len("flavors: {}\n") + 800 + len("scikit-learn==1.9.1\n"),
        f"file://{directory}",
        "mlflow",
    )
    tags = dict(created.tags)
    assert tags["gatehouse.sha256"] == expected
    assert client.get_model_version_download_uri("churn", 1) == f"file://{directory}"


def test_a_version_needs_a_sha256_it_can_trust(client, file_roots, tmp_path):
    outside = _model_dir(tmp_path, "outside")
    events = AuditEvent.objects.count()
    cases = [
        ("s3://models/churn/1", {}, "Set the tags gatehouse.sha256"),
        (f"file://{outside}", {}, "outside the directories Gatehouse reads"),
        ("ftp://models.example.com/churn/1", {}, "Unknown URI scheme"),
        # A tracking server's proxied artifacts: a known scheme Gatehouse cannot
        # read, so the digest must come with the version.
        (
            "mlflow-artifacts:/0/abc/artifacts/model",
            {},
            "Set the tags gatehouse.sha256",
        ),
        ("s3://models/churn/1", {"gatehouse.sha256": "abc"}, "64 lowercase"),
        (
            "s3://models/churn/1",
            {"gatehouse.sha256": "a" * 64},
            "Set the tag gatehouse.size_bytes",
        ),
    ]
    for source, tags, fragment in cases:
        with pytest.raises(RestException) as caught:
            client.create_model_version("churn", source, tags=tags)
        assert caught.value.error_code == "INVALID_PARAMETER_VALUE", source
        assert fragment in caught.value.message, caught.value.message
    directory = _model_dir(file_roots)
    with pytest.raises(RestException) as caught:
        client.create_model_version(
            "churn", f"file://{directory}", tags={**sha_tags("something else")}
        )
    assert "but the source's sha256 is" in caught.value.message
    assert not ModelVersion.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_run_id_links_or_records_the_training_run(client, data_scientist):
    from models_registry.models import RegisteredModel

    model = RegisteredModel.objects.get(name="churn")
    with pytest.raises(RestException) as caught:
        client.create_model_version(
            "churn", "s3://m/1", run_id="mlflow-run-1", tags=sha_tags("1")
        )
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert (
        "lack gatehouse.code_repository, gatehouse.code_commit, "
        "gatehouse.environment_lock_hash" in caught.value.message
    )
    assert not TrainingRun.objects.exists()

    recorded = client.create_model_version(
        "churn",
        "s3://m/1",
        run_id="mlflow-run-1",
        run_link="https://mlflow.example.com/#/runs/1",
        tags={**sha_tags("1"), **LINEAGE, "team note": "baseline"},
    )
    run = TrainingRun.objects.get()
    assert (
        run.external_run_id,
        run.code_commit,
        run.code_repository,
        run.random_seed,
        run.created_by,
    ) == ("mlflow-run-1", COMMIT, "https://git.example.com/churn", 7, data_scientist)
    version = ModelVersion.objects.get(version=1)
    assert version.training_run == run
    assert version.tags == {"team note": "baseline"}
    assert recorded.run_id == "mlflow-run-1"
    assert recorded.run_link == "https://mlflow.example.com/#/runs/1"
    assert VersionLink.objects.get().run_link == "https://mlflow.example.com/#/runs/1"

    existing = factories.make_run(data_scientist, model, external_run_id="run-42")
    linked = client.create_model_version(
        "churn", "s3://m/2", run_id="run-42", tags=sha_tags("2")
    )
    assert ModelVersion.objects.get(version=2).training_run == existing
    assert linked.run_id == "run-42"
    # The same artifact again is the same version: Gatehouse pins one per artifact.
    again = client.create_model_version("churn", "s3://m/2", tags=sha_tags("2"))
    assert again.version == "2"
    assert ModelVersion.objects.count() == 2
    actions = list(
        AuditEvent.objects.filter(scope="churn")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "model.registered",
        "run.recorded",
        "version.registered",
        "mlflow.version_linked",
        "run.recorded",
        "version.registered",
    ]


def test_governed_version_tags_given_on_create_come_back_on_reads(client):
    spec = [{"name": "age", "type": "numeric"}, {"name": "plan", "type": "categorical"}]
    created = client.create_model_version(
        "churn",
        "s3://m/1",
        tags={
            **sha_tags("1"),
            "gatehouse.semantic_version": "1.2.0",
            "gatehouse.preprocessing_code_version": "prep-7",
            "gatehouse.feature_spec": json.dumps(spec),
            "quality": "gold",
        },
    )
    plain = client.create_model_version("churn", "s3://m/2", tags=sha_tags("2"))
    for version in (
        created,
        client.get_model_version("churn", "1"),
        *client.search_model_versions("name = 'churn' AND version_number = 1"),
    ):
        tags = version.tags
        assert tags["gatehouse.semantic_version"] == "1.2.0"
        assert tags["gatehouse.preprocessing_code_version"] == "prep-7"
        assert json.loads(tags["gatehouse.feature_spec"]) == spec
        assert tags["quality"] == "gold"
    # Unset fields are not rendered as empty tags.
    assert not {
        "gatehouse.semantic_version",
        "gatehouse.preprocessing_code_version",
        "gatehouse.feature_spec",
    } & set(client.get_model_version("churn", plain.version).tags)
    found = client.search_model_versions("tags.`gatehouse.semantic_version` = '1.2.0'")
    assert [(v.name, v.version) for v in found] == [("churn", "1")]


def test_gets_searches_and_updates_versions(client, data_scientist):
    for number in (1, 2, 3):
        client.create_model_version(
            "churn",
            f"s3://m/{number}",
            tags={**sha_tags(str(number)), "quality": "gold" if number < 3 else "tin"},
            description=f"v{number}",
        )
    got = client.get_model_version("churn", "2")
    assert (got.name, got.version, got.description, got.source) == (
        "churn",
        "2",
        "v2",
        "s3://m/2",
    )
    assert got.user_id == "dana"

    def found(filter_string, **kwargs):
        return [
            (v.name, v.version)
            for v in client.search_model_versions(filter_string, **kwargs)
        ]

    assert found("name = 'churn'") == [("churn", "3"), ("churn", "2"), ("churn", "1")]
    assert found("name='churn' AND tags.quality = 'gold'") == [
        ("churn", "2"),
        ("churn", "1"),
    ]
    assert found("version_number > 1", order_by=["version_number ASC"]) == [
        ("churn", "2"),
        ("churn", "3"),
    ]
    assert found(
        f"tags.`gatehouse.sha256` = '{sha_tags('3')['gatehouse.sha256']}'"
    ) == [("churn", "3")]
    assert found("source_path LIKE 's3://m/%'", max_results=2) == [
        ("churn", "3"),
        ("churn", "2"),
    ]
    with pytest.raises(RestException) as caught:
        client.search_model_versions("stage = 'Production'")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"

    updated = client.update_model_version("churn", "2", description="second")
    assert updated.description == "second"
    client.set_model_version_tag("churn", "2", "quality", "silver")
    client.set_model_version_tag("churn", "2", "reviewed", "yes")
    client.delete_model_version_tag("churn", "2", "reviewed")
    version = ModelVersion.objects.get(version=2)
    assert (version.description, version.tags) == ("second", {"quality": "silver"})
    events = AuditEvent.objects.count()
    for call in (
        lambda: client.set_model_version_tag(
            "churn", "2", "gatehouse.sha256", "0" * 64
        ),
        lambda: client.delete_model_version_tag("churn", "2", "gatehouse.format"),
    ):
        with pytest.raises(RestException) as caught:
            call()
        assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "cannot be set or deleted" in caught.value.message
    with pytest.raises(RestException) as caught:
        client.delete_model_version("churn", "2")
    assert caught.value.error_code == "PERMISSION_DENIED"
    with pytest.raises(RestException) as caught:
        client.transition_model_version_stage("churn", "2", "Production")
    assert caught.value.error_code == "PERMISSION_DENIED"
    assert "governed alias" in caught.value.message
    with pytest.raises(RestException) as caught:
        client.get_model_version("churn", "9")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert ModelVersion.objects.count() == 3
    assert AuditEvent.objects.count() == events


def test_free_aliases_behave_as_in_mlflow(client):
    for number in (1, 2):
        client.create_model_version(
            "churn", f"s3://m/{number}", tags=sha_tags(str(number))
        )
    client.set_registered_model_alias("churn", "candidate", "1")
    assert client.get_model_version_by_alias("churn", "candidate").version == "1"
    client.set_registered_model_alias("churn", "candidate", "2")
    client.set_registered_model_alias("churn", "candidate", "2")  # unchanged
    found = client.get_model_version_by_alias("churn", "candidate")
    assert (found.version, found.aliases) == ("2", ["candidate"])
    assert client.get_registered_model("churn").aliases == {"candidate": "2"}
    assert client.get_model_version_by_alias("churn", "latest").version == "2"
    payloads = [
        json.loads(payload)
        for payload in AuditEvent.objects.filter(action="mlflow.alias_set")
        .order_by("sequence")
        .values_list("payload_json", flat=True)
    ]
    assert payloads == [
        {"alias": "candidate", "previous": None, "version": 1},
        {"alias": "candidate", "previous": 1, "version": 2},
    ]
    client.delete_registered_model_alias("churn", "candidate")
    assert not ModelAlias.objects.exists()
    assert AuditEvent.objects.filter(action="mlflow.alias_deleted").count() == 1
    with pytest.raises(RestException) as caught:
        client.get_model_version_by_alias("churn", "candidate")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Registered model alias candidate not found." in caught.value.message
    # (The client itself refuses characters outside [A-Za-z0-9_-].)
    for alias, fragment in (("latest", "reserved"), ("v3", "reserved")):
        with pytest.raises(RestException) as caught:
            client.set_registered_model_alias("churn", alias, "1")
        assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
        assert fragment in caught.value.message
    with pytest.raises(RestException) as caught:
        client.set_registered_model_alias("churn", "candidate", "9")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert not ModelAlias.objects.exists()
