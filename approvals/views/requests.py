"""The reviewer queue, a request page with its decision and cancel forms, and
the form that submits a request."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from approvals import access as approvals_access
from approvals import selectors, services
from approvals.errors import GateFailed
from approvals.forms import (
    CancelForm,
    DecisionForm,
    DeploymentRequestForm,
)
from approvals.views.common import GATE_LABELS, role_labels
from approvals.views.prompt_requests import prompt_context
from kernel.errors import PermissionDenied as ServicePermissionDenied
from kernel.errors import ServiceError
from kernel.guards import is_digits
from kernel.numbers import money, number, signed, signed_money
from kernel.pages import add_service_errors, service_errors_as_http
from kernel.roles import DATA_SCIENTIST, user_roles
from models_registry import selectors as registry_selectors
from models_registry.checklist import FAIL, fairness_disparities
from models_registry.eval_formats.common import COST_METRICS
from models_registry.forms import CARD_LABELS
from models_registry.models import CARD_FIELDS

MY_REQUESTS_SHOWN = 50


# --- Queue ---------------------------------------------------------------------------


@login_required
@require_GET
def queue(request):
    user = request.user
    pending = selectors.request_queue(actor=user)
    rows = [
        {
            "request": item,
            "required": item.policy_snapshot.get("required_approvals", 1),
            "required_roles": role_labels(item.policy_snapshot),
        }
        for item in pending
    ]
    mine = list(
        selectors.request_list(actor=user).filter(requested_by=user)[:MY_REQUESTS_SHOWN]
    )
    context = {
        "rows": rows,
        "mine": mine,
        "shows_mine": bool(mine) or DATA_SCIENTIST in user_roles(user),
        "is_approver": approvals_access.holds_approving_role(user),
    }
    return render(request, "approvals/queue.html", context)


# --- Request page --------------------------------------------------------------------


def _gate_rows(gates: list[dict]) -> list[dict]:
    return [
        {**gate, "label": GATE_LABELS.get(gate["status"], gate["status"])}
        for gate in gates
    ]


def _metric_rows(metrics, *, money_metrics=frozenset()) -> list[dict]:
    """The comparison rows of a request page; the metrics named in
    ``money_metrics`` are amounts of US dollars."""
    rows = []
    for metric in metrics:
        is_money = metric.name in money_metrics
        show, show_signed = (money, signed_money) if is_money else (number, signed)
        verdict = ""
        if metric.delta is not None and metric.direction in ("higher", "lower"):
            if metric.delta == 0:
                verdict = "same"
            elif (metric.delta > 0) == (metric.direction == "higher"):
                verdict = "better"
            else:
                verdict = "worse"
        rows.append(
            {
                "name": metric.name,
                "candidate": show(metric.candidate),
                "live": show(metric.live),
                "delta": show_signed(metric.delta) if metric.delta is not None else "—",
                "direction": metric.direction,
                "verdict": verdict,
            }
        )
    return rows


def _fairness_table(detail) -> dict | None:
    evaluation = detail.test_evaluation
    if evaluation is None:
        return None
    slices = list(evaluation.slices.all())
    if not slices:
        return None
    disparities = fairness_disparities(slices)
    worst = disparities[0] if disparities and disparities[0].gap > 0 else None
    names = sorted({name for entry in slices for name in entry.metrics})
    limit = detail.request.version.model.fairness_max_disparity
    return {
        "metric_names": names,
        "rows": [
            {
                "slice": entry,
                "is_worst": worst is not None
                and (entry.attribute, entry.group)
                == (worst.attribute, worst.worst_group),
                "values": [number(entry.metrics.get(name)) for name in names],
            }
            for entry in sorted(slices, key=lambda s: (s.attribute, s.group))
        ],
        "worst": worst,
        "worst_gap": number(worst.gap) if worst else None,
        "limit": number(limit),
        "exceeds": worst is not None and worst.gap > limit,
    }


def _request_context(
    request, detail, *, decision_form=None, cancel_form=None, gate_error=None
) -> dict:
    item = detail.request
    version = item.version
    deployments = list(
        selectors.deployment_list(actor=request.user, model=version.model).filter(
            request=item
        )
    )
    card = detail.card
    policy = item.policy_snapshot
    context = {
        "item": item,
        "page_label": f"Request #{item.pk}",
        "detail": detail,
        "version": version,
        "model": version.model,
        "policy": policy,
        "required": policy.get("required_approvals", 1),
        "required_roles": role_labels(policy),
        "gates": _gate_rows(item.gate_results),
        "failing_count": sum(1 for gate in item.gate_results if gate["status"] == FAIL),
        "final_gates": _gate_rows(item.final_gate_results),
        "metric_rows": _metric_rows(detail.metrics),
        "fairness": _fairness_table(detail),
        "card_sections": [
            {"label": CARD_LABELS[field], "text": getattr(card, field)}
            for field in CARD_FIELDS
        ]
        if card
        else [],
        "deployments": deployments,
        "decision_form": (decision_form or DecisionForm())
        if detail.can_decide
        else None,
        "cancel_form": (cancel_form or CancelForm()) if detail.can_cancel else None,
        "gate_error": _gate_error(gate_error),
        "may_validate": approvals_access.may_validate(request.user, version),
    }
    prompt = prompt_context(detail)
    if prompt is not None:
        prompt["metric_rows"] = _metric_rows(
            prompt.pop("comparisons"), money_metrics=COST_METRICS
        )
        context["prompt"] = prompt
        context["card_sections"] = prompt.pop("card_sections")
    # The panel beside the summary: the forms, or why a decision was refused.
    context["decision_panel"] = bool(
        detail.can_decide or detail.can_cancel or gate_error
    )
    return context


def _gate_error(error: GateFailed | None) -> dict | None:
    """The failing gates of a refused final approval, with their reasons as the
    service evaluated them (carried by the error)."""
    if error is None:
        return None
    return {"message": error.message, "failing": error.gates}


@login_required
@require_GET
@service_errors_as_http
def request_detail(request, id: int):
    detail = selectors.request_detail(actor=request.user, id=id)
    return render(
        request, "approvals/request_detail.html", _request_context(request, detail)
    )


@login_required
@require_POST
@service_errors_as_http
def request_decide(request, id: int):
    # The selector answers 404 to people who may not see the request.
    selectors.request_get(actor=request.user, id=id)
    form = DecisionForm(request.POST)
    gate_error = None
    status = 400
    is_well_formed = form.is_valid()
    if is_well_formed:
        try:
            decision, deployment = services.decision_record(
                actor=request.user,
                request_id=id,
                outcome=form.cleaned_data["outcome"],
                comment=form.cleaned_data["comment"],
            )
        except ServicePermissionDenied:
            raise
        except GateFailed as error:
            gate_error = error
            status = error.status_code
        except ServiceError as error:
            add_service_errors(form, error)
            status = error.status_code
        else:
            if deployment is not None:
                messages.success(
                    request,
                    f"Approved. The request is complete and was executed: "
                    f"deployment #{deployment.pk} of v{deployment.version.version} is "
                    f"live in {deployment.environment}.",
                )
            else:
                messages.success(
                    request,
                    f"Your decision ({decision.get_outcome_display().lower()}, "
                    f"as {decision.role.replace('_', ' ')}) is recorded.",
                )
            return redirect("approvals:request-detail", id=id)
    detail = selectors.request_detail(actor=request.user, id=id)
    if not detail.can_decide and not is_well_formed:
        # A malformed POST from someone who may not decide is refused as such.
        raise PermissionDenied("You cannot decide this request.")
    context = _request_context(
        request, detail, decision_form=form, gate_error=gate_error
    )
    if not detail.can_decide:
        # Closed or decided meanwhile: say why, and show no form.
        context["closed_error"] = form.non_field_errors()
        context["decision_panel"] = True
    return render(request, "approvals/request_detail.html", context, status=status)


@login_required
@require_POST
@service_errors_as_http
def request_cancel(request, id: int):
    item = selectors.request_get(actor=request.user, id=id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.deployment_request_cancel(
                actor=request.user,
                request_id=item.pk,
                reason=form.cleaned_data["reason"],
            )
        except ServicePermissionDenied:
            raise
        except ServiceError as error:
            if not error.fields:  # e.g. decided meanwhile: say so on the page
                messages.error(request, error.message)
                return redirect("approvals:request-detail", id=item.pk)
            add_service_errors(form, error)  # a bad reason: show it on the form
            form.data = form.data.copy()
            form.data["reason"] = ""  # and never echo a credential back
        else:
            messages.success(request, f"Request #{item.pk} is cancelled.")
            return redirect("approvals:request-detail", id=item.pk)
    detail = selectors.request_detail(actor=request.user, id=id)
    if not detail.can_cancel:
        raise PermissionDenied("Only the requester or a platform admin cancels.")
    context = _request_context(request, detail, cancel_form=form)
    return render(request, "approvals/request_detail.html", context, status=400)


# --- Submit a request ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@service_errors_as_http
def request_new_by_id(request):
    """The form's old address, ``?version=<database id>``: a permanent redirect
    (keeping the method) to the version's own address, for people who may see
    it; 404 otherwise."""
    raw = request.GET.get("version", "")
    if not is_digits(raw):
        raise Http404("Say which version: ?version=<id>.")
    version = registry_selectors.version_get(actor=request.user, id=int(raw))
    url = reverse("approvals:request-new", args=[version.model.name, version.version])
    return HttpResponsePermanentRedirect(url, preserve_request=True)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors_as_http
def request_new(request, name: str, number: int):
    version = registry_selectors.version_get_by_number(
        actor=request.user, model_name=name, number=number
    )
    model = version.model
    if refusal := approvals_access.request_refusal(request.user, model):
        raise PermissionDenied(refusal.message)
    if request.method == "GET":
        form = DeploymentRequestForm()
    else:
        form = DeploymentRequestForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                submitted = services.deployment_request_submit(
                    actor=request.user,
                    version=version,
                    environment=data["environment"],
                    kind=data["kind"],
                    strategy=data["strategy"],
                    traffic_percent=data["traffic_percent"],
                    justification=data["justification"],
                )
            except ServicePermissionDenied:
                raise
            except ServiceError as error:
                add_service_errors(form, error)
            else:
                failing = sum(
                    1 for gate in submitted.gate_results if gate["status"] == FAIL
                )
                note = (
                    f" {failing} gate{'s' if failing != 1 else ''} fail now: the final "
                    "approval stays blocked until they pass."
                    if failing
                    else " Every gate passes now."
                )
                messages.success(
                    request,
                    f"Request #{submitted.pk} is submitted to the reviewers.{note}",
                )
                return redirect("approvals:request-detail", id=submitted.pk)
    context = {"form": form, "version": version, "model": model}
    status = 400 if request.method == "POST" else 200
    return render(request, "approvals/request_new.html", context, status=status)
