"""Where background report exports are kept: ``var/reports/`` under the
portal's working directory (``settings.VAR_DIR``), never under a public URL.
Files are handed out only by the download view, to the person who asked."""

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


@deconstructible
class ReportStorage(FileSystemStorage):
    """The location is read from the settings each time, so tests (and a
    changed VAR_DIR) move it without a new storage object."""

    def __init__(self):
        super().__init__()

    @property
    def base_location(self):
        return str(Path(settings.VAR_DIR) / "reports")

    @property
    def location(self):
        return str(Path(self.base_location).resolve())

    @property
    def base_url(self):
        # Never served directly: see portal.reports.views.export_download.
        return None


report_storage = ReportStorage()
