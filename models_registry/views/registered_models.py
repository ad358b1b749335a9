"""The registry's model pages: the list, a model's page and its risk class."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from kernel.errors import PermissionDenied as ServicePermissionDenied
from kernel.errors import ServiceError
from kernel.models import Team
from kernel.numbers import number
from kernel.pages import add_service_errors, service_errors_as_http
from kernel.roles import RISK_OFFICER, user_has_role
from models_registry import access, selectors, services
from models_registry.forms import (
    ModelFilterForm,
    RiskClassChangeForm,
)

MODELS_PER_PAGE = 25

DIRECTION_SIGNS = {"higher": "≥", "lower": "≤"}


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
            "threshold": number(target.get("threshold")),
        }
        for target in metrics
    ]


def _may_change_risk_class(user) -> bool:
    return user_has_role(user, RISK_OFFICER) and user.has_perm(
        "models_registry.change_risk_class"
    )


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
                    {"value": number(value), "meets": _meets(value, target)}
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
            {"metric": name, "tolerance": number(value)}
            for name, value in sorted(tolerance.get("tolerances", {}).items())
        ],
        "tolerance_mode": tolerance.get("mode", "exact_hash"),
        "fairness_required": model.risk_class in ("high", "critical"),
        "versions": versions,
        "risk_form": risk_form if may_change_risk_class else None,
    }


@login_required
@require_GET
@service_errors_as_http
def model_detail(request, name: str):
    model = selectors.model_get(actor=request.user, name=name)
    return render(
        request,
        "models_registry/model_detail.html",
        _model_page_context(request, model),
    )


@login_required
@require_POST
@service_errors_as_http
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
            add_service_errors(form, error)
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
