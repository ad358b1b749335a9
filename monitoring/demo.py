"""Demo monitoring data for ``manage.py seed_demo``, pushed through the services.

Three days of hourly predictions of credit-scoring v1, live in production: a
reference sample of its training data, prediction logs with latency and the
applicant's sex (a fairness attribute), delayed labels, and the approval-rate
KPI. In the last day ``income`` drifts upward (a new marketing channel), and in
the last hours latency breaks the 120 ms p99 SLO, so the dashboard shows a
drifting feature, a latency breach and open alerts. The last hours also hold
the applications a broker scores in its own batch job and sends as window
profiles (built by ``gatehouse_client.profile``, no rows), so those windows are
fed by rows and profiles both. Runs once: skipped when its first batch exists.

Then a week of LLM calls of the ``support-assistant`` prompt live in production
(``seed_llm_monitoring_demo``): tokens, cost, latency, judge scores, a few
safety flags and user feedback, the cost per call tripling in the last hours
(a longer system prompt), so its LLM dashboard shows a cost alert and flagged
calls wait in the review queue. Skipped when the prompt is not live.
"""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pyarrow as pa
from django.contrib.auth import get_user_model
from django.utils import timezone
from gatehouse_client.profile import (
    BINARY_MEDIA_TYPE,
    encode_binary,
    profile_table,
    profiles_document,
)

from approvals.selectors import deployment_live_list
from monitoring.models import Alert, AlertStatus, MonitoringBatch, MonitoringWindow
from monitoring.services.aggregation import batch_apply
from monitoring.services.checks import window_check
from monitoring.services.config import monitoring_config_set
from monitoring.services.ingestion import batch_receive, reference_upload
from monitoring.services.profiles import profile_spec_get, profiles_receive

HOURS = 72
DRIFT_HOURS = 24
SLOW_HOURS = 5
PER_HOUR = 400
DECLINE_ABOVE = 0.075
SEED = 3
FIRST_BATCH = "demo-predictions-000"
# The broker's batch channel: window profiles of the last hours.
PROFILE_HOURS = 6
PROFILE_PER_HOUR = 1500


def _summary(alerts: int) -> list[str]:
    return [
        f"  monitoring: credit-scoring in production: {HOURS} hourly windows, "
        f"income drifting over the last {DRIFT_HOURS} h, p99 latency over the "
        f"120 ms SLO in the last {SLOW_HOURS} h, {alerts} open alert(s); the "
        f"last {PROFILE_HOURS} h also fed by a broker's window profiles",
    ]


def _applicant(rng, count: int, *, income_shift: float = 1.0):
    """Applicants and the model's score: the probability of default, lower for
    richer and less indebted people (about 10 % on average)."""
    income = np.clip(rng.lognormal(10.8, 0.45, count) * income_shift, 8_000, 400_000)
    debt_ratio = np.clip(rng.beta(2.0, 5.0, count), 0, 1)
    age = np.clip(rng.normal(41, 12, count), 18, 85).round()
    region = rng.choice(
        ["north", "south", "east", "west"], count, p=[0.35, 0.3, 0.2, 0.15]
    )
    sex = rng.choice(["female", "male"], count, p=[0.45, 0.55])
    logit = -2.6 - 2.6 * (np.log(income) - 10.8) + 6.0 * (debt_ratio - 0.28)
    score = 1 / (1 + np.exp(-logit))
    return income, debt_ratio, age, region, sex, score


def _reference_body(rng) -> bytes:
    income, debt_ratio, age, region, _, score = _applicant(rng, 4000)
    return json.dumps(
        {
            "columns": {
                "income": income.round(2).tolist(),
                "debt_ratio": debt_ratio.round(4).tolist(),
                "age": age.tolist(),
                "region": region.tolist(),
                "score": score.round(4).tolist(),
            }
        }
    ).encode()


def seed_monitoring_demo() -> list[str]:
    return _seed_credit_demo() + seed_llm_monitoring_demo()


def _seed_credit_demo() -> list[str]:
    production = (
        deployment_live_list(model_name="credit-scoring", environment_name="production")
        .order_by("-started_at")
        .first()
    )
    if production is None:
        return ["  monitoring: skipped (credit-scoring is not live in production)"]
    model = production.model
    if MonitoringBatch.objects.filter(model=model, batch_id=FIRST_BATCH).exists():
        return _summary(_open_alerts(model))
    dana = get_user_model().objects.get(username="dana")
    rng = np.random.default_rng(SEED)
    version = production.version.version
    reference_upload(
        actor=dana,
        model_name=model.name,
        version_number=version,
        body=_reference_body(rng),
        content_type="application/json",
    )
    now = timezone.now()
    last_closed = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    first = last_closed - timedelta(hours=HOURS - 1)
    batches = []
    for hour in range(HOURS):
        start = first + timedelta(hours=hour)
        drifting = hour >= HOURS - DRIFT_HOURS
        slow = hour >= HOURS - SLOW_HOURS
        batches += _push_hour(
            dana, model.name, version, rng, hour, start, drifting, slow
        )
    batches.append(_push_profiles(dana, model.name, version, rng, first))
    for batch in batches:
        batch_apply(batch_id=batch.pk, now=now)
    windows = MonitoringWindow.objects.filter(
        target__model=model, start__lte=last_closed
    ).order_by("start")
    for window in windows:
        window_check(window_id=window.pk, now=now, force=True)
    return _summary(_open_alerts(model))


def _open_alerts(model) -> int:
    return (
        Alert.objects.filter(target__model=model)
        .exclude(status=AlertStatus.RESOLVED)
        .count()
    )


def _push_profiles(actor, name, version, rng, first):
    """The broker's applications of the last hours, profiled where they were
    scored and sent as one document of window profiles."""
    spec = profile_spec_get(
        actor=actor, model_name=name, environment_name="production", version=version
    )
    tables = []
    for hour in range(max(HOURS - PROFILE_HOURS, 0), HOURS):
        start = first + timedelta(hours=hour)
        income, debt_ratio, age, region, sex, score = _applicant(
            rng, PROFILE_PER_HOUR, income_shift=1.35
        )
        seconds = rng.integers(0, 3600, PROFILE_PER_HOUR)
        times = [start + timedelta(seconds=int(s)) for s in seconds]
        tables.append(
            pa.table(
                {
                    "timestamp": pa.array(times, pa.timestamp("us", tz="UTC")),
                    "income": income.round(2),
                    "debt_ratio": debt_ratio.round(4),
                    "age": age,
                    "region": region,
                    "score": score.round(4),
                    "prediction": (score >= DECLINE_ABOVE).astype(np.int64),
                    "sex": sex,
                }
            )
        )
    windows = profile_table(pa.concat_tables(tables), spec)
    document = profiles_document(windows, batch_id="demo-profiles-000", spec=spec)
    return profiles_receive(
        actor=actor,
        model_name=name,
        environment_name="production",
        body=encode_binary(document),
        content_type=BINARY_MEDIA_TYPE,
    ).batch


def _push_hour(actor, name, version, rng, hour, start, drifting, slow):
    count = PER_HOUR + int(rng.integers(-30, 30))
    income, debt_ratio, age, region, sex, score = _applicant(
        rng, count, income_shift=1.35 if drifting else 1.0
    )
    seconds = np.sort(rng.integers(0, 3600, count))
    latency = rng.gamma(4.0, 9.0 if not slow else 32.0, count)
    # Declined (predicted default) above the cut-off: about 45 % of applicants.
    declined = score >= DECLINE_ABOVE
    approved = ~declined
    ids = [f"demo-{hour:03d}-{index:04d}" for index in range(count)]
    columns = {
        "timestamp": [(start + timedelta(seconds=int(s))).isoformat() for s in seconds],
        "prediction_id": ids,
        "income": income.round(2).tolist(),
        "debt_ratio": debt_ratio.round(4).tolist(),
        "age": age.tolist(),
        "region": region.tolist(),
        "score": score.round(4).tolist(),
        "prediction": declined.astype(int).tolist(),
        "latency_ms": latency.round(2).tolist(),
        "sex": sex.tolist(),
    }
    pushed = [
        batch_receive(
            actor=actor,
            model_name=name,
            environment_name="production",
            kind="predictions",
            body=json.dumps(
                {
                    "batch_id": f"demo-predictions-{hour:03d}",
                    "version": version,
                    "columns": columns,
                }
            ).encode(),
            content_type="application/json",
        ).batch
    ]
    # Outcomes (defaulted or not) arrive for most applications of the first
    # two days.
    if not drifting:
        labelled = rng.random(count) < 0.8
        defaulted = (rng.random(count) < score).astype(int)
        pushed.append(
            batch_receive(
                actor=actor,
                model_name=name,
                environment_name="production",
                kind="labels",
                body=json.dumps(
                    {
                        "batch_id": f"demo-labels-{hour:03d}",
                        "version": version,
                        "records": [
                            {"prediction_id": ids[i], "label": int(defaulted[i])}
                            for i in np.flatnonzero(labelled)
                        ],
                    }
                ).encode(),
                content_type="application/json",
            ).batch
        )
    pushed.append(
        batch_receive(
            actor=actor,
            model_name=name,
            environment_name="production",
            kind="metrics",
            body=json.dumps(
                {
                    "batch_id": f"demo-metrics-{hour:03d}",
                    "version": version,
                    "records": [
                        {
                            "timestamp": (start + timedelta(minutes=59)).isoformat(),
                            "name": "approval_rate",
                            "value": round(float(approved.mean()), 4),
                        }
                    ],
                }
            ).encode(),
            content_type="application/json",
        ).batch
    )
    return pushed


LLM_PROMPT = "support-assistant"
LLM_DAYS = 7
LLM_PER_HOUR = 90
LLM_HOURS_PER_BATCH = 6
LLM_EXPENSIVE_HOURS = 6
LLM_FIRST_BATCH = "demo-llm-calls-000"


def seed_llm_monitoring_demo() -> list[str]:
    """A week of LLM calls of support-assistant in production, with a cost
    alert in the last hours."""
    production = (
        deployment_live_list(model_name=LLM_PROMPT, environment_name="production")
        .order_by("-started_at")
        .first()
    )
    if production is None:
        return [
            f"  monitoring: LLM calls skipped ({LLM_PROMPT} is not live in production)"
        ]
    model = production.model
    if not MonitoringBatch.objects.filter(
        model=model, batch_id=LLM_FIRST_BATCH
    ).exists():
        dana = get_user_model().objects.get(username="dana")
        monitoring_config_set(
            actor=dana,
            model_name=model.name,
            values={
                "llm": {
                    "cost_per_call_baseline": 0.0024,
                    "judge_baselines": {"faithfulness": 0.9, "relevance": 0.87},
                    "safety_rate_warning": 0.03,
                    "safety_rate_critical": 0.1,
                }
            },
        )
        now = timezone.now()
        last_closed = now.replace(minute=0, second=0, microsecond=0) - timedelta(
            hours=1
        )
        hours = LLM_DAYS * 24
        first = last_closed - timedelta(hours=hours - 1)
        rng = np.random.default_rng(SEED)
        batches = [
            batch_receive(
                actor=dana,
                model_name=model.name,
                environment_name="production",
                kind="llm_calls",
                body=_llm_body(rng, production.version.version, first, start, hours),
                content_type="application/json",
            ).batch
            for start in range(0, hours, LLM_HOURS_PER_BATCH)
        ]
        for batch in batches:
            batch_apply(batch_id=batch.pk, now=now)
        for window in MonitoringWindow.objects.filter(
            target__model=model, start__lte=last_closed
        ).order_by("start"):
            window_check(window_id=window.pk, now=now, force=True)
    return [
        f"  monitoring: {LLM_PROMPT} in production: {LLM_DAYS} days of LLM calls, "
        f"cost per call tripling in the last {LLM_EXPENSIVE_HOURS} h, "
        f"{_open_alerts(model)} open alert(s)"
    ]


def _llm_body(rng, version: int, first, offset: int, hours: int) -> bytes:
    """The calls of ``LLM_HOURS_PER_BATCH`` hours from ``offset``, as columns."""
    columns: dict[str, list] = {}
    for hour in range(offset, min(offset + LLM_HOURS_PER_BATCH, hours)):
        count = LLM_PER_HOUR + int(rng.integers(-20, 20))
        expensive = hour >= hours - LLM_EXPENSIVE_HOURS
        start = first + timedelta(hours=hour)
        seconds = np.sort(rng.integers(0, 3600, count))
        input_tokens = rng.integers(600, 1100, count) * (3 if expensive else 1)
        output_tokens = rng.integers(80, 260, count)
        flagged = rng.random(count) < 0.002
        judged = rng.random(count) < 0.3
        thumbs = rng.random(count)
        refused = rng.random(count) < 0.02
        rows = {
            "timestamp": [
                (start + timedelta(seconds=int(s))).isoformat() for s in seconds
            ],
            "call_id": [f"demo-llm-{hour:03d}-{i:03d}" for i in range(count)],
            "prompt_version": [version] * count,
            "model": ["openai:gpt-4.1"] * count,
            "input_tokens": input_tokens.tolist(),
            "output_tokens": output_tokens.tolist(),
            # $2 per million input tokens, $8 per million output tokens.
            "cost": (input_tokens * 2e-6 + output_tokens * 8e-6).round(6).tolist(),
            "latency_ms": rng.gamma(6.0, 230.0, count).round(1).tolist(),
            "finish_reason": np.where(
                rng.random(count) < 0.03, "length", "stop"
            ).tolist(),
            "refusal": refused.tolist(),
            "safety_flags": [["self_harm"] if f else [] for f in flagged],
            "judge.faithfulness": [
                round(float(rng.beta(18, 2)), 3) if j else None for j in judged
            ],
            "judge.relevance": [
                round(float(rng.beta(14, 2)), 3) if j else None for j in judged
            ],
            "feedback": [
                "down" if t < 0.01 else "up" if t < 0.05 else None for t in thumbs
            ],
            "feedback_text": [
                "It quoted the wrong fee." if t < 0.004 else None for t in thumbs
            ],
        }
        for name, values in rows.items():
            columns.setdefault(name, []).extend(values)
    return json.dumps(
        {
            "batch_id": f"demo-llm-calls-{offset:03d}",
            "version": version,
            "columns": columns,
        }
    ).encode()
