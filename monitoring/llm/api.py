"""The LLM monitoring API: pushing batches of call records (the monitoring
ingestion, kind ``llm_calls``) and reading the hourly and daily numbers of a
period. Thin: parse, call a service or selector, render."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from monitoring.api import (
    BAD_REQUEST,
    ENVIRONMENT,
    MODEL,
    NOT_FOUND,
    PARQUET,
    PARQUET_QUERY,
    PUSH_RESPONSES,
    BatchIngest,
    MonitoringApiView,
)
from monitoring.llm.parsing import LLM_CALLS
from monitoring.llm.selectors import PERIOD_DAYS, llm_period


class CallRowDoc(serializers.Serializer):
    timestamp = serializers.DateTimeField(
        help_text="ISO 8601 with a UTC offset, or epoch seconds."
    )
    call_id = serializers.CharField(max_length=200, help_text="Unique in the batch.")
    prompt_version = serializers.IntegerField(required=False, allow_null=True)
    model = serializers.CharField(help_text="The base model, e.g. openai:gpt-4.1.")
    input_tokens = serializers.IntegerField(min_value=0)
    output_tokens = serializers.IntegerField(min_value=0)
    cost = serializers.FloatField(min_value=0)
    latency_ms = serializers.FloatField(min_value=0)
    finish_reason = serializers.CharField(required=False, allow_null=True)
    refusal = serializers.BooleanField(required=False, allow_null=True)
    safety_flags = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True
    )
    judge_scores = serializers.DictField(
        child=serializers.FloatField(allow_null=True), required=False, allow_null=True
    )
    feedback = serializers.ChoiceField(
        choices=["up", "down"], required=False, allow_null=True
    )
    feedback_text = serializers.CharField(required=False, allow_null=True)


class CallBatchDoc(serializers.Serializer):
    batch_id = serializers.CharField(
        max_length=200, help_text="The client's id of the batch: a resend is a no-op."
    )
    version = serializers.IntegerField(
        required=False,
        help_text="The prompt (or LLM app) version that served the calls; "
        "default: the live one.",
    )
    records = CallRowDoc(many=True, required=False)
    columns = serializers.DictField(
        child=serializers.ListField(),
        required=False,
        help_text="Column layout: one array per column, all of the same length.",
    )


CALLS_EXAMPLE = {
    "batch_id": "assistant-2026-01-31T10",
    "records": [
        {
            "timestamp": "2026-01-31T10:00:01Z",
            "call_id": "c-8812",
            "model": "openai:gpt-4.1",
            "input_tokens": 812,
            "output_tokens": 164,
            "cost": 0.0029,
            "latency_ms": 1420.5,
            "finish_reason": "stop",
            "refusal": False,
            "safety_flags": [],
            "judge_scores": {"faithfulness": 0.92, "relevance": 0.88},
            "feedback": "up",
            "feedback_text": None,
        }
    ],
}


class LlmCallIngest(BatchIngest):
    kind = LLM_CALLS

    @extend_schema(
        operation_id="monitoring_llm_calls_push",
        tags=["monitoring"],
        summary="Push a batch of LLM call records",
        description=(
            "Stores the batch of call records durably and answers 202 with its "
            "status URL; a worker counts it into the hourly windows (tokens, "
            "cost, latency, refusals, safety flags, judge scores, feedback) and "
            "queues flagged calls for review. The same batch id again answers "
            "200 and adds nothing; the same id with other content answers 409. "
            "Bodies: JSON (`records` or `columns`, with `batch_id`) or Apache "
            "Parquet (`batch_id` in the query). A bad row (negative tokens, a "
            "missing or NaN cost, an unknown column...) refuses the whole batch "
            "with 400, naming the rows. The format: docs/llm-monitoring.md."
        ),
        parameters=[MODEL, ENVIRONMENT, *PARQUET_QUERY],
        request={"application/json": CallBatchDoc, PARQUET: OpenApiTypes.BINARY},
        responses=PUSH_RESPONSES,
        examples=[
            OpenApiExample("Row layout", value=CALLS_EXAMPLE, request_only=True),
            OpenApiExample(
                "Refused",
                value={
                    "code": "batch_invalid",
                    "message": "The batch was refused.",
                    "fields": {
                        "input_tokens": ["Rows 3, 7: must not be negative."],
                        "cost": ["Row 12: a value is required (null or NaN)."],
                    },
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request, name: str, environment: str):
        return super().post(request, name, environment)


class PeriodQuery(serializers.Serializer):
    days = serializers.ChoiceField(choices=PERIOD_DAYS, required=False)


class JudgeOutput(serializers.Serializer):
    mean = serializers.FloatField()
    std = serializers.FloatField()
    count = serializers.IntegerField()
    sampled_share = serializers.FloatField()


class CallMetricsOutput(serializers.Serializer):
    calls = serializers.IntegerField()
    input_tokens = serializers.IntegerField(required=False)
    output_tokens = serializers.IntegerField(required=False)
    tokens = serializers.IntegerField(required=False)
    cost = serializers.FloatField(required=False)
    cost_per_call = serializers.FloatField(required=False)
    input_tokens_per_call = serializers.FloatField(required=False)
    output_tokens_per_call = serializers.FloatField(required=False)
    tokens_per_call = serializers.FloatField(required=False)
    refusal_rate = serializers.FloatField(required=False)
    safety_flag_rate = serializers.FloatField(required=False)
    feedback_rate = serializers.FloatField(required=False)
    thumbs_down_share = serializers.FloatField(required=False, allow_null=True)
    safety = serializers.DictField(child=serializers.IntegerField(), required=False)
    finish = serializers.DictField(child=serializers.IntegerField(), required=False)
    models = serializers.DictField(child=serializers.IntegerField(), required=False)
    judge = serializers.DictField(child=JudgeOutput(), required=False)
    latency_p50 = serializers.FloatField(allow_null=True)
    latency_p90 = serializers.FloatField(allow_null=True)
    latency_p95 = serializers.FloatField(allow_null=True)
    latency_p99 = serializers.FloatField(allow_null=True)


class HourOutput(CallMetricsOutput):
    start = serializers.DateTimeField()
    version = serializers.IntegerField()
    failing = serializers.ListField(child=serializers.CharField())


class DayOutput(CallMetricsOutput):
    day = serializers.DateField()


class PeriodOutput(serializers.Serializer):
    model = serializers.CharField(source="model.name")
    environment = serializers.CharField(source="environment.name")
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    latency_slo_ms = serializers.FloatField(source="slo_ms", allow_null=True)
    latency_slo_percentile = serializers.IntegerField(source="slo_percentile")
    total = CallMetricsOutput()
    daily = DayOutput(many=True)
    hours = HourOutput(many=True)


class LlmCallPeriod(MonitoringApiView):
    @extend_schema(
        operation_id="monitoring_llm_calls_period",
        tags=["monitoring"],
        summary="LLM call metrics of a period",
        description="Per hour, per day and for the whole period (the last "
        "`days`, default 7): calls, tokens and cost (in total and per call), "
        "latency percentiles (with the model's latency SLO), refusal, "
        "safety-flag and feedback rates, and the mean judge score per metric.",
        parameters=[MODEL, ENVIRONMENT, PeriodQuery],
        responses={200: PeriodOutput, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    def get(self, request, name: str, environment: str):
        query = self.parse_query(PeriodQuery)
        period = llm_period(
            actor=request.user,
            model_name=name,
            environment_name=environment,
            days=int(query.get("days", 7)),
        )
        return Response(PeriodOutput(period).data)
