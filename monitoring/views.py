"""Monitoring pages: the overview, a deployment's dashboard, the alerts across
deployments, an alert (its evidence and charts, the acknowledge and resolve
forms, and the rollback on risky models), and the human review queue. Reads go
through ``monitoring.selectors`` (404 for what a person may not see), writes
through ``monitoring.services``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from approvals import access as approvals_access
from approvals.models import DeploymentStatus
from kernel.errors import PermissionDenied as ServicePermissionDenied
from kernel.errors import ServiceError
from kernel.guards import is_digits
from kernel.pages import add_service_errors, service_errors_as_http
from models_registry.models import LLM_KINDS
from monitoring import access, charts, evidence, selectors
from monitoring.forms import (
    AcknowledgeForm,
    AlertFilterForm,
    DashboardForm,
    LabelForm,
    ResolveForm,
    StatisticsWindowForm,
)
from monitoring.models import AlertStatus, ReviewStatus
from monitoring.services import alerts as alert_services
from monitoring.services.review import review_item_label


@login_required
@require_GET
def overview(request):
    rows = selectors.overview(actor=request.user)
    waiting = selectors.review_queue_count(actor=request.user)
    return render(
        request,
        "monitoring/overview.html",
        {"rows": rows, "review_count": waiting},
    )


@login_required
@require_GET
@service_errors_as_http
def dashboard(request, id: int):
    # Unknown periods fall back to a week and unknown features to the most
    # drifted one (the selector checks the feature against the reference).
    raw_days = request.GET.get("days", "")
    days = int(raw_days) if is_digits(raw_days) else 7
    raw_window = request.GET.get("window", "")
    board = selectors.dashboard(
        actor=request.user,
        deployment_id=id,
        days=days,
        feature=request.GET.get("feature") or None,
        window_id=int(raw_window) if is_digits(raw_window) else None,
    )
    deployment = board.deployment
    model = deployment.model
    form = DashboardForm(
        initial={"days": board.days, "feature": board.feature},
        features=board.features,
    )
    windows_form = StatisticsWindowForm(
        initial={
            "days": board.days,
            "feature": board.feature,
            "window": next(
                (
                    pk
                    for pk, start in board.checked_windows
                    if start == board.statistics_window
                ),
                None,
            ),
        },
        windows=board.checked_windows,
        auto_id="statistics-%s",
    )
    # A prompt or LLM application sends LLM calls, never feature rows or labels.
    is_trained_model = model.kind not in LLM_KINDS
    figures = (
        charts.dashboard_figures(board, model, is_trained_model=is_trained_model)
        if board.target
        else {}
    )
    context = {
        "board": board,
        "deployment": deployment,
        "model": model,
        "form": form,
        "charts": {
            name: charts.embed(figure, f"chart-{name}")
            for name, figure in figures.items()
        },
        "summaries": charts.summary_text(board),
        "windows_form": windows_form,
        "statistics_tables": evidence.drift_tables(board.statistics),
        "window_count": len(board.windows),
        "is_trained_model": is_trained_model,
    }
    return render(request, "monitoring/dashboard.html", context)


ALERTS_PER_PAGE = 25
REVIEW_ITEMS_PER_PAGE = 50


@login_required
@require_GET
def alert_list(request):
    models, environments = selectors.alert_filter_choices(actor=request.user)
    form = AlertFilterForm(request.GET, models=models, environments=environments)
    if not form.is_valid():
        context = {"form": form, "page": None, "is_filtered": True}
        return render(request, "monitoring/alert_list.html", context, status=400)
    filters = form.filters()
    alerts = selectors.alert_list(actor=request.user, filters=filters)
    page = Paginator(alerts, ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "is_filtered": bool(filters)}
    return render(request, "monitoring/alert_list.html", context)


def _alert_context(request, alert, *, acknowledge_form=None, resolve_form=None):
    model = alert.target.model
    deployment = alert_services.live_deployment(alert.target)
    may_respond = access.may_respond(request.user, model)
    may_roll_back = (
        alert_services.may_offer_rollback(alert)
        and deployment is not None
        and deployment.status == DeploymentStatus.ACTIVE
        and deployment.rollback_target_id is not None
        and approvals_access.may_roll_back(request.user, model)
    )
    return {
        "alert": alert,
        "model": model,
        "deployment": deployment,
        "may_respond": may_respond,
        "may_roll_back": may_roll_back,
        "retrain_applies": alert_services.retrain_policy_applies(alert),
        "acknowledge_form": (acknowledge_form or AcknowledgeForm())
        if may_respond and alert.status == AlertStatus.OPEN
        else None,
        "resolve_form": (resolve_form or ResolveForm())
        if may_respond and alert.status != AlertStatus.RESOLVED
        else None,
        "offers_rollback": alert_services.may_offer_rollback(alert)
        and deployment is not None,
        "rollback_to": _rollback_version(deployment),
        "evidence": evidence.alert_evidence(alert.details or {}),
        "charts": {
            name: charts.embed(figure, f"chart-{name}")
            for name, figure in charts.alert_figures(
                alert,
                selectors.alert_history(alert),
                *selectors.alert_distribution(alert),
            ).items()
        },
    }


def _rollback_version(deployment) -> int | None:
    """The version number a rollback of ``deployment`` goes back to."""
    if deployment is None or deployment.rollback_target_id is None:
        return None
    return deployment.rollback_target.version.version


@login_required
@require_GET
@service_errors_as_http
def alert_detail(request, id: int):
    alert = selectors.alert_get(actor=request.user, id=id)
    return render(
        request, "monitoring/alert_detail.html", _alert_context(request, alert)
    )


@login_required
@require_POST
@service_errors_as_http
def alert_acknowledge(request, id: int):
    alert = selectors.alert_get(actor=request.user, id=id)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            alert, problem = alert_services.alert_acknowledge(
                actor=request.user, alert_id=id, note=form.cleaned_data["note"]
            )
        except ServicePermissionDenied:
            raise
        except ServiceError as error:
            add_service_errors(form, error)
            status = error.status_code
        else:
            messages.success(request, f"Alert #{alert.pk} is acknowledged.")
            if alert.retrain_request_id:
                messages.success(
                    request,
                    f"Retrain request #{alert.retrain_request_id} is open for review.",
                )
            elif problem:
                messages.error(request, f"No retrain request was opened: {problem}")
            return redirect("monitoring:alert-detail", id=id)
    else:
        status = 400
    context = _alert_context(request, alert, acknowledge_form=form)
    return render(request, "monitoring/alert_detail.html", context, status=status)


@login_required
@require_POST
@service_errors_as_http
def alert_resolve(request, id: int):
    alert = selectors.alert_get(actor=request.user, id=id)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            alert_services.alert_resolve(
                actor=request.user, alert_id=id, note=form.cleaned_data["note"]
            )
        except ServicePermissionDenied:
            raise
        except ServiceError as error:
            add_service_errors(form, error)
            status = error.status_code
        else:
            messages.success(request, f"Alert #{alert.pk} is resolved.")
            return redirect("monitoring:alert-detail", id=id)
    else:
        if not access.may_respond(request.user, alert.target.model):
            raise PermissionDenied("You may not resolve this alert.")
        status = 400
    context = _alert_context(request, alert, resolve_form=form)
    return render(request, "monitoring/alert_detail.html", context, status=status)


@login_required
@require_GET
def review_queue(request):
    items = selectors.review_queue_list(actor=request.user)
    page = Paginator(items, REVIEW_ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "monitoring/review_queue.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
@service_errors_as_http
def review_item(request, id: int):
    item = selectors.review_item_get(actor=request.user, id=id)
    may_label = access.may_respond(request.user, item.target.model)
    form = LabelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not may_label:
            raise PermissionDenied("You may not label this model's predictions.")
        status = 400
        if form.is_valid():
            try:
                review_item_label(
                    actor=request.user,
                    item_id=item.pk,
                    label=form.cleaned_data["label"],
                    comment=form.cleaned_data["comment"],
                )
            except ServicePermissionDenied:
                raise
            except ServiceError as error:
                if error.fields:
                    add_service_errors(form, error)
                else:
                    messages.error(request, error.message)
                status = error.status_code
            else:
                messages.success(
                    request, f"Prediction {item.prediction_id} is labelled."
                )
                following = selectors.review_queue(actor=request.user, limit=1)
                if following:
                    return redirect("monitoring:review-item", id=following[0].pk)
                return redirect("monitoring:review-queue")
    context = {
        "item": item,
        "model": item.target.model,
        "form": form if may_label and item.status == ReviewStatus.PENDING else None,
        "features": sorted(item.features.items()),
    }
    return render(request, "monitoring/review_item.html", context, status=status)
