"""The CSV format of a lineage report: a zip of one flat table per section.

Child rows carry their parent's id; JSON-valued cells hold JSON text, and a
cell that a spreadsheet would run as a formula is guarded
(``kernel.spreadsheets.csv_cell``).
"""

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from kernel.spreadsheets import csv_cell


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


# The columns of each table, in order (the model and the chain: their keys).
COLUMNS: dict[str, tuple[str, ...]] = {
    "report": ("format", "generated_at", "generated_by", "portal", "model", "version"),
    "versions": (
        "id",
        "version",
        "semantic_version",
        "status",
        "registered_at",
        "registered_by",
        "production_approved_at",
        "training_run",
        "artifact_id",
        "artifact_uri",
        "artifact_sha256",
        "artifact_size_bytes",
        "artifact_format",
        "preprocessing_code_version",
        "feature_spec",
        "tags",
        "description",
    ),
    "datasets": (
        "id",
        "is_visible",
        "name",
        "team",
        "uri",
        "sha256",
        "row_count",
        "schema",
        "time_column",
        "time_range_start",
        "time_range_end",
        "pii_columns",
        "derivation_depth",
        "created_at",
        "created_by",
    ),
    "dataset_parents": ("dataset", "parent"),
    "runs": (
        "id",
        "external_run_id",
        "code_repository",
        "code_commit",
        "entrypoint",
        "environment_lock_hash",
        "random_seed",
        "parameters",
        "started_at",
        "ended_at",
        "created_at",
    ),
    "run_inputs": ("run", "dataset", "role"),
    "evaluations": (
        "id",
        "version",
        "split",
        "dataset",
        "metrics",
        "created_at",
        "created_by",
    ),
    "fairness_slices": ("evaluation", "attribute", "group", "size", "metrics"),
    "model_cards": (
        "version",
        "revision",
        "is_complete",
        "updated_at",
        "updated_by",
        "content",
    ),
    "model_card_revisions": (
        "version",
        "revision",
        "edited_at",
        "edited_by",
        "content",
    ),
    "reproducibility_checks": (
        "id",
        "version",
        "external_run_id",
        "mode",
        "artifact_sha256",
        "is_passed",
        "metrics",
        "differences",
        "checked_by",
        "created_at",
    ),
    "validation_reports": (
        "id",
        "version",
        "validator",
        "outcome",
        "summary",
        "created_at",
    ),
    "findings": (
        "report",
        "id",
        "severity",
        "title",
        "description",
        "status",
        "owner",
        "due_date",
    ),
    "approval_requests": (
        "id",
        "version",
        "environment",
        "kind",
        "strategy",
        "traffic_percent",
        "status",
        "justification",
        "requested_by",
        "created_at",
        "expires_at",
        "closed_at",
        "closing_comment",
        "policy",
    ),
    "gate_results": ("request", "evaluated", "id", "title", "status", "reason"),
    "decisions": (
        "request",
        "id",
        "reviewer",
        "role",
        "outcome",
        "comment",
        "created_at",
    ),
    "deployments": (
        "id",
        "version",
        "environment",
        "artifact_sha256",
        "strategy",
        "traffic_percent",
        "status",
        "source",
        "request",
        "rollback_target",
        "restores",
        "deployed_by",
        "started_at",
        "ended_at",
        "ended_by",
        "end_reason",
    ),
    "rollbacks": (
        "rolled_back",
        "rolled_back_version",
        "environment",
        "at",
        "by",
        "reason",
        "target",
        "restored",
        "restored_version",
    ),
    "audit_events": (
        "sequence",
        "timestamp",
        "actor_id",
        "actor_text",
        "actor_ip",
        "request_id",
        "action",
        "target_type",
        "target_id",
        "target_text",
        "scope",
        "payload_json",
        "prev_hash",
        "hash",
    ),
    "monitoring_alerts": (
        "id",
        "version",
        "environment",
        "check",
        "subject",
        "severity",
        "status",
        "title",
        "occurrences",
        "opened_at",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "note",
    ),
}


def _table(name: str, rows) -> Table:
    return Table(name, COLUMNS[name], list(rows))


def _subject_tables(report: dict[str, Any]) -> list[Table]:
    """The report's own row and the model's."""
    meta = report["report"]
    model = report["model"]
    return [
        _table(
            "report",
            [
                {
                    **{key: meta[key] for key in ("format", "generated_at")},
                    "generated_by": meta["generated_by"],
                    "portal": meta["portal"],
                    "model": meta["subject"]["model"],
                    "version": meta["subject"]["version"],
                }
            ],
        ),
        Table("model", tuple(model), [model]),
    ]


def _registry_tables(report: dict[str, Any]) -> list[Table]:
    """Versions, datasets, runs, evaluations, cards and checks."""
    return [
        _table(
            "versions",
            (
                {
                    **version,
                    "artifact_id": version["artifact"]["id"],
                    "artifact_uri": version["artifact"]["uri"],
                    "artifact_sha256": version["artifact"]["sha256"],
                    "artifact_size_bytes": version["artifact"]["size_bytes"],
                    "artifact_format": version["artifact"]["format"],
                    "preprocessing_code_version": version["artifact"][
                        "preprocessing_code_version"
                    ],
                    "feature_spec": version["artifact"]["feature_spec"],
                }
                for version in report["versions"]
            ),
        ),
        _table(
            "datasets",
            report["datasets"],
        ),
        _table(
            "dataset_parents",
            (
                {"dataset": dataset["id"], "parent": parent}
                for dataset in report["datasets"]
                for parent in dataset["parents"]
            ),
        ),
        _table(
            "runs",
            report["runs"],
        ),
        _table(
            "run_inputs",
            (
                {"run": run["id"], **item}
                for run in report["runs"]
                for item in run["inputs"]
            ),
        ),
        _table(
            "evaluations",
            report["evaluations"],
        ),
        _table(
            "fairness_slices",
            (
                {"evaluation": evaluation["id"], **entry}
                for evaluation in report["evaluations"]
                for entry in evaluation["fairness_slices"]
            ),
        ),
        _table(
            "model_cards",
            report["model_cards"],
        ),
        _table(
            "model_card_revisions",
            (
                {"version": card["version"], **revision}
                for card in report["model_cards"]
                for revision in card["revisions"]
            ),
        ),
        _table(
            "reproducibility_checks",
            report["reproducibility_checks"],
        ),
    ]


def _approval_tables(report: dict[str, Any]) -> list[Table]:
    """Validations, requests with their gates and decisions, deployments."""
    return [
        _table(
            "validation_reports",
            report["validation_reports"],
        ),
        _table(
            "findings",
            (
                {"report": validation["id"], **finding}
                for validation in report["validation_reports"]
                for finding in validation["findings"]
            ),
        ),
        _table(
            "approval_requests",
            report["approval_requests"],
        ),
        _table(
            "gate_results",
            (
                {"request": request["id"], "evaluated": stage, **gate}
                for request in report["approval_requests"]
                for stage, key in (
                    ("at_submission", "gate_results"),
                    ("at_final_approval", "final_gate_results"),
                )
                for gate in request[key]
            ),
        ),
        _table(
            "decisions",
            (
                {"request": request["id"], **decision}
                for request in report["approval_requests"]
                for decision in request["decisions"]
            ),
        ),
        _table(
            "deployments",
            report["deployments"],
        ),
        _table(
            "rollbacks",
            report["rollbacks"],
        ),
    ]


def _audit_tables(report: dict[str, Any]) -> list[Table]:
    """The model's audit events and alerts, and the chain's verification."""
    chain = report["audit_chain"]
    return [
        _table(
            "audit_events",
            report["audit_events"]["events"],
        ),
        _table(
            "monitoring_alerts",
            report["monitoring_alerts"]["alerts"],
        ),
        Table("audit_chain", tuple(chain), [chain]),
    ]


def csv_tables(report: dict[str, Any]) -> list[Table]:
    """The report cut into flat tables; child rows carry their parent's id."""
    return [
        *_subject_tables(report),
        *_registry_tables(report),
        *_approval_tables(report),
        *_audit_tables(report),
    ]


def render_csv_zip(report: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in csv_tables(report):
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(table.columns)
            for row in table.rows:
                writer.writerow([csv_cell(row.get(column)) for column in table.columns])
            archive.writestr(f"{table.name}.csv", text.getvalue().encode("utf-8"))
        archive.writestr(
            "README.txt",
            "Gatehouse lineage report as CSV tables (UTF-8, RFC 4180).\n"
            "Child tables name their parent row by id (run_inputs.run, "
            "fairness_slices.evaluation, decisions.request, ...).\n"
            "Cells holding lists or objects hold them as JSON text; a cell that "
            "would start a spreadsheet formula starts with an apostrophe.\n"
            "The JSON format of the same report is described by /reports/schema.json."
            "\n",
        )
    return buffer.getvalue()
