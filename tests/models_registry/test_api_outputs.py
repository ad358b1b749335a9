"""The hot registry reads build their JSON without DRF's serializers; the
serializers document the same answers in the schema. They must agree."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from kernel import roles
from kernel.guards import BoundedLimitOffsetPagination
from models_registry import selectors
from models_registry.api.common import model_output, version_output
from models_registry.errors import ModelNotFound, VersionNotFound
from models_registry.models import ModelVersion
from models_registry.serializers import ModelOutput, VersionOutput
from tests.conftest import make_user
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    client_for,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
)

pytestmark = pytest.mark.django_db


def _as_json(data) -> dict:
    return json.loads(json.dumps(data))


def test_model_and_version_answers_equal_the_serializers(data_scientist, team):
    plain = factories.make_model(data_scientist, team, name="plain")
    tuned = factories.make_model(
        data_scientist,
        team,
        name="tuned",
        serving_mode="real_time",
        latency_slo_ms=120,
        low_confidence_threshold=0.25,
        fairness_attributes=["region"],
    )
    for model in (plain, tuned):
        read = selectors.model_get(actor=data_scientist, name=model.name)
        assert _as_json(model_output(read)) == _as_json(ModelOutput(read).data)
    run = factories.make_run(data_scientist, tuned)
    with_run = factories.make_version(data_scientist, tuned, run=run)
    without = factories.make_version(data_scientist, tuned, tags={"q": "gold"})
    ModelVersion.objects.filter(pk=without.pk).update(
        production_approved_at=datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    )
    for version in (with_run, without):
        read = selectors.version_get(actor=data_scientist, id=version.pk)
        answer = _as_json(version_output(read))
        assert answer == _as_json(VersionOutput(read).data)
    assert answer["is_card_frozen"] is True
    assert answer["production_approved_at"] == "2026-01-02T03:04:05.000678Z"


def test_detail_reads_are_one_query_and_hide_what_one_may_not_see(
    data_scientist, team, outsider, credit_model
):
    version = factories.make_version(data_scientist, credit_model)
    with CaptureQueriesContext(connection) as captured:
        read = selectors.version_get(actor=data_scientist, id=version.pk)
        assert (read.model.team.slug, read.artifact.sha256, read.training_run) == (
            team.slug,
            version.artifact.sha256,
            version.training_run,
        )
        assert read.registered_by.username == data_scientist.username
        assert selectors.model_get(actor=data_scientist, name="credit-scoring").team
    assert len(captured) == 2
    with pytest.raises(VersionNotFound):
        selectors.version_get(actor=outsider, id=version.pk)
    with pytest.raises(ModelNotFound):
        selectors.model_get(actor=outsider, name="credit-scoring")


# --- List pages: one query for the page and its count, the serializers' bytes ----


def _drf_page(url: str, items, serializer) -> bytes:
    """The answer DRF's paginator and ``serializer`` give for ``items`` (an ORM
    selector's queryset), rendered as the API renders it."""
    request = Request(APIRequestFactory().get(url))
    paginator = BoundedLimitOffsetPagination()
    page = paginator.paginate_queryset(items, request)
    data = serializer(page, many=True).data
    return JSONRenderer().render(paginator.get_paginated_response(data).data)


def _filters(response) -> dict:
    """The list's filters as sent, without the paging."""
    query = response.wsgi_request.GET
    return {key: query[key] for key in query if key not in ("limit", "offset")}


@pytest.fixture
def registry(data_scientist, team, other_team):
    """Models of two teams with versions that differ in what the filters see."""
    theirs = make_user("theo", roles.DATA_SCIENTIST, team=other_team)
    names = ["credit-a", "credit_b", "fraud-c", "churn-d", "pricing-e"]
    models = [
        factories.make_model(
            data_scientist,
            team,
            name=name,
            title=f"Model {name.upper()} 100%",
            risk_class=risk,
            domain=domain,
            serving_mode=mode,
        )
        for name, risk, domain, mode in zip(
            names,
            ["high", "low", "high", "medium", "low"],
            ["credit", "credit", "fraud", "marketing", "other"],
            ["real_time", "batch", "batch", "real_time", "batch"],
            strict=True,
        )
    ]
    factories.make_model(theirs, other_team, name="their-model")
    factories.make_model(data_scientist, team, name="a-prompt", kind="prompt")
    run = factories.make_run(data_scientist, models[0])
    factories.make_version(data_scientist, models[0], run=run, tags={"q": "a=b"})
    factories.make_version(data_scientist, models[0], tags={"q": "gold"})
    archived = factories.make_version(data_scientist, models[2])
    ModelVersion.objects.filter(pk=archived.pk).update(status="archived")
    factories.make_version(data_scientist, models[3], tags={"q": "gold", "n": "1"})
    return models


MODEL_LISTS = [
    "",
    "?limit=2",
    "?limit=2&offset=2",
    "?limit=2&offset=4",
    "?offset=50",
    "?kind=all",
    "?kind=prompt",
    "?risk_class=high",
    "?domain=credit&serving_mode=batch",
    "?team=credit-risk",
    "?team=recommendations",
    "?status=archived",
    "?status=registered&risk_class=medium",
    "?search=CREDIT",
    "?search=t_b",
    "?search=%25",
    "?search=100%25",
]


@pytest.mark.parametrize("persona", ["data_scientist", "auditor", "outsider"])
def test_the_model_list_answers_what_the_serializer_documents(
    request, registry, persona
):
    reader = request.getfixturevalue(persona)
    client = client_for(reader)
    for query in MODEL_LISTS:
        url = f"{API}models/{query}"
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        filters = _filters(response)
        orm = selectors.model_list(actor=reader, filters=filters, with_counts=False)
        assert response.content == _drf_page(url, orm, ModelOutput), url


VERSION_LISTS = [
    "models/credit-a/versions/",
    "models/credit-a/versions/?limit=1&offset=1",
    "models/credit-a/versions/?offset=9",
    "models/credit-a/versions/?tag=q=a=b",
    "models/credit-a/versions/?status=registered",
    "models/fraud-c/versions/?status=registered",
    "versions/",
    "versions/?limit=2&offset=1",
    "versions/?model=churn-d",
    "versions/?tag=q=gold",
    "versions/?tag=n=1&status=registered",
    "versions/?status=archived",
    "versions/?tag=q=",
]


@pytest.mark.parametrize("persona", ["data_scientist", "auditor"])
def test_the_version_lists_answer_what_the_serializer_documents(
    request, registry, persona
):
    reader = request.getfixturevalue(persona)
    client = client_for(reader)
    for path in VERSION_LISTS:
        url = f"{API}{path}"
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        filters = _filters(response)
        model = None
        if path.startswith("models/"):
            model = selectors.model_get(actor=reader, name=path.split("/")[1])
        orm = selectors.version_list(actor=reader, model=model, filters=filters)
        assert response.content == _drf_page(url, orm, VersionOutput), url


def test_a_models_versions_answer_404_before_400(
    registry, outsider, data_scientist, team
):
    # The model's visibility is read in the page's own query; a bad filter or
    # page is still a 404 for a model one may not see, and a 400 otherwise.
    for bad in ("?status=nonsense", "?limit=0", "?offset=-1"):
        url = f"{API}models/credit-a/versions/{bad}"
        assert client_for(outsider).get(url).status_code == 404, bad
        assert client_for(data_scientist).get(url).status_code == 400, bad
    assert client_for(data_scientist).get(f"{API}models/nope/versions/").json() == {
        "code": "model_not_found",
        "message": "No such model.",
        "fields": {},
    }
    empty = factories.make_model(data_scientist, team, name="empty")
    answer = client_for(data_scientist).get(f"{API}models/{empty.name}/versions/")
    assert answer.status_code == 200
    assert (answer.json()["count"], answer.json()["results"]) == (0, [])


def test_lists_hide_what_one_may_not_see(registry, outsider, data_scientist):
    client = client_for(outsider)
    assert client.get(f"{API}models/credit-a/versions/").status_code == 404
    for url in (f"{API}versions/", f"{API}models/?kind=all"):
        assert client.get(url).json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
    page = client_for(data_scientist).get(f"{API}models/?kind=all&limit=3").json()
    assert page["count"] == 6  # not "their-model"
    assert page["next"] == "http://testserver/api/v1/models/?kind=all&limit=3&offset=3"
    assert [model["name"] for model in page["results"]] == [
        "a-prompt",
        "churn-d",
        "credit-a",
    ]


@pytest.mark.parametrize(
    "query", ["?limit=0", "?offset=-1", "?limit=x", "?kind=everything"]
)
def test_bad_list_parameters_are_400(registry, data_scientist, query):
    client = client_for(data_scientist)
    for path in ("models/", "models/credit-a/versions/", "versions/"):
        response = client.get(f"{API}{path}{query}")
        if query == "?kind=everything" and path != "models/":
            assert response.status_code == 200
            continue
        assert response.status_code == 400, (path, query, response.content)
        assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("persona", ["data_scientist", "auditor"])
def test_list_pages_read_the_page_and_its_count_in_one_query(
    request, data_scientist, team, persona
):
    reader = request.getfixturevalue(persona)
    client = client_for(reader)
    urls = {
        f"{API}models/?limit=50": 1,
        f"{API}models/?search=credit&status=registered&team=credit-risk": 1,
        f"{API}versions/": 1,
        f"{API}versions/?tag=q=gold&status=registered": 1,
        f"{API}models/m-0/versions/": 1,  # the 404 rule inside the page's query
    }
    made = 0
    for size in (1, 8):
        for index in range(made, size):
            model = factories.make_model(data_scientist, team, name=f"m-{index}")
            for _ in range(2):
                factories.make_version(data_scientist, model, tags={"q": "gold"})
        made = size
        for url, reads in urls.items():
            client.get(url)  # the token's last use is written once a minute
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            assert response.status_code == 200, url
            assert len(captured) == reads + 1, (url, size)  # + the token
