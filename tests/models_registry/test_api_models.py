"""The API of registered models: list, create, read, change, risk class."""

import pytest

from audit.models import AuditEvent
from models_registry import services
from models_registry.models import RegisteredModel
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    audit_count,
    client_for,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
    model_body,
    registry_state,
)

pytestmark = pytest.mark.django_db


def test_data_scientist_registers_a_model(data_scientist, team):
    client = client_for(data_scientist)
    body = model_body(
        name="churn",
        description="Who leaves next quarter.",
        latency_slo_ms=None,
        reproducibility_tolerance={"mode": "metrics", "tolerances": {"auc": 0.01}},
        low_confidence_threshold=0.25,
        fairness_attributes=["age_band"],
        fairness_max_disparity=0.08,
    )
    response = client.post(f"{API}models/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    created_at = data.pop("created_at")
    updated_at = data.pop("updated_at")
    assert created_at
    assert updated_at
    assert data == {
        "name": "churn",
        "kind": "model",
        "title": "Churn",
        "description": "Who leaves next quarter.",
        "team": "credit-risk",
        "domain": "marketing",
        "risk_class": "low",
        "regulatory_tier": "minimal",
        "serving_mode": "batch",
        "offline_success_metrics": [
            {"metric": "auc", "direction": "higher", "threshold": 0.7}
        ],
        "online_success_metrics": [
            {"kpi": "retention", "direction": "higher", "threshold": 0.2}
        ],
        "latency_slo_ms": None,
        "latency_slo_percentile": 99,
        "reproducibility_tolerance": {"mode": "metrics", "tolerances": {"auc": 0.01}},
        "low_confidence_threshold": 0.25,
        "fairness_attributes": ["age_band"],
        "fairness_max_disparity": 0.08,
        "latest_version": 0,
    }
    model = RegisteredModel.objects.get(name="churn")
    assert (model.team, model.created_by) == (team, data_scientist)
    event = AuditEvent.objects.get(action="model.registered")
    assert (event.scope, event.actor_id) == ("churn", data_scientist.pk)


def test_model_list_is_filtered_and_searchable(data_scientist, team):
    factories.make_model(data_scientist, team, name="credit-scoring", title="Credit")
    factories.make_model(
        data_scientist,
        team,
        name="churn",
        title="Customer churn",
        risk_class="low",
        domain="marketing",
        serving_mode="batch",
        fairness_attributes=[],
    )
    client = client_for(data_scientist)

    def names(query=""):
        response = client.get(f"{API}models/{query}")
        assert response.status_code == 200
        return [row["name"] for row in response.json()["results"]]

    assert names() == ["churn", "credit-scoring"]
    assert names("?risk_class=low") == ["churn"]
    assert names("?domain=credit") == ["credit-scoring"]
    assert names("?serving_mode=batch") == ["churn"]
    assert names("?team=credit-risk") == ["churn", "credit-scoring"]
    assert names("?team=recommendations") == []
    assert names("?search=CUSTOMER") == ["churn"]
    assert names("?status=registered") == []
    response = client.get(f"{API}models/?risk_class=extreme")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The filters are invalid.",
        "fields": {"risk_class": ['"extreme" is not a valid choice.']},
    }


def test_model_list_pages(data_scientist, team):
    for index in range(3):
        factories.make_model(data_scientist, team, name=f"model-{index}")
    response = client_for(data_scientist).get(f"{API}models/?limit=2&offset=1")
    data = response.json()
    assert data["count"] == 3
    assert [row["name"] for row in data["results"]] == ["model-1", "model-2"]
    assert data["previous"].endswith("/api/v1/models/?limit=2")
    assert data["next"] is None


def test_model_detail(data_scientist, credit_model):
    factories.make_version(data_scientist, credit_model)
    response = client_for(data_scientist).get(f"{API}models/credit-scoring/")
    assert response.status_code == 200
    data = response.json()
    assert (data["name"], data["team"], data["risk_class"], data["latest_version"]) == (
        "credit-scoring",
        "credit-risk",
        "high",
        1,
    )


def test_unknown_model_is_404(data_scientist):
    response = client_for(data_scientist).get(f"{API}models/nope/")
    assert response.status_code == 404
    assert response.json() == {
        "code": "model_not_found",
        "message": "No such model.",
        "fields": {},
    }


def test_patch_changes_only_the_fields_sent(data_scientist, credit_model):
    client = client_for(data_scientist)
    before = audit_count()
    response = client.patch(
        f"{API}models/credit-scoring/",
        {"title": "Credit scoring (EU)", "latency_slo_ms": 120},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["title"], response.json()["latency_slo_ms"]) == (
        "Credit scoring (EU)",
        120,
    )
    credit_model.refresh_from_db()
    assert (credit_model.title, credit_model.latency_slo_ms, credit_model.domain) == (
        "Credit scoring (EU)",
        120,
        "credit",
    )
    event = AuditEvent.objects.get(action="model.updated")
    assert event.payload == {
        "diff": {
            "title": ["Credit scoring", "Credit scoring (EU)"],
            "latency_slo_ms": [150, 120],
        }
    }
    assert audit_count() == before + 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "renamed"}, {"name": ["The name of a model never changes."]}),
        (
            {"team": "recommendations"},
            {"team": ["Ask a platform admin to move a model to another team."]},
        ),
        (
            {"risk_class": "low"},
            {"risk_class": ["Risk officers change the risk class, with a reason."]},
        ),
        (
            {"name": "renamed", "title": "New", "risk_class": "low"},
            {
                "name": ["The name of a model never changes."],
                "risk_class": ["Risk officers change the risk class, with a reason."],
            },
        ),
    ],
)
def test_patch_cannot_change_name_team_or_risk_class(
    data_scientist, credit_model, body, fields
):
    client = client_for(data_scientist)
    before = registry_state()
    response = client.patch(f"{API}models/credit-scoring/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The model was not changed.",
        "fields": fields,
    }
    assert registry_state() == before


def test_patch_refuses_unknown_fields_and_wrong_types(data_scientist, credit_model):
    client = client_for(data_scientist)
    before = registry_state()
    response = client.patch(
        f"{API}models/credit-scoring/",
        {"titel": "typo", "latency_slo_ms": "fast", "fairness_max_disparity": "0.1"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "latency_slo_ms": ["Must be a whole number."],
        "fairness_max_disparity": ["Must be a finite number."],
    }
    response = client.patch(
        f"{API}models/credit-scoring/", {"titel": "typo"}, format="json"
    )
    assert response.json()["fields"] == {"titel": ["Unknown field."]}
    assert registry_state() == before


def test_risk_officer_changes_the_risk_class_with_a_reason(
    data_scientist, credit_model, risk_officer, platform_admin
):
    services.model_reviewer_assign(
        actor=platform_admin, user=risk_officer, model=credit_model
    )
    client = client_for(risk_officer)
    response = client.post(
        f"{API}models/credit-scoring/risk-class",
        {"risk_class": "critical", "reason": "Fully automated decisions now."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["risk_class"] == "critical"
    credit_model.refresh_from_db()
    assert credit_model.risk_class == "critical"
    event = AuditEvent.objects.get(action="model.risk_class_changed")
    assert event.payload == {
        "diff": {"risk_class": ["high", "critical"]},
        "reason": "Fully automated decisions now.",
    }
    assert event.actor_id == risk_officer.pk


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"risk_class": "critical", "reason": "  "},
            {"reason": ["Say why the risk class changes."]},
        ),
        ({"risk_class": "critical"}, {"reason": ["This field is required."]}),
        (
            {"risk_class": "extreme", "reason": "x"},
            {"risk_class": ['"extreme" is not a valid choice.']},
        ),
        (
            {"risk_class": "high", "reason": "x"},
            {"risk_class": ["The model is already high risk."]},
        ),
        (
            {
                "risk_class": "critical",
                "reason": "see " + "postgres://user:hunter22@db/x",
            },
            {
                "reason": [
                    "Looks like it holds credentials (a password in a URI). Secrets "
                    "must never be stored in Gatehouse: remove them."
                ]
            },
        ),
    ],
)
def test_risk_class_change_needs_a_valid_class_and_a_reason(
    credit_model, risk_officer, platform_admin, body, fields
):
    services.model_reviewer_assign(
        actor=platform_admin, user=risk_officer, model=credit_model
    )
    client = client_for(risk_officer)
    before = registry_state()
    response = client.post(
        f"{API}models/credit-scoring/risk-class", body, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == fields
    assert registry_state() == before


def test_model_name_is_taken_once(data_scientist, credit_model):
    client = client_for(data_scientist)
    before = registry_state()
    response = client.post(
        f"{API}models/", model_body(name="credit-scoring"), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The model was not registered.",
        "fields": {"name": ["A model with this name exists already."]},
    }
    assert registry_state() == before


def test_model_for_an_unknown_team_is_a_field_error(data_scientist):
    client = client_for(data_scientist)
    before = registry_state()
    response = client.post(f"{API}models/", model_body(team="nobody"), format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"team": ["No team “nobody”."]}
    assert registry_state() == before
