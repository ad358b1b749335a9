"""The validation report form of validators (effective challenge)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from approvals import access as approvals_access
from approvals import services
from approvals.forms import (
    FindingFormSet,
    ValidationReportForm,
)
from kernel.errors import PermissionDenied as ServicePermissionDenied
from kernel.errors import ServiceError
from kernel.pages import safe_next, service_errors_as_http
from models_registry import selectors as registry_selectors


@login_required
@require_http_methods(["GET", "POST"])
@service_errors_as_http
def version_validate(request, id: int):
    version = registry_selectors.version_get(actor=request.user, id=id)
    model = version.model
    if not approvals_access.may_validate(request.user, version):
        raise PermissionDenied(
            "Only validators independent of the version record validation reports."
        )
    fallback = reverse("approvals:model-timeline", kwargs={"name": model.name})
    if request.method == "GET":
        form = ValidationReportForm()
        findings = FindingFormSet(prefix="findings")
    else:
        form = ValidationReportForm(request.POST)
        findings = FindingFormSet(request.POST, prefix="findings")
        if form.is_valid() and findings.is_valid():
            rows = [f.finding() for f in findings.forms if f.has_changed()]
            try:
                report = services.validation_report_record(
                    actor=request.user,
                    version=version,
                    outcome=form.cleaned_data["outcome"],
                    summary=form.cleaned_data["summary"],
                    findings=rows,
                )
            except ServicePermissionDenied:
                raise
            except ServiceError as error:
                _add_finding_errors(form, findings, error)
            else:
                messages.success(
                    request,
                    f"Validation report #{report.pk} of {model.name} "
                    f"v{version.version} is recorded "
                    f"({report.get_outcome_display().lower()}, "
                    f"{len(rows)} finding{'s' if len(rows) != 1 else ''}).",
                )
                return redirect(safe_next(request, fallback))
    context = {
        "form": form,
        "findings": findings,
        "version": version,
        "model": model,
        "next": safe_next(request, fallback),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "approvals/version_validate.html", context, status=status)


def _add_finding_errors(form, findings, error: ServiceError) -> None:
    """Service errors name ``findings[i]`` for the i-th non-blank row."""
    filled = [f for f in findings.forms if f.has_changed()]
    if not error.fields:
        form.add_error(None, error.message)
    for field, problems in error.fields.items():
        if field.startswith("findings[") and field.endswith("]"):
            index = int(field[len("findings[") : -1])
            target = filled[index] if index < len(filled) else None
            for problem in problems:
                if target is not None:
                    target.add_error(None, problem)
                else:
                    form.add_error(None, problem)
            continue
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)
