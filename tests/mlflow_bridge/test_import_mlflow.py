"""`manage.py import_mlflow` against a real `mlflow server` process.

The server is started once for the module on a free loopback port, with a
SQLite backend store and a file:// artifact root in a temporary directory, and
filled through the official client the way a team would have filled it.
"""

import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from mlflow_bridge.models import ModelAlias, RegisteredModelTag, VersionLink
from models_registry.models import ModelVersion, RegisteredModel, TrainingRun

pytestmark = pytest.mark.django_db

COMMIT = "0123456789abcdef0123456789abcdef01234567"
STARTUP_SECONDS = 180


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    executable = Path(sys.executable).parent / "mlflow"
    if not executable.exists():
        pytest.skip(f"no mlflow executable next to {sys.executable}")
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        [
            str(executable),
            "server",
            "--backend-store-uri",
            f"sqlite:///{root}/mlflow.db",
            "--default-artifact-root",
            f"file://{root}/artifacts",
            "--no-serve-artifacts",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # Background job runners are not needed to serve the REST API.
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _up(url):
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            tail = (root / "server.log").read_text()[-2000:]
            pytest.skip(f"mlflow server did not start on {url}:\n{tail}")
        time.sleep(0.5)
    try:
        yield url, root
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _model_dir(base: Path, weights: bytes) -> Path:
    directory = base / f"model-{hashlib.sha256(weights).hexdigest()[:8]}"
    directory.mkdir()
    (directory / "MLmodel").write_text("flavors: {}\n")
    (directory / "model.pkl").write_bytes(weights)
    (directory / "requirements.txt").write_text("scikit-learn==1.9.1\n")
    return directory


@pytest.fixture(scope="module")
def filled(mlflow_server, tmp_path_factory):
    """Two versions of churn (one run with its git commit, one without), a
    version whose artifact cannot be hashed, a name that is not a slug."""
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag

    url, _ = mlflow_server
    local = tmp_path_factory.mktemp("local-models")
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    first = client.create_run(
        "0",
        tags={
            "mlflow.source.git.commit": COMMIT,
            "mlflow.source.git.repoURL": "https://git.example.com/churn",
            "mlflow.source.name": "train.py",
        },
    )
    first_id = first.info.run_id
    client.log_param(first_id, "max_depth", "6")
    client.log_param(first_id, "random_state", "42")
    client.log_metric(first_id, "auc", 0.81)
    client.log_inputs(
        first_id,
        datasets=[
            DatasetInput(
                Dataset(
                    name="customers",
                    digest="9f2c1e7a",
                    source_type="local",
                    source="file:///data/customers.parquet",
                ),
                tags=[InputTag("mlflow.data.context", "training")],
            )
        ],
    )
    client.log_artifacts(first_id, str(_model_dir(local, b"weights-1")), "model")
    client.set_terminated(first_id)
    second_id = client.create_run("0").info.run_id
    client.log_param(second_id, "max_depth", "8")
    client.log_artifacts(second_id, str(_model_dir(local, b"weights-2")), "model")
    client.set_terminated(second_id)

    client.create_registered_model(
        "churn",
        tags={"owner": "dana", "gatehouse.risk_class": "low"},
        description="Predicts churn.",
    )
    client.create_model_version(
        "churn",
        f"{client.get_run(first_id).info.artifact_uri}/model",
        first_id,
        tags={"quality": "gold"},
    )
    client.create_model_version(
        "churn", f"{client.get_run(second_id).info.artifact_uri}/model", second_id
    )
    client.set_registered_model_alias("churn", "candidate", "2")
    client.set_registered_model_alias("churn", "champion", "1")
    client.create_registered_model("remote-only")
    client.create_model_version("remote-only", "s3://bucket/remote/model")
    client.create_registered_model("Fraud Model")
    return {"url": url, "first": first_id, "second": second_id, "local": local}


def _import(filled, root) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_mlflow",
        "--tracking-uri",
        filled["url"],
        "--user",
        "dana",
        "--file-root",
        str(root),
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def _state():
    return (
        list(RegisteredModel.objects.order_by("name").values_list("name", flat=True)),
        list(ModelVersion.objects.values_list("model__name", "version", "tags")),
        TrainingRun.objects.count(),
        list(RegisteredModelTag.objects.values_list("key", "value")),
        list(ModelAlias.objects.values_list("alias", "version__version")),
        VersionLink.objects.count(),
        AuditEvent.objects.count(),
    )


def test_imports_the_registry_once(mlflow_server, filled, data_scientist, team):
    _, root = mlflow_server
    out, err = _import(filled, root)

    churn = RegisteredModel.objects.get(name="churn")
    assert (churn.team, churn.risk_class, churn.description, churn.created_by) == (
        team,
        "low",
        "Predicts churn.",
        data_scientist,
    )
    assert list(RegisteredModelTag.objects.values_list("key", "value")) == [
        ("owner", "dana")
    ]
    v1, v2 = ModelVersion.objects.filter(model=churn).order_by("version")
    run = v1.training_run
    requirements = hashlib.sha256(b"scikit-learn==1.9.1\n").hexdigest()
    assert (
        run.external_run_id,
        run.code_commit,
        run.code_repository,
        run.entrypoint,
        run.environment_lock_hash,
        run.random_seed,
    ) == (
        filled["first"],
        COMMIT,
        "https://git.example.com/churn",
        "train.py",
        requirements,
        42,
    )
    assert run.parameters == {
        "max_depth": "6",
        "random_state": "42",
        "mlflow.metrics": {"auc": 0.81},
        "mlflow.dataset_inputs": [
            {
                "name": "customers",
                "digest": "9f2c1e7a",
                "source_type": "local",
                "source": "file:///data/customers.parquet",
                "context": "training",
            }
        ],
    }
    assert v1.tags == {"quality": "gold"}
    assert v1.artifact.size_bytes == len(b"weights-1") + 32
    assert v2.training_run is None
    link = v2.mlflow_link
    assert (link.run_id, link.run_facts["max_depth"], link.imported_version) == (
        filled["second"],
        "8",
        "2",
    )
    assert list(ModelAlias.objects.values_list("alias", "version__version")) == [
        ("candidate", 2)
    ]
    assert RegisteredModel.objects.filter(name="remote-only").exists()
    assert not ModelVersion.objects.filter(model__name="remote-only").exists()
    assert "models created: 2" in out
    assert "versions created: 2" in out
    assert "versions with their training run recorded: 1" in out
    assert "versions imported without a training run: 1" in out
    assert "aliases set: 1" in out
    assert "governed aliases not imported: 1" in out
    assert "skipped: 2" in out
    assert "version remote-only/1: Gatehouse pins every version" in out
    assert "model Fraud Model: Invalid model name" in out
    assert f"missing {'gatehouse.code_repository'}" in out
    assert "[##############################] 3/3 models" in err
    assert (
        json.loads(
            AuditEvent.objects.filter(action="model.registered", scope="churn")
            .get()
            .payload_json
        )["risk_class"]
        == "low"
    )

    before = _state()
    out, _ = _import(filled, root)
    assert _state() == before
    assert "models created: 0" in out
    assert "models already in Gatehouse: 2" in out
    assert "versions already imported: 2" in out
    assert "aliases set: 0" in out


def test_an_unreachable_registry_is_a_clear_error(data_scientist):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_mlflow",
            "--tracking-uri",
            f"http://127.0.0.1:{port}",
            "--user",
            "dana",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert "Cannot read the MLflow registry" in str(caught.value)
    assert not RegisteredModel.objects.exists()


def test_an_unknown_user_is_a_clear_error():
    with pytest.raises(CommandError) as caught:
        call_command("import_mlflow", "--tracking-uri", "http://x", "--user", "nobody")
    assert "No active user named 'nobody'" in str(caught.value)


def test_a_tracking_uri_that_is_not_http_is_refused(data_scientist):
    """The importer reads MLflow's REST API only, never local files."""
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_mlflow",
            "--tracking-uri",
            "file:///etc",
            "--user",
            "dana",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert "is not an http(s) URL" in str(caught.value)
    assert not RegisteredModel.objects.exists()
