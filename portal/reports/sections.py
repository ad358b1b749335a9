"""The report's record sections, from the lineage graph (loaded with details).

One function per section of ``schema.json``: models, versions, datasets, runs,
evaluations, cards, reproducibility checks, validations, approval requests,
deployments and rollbacks. Records the graph does not hold (fairness slices,
card revisions, checks, validation reports) are read in one query each for all
of the graph's versions.
"""

from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from approvals.models import Finding, ValidationReport
from audit.canonical import format_timestamp
from models_registry.models import (
    FairnessSlice,
    ModelCard,
    ModelCardRevision,
    ModelVersion,
    RegisteredModel,
    ReproductionCheck,
)
from portal.lineage import (
    DECISION,
    DEPLOYMENT,
    DERIVED,
    EVALUATION,
    REQUEST,
    RUN,
    SNAPSHOT,
    LineageGraph,
    rollbacks_of,
)


def time_text(moment: datetime | None) -> str | None:
    return format_timestamp(moment) if moment is not None else None


def username_of(user) -> str | None:
    return user.get_username() if user is not None else None


def model_section(model: RegisteredModel) -> dict[str, Any]:
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
        "created_at": time_text(model.created_at),
        "created_by": username_of(model.created_by),
    }


def version_section(version: ModelVersion) -> dict[str, Any]:
    artifact = version.artifact
    return {
        "id": version.pk,
        "version": version.version,
        "semantic_version": version.semantic_version,
        "status": version.status,
        "description": version.description,
        "tags": version.tags,
        "registered_at": time_text(version.created_at),
        "registered_by": username_of(version.registered_by),
        "production_approved_at": time_text(version.production_approved_at),
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


def dataset_section(graph: LineageGraph) -> list[dict[str, Any]]:
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
                    "time_range_start": time_text(snapshot.time_range_start),
                    "time_range_end": time_text(snapshot.time_range_end),
                    "pii_columns": snapshot.pii_columns,
                    "created_at": time_text(snapshot.created_at),
                    "created_by": username_of(snapshot.created_by),
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


def run_section(graph: LineageGraph) -> list[dict[str, Any]]:
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
                "started_at": time_text(run.started_at),
                "ended_at": time_text(run.ended_at),
                "created_at": time_text(run.created_at),
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


def evaluation_section(
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
            "created_at": time_text(evaluation.created_at),
            "created_by": username_of(evaluation.created_by),
            "fairness_slices": slices.get(evaluation.pk, []),
        }
        for evaluation in sorted(
            evaluations, key=lambda each: (number_of[each.version_id], each.pk)
        )
    ]


def card_section(version_ids: list[int], number_of: dict[int, int]) -> list[dict]:
    revisions: dict[int, list[dict[str, Any]]] = {}
    for revision in (
        ModelCardRevision.objects.filter(card__version__in=version_ids)
        .select_related("edited_by")
        .order_by("card_id", "revision")
    ):
        revisions.setdefault(revision.card_id, []).append(
            {
                "revision": revision.revision,
                "edited_at": time_text(revision.edited_at),
                "edited_by": username_of(revision.edited_by),
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
                "updated_at": time_text(card.updated_at),
                "updated_by": username_of(card.updated_by),
                "content": card.content(),
                "revisions": revisions.get(card.pk, []),
            }
            for card in cards
        ),
        key=lambda card: card["version"],
    )


def reproduction_section(version_ids, number_of) -> list[dict[str, Any]]:
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
            "checked_by": username_of(check.checked_by),
            "created_at": time_text(check.created_at),
        }
        for check in checks
    ]


def validation_section(version_ids, number_of) -> list[dict[str, Any]]:
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
            "validator": username_of(report.validator),
            "outcome": report.outcome,
            "summary": report.summary,
            "created_at": time_text(report.created_at),
            "findings": [
                {
                    "id": finding.pk,
                    "severity": finding.severity,
                    "title": finding.title,
                    "description": finding.description,
                    "status": finding.status,
                    "owner": username_of(finding.owner),
                    "due_date": finding.due_date.isoformat()
                    if finding.due_date
                    else None,
                }
                for finding in report.findings.all()
            ],
        }
        for report in reports
    ]


def request_section(graph: LineageGraph) -> list[dict[str, Any]]:
    decisions: dict[int, list[dict[str, Any]]] = {}
    for node in graph.of_kind(DECISION):
        decision = node.obj
        decisions.setdefault(decision.request_id, []).append(
            {
                "id": decision.pk,
                "reviewer": username_of(decision.reviewer),
                "role": decision.role,
                "outcome": decision.outcome,
                "comment": decision.comment,
                "created_at": time_text(decision.created_at),
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
                "status": request.current_status,
                "justification": request.justification,
                "requested_by": username_of(request.requested_by),
                "created_at": time_text(request.created_at),
                "expires_at": time_text(request.expires_at),
                "closed_at": time_text(request.closed_at),
                "closing_comment": request.closing_comment,
                "policy": request.policy_snapshot,
                "gate_results": request.gate_results,
                "final_gate_results": request.final_gate_results,
                "decisions": decisions.get(request.pk, []),
            }
        )
    return sorted(requests, key=lambda request: request["id"])


def deployment_sections(graph: LineageGraph) -> tuple[list[dict], list[dict]]:
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
            "deployed_by": username_of(each.deployed_by),
            "started_at": time_text(each.started_at),
            "ended_at": time_text(each.ended_at),
            "ended_by": username_of(each.ended_by),
            "end_reason": each.end_reason,
        }
        for each in deployments
    ]
    rollbacks = [
        {
            "rolled_back": rolled_back.pk,
            "rolled_back_version": rolled_back.version.version,
            "environment": rolled_back.environment.name,
            "at": time_text(rolled_back.ended_at),
            "by": username_of(rolled_back.ended_by),
            "reason": rolled_back.end_reason,
            "target": rolled_back.rollback_target_id,
            "restored": restored.pk if restored else None,
            "restored_version": restored.version.version if restored else None,
        }
        for rolled_back, restored in rollbacks_of(deployments)
    ]
    return rows, rollbacks
