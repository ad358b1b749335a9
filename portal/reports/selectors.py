"""Reads of report exports: a person sees only the exports they asked for."""

from portal.models import ReportExport
from portal.reports.services import ReportExportNotFound


def report_export_get(*, actor, id: int) -> ReportExport:
    export = (
        ReportExport.objects.select_related("model")
        .filter(pk=id, requested_by=actor)
        .first()
    )
    if export is None or not getattr(actor, "is_authenticated", False):
        raise ReportExportNotFound("No such report export.")
    return export


def report_export_list(*, actor, limit: int = 20) -> list[ReportExport]:
    return list(
        ReportExport.objects.select_related("model")
        .filter(requested_by=actor)
        .order_by("-created_at", "-pk")[:limit]
    )
