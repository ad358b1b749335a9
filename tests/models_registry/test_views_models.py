"""The model list and the model page, for every persona; the risk-class form."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from kernel import roles
from models_registry import services
from models_registry.models import ModelVersion, RegisteredModel
from tests.models_registry import factories

pytestmark = pytest.mark.django_db

# Who sees the model of the credit-risk team, and what each person gets.
VISIBILITY = [
    ("owner", True),
    ("other_scientist", False),
    ("assigned_reviewer", True),
    ("unassigned_reviewer", False),
    ("assigned_risk_officer", True),
    ("unassigned_risk_officer", False),
    ("auditor", True),
    ("platform_admin", True),
    ("outsider", False),
]


def person(username, *role_names, team=None, **extra):
    """A user without a usable password: hashing one costs most of a second,
    and the pages are reached with ``force_login``."""
    user = get_user_model().objects.create_user(username=username, **extra)
    groups = list(Group.objects.filter(name__in=role_names))
    if team is not None:
        groups.append(team.group)
    user.groups.add(*groups)
    return user


@pytest.fixture
def data_scientist(team):
    return person("dana", roles.DATA_SCIENTIST, team=team)


@pytest.fixture
def platform_admin(db):
    return person("pat", roles.PLATFORM_ADMIN, is_staff=True)


@pytest.fixture
def model(data_scientist, team):
    return factories.make_model(
        data_scientist, team, name="credit-scoring", title="Consumer credit scoring"
    )


@pytest.fixture
def people(data_scientist, other_team, platform_admin, model, team):
    assigned_reviewer = person("rita", roles.REVIEWER)
    assigned_risk_officer = person("rio", roles.RISK_OFFICER)
    services.model_reviewer_assign(
        actor=platform_admin, user=assigned_reviewer, model=model
    )
    services.model_reviewer_assign(
        actor=platform_admin, user=assigned_risk_officer, team=team
    )
    return {
        "owner": data_scientist,
        "other_scientist": person("sam", roles.DATA_SCIENTIST, team=other_team),
        "assigned_reviewer": assigned_reviewer,
        "unassigned_reviewer": person("ursula", roles.REVIEWER),
        "assigned_risk_officer": assigned_risk_officer,
        "unassigned_risk_officer": person("rick", roles.RISK_OFFICER),
        "auditor": person("audrey", roles.AUDITOR),
        "platform_admin": platform_admin,
        "outsider": person("otto"),
    }


def _body(response) -> str:
    return response.content.decode()


def _row(body: str, marker: str) -> str:
    """The table row of ``body`` that contains ``marker``."""
    at = body.index(marker)
    return body[body.rindex("<tr", 0, at) : body.index("</tr>", at)]


def _cells(row: str) -> list[str]:
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def _listed_names(response) -> list[str]:
    return re.findall(r'<a href="/models/([a-z0-9-]+)/"><code>', _body(response))


# --- Anonymous -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "kwargs"),
    [("registry:model-list", {}), ("registry:model-detail", {"name": "x"})],
)
def test_pages_send_anonymous_people_to_the_login(client, url_name, kwargs):
    url = reverse(url_name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_risk_class_post_by_anonymous_people_changes_nothing(client, model):
    url = reverse("registry:model-risk-class", args=[model.name])
    response = client.post(url, {"risk_class": "low", "reason": "Because."})
    assert response.status_code == 302
    model.refresh_from_db()
    assert model.risk_class == "high"


# --- Model list ----------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "sees"), VISIBILITY)
def test_model_list_shows_only_visible_models(client, people, model, persona, sees):
    client.force_login(people[persona])
    response = client.get(reverse("registry:model-list"))
    assert response.status_code == 200
    assert _listed_names(response) == (["credit-scoring"] if sees else [])


def test_model_list_shows_the_columns(client, data_scientist, team, model):
    version = factories.make_version(data_scientist, model)
    factories.make_version(data_scientist, model)
    ModelVersion.objects.filter(pk=version.pk).update(status="archived")
    client.force_login(data_scientist)
    body = _body(client.get(reverse("registry:model-list")))
    row = _row(body, '<a href="/models/credit-scoring/">')
    assert _cells(row) == [
        "credit-scoring",
        "Consumer credit scoring",
        "Credit Risk",
        "High risk",
        "Credit",
        "EU AI Act: high risk",
        "2",
    ]
    assert 'class="badge risk risk-high"' in row


@pytest.fixture
def catalogue(data_scientist, team, model):
    """Four more models of the team, differing in each filtered field."""
    factories.make_model(
        data_scientist,
        team,
        name="movie-recs",
        title="Movie recommendations",
        domain="recommendation",
        risk_class="low",
        regulatory_tier="minimal",
        serving_mode="batch",
        latency_slo_ms=None,
    )
    fraud = factories.make_model(
        data_scientist,
        team,
        name="fraud-alerts",
        title="Card fraud alerts",
        domain="fraud",
        risk_class="critical",
    )
    archived = factories.make_version(data_scientist, fraud)
    ModelVersion.objects.filter(pk=archived.pk).update(status="archived")
    factories.make_version(data_scientist, model)
    return model


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["credit-scoring", "fraud-alerts", "movie-recs"]),
        ({"risk_class": "low"}, ["movie-recs"]),
        ({"risk_class": "critical"}, ["fraud-alerts"]),
        ({"domain": "credit"}, ["credit-scoring"]),
        ({"team": "credit-risk"}, ["credit-scoring", "fraud-alerts", "movie-recs"]),
        ({"status": "archived"}, ["fraud-alerts"]),
        ({"status": "registered"}, ["credit-scoring"]),
        ({"search": "MOVIE"}, ["movie-recs"]),
        ({"search": "fraud"}, ["fraud-alerts"]),
        ({"search": "nothing-like-it"}, []),
        ({"risk_class": "high", "domain": "fraud"}, []),
    ],
)
def test_model_list_filters(client, data_scientist, catalogue, query, expected):
    client.force_login(data_scientist)
    response = client.get(reverse("registry:model-list"), query)
    assert response.status_code == 200
    assert _listed_names(response) == expected


def test_model_list_offers_only_teams_of_visible_models(
    client, data_scientist, other_team, model
):
    other = person("sam", roles.DATA_SCIENTIST, team=other_team)
    factories.make_model(other, other_team, name="hidden-recs")
    client.force_login(data_scientist)
    body = _body(client.get(reverse("registry:model-list")))
    assert '<option value="credit-risk">Credit Risk</option>' in body
    assert "recommendations" not in body.lower()
    assert "hidden-recs" not in body


@pytest.mark.parametrize(
    "query",
    [{"risk_class": "enormous"}, {"team": "recommendations"}, {"status": "live"}],
)
def test_model_list_rejects_unknown_filter_values(
    client, data_scientist, other_team, model, query
):
    client.force_login(data_scientist)
    response = client.get(reverse("registry:model-list"), query)
    assert response.status_code == 400
    assert "Select a valid choice" in _body(response)
    assert _listed_names(response) == []


def test_model_list_paginates_and_keeps_the_filters(client, data_scientist, team):
    for number in range(30):
        factories.make_model(data_scientist, team, name=f"model-{number:02d}")
    client.force_login(data_scientist)
    first = client.get(reverse("registry:model-list"), {"risk_class": "high"})
    assert _listed_names(first) == [f"model-{n:02d}" for n in range(25)]
    assert "?risk_class=high&amp;page=2" in _body(first)
    second = client.get(
        reverse("registry:model-list"), {"risk_class": "high", "page": 2}
    )
    assert _listed_names(second) == [f"model-{n:02d}" for n in range(25, 30)]
    assert "Page 2 of 2" in _body(second)


def _count_queries(client, url, data=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["owner", "assigned_reviewer", "auditor"])
def test_model_list_runs_a_fixed_number_of_queries(
    client, people, data_scientist, platform_admin, team, persona
):
    # The reviewer reviews the whole team, so that she sees the new models too.
    services.model_reviewer_assign(
        actor=platform_admin, user=people["assigned_reviewer"], team=team
    )
    client.force_login(people[persona])
    url = reverse("registry:model-list")
    few = _count_queries(client, url)
    for number in range(30):
        model = factories.make_model(data_scientist, team, name=f"bulk-{number:02d}")
        factories.make_version(data_scientist, model)
        factories.make_version(data_scientist, model)
    client.force_login(people[persona])
    many = _count_queries(client, url, {"search": "bulk", "status": "registered"})
    assert many == few
    assert many <= 10
    response = client.get(url, {"search": "bulk", "status": "registered"})
    assert len(_listed_names(response)) == 25


# --- Model page ----------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "sees"), VISIBILITY)
def test_model_page_answers_404_to_people_who_may_not_see_it(
    client, people, model, persona, sees
):
    client.force_login(people[persona])
    response = client.get(reverse("registry:model-detail", args=[model.name]))
    assert response.status_code == (200 if sees else 404)
    if not sees:
        assert "Consumer credit scoring" not in _body(response)


def test_model_page_answers_404_for_an_unknown_name(client, data_scientist):
    client.force_login(data_scientist)
    response = client.get(reverse("registry:model-detail", args=["no-such-model"]))
    assert response.status_code == 404


def test_model_page_shows_risk_metrics_fairness_and_team(client, data_scientist, team):
    factories.make_model(
        data_scientist,
        team,
        name="credit-limits",
        title="Credit limits",
        latency_slo_ms=120,
        latency_slo_percentile=95,
        offline_success_metrics=[
            {"metric": "auc", "direction": "higher", "threshold": 0.75},
            {"metric": "brier", "direction": "lower", "threshold": 0.2},
        ],
        online_success_metrics=[
            {"kpi": "default_rate", "direction": "lower", "threshold": 0.04}
        ],
        reproducibility_tolerance={"mode": "metrics", "tolerances": {"auc": 0.005}},
        fairness_attributes=["sex", "age_band"],
        fairness_max_disparity=0.05,
        low_confidence_threshold=0.3,
    )
    client.force_login(data_scientist)
    body = _body(client.get(reverse("registry:model-detail", args=["credit-limits"])))
    assert "<dt>Team</dt><dd>Credit Risk</dd>" in body
    assert "<dt>Risk class</dt><dd>High</dd>" in body
    assert "<dt>Regulatory tier</dt><dd>EU AI Act: high risk</dd>" in body
    assert "<dt>Serving mode</dt><dd>Real-time</dd>" in body
    assert "p95 ≤ 120 ms" in body
    assert "metrics within tolerance: auc ± 0.005" in body
    assert "0.3 (predictions below go to human review)" in body
    assert "<code>auc</code></th><td>≥ 0.75" in body
    assert "<code>brier</code></th><td>≤ 0.2" in body
    assert "<code>default_rate</code></th><td>≤ 0.04" in body
    assert "sex, age_band" in body
    assert "0.05 between groups" in body
    assert "yes, for high risk" in body


def test_model_page_shows_versions_with_their_test_metrics(
    client, data_scientist, model
):
    snapshot = factories.make_snapshot(data_scientist, model.team)
    first = factories.make_version(data_scientist, model, semantic_version="1.0.0")
    second = factories.make_version(data_scientist, model)
    factories.make_version(data_scientist, model)
    services.evaluation_record(
        actor=data_scientist,
        version=first,
        split="test",
        dataset=snapshot,
        metrics={"auc": 0.81},
    )
    services.evaluation_record(
        actor=data_scientist,
        version=second,
        split="test",
        dataset=snapshot,
        metrics={"auc": 0.7},
    )
    # A training-split evaluation is not a test metric.
    services.evaluation_record(
        actor=data_scientist,
        version=second,
        split="train",
        dataset=snapshot,
        metrics={"auc": 0.99},
    )
    client.force_login(data_scientist)
    body = _body(client.get(reverse("registry:model-detail", args=[model.name])))
    rows = re.findall(
        r'<th scope="row"><a href="/models/credit-scoring/versions/'
        r'(\d+)/">',
        body,
    )
    assert rows == ["3", "2", "1"]
    version_rows = dict(re.findall(r'versions/(\d+)/">v\d+</a>(.*?)</tr>', body, re.S))
    assert '<td class="number">0.81</td>' in version_rows["1"]
    assert "1.0.0" in version_rows["1"]
    assert (
        '<td class="number misses">0.7 <span class="marker">below target'
        in (version_rows["2"])
    )
    assert (
        '<td class="number">— <span class="visually-hidden">no test'
        in (version_rows["3"])
    )


def test_model_page_runs_a_fixed_number_of_queries(client, data_scientist, model):
    snapshot = factories.make_snapshot(data_scientist, model.team)
    run = factories.make_run(data_scientist, model, inputs=[(snapshot, "train")])
    url = reverse("registry:model-detail", args=[model.name])

    def add_versions(count):
        for _ in range(count):
            version = factories.make_version(data_scientist, model, run=run)
            services.evaluation_record(
                actor=data_scientist,
                version=version,
                split="test",
                dataset=snapshot,
                metrics={"auc": 0.8, "ks": 0.4},
            )

    add_versions(1)
    client.force_login(data_scientist)
    few = _count_queries(client, url)
    add_versions(19)
    client.force_login(data_scientist)
    many = _count_queries(client, url)
    assert many == few
    assert many <= 10
    assert _body(client.get(url)).count("/versions/") >= 20


# --- Risk class ----------------------------------------------------------------------


def test_risk_class_form_is_shown_only_to_risk_officers(client, people, model):
    url = reverse("registry:model-detail", args=[model.name])
    shown = {}
    for persona, sees in VISIBILITY:
        if sees:
            client.force_login(people[persona])
            shown[persona] = "Change the risk class" in _body(client.get(url))
    assert shown == {
        "owner": False,
        "assigned_reviewer": False,
        "assigned_risk_officer": True,
        "auditor": False,
        "platform_admin": False,
    }


def test_assigned_risk_officer_changes_the_risk_class_with_a_reason(
    client, people, model
):
    client.force_login(people["assigned_risk_officer"])
    response = client.post(
        reverse("registry:model-risk-class", args=[model.name]),
        {"risk_class": "critical", "reason": "Now decides on mortgages too."},
        follow=True,
    )
    assert response.redirect_chain == [
        (reverse("registry:model-detail", args=[model.name]), 302)
    ]
    assert "The risk class of credit-scoring is now critical." in _body(response)
    model.refresh_from_db()
    assert model.risk_class == "critical"
    event = AuditEvent.objects.filter(action="model.risk_class_changed").get()
    assert event.actor_id == people["assigned_risk_officer"].pk
    assert event.payload["reason"] == "Now decides on mortgages too."
    assert event.payload["diff"] == {"risk_class": ["high", "critical"]}


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("owner", 403),
        ("assigned_reviewer", 403),
        ("auditor", 403),
        ("platform_admin", 403),
        ("unassigned_risk_officer", 404),
        ("other_scientist", 404),
        ("outsider", 404),
    ],
)
def test_risk_class_change_is_refused_to_everyone_else(
    client, people, model, persona, status
):
    client.force_login(people[persona])
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("registry:model-risk-class", args=[model.name]),
        {"risk_class": "low", "reason": "Looks harmless."},
    )
    assert response.status_code == status
    model.refresh_from_db()
    assert model.risk_class == "high"
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"risk_class": "low", "reason": ""}, "reason", "Say why the risk class"),
        ({"risk_class": "low", "reason": "   "}, "reason", "Say why the risk class"),
        ({"risk_class": "huge", "reason": "x"}, "risk_class", "Select a valid choice"),
        (
            {"risk_class": "high", "reason": "No change."},
            "risk_class",
            "The model is already high risk.",
        ),
        (
            {"risk_class": "low", "reason": "password=hunter2hunter2"},
            "reason",
            "password or secret",
        ),
    ],
)
def test_risk_class_form_errors_change_nothing(
    client, people, model, data, field, message
):
    client.force_login(people["assigned_risk_officer"])
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("registry:model-risk-class", args=[model.name]), data
    )
    assert response.status_code == 400
    form = response.context["risk_form"]
    assert any(message in error for error in form.errors[field])
    assert message in _body(response)
    model.refresh_from_db()
    assert model.risk_class == "high"
    assert AuditEvent.objects.count() == events


def test_risk_class_page_refuses_get(client, people, model):
    client.force_login(people["assigned_risk_officer"])
    response = client.get(reverse("registry:model-risk-class", args=[model.name]))
    assert response.status_code == 405
    assert RegisteredModel.objects.get(pk=model.pk).risk_class == "high"


def test_navigation_links_to_the_models(client, db):
    client.force_login(person("otto"))
    body = _body(client.get(reverse("home")))
    assert f'<a href="{reverse("registry:model-list")}">Models</a>' in body
