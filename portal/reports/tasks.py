"""The background report export: a thin, idempotent wrapper (see services)."""

from celery import shared_task

from portal.reports.services import report_export_run


@shared_task(name="portal.reports.tasks.report_export_task")
def report_export_task(export_id: int) -> str | None:
    """Prepare one queued report export; return its final status."""
    export = report_export_run(export_id=export_id)
    return export.status if export is not None else None
