"""The registry's pages for people: models, versions, cards, datasets and runs.

Every read goes through ``models_registry.selectors``, so whatever a person may
not see answers 404, exactly as in the API and the lists. Every write goes
through ``models_registry.services``, which check the rules again and record the
audit event. The helpers below only shape records for the templates.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kernel.errors import NotFound, ServiceError
from kernel.errors import PermissionDenied as ServicePermissionDenied
from kernel.models import Team
from kernel.roles import RISK_OFFICER, user_has_role
from models_registry import access, selectors, services
from models_registry.checklist import FAIL, NOT_APPLICABLE, PASS
from models_registry.errors import CardFrozen, CardRevisionConflict
from models_registry.forms import (
    CARD_LABELS,
    ModelCardForm,
    ModelFilterForm,
    RiskClassChangeForm,
)
from models_registry.models import (
    CARD_FIELDS,
    Evaluation,
    ModelCard,
    ModelCardRevision,
)

MODELS_PER_PAGE = 25

STATUS_LABELS = {PASS: "Passes", FAIL: "Fails", NOT_APPLICABLE: "Not applicable"}
DIRECTION_SIGNS = {"higher": "≥", "lower": "≤"}


def _service_errors_as_http(view):
    """Turn the selectors' and services' refusals into 404 and 403 responses."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error
        except ServicePermissionDenied as error:
            raise PermissionDenied(error.message) from error

    return wrapper


def _number(value) -> str:
    """A metric as people read it: four decimals at most, no trailing zeros."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0 or 0.001 <= abs(value) < 1_000_000:
            return f"{value:,.4f}".rstrip("0").rstrip(".")
        return f"{value:.4g}"
    return str(value)


def _meets(value, target: dict) -> bool | None:
    if value is None:
        return None
    if target.get("direction") == "lower":
        return value <= target["threshold"]
    return value >= target["threshold"]


def _targets(metrics: list[dict], name_key: str) -> list[dict]:
    return [
        {
            "name": target[name_key],
            "sign": DIRECTION_SIGNS.get(target.get("direction"), "?"),
            "direction": target.get("direction"),
            "threshold": _number(target.get("threshold")),
        }
        for target in metrics
    ]


def _may_change_risk_class(user) -> bool:
    return user_has_role(user, RISK_OFFICER) and user.has_perm(
        "models_registry.change_risk_class"
    )


# --- Models --------------------------------------------------------------------------


@login_required
@require_GET
def model_list(request):
    visible = access.models_for(request.user).values("team_id")
    teams = list(Team.objects.filter(pk__in=visible).order_by("name"))
    form = ModelFilterForm(request.GET, teams=teams)
    if not form.is_valid():
        context = {"form": form, "page": None, "is_filtered": True}
        return render(request, "models_registry/model_list.html", context, status=400)
    filters = form.filters()
    models = selectors.model_list(actor=request.user, filters=filters)
    page = Paginator(models, MODELS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "is_filtered": bool(filters)}
    return render(request, "models_registry/model_list.html", context)


def _model_page_context(request, model, risk_form=None) -> dict:
    targets = model.offline_success_metrics
    versions = []
    for row in selectors.model_versions_with_test_metrics(
        actor=request.user, model=model
    ):
        versions.append(
            {
                "version": row["version"],
                "metrics": [
                    {"value": _number(value), "meets": _meets(value, target)}
                    for value, target in zip(row["metrics"], targets, strict=True)
                ],
            }
        )
    may_change_risk_class = _may_change_risk_class(request.user)
    if may_change_risk_class and risk_form is None:
        risk_form = RiskClassChangeForm(initial={"risk_class": model.risk_class})
    tolerance = model.reproducibility_tolerance or {"mode": "exact_hash"}
    return {
        "model": model,
        "offline_targets": _targets(targets, "metric"),
        "online_targets": _targets(model.online_success_metrics, "kpi"),
        "tolerances": [
            {"metric": name, "tolerance": _number(value)}
            for name, value in sorted(tolerance.get("tolerances", {}).items())
        ],
        "tolerance_mode": tolerance.get("mode", "exact_hash"),
        "fairness_required": model.risk_class in ("high", "critical"),
        "versions": versions,
        "risk_form": risk_form if may_change_risk_class else None,
    }


@login_required
@require_GET
@_service_errors_as_http
def model_detail(request, name: str):
    model = selectors.model_get(actor=request.user, name=name)
    return render(
        request,
        "models_registry/model_detail.html",
        _model_page_context(request, model),
    )


@login_required
@require_POST
@_service_errors_as_http
def model_risk_class_change(request, name: str):
    model = selectors.model_get(actor=request.user, name=name)
    form = RiskClassChangeForm(request.POST)
    if form.is_valid():
        # The service refuses anyone who is not a risk officer (403).
        try:
            services.model_risk_class_change(
                actor=request.user,
                model=model,
                risk_class=form.cleaned_data["risk_class"],
                reason=form.cleaned_data["reason"],
            )
        except ServicePermissionDenied:
            raise
        except ServiceError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"The risk class of {model.name} is now "
                f"{form.cleaned_data['risk_class']}. The change and its reason "
                "are in the audit log.",
            )
            return redirect("registry:model-detail", name=model.name)
    elif not _may_change_risk_class(request.user):
        raise PermissionDenied("Only risk officers change a model's risk class.")
    return render(
        request,
        "models_registry/model_detail.html",
        _model_page_context(request, model, risk_form=form),
        status=400,
    )


def _add_service_errors(form, error: ServiceError) -> None:
    if not error.fields:
        form.add_error(None, error.message)
    for field, problems in error.fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


# --- Versions ------------------------------------------------------------------------


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
                "values": [_number(evaluation.metrics.get(name)) for name in names],
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
                            "text": _number(entry.metrics.get(name)),
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
                "worst_gap": _number(worst.gap) if worst else None,
                "worst_best": _number(worst.best) if worst else None,
                "worst_worst": _number(worst.worst) if worst else None,
                "limit": _number(limit),
                "disparities": [
                    {
                        "disparity": disparity,
                        "gap": _number(disparity.gap),
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
                "original": _number(entry.get("original")),
                "rerun": _number(entry.get("rerun")),
                "difference": _number(entry["difference"])
                if "difference" in entry
                else entry.get("problem", ""),
                "tolerance": _number(entry.get("tolerance")),
                "within": bool(entry.get("within")),
            }
        )
    return rows


@login_required
@require_GET
@_service_errors_as_http
def version_detail(request, name: str, number: int):
    version = selectors.version_get_by_number(
        actor=request.user, model_name=name, number=number
    )
    detail = selectors.version_detail(actor=request.user, id=version.pk)
    version = detail.version
    dataset_ids = {run_input.snapshot_id for run_input in detail.run_inputs} | {
        evaluation.dataset_id for evaluation in detail.evaluations
    }
    # Link only the snapshots the dataset page will show to this person.
    linkable = set(
        selectors.dataset_list(actor=request.user)
        .filter(pk__in=dataset_ids)
        .values_list("pk", flat=True)
    )
    card = detail.card
    context = {
        "model": version.model,
        "version": version,
        "detail": detail,
        "card": card,
        "card_sections": [
            {"label": CARD_LABELS[field], "text": getattr(card, field)}
            for field in CARD_FIELDS
        ]
        if card
        else [],
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
    }
    return render(request, "models_registry/version_detail.html", context)


# --- Model cards ---------------------------------------------------------------------


def _card_initial(card: ModelCard) -> dict:
    return {"base_revision": card.revision, **card.content()}


@login_required
@require_http_methods(["GET", "POST"])
@_service_errors_as_http
def card_edit(request, name: str, number: int):
    version = selectors.version_get_by_number(
        actor=request.user, model_name=name, number=number
    )
    if not access.has_model_permission(request.user, version.model, access.CHANGE):
        raise PermissionDenied("You may not edit this model's cards.")
    card = ModelCard.objects.select_related("updated_by").get(version=version)
    context = {"model": version.model, "version": version, "card": card}
    if request.method == "GET":
        if version.is_card_frozen:
            return render(request, "models_registry/card_edit.html", context)
        context["form"] = ModelCardForm(initial=_card_initial(card))
        return render(request, "models_registry/card_edit.html", context)

    form = ModelCardForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        if version.is_card_frozen:
            return _card_frozen(request, context, CardFrozen.status_code, "")
        return render(request, "models_registry/card_edit.html", context, status=400)
    if (
        not version.is_card_frozen
        and form.cleaned_data["base_revision"] != card.revision
    ):
        form.add_error(
            None,
            f"Someone else saved revision {card.revision} while you were editing. "
            "Your text is kept below: compare it with the card history, then save "
            "again.",
        )
        # A second save, after looking, goes through.
        form.data = form.data.copy()
        form.data["base_revision"] = str(card.revision)
        return render(request, "models_registry/card_edit.html", context, status=409)
    try:
        updated = services.model_card_update(
            actor=request.user,
            version=version,
            expected_revision=form.cleaned_data["base_revision"],
            **form.sections(),
        )
    except CardFrozen as error:
        return _card_frozen(request, context, error.status_code, error.message)
    except CardRevisionConflict as error:
        form.add_error(None, f"{error.message} Your text is kept below.")
        return render(request, "models_registry/card_edit.html", context, status=409)
    except ServicePermissionDenied:
        raise
    except ServiceError as error:
        _add_service_errors(form, error)
        return render(request, "models_registry/card_edit.html", context, status=400)
    if updated.revision == card.revision:
        messages.info(request, "Nothing changed: the card is as it was.")
    else:
        messages.success(request, f"Model card saved as revision {updated.revision}.")
    return redirect("registry:version-detail", name=version.model.name, number=number)


def _card_frozen(request, context: dict, status: int, message: str):
    context.pop("form", None)
    context["frozen_error"] = message
    return render(request, "models_registry/card_edit.html", context, status=status)


@login_required
@require_GET
@_service_errors_as_http
def card_history(request, name: str, number: int):
    version = selectors.version_get_by_number(
        actor=request.user, model_name=name, number=number
    )
    # The version is visible (the selector checked); its revisions are its own.
    revisions = list(
        ModelCardRevision.objects.filter(card__version=version)
        .select_related("edited_by")
        .order_by("revision")
    )
    entries = []
    previous: dict[str, str] = {}
    for revision in revisions:
        content = revision.content
        changes = [
            {
                "label": CARD_LABELS.get(field, field),
                "before": previous.get(field, ""),
                "after": content.get(field, ""),
            }
            for field in CARD_FIELDS
            if previous.get(field, "") != content.get(field, "")
        ]
        entries.append({"revision": revision, "changes": changes})
        previous = content
    entries.reverse()
    context = {"model": version.model, "version": version, "entries": entries}
    return render(request, "models_registry/card_history.html", context)


# --- Datasets and runs ---------------------------------------------------------------


@login_required
@require_GET
@_service_errors_as_http
def dataset_detail(request, id: int):
    snapshot = selectors.dataset_get(actor=request.user, id=id)
    parents = list(selectors.dataset_list(actor=request.user).filter(children=snapshot))
    runs = []
    for run in (
        selectors.run_list(actor=request.user)
        .filter(run_inputs__snapshot=snapshot)
        .distinct()
    ):
        roles = sorted(
            {
                run_input.get_role_display()
                for run_input in run.run_inputs.all()
                if run_input.snapshot_id == snapshot.pk
            }
        )
        runs.append({"run": run, "roles": roles})
    evaluations = list(
        Evaluation.objects.filter(
            dataset=snapshot,
            version__model__in=access.models_for(request.user).values("pk"),
        )
        .select_related("version__model")
        .order_by("version__model__name", "-version__version", "split")
    )
    context = {
        "snapshot": snapshot,
        "parents": parents,
        "runs": runs,
        "evaluations": evaluations,
    }
    return render(request, "models_registry/dataset_detail.html", context)


@login_required
@require_GET
@_service_errors_as_http
def run_detail(request, id: int):
    run = selectors.run_get(actor=request.user, id=id)
    versions = list(
        selectors.version_list(actor=request.user, model=run.model).filter(
            training_run=run
        )
    )
    context = {
        "run": run,
        "model": run.model,
        "parameters": sorted(run.parameters.items()),
        "run_inputs": sorted(
            run.run_inputs.all(),
            key=lambda run_input: (run_input.role, run_input.snapshot.name),
        ),
        "versions": versions,
    }
    return render(request, "models_registry/run_detail.html", context)
