"""The hot registry reads build their JSON without DRF's serializers; the
serializers document the same answers in the schema. They must agree."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_registry import selectors
from models_registry.api.common import model_output, version_output
from models_registry.errors import ModelNotFound, VersionNotFound
from models_registry.models import ModelVersion
from models_registry.serializers import ModelOutput, VersionOutput
from tests.models_registry import factories

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
