"""LLM evaluations: the importers on output the real tools produced
(tests/fixtures/evals), the generic format, bounds, bad input, downloads and
who may do what."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from models_registry.eval_formats.common import MAX_CASES
from models_registry.models import (
    DatasetSnapshot,
    EntryKind,
    LlmEvaluation,
    LlmEvaluationCases,
    PromptTuningSnapshot,
    RegisteredModel,
)
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    client_for,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "evals"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def generic(cases=None, **extra) -> dict:
    return {
        "harness": "in-house",
        "harness_version": "2.3.0",
        "judge_model": "openai:gpt-4.1",
        "metrics": {"faithfulness": 0.9},
        "cases": cases
        if cases is not None
        else [
            {"case": "a", "input": "Late fee?", "output": "25 EUR", "passed": True},
            {"case": "b", "input": "=cmd()", "output": "-1", "passed": False},
        ],
        **extra,
    }


@pytest.fixture
def prompt_version(data_scientist, team):
    model = factories.make_model(data_scientist, team, name="support-assistant")
    RegisteredModel.objects.filter(pk=model.pk).update(kind=EntryKind.PROMPT)
    model.refresh_from_db()
    return factories.make_version(data_scientist, model)


def stored() -> tuple[int, int, int, int]:
    return (
        LlmEvaluation.objects.count(),
        LlmEvaluationCases.objects.count(),
        DatasetSnapshot.objects.count(),
        AuditEvent.objects.filter(action="llm_evaluation.imported").count(),
    )


def post(actor, version, body):
    url = f"{API}versions/{version.pk}/llm-evaluations"
    return client_for(actor).post(url, body, format="json")


def test_it_imports_promptfoo_results(data_scientist, prompt_version):
    body = {"format": "promptfoo", "results": fixture("promptfoo-results.json")}
    response = post(data_scientist, prompt_version, body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["harness"], data["harness_version"]) == ("promptfoo", "0.121.20")
    assert (data["case_count"], data["passed_count"]) == (6, 4)
    assert data["metrics"]["accuracy"] == pytest.approx(0.75)
    assert data["metrics"]["injection_resisted"] == pytest.approx(0.5)
    assert data["metrics"]["pass_rate"] == pytest.approx(4 / 6)
    assert data["metrics"]["cost_per_case"] == pytest.approx(0.0004)
    assert "latency_ms_per_case" in data["metrics"]
    snapshot = DatasetSnapshot.objects.get(pk=data["dataset"]["id"])
    assert (snapshot.row_count, snapshot.team_id) == (6, prompt_version.model.team_id)
    event = AuditEvent.objects.get(action="llm_evaluation.imported")
    assert event.payload["evaluation"] == data["id"]
    assert event.payload["dataset_sha256"] == snapshot.sha256
    again = post(data_scientist, prompt_version, body)
    assert (again.status_code, again.json()["id"]) == (200, data["id"])
    assert stored() == (1, 1, DatasetSnapshot.objects.count(), 1)


def test_it_imports_mlflow_genai_results(data_scientist, prompt_version):
    body = {
        "format": "mlflow_genai",
        "results": fixture("mlflow-genai-results.json"),
        "is_safety": True,
        "judge_model": "code scorers",
    }
    response = post(data_scientist, prompt_version, body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["harness"], data["harness_version"]) == (
        "mlflow.genai.evaluate",
        "3.17.2",
    )
    assert data["metrics"]["correctness"] == pytest.approx(0.8)
    assert data["metrics"]["refusal"] == pytest.approx(0.4)
    assert (data["case_count"], data["is_safety"], data["judge_model"]) == (
        5,
        True,
        "code scorers",
    )


def test_it_imports_the_generic_format_and_reuses_the_eval_snapshot(
    data_scientist, prompt_version
):
    first = post(
        data_scientist, prompt_version, {"format": "generic", "results": generic()}
    )
    assert first.status_code == 201, first.json()
    data = first.json()
    assert data["metrics"] == {"pass_rate": 0.5, "faithfulness": 0.9}
    assert data["judge_model"] == "openai:gpt-4.1"
    changed = generic(metrics={"faithfulness": 0.8})
    second = post(
        data_scientist, prompt_version, {"format": "generic", "results": changed}
    )
    assert second.status_code == 201
    assert second.json()["dataset"]["id"] == data["dataset"]["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "deepeval", "results": {}}, "format"),
        ({"format": "promptfoo", "results": {"evalId": "x"}}, "results.results"),
        ({"format": "promptfoo", "results": []}, "results"),
        ({"format": "mlflow_genai", "results": {"metrics": {}}}, "results.result_df"),
        ({"format": "generic", "results": generic(cases=[])}, "results.cases"),
        (
            {"format": "generic", "results": generic(cases=[{"passed": "yes"}])},
            "results.cases[0].passed",
        ),
        (
            {"format": "generic", "results": generic(metrics={"acc": "high"})},
            "results.metrics.acc",
        ),
        (
            {"format": "generic", "results": {**generic(), "extra": 1}},
            "results",
        ),
    ],
)
def test_bad_documents_get_a_400_and_store_nothing(
    data_scientist, prompt_version, body, field
):
    before = stored()
    response = post(data_scientist, prompt_version, body)
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert stored() == before


def test_too_many_cases_get_a_400(data_scientist, prompt_version):
    cases = [
        {"input": str(i), "output": "", "passed": True} for i in range(MAX_CASES + 1)
    ]
    before = stored()
    response = post(
        data_scientist, prompt_version, {"format": "generic", "results": generic(cases)}
    )
    assert response.status_code == 400
    assert "at most 5000 per-case results" in response.json()["fields"]["results"][0]
    assert stored() == before


def test_too_many_bytes_of_cases_get_a_400(data_scientist, prompt_version):
    long_output = "x" * 4000
    cases = [{"input": str(i), "output": long_output} for i in range(520)]
    before = stored()
    response = post(
        data_scientist, prompt_version, {"format": "generic", "results": generic(cases)}
    )
    assert response.status_code == 400
    assert "bytes; at most 2,000,000" in response.json()["fields"]["results"][0]
    assert stored() == before


def test_credentials_in_cases_are_refused(data_scientist, prompt_version):
    cases = [{"input": "key", "output": "AKIAIOSFODNN7EXAMPLE", "passed": True}]
    response = post(
        data_scientist, prompt_version, {"format": "generic", "results": generic(cases)}
    )
    assert response.status_code == 400
    assert LlmEvaluation.objects.count() == 0


def _imported(actor, version):
    response = post(actor, version, {"format": "generic", "results": generic()})
    return response.json()["id"]


def test_cases_download_as_json_and_csv(data_scientist, prompt_version, auditor):
    evaluation_id = _imported(data_scientist, prompt_version)
    response = client_for(auditor).get(f"{API}llm-evaluations/{evaluation_id}/cases")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert [c["case"] for c in response.json()["cases"]] == ["a", "b"]
    response = client_for(auditor).get(
        f"{API}llm-evaluations/{evaluation_id}/cases.csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["case", "input", "output"]
    # Formulas are neutralised.
    assert rows[2][1:3] == ["'=cmd()", "'-1"]
    detail = client_for(auditor).get(f"{API}llm-evaluations/{evaluation_id}/")
    assert detail.json()["case_count"] == 2


def test_other_teams_see_nothing_and_auditors_import_nothing(
    data_scientist, prompt_version, other_data_scientist, auditor
):
    evaluation_id = _imported(data_scientist, prompt_version)
    outsider = client_for(other_data_scientist)
    for url in (
        f"{API}llm-evaluations/{evaluation_id}/",
        f"{API}llm-evaluations/{evaluation_id}/cases",
        f"{API}llm-evaluations/{evaluation_id}/cases.csv",
        f"{API}versions/{prompt_version.pk}/llm-evaluations",
    ):
        assert outsider.get(url).status_code == 404, url
    before = stored()
    body = {"format": "generic", "results": generic(metrics={"x": 1})}
    assert post(other_data_scientist, prompt_version, body).status_code == 404
    assert post(auditor, prompt_version, body).status_code == 403
    assert stored() == before
    listed = client_for(auditor).get(
        f"{API}versions/{prompt_version.pk}/llm-evaluations"
    )
    assert [row["id"] for row in listed.json()["results"]] == [evaluation_id]


def test_tuning_snapshots_are_declared_once(data_scientist, prompt_version, team):
    snapshot = factories.make_snapshot(data_scientist, team)
    url = f"{API}versions/{prompt_version.pk}/tuning-snapshots"
    client = client_for(data_scientist)
    assert client.post(url, {"snapshot": snapshot.pk}, format="json").status_code == 201
    assert client.post(url, {"snapshot": snapshot.pk}, format="json").status_code == 200
    assert client.post(url, {"snapshot": 999999}, format="json").status_code == 400
    assert PromptTuningSnapshot.objects.count() == 1
    assert client.get(url).json()["results"][0]["snapshot"]["id"] == snapshot.pk
    assert AuditEvent.objects.filter(action="prompt.tuning_declared").count() == 1


def test_import_eval_command(data_scientist, prompt_version, tmp_path):
    path = FIXTURES / "promptfoo-results.json"
    out = io.StringIO()
    call_command(
        "import_eval",
        "support-assistant",
        str(prompt_version.version),
        str(path),
        "--format=promptfoo",
        "--safety",
        f"--user={data_scientist.username}",
        stdout=out,
    )
    assert "6 cases, 4 passed" in out.getvalue()
    assert LlmEvaluation.objects.get().is_safety is True
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        call_command(
            "import_eval",
            "support-assistant",
            str(prompt_version.version),
            str(bad),
            "--format=promptfoo",
            f"--user={data_scientist.username}",
        )
    with pytest.raises(CommandError, match=r"results\.results"):
        call_command(
            "import_eval",
            "support-assistant",
            str(prompt_version.version),
            str(FIXTURES / "mlflow-genai-results.json"),
            "--format=promptfoo",
            f"--user={data_scientist.username}",
        )
    assert LlmEvaluation.objects.count() == 1


def test_the_version_page_lists_its_eval_harness_results(
    client, data_scientist, prompt_version
):
    evaluation_id = _imported(data_scientist, prompt_version)
    client.force_login(data_scientist)
    page = client.get(
        f"/models/{prompt_version.model.name}/versions/{prompt_version.version}/"
    ).content.decode()
    assert "Evaluations by eval harness" in page
    assert f'data-evaluation="{evaluation_id}"' in page
    assert f"/api/v1/llm-evaluations/{evaluation_id}/cases.csv" in page
    assert "No evaluation is recorded yet." not in page


def test_the_version_page_reads_its_evaluations_in_fixed_queries(
    client, data_scientist, prompt_version, django_assert_max_num_queries
):
    url = f"/models/{prompt_version.model.name}/versions/{prompt_version.version}/"
    post(data_scientist, prompt_version, {"format": "generic", "results": generic()})
    client.force_login(data_scientist)
    client.get(url)
    with django_assert_max_num_queries(60) as one:
        assert client.get(url).status_code == 200
    queries = len(one.captured_queries)  # read now: each request resets the log
    for run in range(3):
        body = generic(harness_version=f"2.4.{run}", metrics={"faithfulness": 0.8})
        assert (
            post(
                data_scientist, prompt_version, {"format": "generic", "results": body}
            ).status_code
            == 201
        )
    with django_assert_max_num_queries(queries) as four:
        page = client.get(url).content.decode()
    assert page.count("data-evaluation=") == 4
    assert len(four.captured_queries) == queries


def test_the_list_api_reads_in_fixed_queries(
    data_scientist, prompt_version, django_assert_max_num_queries
):
    url = f"{API}versions/{prompt_version.pk}/llm-evaluations"
    post(data_scientist, prompt_version, {"format": "generic", "results": generic()})
    reader = client_for(data_scientist)
    reader.get(url)
    with django_assert_max_num_queries(30) as one:
        assert len(reader.get(url).json()["results"]) == 1
    queries = len(one.captured_queries)  # read now: each request resets the log
    for run in range(3):
        body = generic(harness_version=f"3.0.{run}")
        post(data_scientist, prompt_version, {"format": "generic", "results": body})
    with django_assert_max_num_queries(queries) as four:
        assert len(reader.get(url).json()["results"]) == 4
    assert len(four.captured_queries) == queries
