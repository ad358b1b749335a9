"""The dataset snapshot page and the training run page."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kernel import roles
from models_registry import services
from tests.models_registry import factories
from tests.models_registry.test_views_models import VISIBILITY, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_scientist(team):
    return person("dana", roles.DATA_SCIENTIST, team=team)


@pytest.fixture
def platform_admin(db):
    return person("pat", roles.PLATFORM_ADMIN, is_staff=True)


@pytest.fixture
def model(data_scientist, team):
    return factories.make_model(data_scientist, team, name="credit-scoring")


@pytest.fixture
def lineage(data_scientist, team, model):
    """raw → cleaned (the training snapshot) → run → version 1."""
    raw = factories.make_snapshot(data_scientist, team, name="loans-raw")
    cleaned = factories.make_snapshot(
        data_scientist,
        team,
        name="loans-clean",
        parents=[raw],
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2023, 12, 31, tzinfo=UTC),
        pii_columns=[
            {"column": "email", "handling": "hashed", "legal_basis": ""},
            {"column": "region", "handling": "kept", "legal_basis": "contract"},
        ],
    )
    run = factories.make_run(
        data_scientist,
        model,
        external_run_id="train-2024-06",
        inputs=[(cleaned, "train"), (cleaned, "reference")],
        parameters={"max_depth": 6, "subsample": 0.8},
        random_seed=1234,
        started_at=datetime(2024, 6, 1, 8, 0, tzinfo=UTC),
        ended_at=datetime(2024, 6, 1, 9, 30, tzinfo=UTC),
    )
    version = factories.make_version(data_scientist, model, run=run)
    return {"raw": raw, "cleaned": cleaned, "run": run, "version": version}


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
    at = body.index(marker)
    return body[body.rindex("<tr", 0, at) : body.index("</tr>", at)]


def _dataset_url(snapshot) -> str:
    return reverse("registry:dataset-detail", args=[snapshot.pk])


def _run_url(run) -> str:
    return reverse("registry:run-detail", args=[run.pk])


@pytest.mark.parametrize("page", ["registry:dataset-detail", "registry:run-detail"])
def test_pages_send_anonymous_people_to_the_login(client, page):
    url = reverse(page, args=[1])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(("persona", "sees"), VISIBILITY)
def test_dataset_page_answers_404_to_people_who_may_not_see_it(
    client, people, lineage, persona, sees
):
    client.force_login(people[persona])
    response = client.get(_dataset_url(lineage["cleaned"]))
    assert response.status_code == (200 if sees else 404)
    if not sees:
        assert lineage["cleaned"].sha256 not in _body(response)


@pytest.mark.parametrize(("persona", "sees"), VISIBILITY)
def test_run_page_answers_404_to_people_who_may_not_see_its_model(
    client, people, lineage, persona, sees
):
    client.force_login(people[persona])
    response = client.get(_run_url(lineage["run"]))
    assert response.status_code == (200 if sees else 404)
    if not sees:
        assert lineage["run"].code_commit not in _body(response)


def test_unknown_ids_answer_404(client, data_scientist):
    client.force_login(data_scientist)
    assert client.get("/models/datasets/999999/").status_code == 404
    assert client.get("/models/runs/999999/").status_code == 404


def test_dataset_page_shows_schema_pii_parents_and_runs(
    client, data_scientist, lineage
):
    cleaned, raw, run = lineage["cleaned"], lineage["raw"], lineage["run"]
    client.force_login(data_scientist)
    body = _body(client.get(_dataset_url(cleaned)))
    assert f'<code class="wrap">{cleaned.uri}</code>' in body
    assert f'<code class="wrap">{cleaned.sha256}</code>' in body
    assert "<dt>Rows</dt><dd>10000</dd>" in body
    assert "<dt>Time column</dt><dd><code>applied_at</code></dd>" in body
    assert '<time datetime="2019-01-01T00:00:00+00:00">2019-01-01</time>' in body
    assert '<time datetime="2023-12-31T00:00:00+00:00">2023-12-31</time>' in body
    assert f'<a href="{_dataset_url(raw)}">loans-raw</a>' in body
    schema = body[body.index('id="schema-heading"') : body.index('id="pii-heading"')]
    assert re.findall(
        r'<th scope="row"><code>(\w+)</code></th><td>(\w+)</td>', schema
    ) == [
        ("income", "float"),
        ("region", "string"),
        ("email", "string"),
        ("applied_at", "timestamp"),
    ]
    pii = body[body.index('id="pii-heading"') : body.index('id="runs-heading"')]
    assert re.findall(
        r'<th scope="row"><code>(\w+)</code></th><td>(\w+)</td><td>([^<]+)</td>', pii
    ) == [("email", "hashed", "—"), ("region", "kept", "contract")]
    run_row = _row(body, f'<a href="{_run_url(run)}">train-2024-06</a>')
    assert "<td>Reference, Training</td>" in run_row
    assert '<a href="/models/credit-scoring/">credit-scoring</a>' in run_row


def test_dataset_page_lists_evaluations_on_it(client, data_scientist, lineage):
    holdout = factories.make_snapshot(data_scientist, lineage["cleaned"].team)
    services.evaluation_record(
        actor=data_scientist,
        version=lineage["version"],
        split="out_of_time",
        dataset=holdout,
        metrics={"auc": 0.78},
    )
    client.force_login(data_scientist)
    body = _body(client.get(_dataset_url(holdout)))
    row = _row(body, "credit-scoring v1</a>")
    assert '<a href="/models/credit-scoring/versions/1/">' in row
    assert "<td>Out of time</td>" in row
    assert "No training run you may see used this snapshot." in body


def test_dataset_page_hides_parents_the_person_may_not_see(client, people, lineage):
    # The reviewer sees the training snapshot (a visible model used it), not
    # its raw parent, which no visible model used.
    client.force_login(people["assigned_reviewer"])
    assert client.get(_dataset_url(lineage["raw"])).status_code == 404
    body = _body(client.get(_dataset_url(lineage["cleaned"])))
    assert "loans-raw" not in body
    assert "no parent snapshot you may see" in body


def test_dataset_page_lists_only_runs_of_visible_models(
    client, people, data_scientist, team, lineage
):
    hidden_model = factories.make_model(data_scientist, team, name="hidden-model")
    factories.make_run(
        data_scientist,
        hidden_model,
        external_run_id="hidden-run",
        inputs=[(lineage["cleaned"], "train")],
    )
    client.force_login(people["assigned_reviewer"])
    body = _body(client.get(_dataset_url(lineage["cleaned"])))
    assert "train-2024-06" in body
    assert "hidden-run" not in body
    assert "hidden-model" not in body


def test_run_page_shows_code_parameters_inputs_and_versions(
    client, data_scientist, lineage
):
    run, cleaned, version = lineage["run"], lineage["cleaned"], lineage["version"]
    client.force_login(data_scientist)
    body = _body(client.get(_run_url(run)))
    assert '<code class="wrap">https://git.example.com/credit/scoring</code>' in body
    assert f"<dt>Commit</dt><dd><code>{run.code_commit}</code></dd>" in body
    assert "<dt>Entrypoint</dt><dd><code>train.py</code></dd>" in body
    assert f'<code class="wrap">{run.environment_lock_hash}</code>' in body
    assert "<dt>Random seed</dt><dd>1234</dd>" in body
    assert "2024-06-01 08:00" in body
    assert "2024-06-01 09:30" in body
    assert re.findall(
        r'<th scope="row"><code>(\w+)</code></th><td><code class="wrap">([^<]+)</code>',
        body,
    ) == [("max_depth", "6"), ("subsample", "0.8")]
    inputs = body[
        body.index('id="inputs-heading"') : body.index('id="produced-heading"')
    ]
    assert re.findall(r'<th scope="row">(\w+)</th>', inputs) == [
        "Reference",
        "Training",
    ]
    assert inputs.count(f'<a href="{_dataset_url(cleaned)}">loans-clean</a>') == 2
    assert "<code>email</code> hashed" in inputs
    produced = body[body.index('id="produced-heading"') :]
    assert '<a href="/models/credit-scoring/versions/1/">v1</a>' in produced
    assert version.artifact.sha256[:12] in produced


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_dataset_and_run_pages_run_a_fixed_number_of_queries(
    client, people, data_scientist, model, lineage
):
    dataset_url = _dataset_url(lineage["cleaned"])
    run_url = _run_url(lineage["run"])
    client.force_login(people["assigned_reviewer"])
    few = (_count_queries(client, dataset_url), _count_queries(client, run_url))
    for number in range(8):
        other = factories.make_snapshot(data_scientist, model.team)
        run = factories.make_run(
            data_scientist,
            model,
            inputs=[(lineage["cleaned"], "train"), (other, "test")],
        )
        version = factories.make_version(data_scientist, model, run=run)
        services.evaluation_record(
            actor=data_scientist,
            version=version,
            split="validation",
            dataset=lineage["cleaned"],
            metrics={"auc": 0.7 + number / 100},
        )
        factories.make_version(data_scientist, model, run=lineage["run"])
    many = (_count_queries(client, dataset_url), _count_queries(client, run_url))
    assert many == few
    assert max(many) <= 10
