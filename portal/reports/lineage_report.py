"""The lineage report of a model or one version: one JSON-ready structure.

Everything is read through the apps' selectors (``portal.lineage``,
``models_registry.selectors``, ``approvals.selectors``, ``audit.selectors``), so
a report holds what the actor may see and nothing more. The same structure is
the JSON export (``schema.json`` describes it), fills the HTML and PDF template
and is cut into the CSV tables. The record sections are built in
``portal.reports.sections``; the audit and monitoring sections here.

The report ends with the audit chain's verification, run at the time of export.
"""

import importlib
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone

from approvals.models import Decision, Deployment
from audit.canonical import format_timestamp
from audit.models import AuditEvent
from audit.selectors import (
    EXPORT_COLUMNS,
    EXPORT_PERMISSION,
    AuditEventFilters,
    audit_actor_may,
    audit_chain_verify,
    audit_event_export_rows,
    chain_head_sequence,
)
from models_registry.models import (
    FairnessSlice,
    ModelCardRevision,
    ModelVersion,
    RegisteredModel,
)
from portal.lineage import VERSION, lineage_graph
from portal.reports.sections import (
    card_section,
    dataset_section,
    deployment_sections,
    evaluation_section,
    model_section,
    reproduction_section,
    request_section,
    run_section,
    time_text,
    username_of,
    validation_section,
    version_section,
)

REPORT_FORMAT = "gatehouse-lineage-report/1"

Progress = Callable[[int, str], None]


def _no_progress(percent: int, stage: str) -> None:
    return None


def _audit_section(
    actor, model: RegisteredModel, *, up_to: int, limit: int | None
) -> dict[str, Any]:
    """The model's audit events (scope = the model's name), oldest first.

    Only for people who may export the audit log (auditors): the audit pages
    are theirs alone, and a report must not show what those pages hide. With a
    ``limit`` (HTML and PDF), the newest ``limit`` events are listed and every
    event is counted; JSON and CSV list them all.
    """
    if not audit_actor_may(actor=actor, permission=EXPORT_PERMISSION):
        return {
            "is_included": False,
            "note": "The model's audit events are listed for auditors only.",
            "total": None,
            "listed": 0,
            "first_at": None,
            "last_at": None,
            "by_action": [],
            "events": [],
        }
    if limit is None:
        rows = audit_event_export_rows(
            actor=actor, filters=AuditEventFilters(scope=model.name), up_to=up_to
        )
        kept = [dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in rows]
        by_action = Counter(record["action"] for record in kept)
        total = len(kept)
        first_at = kept[0]["timestamp"] if kept else None
        last_at = kept[-1]["timestamp"] if kept else None
    else:
        # Counted in the database, and only the newest rows read: the HTML and
        # PDF stay quick however long the model's history is.
        scoped = AuditEvent.objects.filter(scope=model.name, sequence__lte=up_to)
        summary = scoped.aggregate(
            total=Count("sequence"), first_at=Min("timestamp"), last_at=Max("timestamp")
        )
        total, first_at, last_at = (
            summary["total"],
            summary["first_at"],
            summary["last_at"],
        )
        by_action = Counter(
            dict(
                scoped.values_list("action")
                .annotate(count=Count("sequence"))
                .order_by()
                .values_list("action", "count")
            )
        )
        newest = scoped.order_by("-sequence").values_list(*EXPORT_COLUMNS)[:limit]
        kept = [dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in newest][::-1]
    events = []
    for record in kept:
        record["timestamp"] = format_timestamp(record["timestamp"])
        events.append(record)
    if limit is not None and total > len(events):
        note = (
            f"The newest {len(events):,} of {total:,} events are listed; the JSON "
            "and CSV formats of this report list every one."
        )
    else:
        note = "Every event of the model is listed."
    return {
        "is_included": True,
        "note": note,
        "total": total,
        "listed": len(events),
        "first_at": time_text(first_at),
        "last_at": time_text(last_at),
        "by_action": [
            {"action": action, "count": count}
            for action, count in sorted(by_action.items())
        ],
        "events": events,
    }


def _alert_list():
    """monitoring.selectors.alert_list, or None while monitoring has no alerts.

    Guarded so the report works with or without the monitoring app: the
    registry and approvals never depend on it.
    """
    if not apps.is_installed("monitoring"):
        return None
    try:
        selectors = importlib.import_module("monitoring.selectors")
    except ImportError:
        return None
    return getattr(selectors, "alert_list", None)


def _monitoring_section(
    actor, model: RegisteredModel, version: ModelVersion | None
) -> dict[str, Any]:
    """Monitoring alerts of the model (or version), oldest first, read through
    monitoring's own selector (which limits them to models the actor sees)."""
    alert_list = _alert_list()
    if alert_list is None:
        return {"is_available": False, "alerts": []}
    alerts = alert_list(actor=actor, filters={"model": model.name})
    if version is not None:
        alerts = alerts.filter(target__version=version)
    return {
        "is_available": True,
        "alerts": [
            {
                "id": alert.pk,
                "version": alert.target.version.version,
                "environment": alert.target.environment.name,
                "check": alert.kind,
                "subject": alert.subject,
                "severity": alert.severity,
                "status": alert.status,
                "title": alert.title,
                "occurrences": alert.occurrences,
                "opened_at": time_text(alert.opened_at),
                "acknowledged_at": time_text(alert.acknowledged_at),
                "acknowledged_by": username_of(alert.acknowledged_by),
                "resolved_at": time_text(alert.resolved_at),
                "resolved_by": username_of(alert.resolved_by),
                "note": alert.note,
            }
            for alert in alerts.order_by("opened_at", "pk")
        ],
    }


def build_lineage_report(
    *,
    actor,
    model: RegisteredModel,
    version: ModelVersion | None = None,
    audit_event_limit: int | None = None,
    progress: Progress = _no_progress,
) -> dict[str, Any]:
    """Collect the report of a model (or one of its versions) as plain data.

    Raises ``ModelNotFound`` when the actor may not see the model. The chain is
    verified last, so the head it reports is at least as new as every event
    listed.
    """
    progress(5, "Collecting the lineage")
    graph = lineage_graph(actor=actor, model=model, version=version, details=True)
    model = graph.model
    versions = [node.obj for node in graph.of_kind(VERSION)]
    version_ids = [each.pk for each in versions]
    number_of = {each.pk: each.version for each in versions}
    progress(20, "Collecting evaluations, cards and approvals")
    deployments, rollbacks = deployment_sections(graph)
    report: dict[str, Any] = {
        "report": {
            "format": REPORT_FORMAT,
            "generated_at": time_text(timezone.now()),
            "generated_by": actor.get_username(),
            "portal": settings.PORTAL_BASE_URL,
            "subject": {
                "model": model.name,
                "version": version.version if version is not None else None,
            },
        },
        "model": model_section(model),
        "versions": [
            version_section(each) for each in sorted(versions, key=lambda v: v.version)
        ],
        "datasets": dataset_section(graph),
        "runs": run_section(graph),
        "evaluations": evaluation_section(graph, number_of),
        "model_cards": card_section(version_ids, number_of),
        "reproducibility_checks": reproduction_section(version_ids, number_of),
        "validation_reports": validation_section(version_ids, number_of),
        "approval_requests": request_section(graph),
        "deployments": deployments,
        "rollbacks": rollbacks,
    }
    progress(40, "Reading the model's audit events")
    report["audit_events"] = _audit_section(
        actor, model, up_to=chain_head_sequence(), limit=audit_event_limit
    )
    report["monitoring_alerts"] = _monitoring_section(actor, model, version)
    progress(60, "Verifying the audit chain")
    chain = audit_chain_verify()
    report["audit_chain"] = {
        "verified_at": time_text(chain.finished_at),
        "is_intact": chain.is_intact,
        "event_count": chain.event_count,
        "head_sequence": chain.head_sequence,
        "head_hash": chain.head_hash,
        "first_broken_sequence": chain.first_broken_sequence,
        "problem": chain.problem,
    }
    return report


def report_row_estimate(
    *, actor, model: RegisteredModel, version: ModelVersion | None, audit_rows: bool
) -> int:
    """Roughly how many rows a report holds, to choose between answering at
    once and preparing it in the background (a few count queries)."""
    versions = ModelVersion.objects.filter(model=model)
    if version is not None:
        versions = versions.filter(pk=version.pk)
    version_ids = versions.values("pk")
    counts = [
        versions.count(),
        FairnessSlice.objects.filter(evaluation__version__in=version_ids).count(),
        ModelCardRevision.objects.filter(card__version__in=version_ids).count(),
        Decision.objects.filter(request__version__in=version_ids).count(),
        Deployment.objects.filter(version__in=version_ids).count(),
    ]
    if audit_rows and audit_actor_may(actor=actor, permission=EXPORT_PERMISSION):
        counts.append(AuditEvent.objects.filter(scope=model.name).count())
    # Evaluations, runs, requests and snapshots follow versions closely.
    return sum(counts) + 4 * counts[0]


def dumps(report: dict[str, Any]) -> bytes:
    return (
        json.dumps(report, ensure_ascii=False, indent=1, sort_keys=False) + "\n"
    ).encode()
