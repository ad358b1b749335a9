"""Registered models through the official MLflow client."""

import pytest
from mlflow.exceptions import RestException

from audit.models import AuditEvent
from kernel import roles
from mlflow_bridge.models import RegisteredModelTag
from models_registry.models import RegisteredModel
from tests.conftest import make_user
from tests.mlflow_bridge.conftest import sha_tags

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:.*deprecated since 2.9.0:FutureWarning"),
]


def _tags(entity) -> dict[str, str]:
    return dict(entity.tags)


def test_creates_a_model_with_governed_fields_from_tags_and_defaults(
    client_for, data_scientist, team
):
    client = client_for(data_scientist)
    created = client.create_registered_model(
        "credit-scoring",
        tags={
            "gatehouse.risk_class": "high",
            "gatehouse.domain": "credit",
            "owner": "dana",
        },
        description="Scores loan applications.",
    )
    assert created.name == "credit-scoring"
    model = RegisteredModel.objects.get(name="credit-scoring")
    assert (
        model.team,
        model.risk_class,
        model.domain,
        model.regulatory_tier,
        model.serving_mode,
        model.title,
        model.description,
        model.created_by,
    ) == (team, "high", "credit", "limited", "batch", "credit-scoring",
          "Scores loan applications.", data_scientist)  # fmt: skip
    fetched = client.get_registered_model("credit-scoring")
    assert _tags(fetched) == {
        "owner": "dana",
        "gatehouse.team": "credit-risk",
        "gatehouse.risk_class": "high",
        "gatehouse.domain": "credit",
        "gatehouse.regulatory_tier": "limited",
        "gatehouse.serving_mode": "batch",
        "gatehouse.title": "credit-scoring",
    }
    assert fetched.description == "Scores loan applications."
    assert fetched.latest_versions == []
    assert list(
        RegisteredModelTag.objects.filter(model=model).values_list("key", "value")
    ) == [("owner", "dana")]
    events = list(
        AuditEvent.objects.filter(scope="credit-scoring")
        .order_by("sequence")
        .values_list("action", "actor_text")
    )
    assert events == [("model.registered", "dana"), ("mlflow.model_tags_set", "dana")]


def test_title_and_latency_slo_given_as_tags_come_back_on_reads(
    client_for, data_scientist
):
    client = client_for(data_scientist)
    created = client.create_registered_model(
        "fraud-live",
        tags={
            "gatehouse.title": "Fraud, real time",
            "gatehouse.serving_mode": "real_time",
            "gatehouse.latency_slo_ms": "150",
        },
    )
    for model in (
        created,
        client.get_registered_model("fraud-live"),
        *client.search_registered_models("name = 'fraud-live'"),
    ):
        tags = _tags(model)
        assert tags["gatehouse.title"] == "Fraud, real time"
        assert tags["gatehouse.latency_slo_ms"] == "150"
        assert tags["gatehouse.serving_mode"] == "real_time"
    names = client.search_registered_models(
        "tags.`gatehouse.title` = 'Fraud, real time'"
    )
    assert [model.name for model in names] == ["fraud-live"]


def test_search_with_max_results_zero_answers_as_mlflow(client_for, data_scientist):
    """MLflow answers no models and, when some match, a page token for the
    first page (offset 0); with nothing matching, no token."""
    client = client_for(data_scientist)
    client.create_registered_model("churn")
    found = client.search_registered_models(max_results=0)
    assert list(found) == []
    assert found.token == "eyJvZmZzZXQiOiAwfQ=="  # {"offset": 0}, as MLflow's
    none = client.search_registered_models("name = 'nothing'", max_results=0)
    assert list(none) == []
    assert not none.token
    with pytest.raises(RestException) as caught:
        client.search_registered_models(max_results=-1)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_default_risk_class_is_medium(client_for, data_scientist):
    client_for(data_scientist).create_registered_model("churn")
    model = RegisteredModel.objects.get(name="churn")
    assert (model.risk_class, model.domain) == ("medium", "other")


def test_refuses_an_existing_name_with_resource_already_exists(
    client_for, data_scientist
):
    client = client_for(data_scientist)
    client.create_registered_model("churn")
    events = AuditEvent.objects.count()
    with pytest.raises(RestException) as caught:
        client.create_registered_model("churn", tags={"owner": "someone"})
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert caught.value.message.startswith(
        "RESOURCE_ALREADY_EXISTS: Registered Model (name=churn) already exists."
    )
    assert RegisteredModel.objects.filter(name="churn").count() == 1
    assert not RegisteredModelTag.objects.exists()
    assert AuditEvent.objects.count() == events


BAD_TAGS = [
    ({"gatehouse.team": "nope"}, "INVALID_PARAMETER_VALUE", "No team has the slug"),
    ({"gatehouse.team": "recommendations"}, "PERMISSION_DENIED", "your own teams"),
    ({"gatehouse.risk_class": "extreme"}, "INVALID_PARAMETER_VALUE", "risk_class"),
    ({"gatehouse.colour": "red"}, "INVALID_PARAMETER_VALUE", "Unknown tag"),
    ({"gatehouse.serving_mode": "real_time"}, "INVALID_PARAMETER_VALUE", "latency"),
]


def test_refuses_bad_governed_tags_and_changes_nothing(
    client_for, data_scientist, other_team
):
    client = client_for(data_scientist)
    events = AuditEvent.objects.count()
    for tags, code, fragment in BAD_TAGS:
        with pytest.raises(RestException) as caught:
            client.create_registered_model("churn", tags=tags)
        assert caught.value.error_code == code, tags
        assert fragment in caught.value.message
    assert not RegisteredModel.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_member_of_two_teams_must_name_the_team(client_for, team, other_team):
    person = make_user("two-teams", roles.DATA_SCIENTIST, team=team)
    person.groups.add(other_team.group)
    client = client_for(person)
    with pytest.raises(RestException) as caught:
        client.create_registered_model("churn")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "(yours: credit-risk, recommendations)" in caught.value.message
    client.create_registered_model("churn", tags={"gatehouse.team": "recommendations"})
    assert RegisteredModel.objects.get(name="churn").team == other_team


def test_refuses_names_that_are_not_slugs(client_for, data_scientist):
    with pytest.raises(RestException) as caught:
        client_for(data_scientist).create_registered_model("credit scoring")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Gatehouse model names are slugs" in caught.value.message
    assert not RegisteredModel.objects.exists()


def test_searches_by_name_and_tags_with_pages(client_for, data_scientist):
    client = client_for(data_scientist)
    client.create_registered_model("credit-scoring", tags={"owner": "dana"})
    client.create_registered_model(
        "churn", tags={"owner": "sam", "gatehouse.risk_class": "low"}
    )
    client.create_registered_model("credit-limits", tags={"owner": "dana"})

    def names(filter_string=None, **kwargs):
        found = client.search_registered_models(filter_string=filter_string, **kwargs)
        return [model.name for model in found]

    assert names() == ["churn", "credit-limits", "credit-scoring"]
    assert names("name LIKE 'credit%'") == ["credit-limits", "credit-scoring"]
    assert names("name ILIKE 'CHURN'") == ["churn"]
    assert names("name = 'churn'") == ["churn"]
    assert names("name != 'churn'") == ["credit-limits", "credit-scoring"]
    assert names("tags.owner = 'dana'") == ["credit-limits", "credit-scoring"]
    assert names("tags.`owner` = 'dana' AND name LIKE '%scoring'") == ["credit-scoring"]
    assert names("tags.`gatehouse.risk_class` = 'low'") == ["churn"]
    assert names("tags.`gatehouse.team` = 'credit-risk'") == [
        "churn",
        "credit-limits",
        "credit-scoring",
    ]
    assert names(order_by=["name DESC"]) == ["credit-scoring", "credit-limits", "churn"]
    first = client.search_registered_models(max_results=2)
    assert [model.name for model in first] == ["churn", "credit-limits"]
    assert first.token
    second = client.search_registered_models(max_results=2, page_token=first.token)
    assert [model.name for model in second] == ["credit-scoring"]
    assert not second.token
    with pytest.raises(RestException) as caught:
        client.search_registered_models(filter_string="owner = 'dana'")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Invalid attribute name: owner" in caught.value.message
    with pytest.raises(RestException) as caught:
        client.search_registered_models(max_results=1001)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_updates_the_description_and_refuses_rename_and_delete(
    client_for, data_scientist
):
    client = client_for(data_scientist)
    client.create_registered_model("churn")
    updated = client.update_registered_model("churn", description="Predicts churn.")
    assert updated.description == "Predicts churn."
    assert RegisteredModel.objects.get(name="churn").description == "Predicts churn."
    assert AuditEvent.objects.filter(scope="churn", action="model.updated").count() == 1
    events = AuditEvent.objects.count()
    with pytest.raises(RestException) as caught:
        client.rename_registered_model("churn", "attrition")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "cannot be renamed in Gatehouse" in caught.value.message
    with pytest.raises(RestException) as caught:
        client.delete_registered_model("churn")
    assert caught.value.error_code == "PERMISSION_DENIED"
    assert "Gatehouse does not delete" in caught.value.message
    assert list(RegisteredModel.objects.values_list("name", flat=True)) == ["churn"]
    assert AuditEvent.objects.count() == events


def test_sets_and_deletes_model_tags_and_protects_governed_ones(
    client_for, data_scientist
):
    client = client_for(data_scientist)
    client.create_registered_model("churn")
    client.set_registered_model_tag("churn", "owner", "dana")
    client.set_registered_model_tag("churn", "owner", "sam")
    client.set_registered_model_tag("churn", "owner", "sam")  # unchanged: no event
    client.set_registered_model_tag("churn", "stage note", "shadow first")
    client.delete_registered_model_tag("churn", "stage note")
    client.delete_registered_model_tag("churn", "never set")
    assert _tags(client.get_registered_model("churn"))["owner"] == "sam"
    assert list(RegisteredModelTag.objects.values_list("key", "value")) == [
        ("owner", "sam")
    ]
    actions = list(
        AuditEvent.objects.filter(scope="churn", action__startswith="mlflow.")
        .order_by("sequence")
        .values_list("action", "payload_json")
    )
    assert [action for action, _ in actions] == [
        "mlflow.model_tags_set",
        "mlflow.model_tags_set",
        "mlflow.model_tags_set",
        "mlflow.model_tag_deleted",
    ]
    events = AuditEvent.objects.count()
    for call in (
        lambda: client.set_registered_model_tag("churn", "gatehouse.risk_class", "low"),
        lambda: client.delete_registered_model_tag("churn", "gatehouse.team"),
        lambda: client.set_registered_model_tag("churn", "token", "password=hunter22"),
    ):
        with pytest.raises(RestException) as caught:
            call()
        assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert RegisteredModel.objects.get(name="churn").risk_class == "medium"
    assert AuditEvent.objects.count() == events


def test_latest_versions_per_stage(client_for, data_scientist):
    client = client_for(data_scientist)
    client.create_registered_model("churn")
    for number in range(1, 4):
        client.create_model_version(
            "churn", f"s3://models/churn/{number}", tags=sha_tags(f"churn-{number}")
        )
    latest = client.get_latest_versions("churn")
    assert [(v.version, v.current_stage) for v in latest] == [("3", "None")]
    assert client.get_latest_versions("churn", stages=["Production"]) == []
    model = client.get_registered_model("churn")
    assert [(v.version, v.current_stage) for v in model.latest_versions] == [
        ("3", "None")
    ]
