"""A lineage report in each of its formats, all from the one data structure.

* HTML on screen and the PDF render the same template body
  (``templates/reports/_report_body.html``); the PDF is that body in a print
  page, laid out by WeasyPrint with ``static/css/report.css``.
* JSON is the structure itself; ``schema.json`` beside this module describes it.
* CSV is a zip of one table per section, JSON-valued cells as JSON text.
"""

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from portal.reports.lineage_report import dumps

FORMATS = ("html", "pdf", "json", "csv")
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/json",
    "csv": "application/zip",
}
EXTENSIONS = {"html": "html", "pdf": "pdf", "json": "json", "csv": "zip"}
SCHEMA_PATH = Path(__file__).with_name("schema.json")


def filename_for(report: dict[str, Any], export_format: str) -> str:
    subject = report["report"]["subject"]
    name = subject["model"]
    if subject["version"] is not None:
        name += f"-v{subject['version']}"
    stamp = report["report"]["generated_at"][:19].replace(":", "").replace("-", "")
    return f"lineage-{name}-{stamp}.{EXTENSIONS[export_format]}"


# --- HTML and PDF -----------------------------------------------------------------


def _compact(value: Any) -> str:
    """JSON values (schemas, parameters, policies) as one line of text."""
    if value in (None, "", [], {}):
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else ("yes" if value else "no")
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "NaN"
    return str(value)


def _metrics(metrics: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"name": name, "value": _number(value)}
        for name, value in sorted((metrics or {}).items())
    ]


def presentation(report: dict[str, Any]) -> dict[str, Any]:
    """The report shaped for the template: names resolved, JSON made text.

    Nothing is added that the data does not hold; the template shows exactly
    the JSON export's content.
    """
    names = {
        dataset["id"]: dataset["name"] or f"hidden snapshot #{dataset['id']}"
        for dataset in report["datasets"]
    }
    # Snapshots of one pipeline share their schema: each distinct schema is
    # listed once (S1, S2, ...) and the datasets table names it.
    schemas: dict[str, str] = {}
    for dataset in report["datasets"]:
        text = ", ".join(
            f"{column.get('name')} ({column.get('type')})"
            for column in dataset["schema"] or []
        )
        if text and text not in schemas:
            schemas[text] = f"S{len(schemas) + 1}"
    datasets = []
    for dataset in report["datasets"]:
        text = ", ".join(
            f"{column.get('name')} ({column.get('type')})"
            for column in dataset["schema"] or []
        )
        datasets.append(
            {
                **dataset,
                "parent_names": [names.get(pk, f"#{pk}") for pk in dataset["parents"]],
                "schema_label": schemas.get(text, ""),
            }
        )
    runs = [
        {
            **run,
            "parameters_text": _compact(run["parameters"]),
            "input_names": [
                {"name": names.get(item["dataset"], "?"), "role": item["role"]}
                for item in run["inputs"]
            ],
        }
        for run in report["runs"]
    ]
    versions = [
        {
            **version,
            "tags_text": _compact(version["tags"]),
            "feature_spec_text": _compact(version["artifact"]["feature_spec"]),
        }
        for version in report["versions"]
    ]
    evaluations = [
        {
            **evaluation,
            "dataset_name": names.get(evaluation["dataset"], "?"),
            "metric_list": _metrics(evaluation["metrics"]),
            "slices": [
                {**entry, "metric_list": _metrics(entry["metrics"])}
                for entry in evaluation["fairness_slices"]
            ],
        }
        for evaluation in report["evaluations"]
    ]
    checks = [
        {
            **check,
            "metric_list": _metrics(check["metrics"]),
            "differences_text": _compact(check["differences"]),
        }
        for check in report["reproducibility_checks"]
    ]
    requests = [
        {**request, "policy_text": _compact(request["policy"])}
        for request in report["approval_requests"]
    ]
    return {
        "report": report,
        "meta": report["report"],
        "model": report["model"],
        "model_metrics": {
            "offline": report["model"]["offline_success_metrics"],
            "online": report["model"]["online_success_metrics"],
            "tolerance_text": _compact(report["model"]["reproducibility_tolerance"]),
        },
        "versions": versions,
        "datasets": datasets,
        "schemas": [{"label": label, "text": text} for text, label in schemas.items()],
        "runs": runs,
        "evaluations": evaluations,
        "cards": report["model_cards"],
        "checks": checks,
        "validations": report["validation_reports"],
        "requests": requests,
        "deployments": report["deployments"],
        "rollbacks": report["rollbacks"],
        "audit": report["audit_events"],
        "alerts": report["monitoring_alerts"],
        "chain": report["audit_chain"],
    }


def render_print_html(report: dict[str, Any]) -> str:
    """The report as one standalone HTML document (what the PDF lays out)."""
    return render_to_string("reports/lineage_report_print.html", presentation(report))


def _stylesheet() -> str:
    path = finders.find("css/report.css")
    return Path(path).read_text(encoding="utf-8")


def render_pdf(report: dict[str, Any]) -> bytes:
    """The PDF: the print document laid out by WeasyPrint.

    WeasyPrint may fetch only ``data:`` URLs: the report holds text people
    typed, and nothing in it may make the server open a file or the network.
    """
    # Imported here: loading WeasyPrint (and pango through it) takes a while,
    # and only PDF exports need it.
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    document = HTML(string=render_print_html(report), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[CSS(string=_stylesheet())])


# --- JSON -------------------------------------------------------------------------


def render_json(report: dict[str, Any]) -> bytes:
    return dumps(report)


def published_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# --- CSV --------------------------------------------------------------------------

# Cells a spreadsheet would run as a formula (CSV injection) get a leading
# apostrophe: names, comments and payloads are typed by people.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


def _table(name: str, columns: tuple[str, ...], rows) -> Table:
    return Table(name, columns, list(rows))


def csv_tables(report: dict[str, Any]) -> list[Table]:
    """The report cut into flat tables; child rows carry their parent's id."""
    model = report["model"]
    chain = report["audit_chain"]
    meta = report["report"]
    return [
        _table(
            "report",
            ("format", "generated_at", "generated_by", "portal", "model", "version"),
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
        _table("model", tuple(model), [model]),
        _table(
            "versions",
            (
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
            (
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
            report["datasets"],
        ),
        _table(
            "dataset_parents",
            ("dataset", "parent"),
            (
                {"dataset": dataset["id"], "parent": parent}
                for dataset in report["datasets"]
                for parent in dataset["parents"]
            ),
        ),
        _table(
            "runs",
            (
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
            report["runs"],
        ),
        _table(
            "run_inputs",
            ("run", "dataset", "role"),
            (
                {"run": run["id"], **item}
                for run in report["runs"]
                for item in run["inputs"]
            ),
        ),
        _table(
            "evaluations",
            (
                "id",
                "version",
                "split",
                "dataset",
                "metrics",
                "created_at",
                "created_by",
            ),
            report["evaluations"],
        ),
        _table(
            "fairness_slices",
            ("evaluation", "attribute", "group", "size", "metrics"),
            (
                {"evaluation": evaluation["id"], **entry}
                for evaluation in report["evaluations"]
                for entry in evaluation["fairness_slices"]
            ),
        ),
        _table(
            "model_cards",
            (
                "version",
                "revision",
                "is_complete",
                "updated_at",
                "updated_by",
                "content",
            ),
            report["model_cards"],
        ),
        _table(
            "model_card_revisions",
            ("version", "revision", "edited_at", "edited_by", "content"),
            (
                {"version": card["version"], **revision}
                for card in report["model_cards"]
                for revision in card["revisions"]
            ),
        ),
        _table(
            "reproducibility_checks",
            (
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
            report["reproducibility_checks"],
        ),
        _table(
            "validation_reports",
            ("id", "version", "validator", "outcome", "summary", "created_at"),
            report["validation_reports"],
        ),
        _table(
            "findings",
            (
                "report",
                "id",
                "severity",
                "title",
                "description",
                "status",
                "owner",
                "due_date",
            ),
            (
                {"report": validation["id"], **finding}
                for validation in report["validation_reports"]
                for finding in validation["findings"]
            ),
        ),
        _table(
            "approval_requests",
            (
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
            report["approval_requests"],
        ),
        _table(
            "gate_results",
            ("request", "evaluated", "id", "title", "status", "reason"),
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
            ("request", "id", "reviewer", "role", "outcome", "comment", "created_at"),
            (
                {"request": request["id"], **decision}
                for request in report["approval_requests"]
                for decision in request["decisions"]
            ),
        ),
        _table(
            "deployments",
            (
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
            report["deployments"],
        ),
        _table(
            "rollbacks",
            (
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
            report["rollbacks"],
        ),
        _table(
            "audit_events",
            (
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
            report["audit_events"]["events"],
        ),
        _table(
            "monitoring_alerts",
            (
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
            report["monitoring_alerts"]["alerts"],
        ),
        _table("audit_chain", tuple(chain), [chain]),
    ]


def render_csv_zip(report: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in csv_tables(report):
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(table.columns)
            for row in table.rows:
                writer.writerow([_cell(row.get(column)) for column in table.columns])
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


def render(report: dict[str, Any], export_format: str) -> bytes:
    if export_format == "pdf":
        return render_pdf(report)
    if export_format == "json":
        return render_json(report)
    if export_format == "csv":
        return render_csv_zip(report)
    if export_format == "html":
        return render_print_html(report).encode()
    raise ValueError(f"unknown report format {export_format!r}")
