"""Example bodies shown in the OpenAPI schema (the API tests check that they have
exactly the keys of real responses, so they cannot drift from what the API says)."""

SHA_LIVE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
SHA_NEW = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
WHEN = "2025-03-01T09:30:00Z"
LATER = "2025-03-02T14:05:00Z"
EXPIRES = "2025-03-08T09:30:00Z"

REQUEST_SUBMIT = {
    "model": "credit-scoring",
    "version": 4,
    "environment": "production",
    "strategy": "canary",
    "traffic_percent": 10,
    "kind": "deploy",
    "justification": "AUC 0.83 on 2024 applications (live: 0.81).",
}

POLICY = {
    "id": 6,
    "risk_class": "high",
    "environment": "production",
    "required_approvals": 2,
    "required_roles": ["risk_officer"],
    "gate_items": ["offline_metrics_met", "independent_validation"],
    "requires_staged_rollout": True,
    "big_change_requires_ab": True,
    "approval_valid_days": 7,
}

GATES = [
    {
        "id": "offline_metrics_met",
        "title": "Test metrics meet the offline success metrics",
        "status": "pass",
        "reason": "auc 0.83 ≥ 0.75.",
    },
    {
        "id": "independent_validation",
        "title": "Independent validation passed, no open high-severity findings",
        "status": "pass",
        "reason": "Validated by val (passed).",
    },
    {
        "id": "promotion_order",
        "title": "Deployed to the previous environment first",
        "status": "pass",
        "reason": "v4 has run in staging.",
    },
    {
        "id": "staged_rollout",
        "title": "Shadow or canary before full traffic",
        "status": "not_applicable",
        "reason": "The policy does not require it for this strategy.",
    },
    {
        "id": "big_change_ab",
        "title": "Big changes go out as an A/B test",
        "status": "pass",
        "reason": "A small change from live v3.",
    },
]

REQUEST = {
    "id": 12,
    "model": "credit-scoring",
    "risk_class": "high",
    "version": {
        "id": 31,
        "number": 4,
        "semantic_version": "2.1.0",
        "artifact_sha256": SHA_NEW,
        "registered_by": "dana",
    },
    "environment": "production",
    "kind": "deploy",
    "strategy": "canary",
    "traffic_percent": 10,
    "justification": REQUEST_SUBMIT["justification"],
    "status": "pending",
    "requested_by": "dora",
    "created_at": WHEN,
    "expires_at": EXPIRES,
    "closed_at": None,
    "closing_comment": "",
    "policy": POLICY,
    "gates": GATES,
    "final_gates": [],
    "page_url": "/approvals/requests/12/",
}

QUEUE_ITEM = {**REQUEST, "age_seconds": 5400, "approvals": 1, "failing_gates": []}

DECISION = {
    "id": 40,
    "request": 12,
    "reviewer": "rio",
    "outcome": "approve",
    "role": "risk_officer",
    "comment": "Validation report reviewed.",
    "created_at": LATER,
}

DECISION_INPUT = {"outcome": "approve", "comment": "Validation report reviewed."}

DECISION_RESULT = {
    "decision": DECISION,
    "request_status": "executed",
    "executed": True,
    "deployment": 57,
}

DECISION_RESULT_PENDING = {
    "decision": {**DECISION, "reviewer": "rey", "role": "reviewer"},
    "request_status": "pending",
    "executed": False,
    "deployment": None,
}

LIVE_REFERENCE = {
    "id": 51,
    "version": 3,
    "artifact_sha256": SHA_LIVE,
    "strategy": "full",
    "traffic_percent": 100,
    "status": "active",
}

FINDING = {
    "id": 8,
    "report": 5,
    "severity": "medium",
    "title": "Calibration drifts for incomes above 200k",
    "description": "Expected/observed ratio 1.3 in the top decile.",
    "status": "open",
    "owner": "dana",
    "due_date": "2025-04-01",
    "updated_at": WHEN,
}

VALIDATION_REPORT = {
    "id": 5,
    "version": 31,
    "validator": "val",
    "outcome": "passed_with_findings",
    "summary": "Replicated the test metrics; challenged the income binning.",
    "findings": [FINDING],
    "created_at": WHEN,
}

VALIDATION_REPORT_INPUT = {
    "outcome": "passed_with_findings",
    "summary": VALIDATION_REPORT["summary"],
    "findings": [
        {
            "severity": "medium",
            "title": FINDING["title"],
            "description": FINDING["description"],
            "owner": "dana",
            "due_date": "2025-04-01",
        }
    ],
}

FINDING_STATUS_INPUT = {"status": "resolved", "comment": "Recalibrated in v5."}

REQUEST_DETAIL = {
    "request": REQUEST,
    "decisions": [{**DECISION, "reviewer": "rey", "role": "reviewer"}],
    "approvals": 1,
    "live_deployment": LIVE_REFERENCE,
    "metrics": [
        {
            "name": "auc",
            "candidate": 0.83,
            "live": 0.81,
            "delta": 0.02,
            "direction": "higher",
        },
        {
            "name": "ks",
            "candidate": 0.44,
            "live": 0.42,
            "delta": 0.02,
            "direction": None,
        },
    ],
    "validation_reports": [VALIDATION_REPORT],
    "can_decide": True,
    "can_cancel": False,
}

DEPLOYMENT = {
    "id": 57,
    "model": "credit-scoring",
    "environment": "production",
    "version": 4,
    "version_id": 31,
    "artifact": {
        "id": 44,
        "uri": "s3://models/credit-scoring/4/model.pkl",
        "sha256": SHA_NEW,
    },
    "strategy": "full",
    "traffic_percent": 100,
    "status": "active",
    "source": "request",
    "request": 12,
    "rollback_target": {**LIVE_REFERENCE, "status": "superseded"},
    "restores": None,
    "deployed_by": "rio",
    "started_at": LATER,
    "ended_at": None,
    "ended_by": None,
    "end_reason": "",
}

ROLLBACK_INPUT = {"reason": "Approval rate fell 12% within an hour of the deploy."}

ROLLBACK_AT = "2025-03-02T15:00:00Z"

ROLLBACK = {
    "rolled_back": {
        **DEPLOYMENT,
        "status": "rolled_back",
        "ended_at": ROLLBACK_AT,
        "ended_by": "dana",
        "end_reason": ROLLBACK_INPUT["reason"],
    },
    "restored": {
        **DEPLOYMENT,
        "id": 58,
        "version": 3,
        "version_id": 27,
        "artifact": {
            "id": 39,
            "uri": "s3://models/credit-scoring/3/model.pkl",
            "sha256": SHA_LIVE,
        },
        "source": "rollback",
        "request": 9,
        "rollback_target": None,
        "restores": {**LIVE_REFERENCE, "status": "superseded"},
        "deployed_by": "dana",
        "started_at": ROLLBACK_AT,
    },
}

LIVE = {
    "model": "credit-scoring",
    "environment": "production",
    "at": None,
    "etag": '"5d41402abc4b2a76b9719d911017c592"',
    "deployments": [
        {
            "deployment": 51,
            "version": 3,
            "version_id": 27,
            "artifact_id": 39,
            "artifact_uri": "s3://models/credit-scoring/3/model.pkl",
            "sha256": SHA_LIVE,
            "strategy": "full",
            "traffic_percent": 100,
            "started_at": WHEN,
            "ended_at": None,
        },
        {
            "deployment": 57,
            "version": 4,
            "version_id": 31,
            "artifact_id": 44,
            "artifact_uri": "s3://models/credit-scoring/4/model.pkl",
            "sha256": SHA_NEW,
            "strategy": "canary",
            "traffic_percent": 10,
            "started_at": LATER,
            "ended_at": None,
        },
    ],
}
