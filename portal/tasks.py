"""Celery finds tasks in each app's ``tasks`` module; the portal's live in its
sub-packages."""

from portal.reports.tasks import report_export_task

__all__ = ["report_export_task"]
