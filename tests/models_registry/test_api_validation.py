"""Bad input gets a 400 naming the field, and nothing is written."""

import json

import pytest

from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    AWS_KEY,
    BEARER,
    PASSWORD_URI,
    PRIVATE_KEY,
    artifact_body,
    client_for,
    dataset_body,
    evaluation_body,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
    model_body,
    registry_state,
    run_body,
)

pytestmark = pytest.mark.django_db

VERSIONS = f"{API}models/credit-scoring/versions/"
SHA_MESSAGE = "Must be a SHA-256 digest: 64 lowercase hexadecimal characters."
SCHEME_MESSAGE = (
    "Unknown URI scheme; use one of s3, gs, az, abfss, file, https, runs, models, "
    "mlflow-artifacts."
)


@pytest.fixture
def client(data_scientist):
    return client_for(data_scientist)


@pytest.fixture
def version(data_scientist, credit_model):
    return factories.make_version(data_scientist, credit_model)


@pytest.fixture
def dataset(data_scientist, team):
    return factories.make_snapshot(data_scientist, team)


def refused(client, method, url, body, *, raw=False):
    """Send the request; assert a 400 that wrote nothing; return its fields."""
    before = registry_state()
    send = getattr(client, method)
    if raw:
        response = send(url, body, content_type="application/json")
    else:
        response = send(url, body, format="json")
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "invalid"
    assert registry_state() == before
    return data["fields"]


# --- sha256 and URIs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sha256",
    ["abc", "A" * 64, "g" * 64, "0" * 63, "0" * 65, " " + "0" * 63],
)
def test_bad_artifact_sha256(client, credit_model, sha256):
    fields = refused(
        client, "post", VERSIONS, {"artifact": artifact_body(sha256=sha256)}
    )
    assert fields == {"artifact.sha256": [SHA_MESSAGE]}


def test_bad_sha256_elsewhere(client, credit_model, version):
    fields = refused(client, "post", f"{API}datasets/", dataset_body(sha256="xyz"))
    assert fields == {"sha256": [SHA_MESSAGE]}
    fields = refused(
        client,
        "post",
        f"{API}versions/{version.pk}/reproductions",
        {"artifact_sha256": "F" * 64},
    )
    assert fields == {"artifact_sha256": [SHA_MESSAGE]}
    fields = refused(
        client,
        "post",
        f"{API}models/credit-scoring/runs/",
        run_body(environment_lock_hash="sha256:abc"),
    )
    assert fields == {"environment_lock_hash": [SHA_MESSAGE]}


@pytest.mark.parametrize(
    "uri",
    [
        "ftp://host/model.pkl",
        "http://host/model.pkl",
        "model.pkl",
        PASSWORD_URI,
        "S3://bucket/model",
    ],
)
def test_unknown_uri_scheme(client, credit_model, uri):
    # A URI with a password is refused for the password first (every field of
    # a write is scanned as it is parsed, issue #14).
    message = (
        "Looks like it holds credentials (a password in a URI). Secrets must "
        "never be stored in Gatehouse: remove them."
        if uri == PASSWORD_URI
        else SCHEME_MESSAGE
    )
    fields = refused(client, "post", VERSIONS, {"artifact": artifact_body(uri=uri)})
    assert fields == {"artifact.uri": [message]}
    fields = refused(client, "post", f"{API}datasets/", dataset_body(uri=uri))
    assert fields == {"uri": [message]}


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/model.pkl",
        "gs://bucket/model.pkl",
        "az://container/model.pkl",
        "abfss://fs@account.dfs.core.windows.net/model.pkl",
        "file:///models/model.pkl",
        "https://models.example.com/model.pkl",
        "runs:/0a1b2c/model",
        "models:/credit-scoring/3",
        "mlflow-artifacts:/1/0a1b2c/artifacts/model",
    ],
)
def test_known_uri_schemes_are_accepted(client, credit_model, uri):
    response = client.post(
        VERSIONS, {"artifact": artifact_body(uri=uri)}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["artifact"]["uri"] == uri


# --- Non-finite numbers -------------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_metrics_are_field_errors(client, version, dataset, constant):
    body = json.dumps(evaluation_body(dataset, slices=[])).replace(
        '"auc": 0.8', f'"auc": {constant}'
    )
    fields = refused(
        client, "post", f"{API}versions/{version.pk}/evaluations", body, raw=True
    )
    assert fields == {"metrics.auc": ["Must be a finite number."]}


@pytest.mark.parametrize("constant", ["NaN", "Infinity"])
def test_non_finite_numbers_anywhere_are_field_errors(
    client, credit_model, version, dataset, constant
):
    slice_body = json.dumps(evaluation_body(dataset)).replace(
        '"metrics": {"auc": 0.7}', f'"metrics": {{"auc": {constant}}}'
    )
    fields = refused(
        client, "post", f"{API}versions/{version.pk}/evaluations", slice_body, raw=True
    )
    assert fields == {"slices[0].metrics.auc": ["Must be a finite number."]}

    rerun = json.dumps(
        {"artifact_sha256": version.artifact.sha256, "metrics": {"auc": 1}}
    ).replace('"auc": 1', f'"auc": {constant}')
    fields = refused(
        client, "post", f"{API}versions/{version.pk}/reproductions", rerun, raw=True
    )
    assert fields == {"metrics.auc": ["Must be a finite number."]}

    parameters = json.dumps(
        {"artifact": artifact_body(), "run": run_body(parameters={"lr": 1})}
    ).replace('"lr": 1', f'"lr": {constant}')
    fields = refused(client, "post", VERSIONS, parameters, raw=True)
    assert fields == {
        "run.parameters": [f"lr must be a finite number, not {float(constant)}."]
    }

    thresholds = json.dumps(model_body()).replace(
        '"threshold": 0.7', f'"threshold": {constant}'
    )
    fields = refused(client, "post", f"{API}models/", thresholds, raw=True)
    assert fields == {
        "offline_success_metrics": [
            f"[0].threshold must be a finite number, not {float(constant)}."
        ]
    }

    disparity = json.dumps({"fairness_max_disparity": 0.1}).replace("0.1", constant)
    fields = refused(
        client, "patch", f"{API}models/credit-scoring/", disparity, raw=True
    )
    assert fields == {"fairness_max_disparity": ["Must be a finite number."]}


def test_null_characters_in_metric_names_are_field_errors(client, version, dataset):
    fields = refused(
        client,
        "post",
        f"{API}versions/{version.pk}/evaluations",
        evaluation_body(dataset, metrics={"a\x00uc": 0.8}, slices=[]),
    )
    assert fields == {"metrics": ["Metric names cannot contain null characters."]}


def test_malformed_json_is_a_parse_error(client, credit_model):
    before = registry_state()
    response = client.post(VERSIONS, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert registry_state() == before


# --- Datasets -------------------------------------------------------------------------


def test_pii_column_must_be_in_the_schema(client, team):
    fields = refused(
        client,
        "post",
        f"{API}datasets/",
        dataset_body(pii_columns=[{"column": "phone", "handling": "hashed"}]),
    )
    assert fields == {"pii_columns": ["“phone” is not a column of the schema."]}


def test_kept_pii_needs_a_legal_basis(client, team):
    fields = refused(
        client,
        "post",
        f"{API}datasets/",
        dataset_body(pii_columns=[{"column": "email", "handling": "kept"}]),
    )
    assert fields == {"pii_columns": ["“email” is kept: state its legal basis."]}


def test_dropped_pii_column_need_not_be_in_the_schema(client, team):
    response = client.post(
        f"{API}datasets/",
        dataset_body(pii_columns=[{"column": "ssn", "handling": "dropped"}]),
        format="json",
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"row_count": "many"}, {"row_count": ["Must be a whole number."]}),
        ({"row_count": True}, {"row_count": ["Must be a whole number."]}),
        ({"row_count": 1.5}, {"row_count": ["Must be a whole number."]}),
        (
            {"row_count": -1},
            {"row_count": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            {"row_count": 2**64},
            {
                "row_count": [
                    "Ensure this value is less than or equal to 9223372036854775807."
                ]
            },
        ),
        ({"schema": {"income": "float"}}, {"schema": ["Must be a list."]}),
        (
            {"schema": []},
            {"schema": ["Must be a non-empty list of {“name”, “type”} columns."]},
        ),
        ({"name": 12}, {"name": ["Must be text."]}),
        ({"name": "a\x00b"}, {"name": ["Null characters are not allowed."]}),
        (
            {"schema": [{"name": "a\x00", "type": "int"}]},
            {"schema": ["[0].name contains a null character."]},
        ),
        ({"parents": ["one"]}, {"parents[0]": ["Must be a whole number."]}),
        (
            {"time_range_start": "yesterday"},
            {
                "time_range_start": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        (
            {"time_column": "missing"},
            {"time_column": ["“missing” is not a column of the schema."]},
        ),
        ({"rows": 5}, {"rows": ["Unknown field."]}),
    ],
)
def test_dataset_shapes_and_types(client, team, overrides, fields):
    assert refused(client, "post", f"{API}datasets/", dataset_body(**overrides)) == (
        fields
    )


def test_missing_fields_are_listed_at_once(client, credit_model):
    fields = refused(client, "post", VERSIONS, {"artifact": {}})
    assert fields == {
        "artifact.uri": ["This field is required."],
        "artifact.sha256": ["This field is required."],
        "artifact.size_bytes": ["This field is required."],
        "artifact.format": ["This field is required."],
    }
    fields = refused(client, "post", VERSIONS, [])
    assert fields == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"tags": ["a"]}, {"tags": ["Must be an object of text to text."]}),
        ({"tags": {"a": 1}}, {"tags.a": ["Must be text."]}),
        ({"run_id": "7"}, {"run_id": ["Must be a whole number."]}),
        (
            {"run": {"inputs": [{"snapshot": 1, "role": "holdout"}]}},
            {
                "run.external_run_id": ["This field is required."],
                "run.code_repository": ["This field is required."],
                "run.code_commit": ["This field is required."],
                "run.environment_lock_hash": ["This field is required."],
                "run.inputs[0].role": ['"holdout" is not a valid choice.'],
            },
        ),
        (
            {"run": run_body(parameters=[1, 2])},
            {"run.parameters": ["Must be an object."]},
        ),
        ({"card": {"intended_use": ["x"]}}, {"card.intended_use": ["Must be text."]}),
        (
            {"semantic_version": "v2"},
            {"semantic_version": ["Must be a semantic version such as 2.1.0."]},
        ),
    ],
)
def test_version_shapes_and_types(client, credit_model, body, fields):
    body = {"artifact": artifact_body(), **body}
    assert refused(client, "post", VERSIONS, body) == fields


def test_artifact_size_and_format(client, credit_model):
    fields = refused(
        client,
        "post",
        VERSIONS,
        {"artifact": artifact_body(size_bytes="2048", format="pickle")},
    )
    assert fields == {
        "artifact.size_bytes": ["Must be a whole number."],
        "artifact.format": ['"pickle" is not a valid choice.'],
    }


# --- Secrets --------------------------------------------------------------------------

SECRETS = [
    pytest.param(AWS_KEY, "an AWS access key id", id="aws-key"),
    pytest.param(PRIVATE_KEY, "a private key block", id="private-key"),
    pytest.param(BEARER, "a bearer token", id="bearer"),
    pytest.param(PASSWORD_URI, "a password in a URI", id="password-uri"),
]


def _credentials(label: str) -> list[str]:
    return [
        f"Looks like it holds credentials ({label}). Secrets must never be stored "
        "in Gatehouse: remove them."
    ]


def _with_secret(where: str, secret: str) -> dict:
    body = {"artifact": artifact_body()}
    if where == "run.parameters":
        body["run"] = run_body(parameters={"max_depth": 3, "note": f"x {secret}"})
    elif where == "tags":
        body["tags"] = {"owner": f"dana {secret}"}
    elif where == "description":
        body["description"] = f"Trained with {secret}"
    else:
        body["card"] = {"limitations": f"Call {secret} for access."}
    return body


@pytest.mark.parametrize(
    "where", ["run.parameters", "tags", "description", "card.limitations"]
)
@pytest.mark.parametrize(("secret", "label"), SECRETS)
def test_secrets_are_refused_naming_the_field(
    client, credit_model, where, secret, label
):
    fields = refused(client, "post", VERSIONS, _with_secret(where, secret))
    assert fields == {where: _credentials(label)}


@pytest.mark.parametrize(("secret", "label"), SECRETS)
def test_secrets_are_refused_in_every_edit(
    client, credit_model, version, secret, label
):
    fields = refused(
        client,
        "put",
        f"{API}versions/{version.pk}/card",
        {"caveats": f"see {secret}"},
    )
    assert fields == {"caveats": _credentials(label)}
    fields = refused(
        client,
        "patch",
        f"{API}versions/{version.pk}/",
        {"description": secret, "tags": {"k": secret}},
    )
    assert fields == {"tags": _credentials(label), "description": _credentials(label)}
    fields = refused(
        client,
        "patch",
        f"{API}models/credit-scoring/",
        {"description": f"ping {secret}"},
    )
    assert fields == {"description": _credentials(label)}
    fields = refused(
        client,
        "post",
        f"{API}models/credit-scoring/runs/",
        run_body(parameters={"db": secret}),
    )
    assert fields == {"parameters": _credentials(label)}


def test_secret_under_a_telling_key_is_refused(client, credit_model):
    fields = refused(
        client,
        "post",
        VERSIONS,
        {
            "artifact": artifact_body(),
            "run": run_body(parameters={"api_key": "x1y2z3w4"}),
        },
    )
    assert fields == {"run.parameters": _credentials("a value under the key “api_key”")}


def test_secrets_are_not_echoed_back(client, credit_model):
    before = registry_state()
    response = client.post(VERSIONS, _with_secret("tags", AWS_KEY), format="json")
    assert response.status_code == 400
    assert AWS_KEY not in response.content.decode()
    assert registry_state() == before


def test_secrets_are_refused_in_names_too(client, credit_model, version, dataset):
    """Schema columns, features, metrics and fairness slices are named by
    people: a pasted credential there is refused like anywhere else."""
    found = _credentials("an AWS access key id")
    feature_spec = [{"name": f"key {AWS_KEY}", "type": "numeric"}]
    fields = refused(
        client,
        "post",
        VERSIONS,
        {"artifact": artifact_body(feature_spec=feature_spec)},
    )
    assert fields == {"artifact.feature_spec": found}
    schema = [{"name": "income", "type": f"float {AWS_KEY}"}]
    fields = refused(client, "post", f"{API}datasets/", dataset_body(schema=schema))
    assert fields == {"schema": found}
    evaluations = f"{API}versions/{version.pk}/evaluations"
    body = evaluation_body(dataset, metrics={"auc": 0.8, AWS_KEY: 0.1})
    assert refused(client, "post", evaluations, body) == {"metrics": found}
    slices = [{"attribute": "sex", "group": AWS_KEY, "size": 40, "metrics": {}}]
    body = evaluation_body(dataset, slices=slices)
    assert refused(client, "post", evaluations, body) == {"slices[0].group": found}
