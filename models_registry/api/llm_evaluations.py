"""LLM evaluations of prompt versions: import a harness's results, list and
read them, download their per-case results (JSON or CSV), and declare the
snapshots a prompt was tuned on."""

import csv
import io

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.response import Response

from kernel.api import error_example
from kernel.spreadsheets import csv_cell
from models_registry import selectors
from models_registry.api.common import (
    BAD_REQUEST,
    FORBIDDEN,
    NOT_FOUND,
    VERSION_ID,
    VERSION_NOT_FOUND_EXAMPLE,
    RegistryView,
    snapshots_by_id,
)
from models_registry.errors import RegistryInvalid
from models_registry.llm_eval_selectors import (
    CSV_COLUMNS,
    llm_evaluation_cases,
    llm_evaluation_get,
    llm_evaluations_of,
    tuning_snapshots_of,
)
from models_registry.serializers.llm_evaluations import (
    LlmCasesOutput,
    LlmEvaluationImportInput,
    LlmEvaluationOutput,
    TuningDeclareInput,
    TuningSnapshotOutput,
)
from models_registry.services.llm_evaluations import (
    NOT_IMPORTED,
    llm_evaluation_import,
    prompt_tuning_declare,
)

EVALUATION_ID = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="The LLM evaluation's id."
)
EVALUATION_NOT_FOUND_EXAMPLE = error_example(
    "Unknown or invisible evaluation",
    404,
    {
        "code": "llm_evaluation_not_found",
        "message": "No such LLM evaluation.",
        "fields": {},
    },
)
_GENERIC = {
    "format": "generic",
    "results": {
        "harness": "in-house-evals",
        "harness_version": "2.3.0",
        "judge_model": "openai:gpt-4.1",
        "is_safety": False,
        "metrics": {"faithfulness": 0.91, "answer_relevance": 0.88},
        "cases": [
            {
                "case": "late-fee",
                "input": "What is the late fee?",
                "output": "The late fee is 25 EUR.",
                "expected": "25 EUR",
                "passed": True,
                "metrics": {"faithfulness": 1.0},
                "latency_ms": 820,
                "cost": 0.0012,
            }
        ],
    },
}
_EVALUATION = {
    "id": 7,
    "version": 42,
    "format": "generic",
    "harness": "in-house-evals",
    "harness_version": "2.3.0",
    "dataset": {"id": 31, "name": "support-assistant eval cases", "sha256": "9f…"},
    "judge_model": "openai:gpt-4.1",
    "metrics": {
        "pass_rate": 1.0,
        "latency_ms_per_case": 820.0,
        "cost_per_case": 0.0012,
        "faithfulness": 0.91,
        "answer_relevance": 0.88,
    },
    "is_safety": False,
    "case_count": 1,
    "passed_count": 1,
    "source_sha256": "5d…",
    "created_by": "dana",
    "created_at": "2026-12-04T10:00:00Z",
}


class VersionLlmEvaluationListImport(RegistryView):
    @extend_schema(
        operation_id="versions_llm_evaluations_list",
        tags=["llm evaluations"],
        summary="The version's LLM evaluations",
        description="Eval-harness evaluations of a prompt or LLM application "
        "version, newest first, without their per-case results.",
        parameters=[VERSION_ID],
        responses={200: LlmEvaluationOutput(many=True), 404: NOT_FOUND},
        examples=[VERSION_NOT_FOUND_EXAMPLE],
    )
    def get(self, request, id):
        version = selectors.version_get(actor=request.user, id=id)
        return self.paginated(llm_evaluations_of(version), LlmEvaluationOutput)

    @extend_schema(
        operation_id="versions_llm_evaluations_import",
        tags=["llm evaluations"],
        summary="Import an eval harness's results",
        description="`results` is the harness's document as it wrote it: "
        "promptfoo's results file, an `mlflow.genai.evaluate` export or the "
        "generic format (docs/llm-evals.md). The metrics, per-case results "
        "(at most 5000 cases and 2,000,000 bytes) and the eval set's dataset "
        "snapshot (by the sha256 of the cases) are recorded with an audit "
        "event; a refused document stores nothing. The same document imported "
        "again answers 200 with the first evaluation.",
        parameters=[VERSION_ID],
        request=LlmEvaluationImportInput,
        responses={
            201: LlmEvaluationOutput,
            200: LlmEvaluationOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample("Generic format", value=_GENERIC, request_only=True),
            OpenApiExample(
                "Imported", value=_EVALUATION, response_only=True, status_codes=["201"]
            ),
            error_example(
                "Not a promptfoo file",
                400,
                {
                    "code": "invalid",
                    "message": NOT_IMPORTED,
                    "fields": {
                        "results.results": [
                            "Not a promptfoo results file: no “results.results” "
                            "list (write it with promptfoo eval -o results.json)."
                        ]
                    },
                },
            ),
            VERSION_NOT_FOUND_EXAMPLE,
        ],
    )
    def post(self, request, id):
        actor = request.user
        version = selectors.version_get(actor=actor, id=id)
        data = self.parse_body(LlmEvaluationImportInput, message=NOT_IMPORTED)
        dataset = None
        if data["dataset"] is not None:
            dataset = snapshots_by_id(actor, [data["dataset"]]).get(data["dataset"])
            if dataset is None:
                raise RegistryInvalid(
                    NOT_IMPORTED,
                    fields={"dataset": [f"No dataset snapshot {data['dataset']}."]},
                )
        evaluation, created = llm_evaluation_import(
            actor=actor,
            version=version,
            source_format=data["format"],
            document=data["results"],
            is_safety=data["is_safety"],
            judge_model=data["judge_model"],
            dataset=dataset,
            dataset_name=data["dataset_name"],
        )
        return Response(
            LlmEvaluationOutput(evaluation).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class LlmEvaluationDetail(RegistryView):
    @extend_schema(
        operation_id="llm_evaluations_retrieve",
        tags=["llm evaluations"],
        summary="Read an LLM evaluation",
        parameters=[EVALUATION_ID],
        responses={200: LlmEvaluationOutput, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "An evaluation",
                value=_EVALUATION,
                response_only=True,
                status_codes=["200"],
            ),
            EVALUATION_NOT_FOUND_EXAMPLE,
        ],
    )
    def get(self, request, id):
        evaluation = llm_evaluation_get(actor=request.user, id=id)
        return Response(LlmEvaluationOutput(evaluation).data)


def _attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class LlmEvaluationCases(RegistryView):
    @extend_schema(
        operation_id="llm_evaluations_cases",
        tags=["llm evaluations"],
        summary="Download the per-case results (JSON)",
        parameters=[EVALUATION_ID],
        responses={200: LlmCasesOutput, 404: NOT_FOUND},
        examples=[EVALUATION_NOT_FOUND_EXAMPLE],
    )
    def get(self, request, id):
        evaluation = llm_evaluation_get(actor=request.user, id=id, with_cases=True)
        body = {"evaluation": evaluation.pk, "cases": llm_evaluation_cases(evaluation)}
        return _attachment(
            Response(LlmCasesOutput(body).data),
            f"llm-evaluation-{evaluation.pk}-cases.json",
        )


def cases_csv(cases: list[dict]) -> str:
    """The per-case results as CSV, formulas neutralised (``csv_cell``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for case in cases:
        writer.writerow([csv_cell(case.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()


class LlmEvaluationCasesCsv(RegistryView):
    @extend_schema(
        operation_id="llm_evaluations_cases_csv",
        tags=["llm evaluations"],
        summary="Download the per-case results (CSV)",
        description="One row per case; spreadsheet formulas in text cells are "
        "neutralised with a leading apostrophe.",
        parameters=[EVALUATION_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The CSV file, header line first."
            ),
            404: NOT_FOUND,
        },
        examples=[EVALUATION_NOT_FOUND_EXAMPLE],
    )
    def get(self, request, id):
        evaluation = llm_evaluation_get(actor=request.user, id=id, with_cases=True)
        response = HttpResponse(
            cases_csv(llm_evaluation_cases(evaluation)),
            content_type="text/csv; charset=utf-8",
        )
        return _attachment(response, f"llm-evaluation-{evaluation.pk}-cases.csv")


class VersionTuningSnapshots(RegistryView):
    @extend_schema(
        operation_id="versions_tuning_snapshots_list",
        tags=["llm evaluations"],
        summary="The snapshots the prompt version was tuned on",
        parameters=[VERSION_ID],
        responses={200: TuningSnapshotOutput(many=True), 404: NOT_FOUND},
        examples=[VERSION_NOT_FOUND_EXAMPLE],
    )
    def get(self, request, id):
        version = selectors.version_get(actor=request.user, id=id)
        return self.paginated(tuning_snapshots_of(version), TuningSnapshotOutput)

    @extend_schema(
        operation_id="versions_tuning_snapshots_declare",
        tags=["llm evaluations"],
        summary="Declare a snapshot the prompt version was tuned on",
        description="Its few-shot examples, or the cases it was iterated "
        "against. An evaluation on a declared snapshot (same sha256) fails the "
        "prompt leakage gate. Declaring it again answers 200.",
        parameters=[VERSION_ID],
        request=TuningDeclareInput,
        responses={
            201: TuningSnapshotOutput,
            200: TuningSnapshotOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample("A snapshot", value={"snapshot": 31}, request_only=True),
            VERSION_NOT_FOUND_EXAMPLE,
        ],
    )
    def post(self, request, id):
        actor = request.user
        message = "The tuning snapshot was not declared."
        version = selectors.version_get(actor=actor, id=id)
        data = self.parse_body(TuningDeclareInput, message=message)
        snapshot = snapshots_by_id(actor, [data["snapshot"]]).get(data["snapshot"])
        if snapshot is None:
            raise RegistryInvalid(
                message,
                fields={"snapshot": [f"No dataset snapshot {data['snapshot']}."]},
            )
        row, created = prompt_tuning_declare(
            actor=actor, version=version, snapshot=snapshot
        )
        return Response(
            TuningSnapshotOutput(row).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
