"""Celery finds tasks in each app's ``tasks`` module; the portal's live in its
sub-packages, and here."""

from celery import shared_task

from portal.login_failures import login_failure_windows_close
from portal.reports.tasks import report_export_task

__all__ = ["close_login_failure_windows", "report_export_task"]


@shared_task(name="portal.tasks.close_login_failure_windows")
def close_login_failure_windows() -> int:
    """Write the audit summaries of failed-login windows that have ended."""
    return login_failure_windows_close()
