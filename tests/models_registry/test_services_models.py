import pytest
from django.db import transaction

from audit.models import AuditEvent
from models_registry import services
from models_registry.errors import (
    ModelNotFound,
    RegistryInvalid,
    RegistryPermissionDenied,
)
from models_registry.models import (
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
)
from models_registry.selectors import model_list
from models_registry.services.registered_models import TEAM_PERMISSIONS
from tests.models_registry import factories

pytestmark = pytest.mark.django_db


def test_data_scientist_registers_a_model_for_their_team(data_scientist, team):
    model = factories.make_model(data_scientist, team, name="credit-scoring")
    assert model.team == team
    event = AuditEvent.objects.get(action="model.registered")
    assert (event.scope, event.actor_id, event.target_id) == (
        "credit-scoring",
        data_scientist.pk,
        str(model.pk),
    )
    assert event.payload["risk_class"] == "high"


def test_nobody_registers_for_another_team(data_scientist, other_team):
    with pytest.raises(RegistryInvalid) as caught:
        factories.make_model(data_scientist, other_team)
    assert "team" in caught.value.fields
    assert RegisteredModel.objects.count() == 0


@pytest.mark.parametrize("persona", ["reviewer", "risk_officer", "auditor", "outsider"])
def test_only_data_scientists_register_models(request, persona, team):
    actor = request.getfixturevalue(persona)
    with pytest.raises(RegistryPermissionDenied):
        factories.make_model(actor, team)
    assert RegisteredModel.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"risk_class": "extreme"}, "risk_class"),
        ({"domain": "astrology"}, "domain"),
        ({"serving_mode": "real_time", "latency_slo_ms": None}, "latency_slo_ms"),
        (
            {
                "offline_success_metrics": [
                    {"metric": "auc", "direction": "up", "threshold": 1}
                ]
            },
            "offline_success_metrics",
        ),
        (
            {
                "offline_success_metrics": [
                    {"metric": "auc", "direction": "higher", "threshold": float("nan")}
                ]
            },
            "offline_success_metrics",
        ),
        ({"low_confidence_threshold": 1.5}, "low_confidence_threshold"),
        (
            {"reproducibility_tolerance": {"mode": "metrics"}},
            "reproducibility_tolerance",
        ),
        ({"description": "key AKIAIOSFODNN7EXAMPLE"}, "description"),
    ],
)
def test_bad_model_fields_are_refused(data_scientist, team, overrides, field):
    with pytest.raises(RegistryInvalid) as caught:
        factories.make_model(data_scientist, team, **overrides)
    assert field in caught.value.fields
    assert RegisteredModel.objects.count() == 0


def test_duplicate_name_is_refused(data_scientist, team, credit_model):
    with pytest.raises(RegistryInvalid) as caught:
        factories.make_model(data_scientist, team, name="credit-scoring")
    assert caught.value.fields["name"] == ["A model with this name exists already."]


def test_a_taken_name_is_reported_beside_other_field_errors(
    data_scientist, team, credit_model
):
    # The insert checks the name itself; with other errors the name is looked
    # up first so that one answer names every problem. Nothing is written.
    events = AuditEvent.objects.count()
    with pytest.raises(RegistryInvalid) as caught:
        factories.make_model(
            data_scientist,
            team,
            name="credit-scoring",
            description="key AKIAIOSFODNN7EXAMPLE",
        )
    assert set(caught.value.fields) == {"name", "description"}
    assert caught.value.fields["name"] == ["A model with this name exists already."]
    assert RegisteredModel.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_a_taken_name_found_by_the_insert_writes_nothing(
    data_scientist, team, credit_model
):
    events = AuditEvent.objects.count()
    with pytest.raises(RegistryInvalid) as caught:
        factories.make_model(data_scientist, team, name="credit-scoring")
    assert caught.value.fields == {"name": ["A model with this name exists already."]}
    assert RegisteredModel.objects.count() == 1
    assert AuditEvent.objects.count() == events
    grants = RegisteredModelGroupObjectPermission.objects.all()
    assert grants.count() == len(TEAM_PERMISSIONS)  # the first model's only


def test_update_records_a_diff_and_refuses_name_and_team(data_scientist, credit_model):
    services.model_update(
        actor=data_scientist, model=credit_model, title="Retail credit"
    )
    event = AuditEvent.objects.filter(action="model.updated").get()
    assert event.payload == {"diff": {"title": ["Credit scoring", "Retail credit"]}}
    with pytest.raises(RegistryInvalid) as caught:
        services.model_update(actor=data_scientist, model=credit_model, name="renamed")
    assert "never changes" in caught.value.fields["name"][0]
    credit_model.refresh_from_db()
    assert credit_model.name == "credit-scoring"


def test_other_team_cannot_see_or_change_the_model(other_data_scientist, credit_model):
    with pytest.raises(ModelNotFound):
        services.model_update(actor=other_data_scientist, model=credit_model, title="x")
    assert list(model_list(actor=other_data_scientist)) == []


def test_risk_officer_changes_risk_class_with_a_reason(
    platform_admin, risk_officer, credit_model
):
    services.model_reviewer_assign(
        actor=platform_admin, user=risk_officer, model=credit_model
    )
    services.model_risk_class_change(
        actor=risk_officer,
        model=credit_model,
        risk_class="critical",
        reason="Affects loans",
    )
    credit_model.refresh_from_db()
    assert credit_model.risk_class == "critical"
    event = AuditEvent.objects.get(action="model.risk_class_changed")
    assert event.payload == {
        "diff": {"risk_class": ["high", "critical"]},
        "reason": "Affects loans",
    }


def test_risk_class_change_needs_the_role_and_a_reason(
    data_scientist, platform_admin, risk_officer, credit_model
):
    with pytest.raises(RegistryPermissionDenied):
        services.model_risk_class_change(
            actor=data_scientist, model=credit_model, risk_class="low", reason="cheaper"
        )
    with pytest.raises(ModelNotFound):  # not assigned: cannot see the model
        services.model_risk_class_change(
            actor=risk_officer, model=credit_model, risk_class="low", reason="x"
        )
    services.model_reviewer_assign(
        actor=platform_admin, user=risk_officer, model=credit_model
    )
    with pytest.raises(RegistryInvalid) as caught:
        services.model_risk_class_change(
            actor=risk_officer, model=credit_model, risk_class="low", reason="  "
        )
    assert "reason" in caught.value.fields
    credit_model.refresh_from_db()
    assert credit_model.risk_class == "high"
    assert not AuditEvent.objects.filter(action="model.risk_class_changed").exists()


def test_team_reviewer_sees_present_and_future_models(
    data_scientist, team, platform_admin, reviewer, credit_model
):
    assert list(model_list(actor=reviewer)) == []
    services.model_reviewer_assign(actor=platform_admin, user=reviewer, team=team)
    later = factories.make_model(data_scientist, team, name="later-model")
    assert [m.name for m in model_list(actor=reviewer)] == [
        "credit-scoring",
        "later-model",
    ]
    assert later.pk


def test_reviewer_assignment_requires_a_reviewing_role(
    platform_admin, outsider, credit_model
):
    with pytest.raises(RegistryInvalid):
        services.model_reviewer_assign(
            actor=platform_admin, user=outsider, model=credit_model
        )
    assert list(model_list(actor=outsider)) == []


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("data_scientist", True),
        ("other_data_scientist", False),
        ("reviewer", False),
        ("risk_officer", False),
        ("validator", False),
        ("auditor", True),
        ("platform_admin", True),
        ("outsider", False),
    ],
)
def test_model_visibility(request, persona, sees, credit_model):
    actor = request.getfixturevalue(persona)
    assert (credit_model in model_list(actor=actor)) is sees


def test_model_list_filters(data_scientist, team, credit_model):
    factories.make_model(
        data_scientist,
        team,
        name="recs",
        title="Recommender",
        domain="recommendation",
        risk_class="low",
        serving_mode="batch",
        latency_slo_ms=None,
    )
    names = lambda **f: [m.name for m in model_list(actor=data_scientist, filters=f)]  # noqa: E731
    assert names(risk_class="low") == ["recs"]
    assert names(domain="credit") == ["credit-scoring"]
    assert names(search="recomm") == ["recs"]
    assert names(team="credit-risk") == ["credit-scoring", "recs"]
    assert names(team="nope") == []


def _register_then_fail(actor, team):
    with transaction.atomic():
        factories.make_model(actor, team, name="doomed")
        raise RuntimeError("later step failed")


def test_a_failed_transaction_leaves_no_model_and_no_event(data_scientist, team):
    with pytest.raises(RuntimeError):
        _register_then_fail(data_scientist, team)
    assert not RegisteredModel.objects.filter(name="doomed").exists()
    assert not AuditEvent.objects.exists()


def test_update_by_someone_who_cannot_see_the_model_reveals_no_fields(
    other_data_scientist, credit_model
):
    with pytest.raises(ModelNotFound):
        services.model_update(actor=other_data_scientist, model=credit_model, name="x")


def test_registration_grants_the_team_and_its_reviewers_in_one_statement(
    data_scientist, team, platform_admin, reviewer, risk_officer, credit_model
):
    """The object permissions guardian would write, row for row, for the team's
    group and each assigned reviewer; their number does not change the
    registration's queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from guardian.shortcuts import get_perms

    services.model_reviewer_assign(actor=platform_admin, user=reviewer, team=team)
    with CaptureQueriesContext(connection) as one_reviewer:
        first = factories.make_model(data_scientist, team, name="first-model")
    services.model_reviewer_assign(actor=platform_admin, user=risk_officer, team=team)
    with CaptureQueriesContext(connection) as two_reviewers:
        second = factories.make_model(data_scientist, team, name="second-model")
    assert len(two_reviewers) == len(one_reviewer)
    for model in (first, second):
        assert sorted(get_perms(team.group, model)) == sorted(services.TEAM_PERMISSIONS)
        assert sorted(get_perms(reviewer, model)) == sorted(
            services.REVIEWER_PERMISSIONS
        )
    assert sorted(get_perms(risk_officer, second)) == sorted(
        services.REVIEWER_PERMISSIONS
    )
