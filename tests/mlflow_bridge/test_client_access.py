"""Authentication the way MLflow clients send it, and who may do what."""

import pytest
from mlflow.exceptions import RestException

from audit.models import AuditEvent
from kernel import roles
from mlflow_bridge.models import ModelAlias, RegisteredModelTag
from models_registry import services as registry
from models_registry.models import ModelVersion, RegisteredModel
from portal.services import api_token_revoke
from tests.conftest import make_user
from tests.mlflow_bridge.conftest import ClientAs, sha_tags, token_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:.*deprecated since 2.9.0:FutureWarning"),
]


@pytest.fixture
def churn(client_for, data_scientist):
    client = client_for(data_scientist)
    client.create_registered_model("churn", tags={"owner": "dana"})
    client.create_model_version("churn", "s3://m/1", tags=sha_tags("1"))
    return client


def test_accepts_tokens_and_passwords_and_refuses_the_rest(
    mlflow_url, churn, data_scientist, other_team
):
    token = token_for(data_scientist)
    accepted = [
        {"MLFLOW_TRACKING_TOKEN": token},
        {"MLFLOW_TRACKING_USERNAME": "dana", "MLFLOW_TRACKING_PASSWORD": token},
        {
            "MLFLOW_TRACKING_USERNAME": "dana",
            "MLFLOW_TRACKING_PASSWORD": "correct horse battery staple",
        },
    ]
    for values in accepted:
        assert (
            ClientAs(mlflow_url, **values).get_registered_model("churn").name == "churn"
        )
    sam = make_user("sam", roles.DATA_SCIENTIST, team=other_team)
    refused = [
        ({}, "Authentication required."),
        ({"MLFLOW_TRACKING_TOKEN": "gh_0000000000_" + "x" * 43}, "Invalid API token."),
        ({"MLFLOW_TRACKING_TOKEN": "not-a-token"}, "Malformed API token."),
        (
            {"MLFLOW_TRACKING_USERNAME": "sam", "MLFLOW_TRACKING_PASSWORD": token},
            "belongs to another user",
        ),
        (
            {"MLFLOW_TRACKING_USERNAME": "dana", "MLFLOW_TRACKING_PASSWORD": "wrong"},
            "Invalid username or password.",
        ),
    ]
    for values, fragment in refused:
        with pytest.raises(RestException) as caught:
            ClientAs(mlflow_url, **values).get_registered_model("churn")
        assert caught.value.error_code == "UNAUTHENTICATED", values
        assert fragment in caught.value.message
    revoked = token_for(sam)
    api_token_revoke(actor=sam, token_id=sam.api_tokens.get().pk)
    with pytest.raises(RestException) as caught:
        ClientAs(mlflow_url, MLFLOW_TRACKING_TOKEN=revoked).search_registered_models()
    assert caught.value.error_code == "UNAUTHENTICATED"
    assert "API token was revoked on" in caught.value.message


def _writes(client):
    return [
        lambda: client.set_registered_model_tag("churn", "owner", "mallory"),
        lambda: client.delete_registered_model_tag("churn", "owner"),
        lambda: client.update_registered_model("churn", description="mine"),
        lambda: client.create_model_version("churn", "s3://m/9", tags=sha_tags("9")),
        lambda: client.set_model_version_tag("churn", "1", "k", "v"),
        lambda: client.update_model_version("churn", "1", description="mine"),
        lambda: client.set_registered_model_alias("churn", "candidate", "1"),
        lambda: client.delete_registered_model_alias("churn", "candidate"),
    ]


def _snapshot():
    return (
        list(RegisteredModel.objects.values_list("name", "description")),
        list(RegisteredModelTag.objects.values_list("key", "value")),
        list(ModelVersion.objects.values_list("version", "description", "tags")),
        ModelAlias.objects.count(),
        AuditEvent.objects.count(),
    )


def test_a_model_you_may_not_see_does_not_exist(client_for, churn, other_team):
    for person in (
        make_user("sam", roles.DATA_SCIENTIST, team=other_team),
        make_user("rey", roles.REVIEWER),  # not assigned to the team
    ):
        client = client_for(person)
        before = _snapshot()
        assert list(client.search_registered_models()) == []
        assert list(client.search_model_versions("name = 'churn'")) == []
        for call in [
            lambda c=client: c.get_registered_model("churn"),
            lambda c=client: c.get_model_version("churn", "1"),
            lambda c=client: c.get_model_version_download_uri("churn", "1"),
            lambda c=client: c.get_latest_versions("churn"),
            *_writes(client),
        ]:
            with pytest.raises(RestException) as caught:
                call()
            assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
        assert _snapshot() == before


def test_readers_read_and_may_not_write(
    client_for, churn, team, auditor, platform_admin
):
    reviewer = make_user("rey", roles.REVIEWER)
    registry.model_reviewer_assign(actor=platform_admin, user=reviewer, team=team)
    for person in (reviewer, auditor):
        client = client_for(person)
        before = _snapshot()
        assert client.get_registered_model("churn").name == "churn"
        assert [v.version for v in client.search_model_versions("name='churn'")] == [
            "1"
        ]
        for call in _writes(client):
            with pytest.raises(RestException) as caught:
                call()
            assert caught.value.error_code == "PERMISSION_DENIED", person
        with pytest.raises(RestException) as caught:
            client.create_registered_model("their-own")
        assert caught.value.error_code == "PERMISSION_DENIED"
        # Auditors change nothing: refused before the parameters are read.
        assert caught.value.message.endswith(
            "You may not change anything here."
            if person == auditor
            else "Only data scientists register models."
        )
        assert _snapshot() == before
