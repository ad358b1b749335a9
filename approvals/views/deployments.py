"""Deployment pages, one-click rollback with its confirmation page, and a
model's deployment timeline."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from approvals import access as approvals_access
from approvals import selectors, services
from approvals.access import may_request, may_roll_back, may_validate
from approvals.forms import (
    RollbackForm,
)
from approvals.models import DeploymentStatus, RequestStatus
from kernel.errors import PermissionDenied as ServicePermissionDenied
from kernel.errors import ServiceError
from kernel.pages import add_service_errors, service_errors_as_http
from models_registry import selectors as registry_selectors

TIMELINE_REQUESTS_SHOWN = 20
TIMELINE_VERSIONS_SHOWN = 20


@login_required
@require_GET
@service_errors_as_http
def deployment_detail(request, id: int):
    deployment = selectors.deployment_get(actor=request.user, id=id)
    context = {
        "deployment": deployment,
        "model": deployment.model,
        "page_label": f"Deployment #{deployment.pk}",
        "may_roll_back": deployment.status == DeploymentStatus.ACTIVE
        and deployment.rollback_target_id is not None
        and may_roll_back(request.user, deployment.model),
    }
    return render(request, "approvals/deployment_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors_as_http
def deployment_rollback(request, id: int):
    deployment = selectors.deployment_get(actor=request.user, id=id)
    model = deployment.model
    if refusal := approvals_access.roll_back_refusal(request.user, model):
        raise PermissionDenied(refusal.message)
    form = RollbackForm(request.POST if request.method == "POST" else None)
    status = 200
    problem = None
    if deployment.status != DeploymentStatus.ACTIVE:
        status_text = deployment.get_status_display().lower()
        problem = (
            f"Deployment #{deployment.pk} is {status_text}: only a live deployment "
            "can be rolled back."
        )
    elif deployment.rollback_target_id is None:
        problem = (
            f"Deployment #{deployment.pk} replaced nothing: there is no earlier "
            "deployment to go back to. Deploy another version instead."
        )
    if request.method == "POST":
        status = 400
        if problem is not None:
            status = 409
        elif form.is_valid():
            try:
                rolled_back, restored = services.deployment_rollback(
                    actor=request.user,
                    deployment_id=deployment.pk,
                    reason=form.cleaned_data["reason"],
                )
            except ServicePermissionDenied:
                raise
            except ServiceError as error:
                add_service_errors(form, error)
                status = error.status_code
            else:
                target = deployment.rollback_target
                live = restored or target
                messages.success(
                    request,
                    f"Deployment #{rolled_back.pk} (v{rolled_back.version.version}) is "
                    f"rolled back. Live in {rolled_back.environment} again: "
                    f"v{target.version.version}, artifact {target.artifact_sha256}"
                    + (
                        f" (restored as deployment #{restored.pk})."
                        if restored
                        else f" (deployment #{live.pk} was still live)."
                    ),
                )
                return redirect("approvals:model-timeline", name=model.name)
    context = {
        "deployment": deployment,
        "model": model,
        "target": deployment.rollback_target,
        "form": form,
        "problem": problem,
    }
    return render(request, "approvals/deployment_rollback.html", context, status=status)


@login_required
@require_GET
@service_errors_as_http
def model_timeline(request, name: str):
    model = registry_selectors.model_get(actor=request.user, name=name)
    timeline = selectors.deployment_timeline(actor=request.user, model=model)
    user = request.user
    environments = [
        {
            "environment": environment,
            "deployments": deployments,
            "active": [d for d in deployments if d.status == DeploymentStatus.ACTIVE],
        }
        for environment, deployments in timeline.items()
    ]
    requests_ = list(
        selectors.request_list(actor=user, filters={"model": model.name})[
            :TIMELINE_REQUESTS_SHOWN
        ]
    )
    is_requester = may_request(user, model)
    is_validator = approvals_access.is_validator(user)
    versions = []
    if is_requester or is_validator:
        versions = list(
            registry_selectors.version_list(actor=user, model=model)[
                :TIMELINE_VERSIONS_SHOWN
            ]
        )
    context = {
        "model": model,
        "environments": environments,
        "may_roll_back": may_roll_back(user, model),
        "requests": requests_,
        "pending_count": sum(
            1 for r in requests_ if r.current_status == RequestStatus.PENDING
        ),
        "versions": [
            {"version": version, "may_validate": may_validate(user, version)}
            for version in versions
        ],
        "may_request": is_requester,
    }
    return render(request, "approvals/model_timeline.html", context)
