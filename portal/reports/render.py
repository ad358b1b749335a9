"""A lineage report in each of its formats, all from the one data structure.

* HTML on screen and the PDF render the same template body
  (``templates/reports/_report_body.html``); the PDF is that body in a print
  page, laid out by WeasyPrint with ``static/css/report.css``.
* JSON is the structure itself; ``schema.json`` beside this module describes it.
* CSV is a zip of one table per section, JSON-valued cells as JSON text
  (``portal.reports.tables``).
"""

import json
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from kernel.numbers import number
from portal.reports import wording
from portal.reports.lineage_report import dumps
from portal.reports.tables import render_csv_zip

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


def _metrics(metrics: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"name": name, "value": number(value)}
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
            "parameters_text": wording.pairs_text(run["parameters"]),
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
            "tags_text": wording.pairs_text(version["tags"]),
            "feature_spec_text": wording.feature_spec_text(
                version["artifact"]["feature_spec"]
            ),
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
            "differences_text": wording.differences_text(check["differences"]),
        }
        for check in report["reproducibility_checks"]
    ]
    requests = [
        {**request, "policy_text": wording.policy_text(request["policy"])}
        for request in report["approval_requests"]
    ]
    return {
        "report": report,
        "meta": report["report"],
        "model": report["model"],
        "model_metrics": {
            "offline": report["model"]["offline_success_metrics"],
            "online": report["model"]["online_success_metrics"],
            "tolerance_text": wording.tolerance_text(
                report["model"]["reproducibility_tolerance"]
            ),
        },
        "versions": versions,
        "datasets": datasets,
        "schemas": [{"label": label, "text": text} for text, label in schemas.items()],
        "runs": runs,
        "evaluations": evaluations,
        "cards": [
            {**card, "sections": wording.card_sections(card["content"])}
            for card in report["model_cards"]
        ],
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
