"""The lineage report of a model or one version: one JSON-ready structure.

Everything is read through the apps' selectors (``models_registry.lineage``,
``models_registry.selectors``, ``approvals.selectors``, ``audit.selectors``), so
a report holds what the actor may see and nothing more. The same structure is
the JSON export (``schema.json`` describes it), fills the HTML and PDF template
and is cut into the CSV tables.

The report ends with the audit chain's verification, run at the time of export.
"""

import importlib
import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Max, Min, Prefetch
from django.utils import timezone

from approvals.models import Decision, Deployment, Finding, ValidationReport
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
from models_registry.lineage import (
    DECISION,
    DEPLOYMENT,
    DERIVED,
    EVALUATION,
    REQUEST,
    RUN,
    SNAPSHOT,
    VERSION,
    LineageGraph,
    lineage_graph,
    rollbacks_of,
)
from models_registry.models import (
    FairnessSlice,
    ModelCard,
    ModelCardRevision,
    ModelVersion,
    RegisteredModel,
    ReproductionCheck,
)

REPORT_FORMAT = "gatehouse-lineage-report/1"

Progress = Callable[[int, str], None]


def _no_progress(percent: int, stage: str) -> None:
    return None


def _time(moment: datetime | None) -> str | None:
    return format_timestamp(moment) if moment is not None else None


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def _model_section(model: RegisteredModel) -> dict[str, Any]:
    return {
        "name": model.name,
        "title": model.title,
        "description": model.description,
        "team": model.team.slug,
        "domain": model.domain,
        "risk_class": model.risk_class,
        "regulatory_tier": model.regulatory_tier,
        "serving_mode": model.serving_mode,
        "offline_success_metrics": model.offline_success_metrics,
        "online_success_metrics": model.online_success_metrics,
        "latency_slo_ms": model.latency_slo_ms,
        "latency_slo_percentile": model.latency_slo_percentile,
        "reproducibility_tolerance": model.reproducibility_tolerance,
        "low_confidence_threshold": model.low_confidence_threshold,
        "fairness_attributes": model.fairness_attributes,
        "fairness_max_disparity": model.fairness_max_disparity,
        "created_at": _time(model.created_at),
        "created_by": _username(model.created_by),
    }


def _version_section(version: ModelVersion) -> dict[str, Any]:
    artifact = version.artifact
    return {
        "id": version.pk,
        "version": version.version,
        "semantic_version": version.semantic_version,
        "status": version.status,
        "description": version.description,
        "tags": version.tags,
        "registered_at": _time(version.created_at),
        "registered_by": _username(version.registered_by),
        "production_approved_at": _time(version.production_approved_at),
        "training_run": version.training_run_id,
        "artifact": {
            "id": artifact.pk,
            "uri": artifact.uri,
            "sha256": artifact.sha256,
            "size_bytes": artifact.size_bytes,
            "format": artifact.format,
            "preprocessing_code_version": artifact.preprocessing_code_version,
            "feature_spec": artifact.feature_spec,
            "training_run": artifact.training_run_id,
        },
    }


def _dataset_section(graph: LineageGraph) -> list[dict[str, Any]]:
    parents: dict[int, list[int]] = {}
    for edge in graph.edges:
        if edge.kind == DERIVED:
            child = graph.node(edge.target).pk
            parents.setdefault(child, []).append(graph.node(edge.source).pk)
    datasets = []
    for node in sorted(graph.of_kind(SNAPSHOT), key=lambda node: node.pk):
        entry: dict[str, Any] = {
            "id": node.pk,
            "is_visible": not node.is_hidden,
            "derivation_depth": node.depth,
            "parents": sorted(parents.get(node.pk, [])),
        }
        snapshot = node.obj
        if snapshot is None:
            entry.update(dict.fromkeys(_DATASET_FIELDS))
        else:
            entry.update(
                {
                    "name": snapshot.name,
                    "team": snapshot.team.slug,
                    "uri": snapshot.uri,
                    "sha256": snapshot.sha256,
                    "row_count": snapshot.row_count,
                    "schema": snapshot.schema,
                    "time_column": snapshot.time_column,
                    "time_range_start": _time(snapshot.time_range_start),
                    "time_range_end": _time(snapshot.time_range_end),
                    "pii_columns": snapshot.pii_columns,
                    "created_at": _time(snapshot.created_at),
                    "created_by": _username(snapshot.created_by),
                }
            )
        datasets.append(entry)
    return datasets


_DATASET_FIELDS = (
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
    "created_at",
    "created_by",
)


def _run_section(graph: LineageGraph) -> list[dict[str, Any]]:
    runs = []
    for node in graph.of_kind(RUN):
        run = node.obj
        runs.append(
            {
                "id": run.pk,
                "external_run_id": run.external_run_id,
                "code_repository": run.code_repository,
                "code_commit": run.code_commit,
                "entrypoint": run.entrypoint,
                "parameters": run.parameters,
                "environment_lock_hash": run.environment_lock_hash,
                "random_seed": run.random_seed,
                "started_at": _time(run.started_at),
                "ended_at": _time(run.ended_at),
                "created_at": _time(run.created_at),
                "inputs": [
                    {"dataset": run_input.snapshot_id, "role": run_input.role}
                    for run_input in sorted(
                        run.run_inputs.all(),
                        key=lambda each: (each.role, each.snapshot_id),
                    )
                ],
            }
        )
    return sorted(runs, key=lambda run: run["id"])


def _evaluation_section(
    graph: LineageGraph, number_of: dict[int, int]
) -> list[dict[str, Any]]:
    evaluations = [node.obj for node in graph.of_kind(EVALUATION)]
    slices: dict[int, list[dict[str, Any]]] = {}
    for entry in FairnessSlice.objects.filter(
        evaluation__in=[each.pk for each in evaluations]
    ).order_by("evaluation_id", "attribute", "group"):
        slices.setdefault(entry.evaluation_id, []).append(
            {
                "attribute": entry.attribute,
                "group": entry.group,
                "size": entry.size,
                "metrics": entry.metrics,
            }
        )
    return [
        {
            "id": evaluation.pk,
            "version": number_of[evaluation.version_id],
            "split": evaluation.split,
            "dataset": evaluation.dataset_id,
            "metrics": evaluation.metrics,
            "created_at": _time(evaluation.created_at),
            "created_by": _username(evaluation.created_by),
            "fairness_slices": slices.get(evaluation.pk, []),
        }
        for evaluation in sorted(
            evaluations, key=lambda each: (number_of[each.version_id], each.pk)
        )
    ]


def _card_section(version_ids: list[int], number_of: dict[int, int]) -> list[dict]:
    revisions: dict[int, list[dict[str, Any]]] = {}
    for revision in (
        ModelCardRevision.objects.filter(card__version__in=version_ids)
        .select_related("edited_by")
        .order_by("card_id", "revision")
    ):
        revisions.setdefault(revision.card_id, []).append(
            {
                "revision": revision.revision,
                "edited_at": _time(revision.edited_at),
                "edited_by": _username(revision.edited_by),
                "content": revision.content,
            }
        )
    cards = ModelCard.objects.filter(version__in=version_ids).select_related(
        "updated_by"
    )
    return sorted(
        (
            {
                "version": number_of[card.version_id],
                "revision": card.revision,
                "is_complete": card.is_complete,
                "updated_at": _time(card.updated_at),
                "updated_by": _username(card.updated_by),
                "content": card.content(),
                "revisions": revisions.get(card.pk, []),
            }
            for card in cards
        ),
        key=lambda card: card["version"],
    )


def _reproduction_section(version_ids, number_of) -> list[dict[str, Any]]:
    checks = (
        ReproductionCheck.objects.filter(version__in=version_ids)
        .select_related("checked_by")
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": check.pk,
            "version": number_of[check.version_id],
            "external_run_id": check.external_run_id,
            "mode": check.mode,
            "artifact_sha256": check.artifact_sha256,
            "metrics": check.metrics,
            "is_passed": check.is_passed,
            "differences": check.differences,
            "checked_by": _username(check.checked_by),
            "created_at": _time(check.created_at),
        }
        for check in checks
    ]


def _validation_section(version_ids, number_of) -> list[dict[str, Any]]:
    reports = (
        ValidationReport.objects.filter(version__in=version_ids)
        .select_related("validator")
        .prefetch_related(
            Prefetch(
                "findings",
                queryset=Finding.objects.select_related("owner").order_by("pk"),
            )
        )
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": report.pk,
            "version": number_of[report.version_id],
            "validator": _username(report.validator),
            "outcome": report.outcome,
            "summary": report.summary,
            "created_at": _time(report.created_at),
            "findings": [
                {
                    "id": finding.pk,
                    "severity": finding.severity,
                    "title": finding.title,
                    "description": finding.description,
                    "status": finding.status,
                    "owner": _username(finding.owner),
                    "due_date": finding.due_date.isoformat()
                    if finding.due_date
                    else None,
                }
                for finding in report.findings.all()
            ],
        }
        for report in reports
    ]


def _request_section(graph: LineageGraph) -> list[dict[str, Any]]:
    decisions: dict[int, list[dict[str, Any]]] = {}
    for node in graph.of_kind(DECISION):
        decision = node.obj
        decisions.setdefault(decision.request_id, []).append(
            {
                "id": decision.pk,
                "reviewer": _username(decision.reviewer),
                "role": decision.role,
                "outcome": decision.outcome,
                "comment": decision.comment,
                "created_at": _time(decision.created_at),
            }
        )
    requests = []
    for node in graph.of_kind(REQUEST):
        request = node.obj
        requests.append(
            {
                "id": request.pk,
                "version": request.version.version,
                "environment": request.environment.name,
                "kind": request.kind,
                "strategy": request.strategy,
                "traffic_percent": request.traffic_percent,
                "status": request.status,
                "justification": request.justification,
                "requested_by": _username(request.requested_by),
                "created_at": _time(request.created_at),
                "expires_at": _time(request.expires_at),
                "closed_at": _time(request.closed_at),
                "closing_comment": request.closing_comment,
                "policy": request.policy_snapshot,
                "gate_results": request.gate_results,
                "final_gate_results": request.final_gate_results,
                "decisions": decisions.get(request.pk, []),
            }
        )
    return sorted(requests, key=lambda request: request["id"])


def _deployment_sections(graph: LineageGraph) -> tuple[list[dict], list[dict]]:
    deployments = sorted(
        (node.obj for node in graph.of_kind(DEPLOYMENT)),
        key=lambda each: (each.started_at, each.pk),
    )
    rows = [
        {
            "id": each.pk,
            "version": each.version.version,
            "environment": each.environment.name,
            "artifact_sha256": each.artifact_sha256,
            "strategy": each.strategy,
            "traffic_percent": each.traffic_percent,
            "status": each.status,
            "source": each.source,
            "request": each.request_id,
            "rollback_target": each.rollback_target_id,
            "restores": each.restores_id,
            "deployed_by": _username(each.deployed_by),
            "started_at": _time(each.started_at),
            "ended_at": _time(each.ended_at),
            "ended_by": _username(each.ended_by),
            "end_reason": each.end_reason,
        }
        for each in deployments
    ]
    rollbacks = [
        {
            "rolled_back": rolled_back.pk,
            "rolled_back_version": rolled_back.version.version,
            "environment": rolled_back.environment.name,
            "at": _time(rolled_back.ended_at),
            "by": _username(rolled_back.ended_by),
            "reason": rolled_back.end_reason,
            "target": rolled_back.rollback_target_id,
            "restored": restored.pk if restored else None,
            "restored_version": restored.version.version if restored else None,
        }
        for rolled_back, restored in rollbacks_of(deployments)
    ]
    return rows, rollbacks


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
        "first_at": _time(first_at),
        "last_at": _time(last_at),
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
                "opened_at": _time(alert.opened_at),
                "acknowledged_at": _time(alert.acknowledged_at),
                "acknowledged_by": _username(alert.acknowledged_by),
                "resolved_at": _time(alert.resolved_at),
                "resolved_by": _username(alert.resolved_by),
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
    deployments, rollbacks = _deployment_sections(graph)
    report: dict[str, Any] = {
        "report": {
            "format": REPORT_FORMAT,
            "generated_at": _time(timezone.now()),
            "generated_by": actor.get_username(),
            "portal": settings.PORTAL_BASE_URL,
            "subject": {
                "model": model.name,
                "version": version.version if version is not None else None,
            },
        },
        "model": _model_section(model),
        "versions": [
            _version_section(each) for each in sorted(versions, key=lambda v: v.version)
        ],
        "datasets": _dataset_section(graph),
        "runs": _run_section(graph),
        "evaluations": _evaluation_section(graph, number_of),
        "model_cards": _card_section(version_ids, number_of),
        "reproducibility_checks": _reproduction_section(version_ids, number_of),
        "validation_reports": _validation_section(version_ids, number_of),
        "approval_requests": _request_section(graph),
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
        "verified_at": _time(chain.finished_at),
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
