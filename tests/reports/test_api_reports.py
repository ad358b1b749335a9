"""Lineage reports with an API token: the pages' JSON, PDF and CSV documents,
recorded as exports; who may see the model may export it (auditors every
model), everyone else gets 404; a bad format is a 400 that records nothing."""

import hashlib
import json

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from portal.services import api_token_create
from tests.conftest import make_user
from tests.models_registry import lineage_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team):
    return lineage_world.build(team)


def _api(user) -> Client:
    _, plaintext = api_token_create(user=user, name="reports")
    return Client(HTTP_AUTHORIZATION=f"Token {plaintext}")


def _model_url(world):
    return reverse("api-model-report", args=[world.model.name])


@pytest.mark.parametrize(
    ("export_format", "content_type"),
    [
        ("json", "application/json"),
        ("pdf", "application/pdf"),
        ("csv", "application/zip"),
    ],
)
def test_an_auditor_exports_a_report_with_a_token(
    world, auditor, export_format, content_type
):
    api = _api(auditor)
    before = AuditEvent.objects.count()
    response = api.get(_model_url(world), {"format": export_format})
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest()
    [event] = AuditEvent.objects.filter(sequence__gt=before, action="report.exported")
    assert event.payload["format"] == export_format
    assert event.payload["sha256"] == response["X-Content-SHA256"]


def test_json_is_the_default_and_a_version_has_its_own(world, auditor):
    api = _api(auditor)
    whole = json.loads(api.get(_model_url(world)).content)
    assert whole["report"]["subject"] == {"model": world.model.name, "version": None}
    one = api.get(reverse("api-version-report", args=[world.model.name, 2]))
    assert json.loads(one.content)["report"]["subject"]["version"] == 2


def test_a_data_scientist_of_another_team_gets_404_and_nothing_is_recorded(
    world, other_team
):
    api = _api(make_user("stranger", "data_scientist", team=other_team))
    before = AuditEvent.objects.count()
    response = api.get(_model_url(world))
    assert response.status_code == 404
    assert AuditEvent.objects.count() == before


def test_a_data_scientist_of_the_team_may_as_on_the_page(world, data_scientist):
    assert _api(data_scientist).get(_model_url(world)).status_code == 200


def test_an_unknown_version_is_404(world, auditor):
    url = reverse("api-version-report", args=[world.model.name, 99])
    assert _api(auditor).get(url).status_code == 404


@pytest.mark.parametrize("export_format", ["html", "xml"])
def test_a_bad_format_is_a_400_that_records_nothing(world, auditor, export_format):
    api = _api(auditor)
    before = AuditEvent.objects.count()
    response = api.get(_model_url(world), {"format": export_format})
    assert response.status_code == 400
    assert "format" in response.json()["fields"]
    assert AuditEvent.objects.count() == before


def test_a_report_too_large_for_a_request_is_a_409(world, auditor, settings):
    settings.REPORT_SYNC_MAX_ROWS = 1
    api = _api(auditor)
    before = AuditEvent.objects.count()
    response = api.get(_model_url(world))
    assert response.status_code == 409
    assert response.json()["code"] == "report_too_large"
    assert AuditEvent.objects.count() == before
