"""Report pages: the lineage report on screen and as downloads, background
exports with their progress, and the published JSON Schema.

Whoever may see a model may export its report (auditors see every model);
everyone else gets a 404, as on the model's own pages.
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kernel.errors import NotFound, ServiceError
from kernel.pages import add_service_errors, service_errors_as_http
from models_registry import selectors
from portal.models import ReportExport
from portal.reports.forms import ReportExportForm, ReportFormatForm
from portal.reports.render import CONTENT_TYPES, presentation, published_schema
from portal.reports.selectors import report_export_get, report_export_list
from portal.reports.services import (
    report_export,
    report_export_request,
    report_is_large,
)


def _subject(user, name: str, number: int | None):
    model = selectors.model_get(actor=user, name=name)
    version = (
        selectors.version_get_by_number(actor=user, model_name=name, number=number)
        if number is not None
        else None
    )
    return model, version


def _report(request, name: str, number: int | None):
    form = ReportFormatForm(request.GET)
    if not form.is_valid():
        _subject(request.user, name, number)
        return render(
            request,
            "reports/report_invalid.html",
            {"form": form, "name": name, "number": number},
            status=400,
        )
    model, version = _subject(request.user, name, number)
    export_format = form.cleaned_data["format"]
    if report_is_large(
        actor=request.user, model=model, version=version, export_format=export_format
    ):
        context = {
            "model": model,
            "version": version,
            "form": ReportExportForm(
                initial={
                    "format": export_format,
                    "version": version.version if version else None,
                }
            ),
            "exports": report_export_list(actor=request.user, limit=5),
        }
        return render(request, "reports/report_large.html", context)
    rendered = report_export(
        actor=request.user, model=model, version=version, export_format=export_format
    )
    if export_format == "html":
        return render(
            request, "reports/lineage_report.html", presentation(rendered.data)
        )
    response = HttpResponse(rendered.content, content_type=rendered.content_type)
    response["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
    response["X-Content-SHA256"] = rendered.sha256
    return response


@never_cache
@login_required
@require_GET
@service_errors_as_http
def model_report(request, name: str):
    return _report(request, name, None)


@never_cache
@login_required
@require_GET
@service_errors_as_http
def version_report(request, name: str, number: int):
    return _report(request, name, number)


@login_required
@require_POST
@service_errors_as_http
def export_start(request, name: str):
    model, _ = _subject(request.user, name, None)
    form = ReportExportForm(request.POST)
    version = None
    if form.is_valid() and form.cleaned_data["version"] is not None:
        try:
            version = selectors.version_get_by_number(
                actor=request.user,
                model_name=model.name,
                number=form.cleaned_data["version"],
            )
        except NotFound:
            form.add_error("version", "The model has no such version.")
    if form.is_valid():
        try:
            export = report_export_request(
                actor=request.user,
                model=model,
                version=version,
                export_format=form.cleaned_data["format"],
            )
        except ServiceError as error:
            add_service_errors(form, error)
        else:
            return redirect("reports:export-detail", id=export.pk)
    context = {
        "model": model,
        "version": version,
        "form": form,
        "exports": report_export_list(actor=request.user, limit=5),
    }
    return render(request, "reports/report_large.html", context, status=400)


@never_cache
@login_required
@require_GET
@service_errors_as_http
def export_detail(request, id: int):
    export = report_export_get(actor=request.user, id=id)
    is_pending = export.status in (
        ReportExport.Status.QUEUED,
        ReportExport.Status.RUNNING,
    )
    return render(
        request,
        "reports/export_detail.html",
        {"export": export, "is_pending": is_pending},
    )


@never_cache
@login_required
@require_GET
@service_errors_as_http
def export_download(request, id: int):
    export = report_export_get(actor=request.user, id=id)
    if export.status != ReportExport.Status.DONE or not export.file:
        raise Http404("The report is not ready.")
    response = FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.filename,
        content_type=CONTENT_TYPES[export.format],
    )
    response["X-Content-SHA256"] = export.sha256
    return response


@require_GET
def schema(request):
    """The JSON Schema of the JSON format, published for outside validators."""
    response = JsonResponse(published_schema(), json_dumps_params={"indent": 1})
    response["Content-Type"] = "application/schema+json"
    return response
