"""A version's page: checklist, card, evaluations, fairness slices and
reproduction checks."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kernel.numbers import number
from kernel.pages import service_errors_as_http
from models_registry import access, selectors
from models_registry.checklist import FAIL, NOT_APPLICABLE, PASS
from models_registry.forms import (
    CARD_LABELS,
)
from models_registry.llm_app_selectors import llm_app_view
from models_registry.llm_eval_selectors import llm_evaluations_of
from models_registry.models import (
    LLM_KINDS,
    PROMPT_CARD_LABELS,
    EntryKind,
    Evaluation,
    card_fields,
)

STATUS_LABELS = {PASS: "Passes", FAIL: "Fails", NOT_APPLICABLE: "Not applicable"}


def _checklist_groups(detail) -> list[dict]:
    items = {item.id: item for item in detail.checklist}
    return [
        {
            "title": heading["title"],
            "status": heading["status"],
            "label": STATUS_LABELS[heading["status"]],
            "items": [
                {"item": items[item_id], "label": STATUS_LABELS[items[item_id].status]}
                for item_id in heading["items"]
            ],
        }
        for heading in detail.review
    ]


def _evaluation_table(evaluations: list[Evaluation]) -> dict:
    names = sorted({name for evaluation in evaluations for name in evaluation.metrics})
    return {
        "metric_names": names,
        "rows": [
            {
                "evaluation": evaluation,
                "values": [number(evaluation.metrics.get(name)) for name in names],
            }
            for evaluation in evaluations
        ],
    }


def _fairness_tables(detail) -> list[dict]:
    """One table per evaluation with slices; the worst disparity is marked."""
    limit = detail.version.model.fairness_max_disparity
    tables = []
    for evaluation in detail.evaluations:
        slices = list(evaluation.slices.all())
        if not slices:
            continue
        disparities = detail.disparities.get(evaluation.pk, [])
        # A zero gap is no disparity: nothing to point at.
        worst = disparities[0] if disparities and disparities[0].gap > 0 else None
        names = sorted({name for entry in slices for name in entry.metrics})
        rows = []
        for entry in slices:
            is_worst = worst is not None and (entry.attribute, entry.group) == (
                worst.attribute,
                worst.worst_group,
            )
            rows.append(
                {
                    "slice": entry,
                    "is_worst": is_worst,
                    "values": [
                        {
                            "text": number(entry.metrics.get(name)),
                            "is_worst": is_worst and name == worst.metric,
                        }
                        for name in names
                    ],
                }
            )
        tables.append(
            {
                "evaluation": evaluation,
                "metric_names": names,
                "rows": rows,
                "worst": worst,
                "worst_gap": number(worst.gap) if worst else None,
                "worst_best": number(worst.best) if worst else None,
                "worst_worst": number(worst.worst) if worst else None,
                "limit": number(limit),
                "disparities": [
                    {
                        "disparity": disparity,
                        "gap": number(disparity.gap),
                        "is_worst": worst is not None and index == 0,
                        "exceeds": disparity.gap > limit,
                    }
                    for index, disparity in enumerate(disparities)
                ],
            }
        )
    return tables


def _reproduction_rows(check) -> list[dict]:
    differences = check.differences or {}
    rows = []
    if "artifact_sha256" in differences:
        rows.append(
            {
                "what": "artifact sha256",
                "original": differences["artifact_sha256"].get("original", ""),
                "rerun": differences["artifact_sha256"].get("rerun", ""),
                "difference": "differs",
                "tolerance": "exact",
                "within": False,
            }
        )
    for name, entry in sorted(differences.get("metrics", {}).items()):
        rows.append(
            {
                "what": name,
                "original": number(entry.get("original")),
                "rerun": number(entry.get("rerun")),
                "difference": number(entry["difference"])
                if "difference" in entry
                else entry.get("problem", ""),
                "tolerance": number(entry.get("tolerance")),
                "within": bool(entry.get("within")),
            }
        )
    return rows


@login_required
@require_GET
@service_errors_as_http
def version_detail(request, name: str, number: int):
    version = selectors.version_get_by_number(
        actor=request.user, model_name=name, number=number
    )
    detail = selectors.version_detail(actor=request.user, id=version.pk)
    version = detail.version
    dataset_ids = {run_input.snapshot_id for run_input in detail.run_inputs} | {
        evaluation.dataset_id for evaluation in detail.evaluations
    }
    llm_app = llm_app_view(version) if version.model.kind == EntryKind.LLM_APP else None
    if llm_app and llm_app.index_snapshot:
        dataset_ids.add(llm_app.index_snapshot.pk)
    # Link only the snapshots the dataset page will show to this person.
    linkable = set(
        selectors.dataset_list(actor=request.user)
        .filter(pk__in=dataset_ids)
        .values_list("pk", flat=True)
    )
    card = detail.card
    is_prompt = version.model.kind == EntryKind.PROMPT
    labels = PROMPT_CARD_LABELS if version.model.kind in LLM_KINDS else CARD_LABELS
    context = {
        "model": version.model,
        "version": version,
        "detail": detail,
        "card": card,
        "card_sections": [
            {"label": labels[field], "text": getattr(card, field)}
            for field in card_fields(version.model.kind)
        ]
        if card
        else [],
        "is_prompt": is_prompt,
        "llm_app": llm_app,
        "prompt": selectors.prompt_view(version) if is_prompt else None,
        "previous_diff": selectors.prompt_diff(
            version, selectors.prompt_previous(version)
        )
        if is_prompt
        else None,
        "may_edit_card": not version.is_card_frozen
        and access.has_model_permission(request.user, version.model, access.CHANGE),
        "tags": sorted(version.tags.items()),
        "parameters": sorted(version.training_run.parameters.items())
        if version.training_run
        else [],
        "checklist_groups": _checklist_groups(detail),
        "evaluation_table": _evaluation_table(detail.evaluations),
        "fairness_tables": _fairness_tables(detail),
        "reproduction_checks": [
            {"check": check, "rows": _reproduction_rows(check)}
            for check in detail.reproduction_checks
        ],
        "linkable_datasets": linkable,
        # Prompts and LLM applications are evaluated by eval harnesses.
        "llm_evaluations": list(llm_evaluations_of(version))
        if version.model.kind in LLM_KINDS
        else None,
    }
    return render(request, "models_registry/version_detail.html", context)
