"""Exporting lineage reports: at once for small ones, in the background for
large ones. Every finished export is a ``report.exported`` audit event that
holds the head of the chain it was verified at and the sha256 of what was
handed out."""

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from kernel.errors import NotFound, ServiceError
from kernel.outbox import enqueue_on_commit
from models_registry import selectors
from models_registry.models import ModelVersion, RegisteredModel
from portal.models import ReportExport
from portal.reports.lineage_report import build_lineage_report, report_row_estimate
from portal.reports.render import (
    CONTENT_TYPES,
    FORMATS,
    filename_for,
    render,
    render_json,
)

logger = logging.getLogger(__name__)

BACKGROUND_FORMATS = tuple(choice for choice, _ in ReportExport.Format.choices)


class ReportInvalid(ServiceError):
    code = "invalid"


class ReportExportNotFound(NotFound):
    code = "report_export_not_found"


def inline_audit_event_limit() -> int:
    """How many audit events the HTML and PDF list (JSON and CSV list all)."""
    return settings.REPORT_INLINE_AUDIT_EVENTS


def sync_row_limit() -> int:
    """Reports with more rows than this are prepared in the background."""
    return settings.REPORT_SYNC_MAX_ROWS


def _check_format(export_format: str, allowed: tuple[str, ...]) -> None:
    if export_format not in allowed:
        raise ReportInvalid(
            "No report was exported.",
            fields={"format": [f"Choose one of: {', '.join(allowed)}."]},
        )


def report_is_large(
    *, actor, model: RegisteredModel, version: ModelVersion | None, export_format: str
) -> bool:
    """True when the report should be prepared in the background.

    The HTML on screen is always answered at once: it lists at most
    ``inline_audit_event_limit`` audit events.
    """
    if export_format == "html":
        return False
    estimate = report_row_estimate(
        actor=actor,
        model=model,
        version=version,
        audit_rows=export_format in ("json", "csv"),
    )
    return estimate > sync_row_limit()


@dataclass(frozen=True)
class RenderedReport:
    data: dict[str, Any]
    content: bytes
    content_type: str
    filename: str
    sha256: str
    audit_sequence: int


def _audit_limit(export_format: str) -> int | None:
    return inline_audit_event_limit() if export_format in ("html", "pdf") else None


def _record_export(
    *,
    actor,
    model: RegisteredModel,
    data: dict[str, Any],
    export_format: str,
    content: bytes,
    is_background: bool,
) -> int:
    chain = data["audit_chain"]
    # On screen the page itself is the document; what it shows is the report's
    # data, so its JSON form is what the digest covers.
    sha256_of = "report-json" if export_format == "html" else "document"
    event = audit_record(
        actor=actor,
        action="report.exported",
        target=model,
        scope=model.name,
        payload={
            "format": export_format,
            "version": data["report"]["subject"]["version"],
            "background": is_background,
            "head_sequence": chain["head_sequence"],
            "head_hash": chain["head_hash"],
            "chain_is_intact": chain["is_intact"],
            "sha256": hashlib.sha256(content).hexdigest(),
            "sha256_of": sha256_of,
            "size_bytes": len(content),
        },
    )
    return event.sequence


def report_export(
    *,
    actor,
    model: RegisteredModel,
    version: ModelVersion | None = None,
    export_format: str,
) -> RenderedReport:
    """Build, render and record one export now; return the document.

    ``model`` and ``version`` must come from the selectors for this actor
    (they are checked again while the report is built). For the HTML format the
    portal page renders the screen template itself; ``content`` is then the
    report's JSON form, which is what the audit event's sha256 covers.
    """
    _check_format(export_format, FORMATS)
    data = build_lineage_report(
        actor=actor,
        model=model,
        version=version,
        audit_event_limit=_audit_limit(export_format),
    )
    if export_format == "html":
        # The portal page renders the screen template itself.
        content = render_json(data)
    else:
        content = render(data, export_format)
    with transaction.atomic():
        sequence = _record_export(
            actor=actor,
            model=model,
            data=data,
            export_format=export_format,
            content=content,
            is_background=False,
        )
    return RenderedReport(
        data=data,
        content=content,
        content_type=CONTENT_TYPES[export_format],
        filename=filename_for(data, export_format),
        sha256=hashlib.sha256(content).hexdigest(),
        audit_sequence=sequence,
    )


def report_export_request(
    *,
    actor,
    model: RegisteredModel,
    version: ModelVersion | None = None,
    export_format: str,
) -> ReportExport:
    """Queue a background export; its page shows the progress.

    The export is recorded in the audit log when its file is finished.
    """
    _check_format(export_format, BACKGROUND_FORMATS)
    # The caller got the model from the selectors; ask them again so that a
    # service called directly cannot queue an invisible model's report.
    model = selectors.model_get(actor=actor, name=model.name)
    with transaction.atomic():
        export = ReportExport.objects.create(
            requested_by=actor,
            model=model,
            version_number=version.version if version is not None else None,
            format=export_format,
            stage="Waiting for a worker",
        )
        _enqueue_after_commit(export.pk)
    return export


def _enqueue_after_commit(export_id: int) -> None:
    def send() -> None:
        # Imported here: the task module imports this one.
        from portal.reports.tasks import report_export_task

        report_export_task.delay(export_id)

    enqueue_on_commit("enqueue_report_export", send)


def _set_progress(export_id: int, percent: int, stage: str) -> None:
    # Outside any transaction: each step commits, so the browser sees it.
    ReportExport.objects.filter(pk=export_id).update(progress=percent, stage=stage)


def report_export_run(*, export_id: int) -> ReportExport | None:
    """Prepare a queued export (the background task's body).

    Idempotent: a finished export is left as it is, and a run interrupted by
    a dead worker starts again from the beginning when the task is redelivered.
    The requester's right to see the model is checked again now.
    """
    with transaction.atomic():
        export = (
            ReportExport.objects.select_for_update()
            .select_related("requested_by", "model")
            .filter(pk=export_id)
            .first()
        )
        if export is None or export.status == ReportExport.Status.DONE:
            return export
        export.status = ReportExport.Status.RUNNING
        export.started_at = timezone.now()
        export.progress = 1
        export.stage = "Started"
        export.error = ""
        export.save(
            update_fields=["status", "started_at", "progress", "stage", "error"]
        )
    actor = export.requested_by
    try:
        model = selectors.model_get(actor=actor, name=export.model.name)
        version = None
        if export.version_number is not None:
            version = selectors.version_get_by_number(
                actor=actor, model_name=model.name, number=export.version_number
            )
        data = build_lineage_report(
            actor=actor,
            model=model,
            version=version,
            audit_event_limit=_audit_limit(export.format),
            progress=lambda percent, stage: _set_progress(export.pk, percent, stage),
        )
        _set_progress(export.pk, 80, f"Writing the {export.get_format_display()}")
        content = render(data, export.format)
        _set_progress(export.pk, 95, "Storing the file")
        filename = filename_for(data, export.format)
        with transaction.atomic():
            export = ReportExport.objects.select_for_update().get(pk=export.pk)
            export.file.save(filename, ContentFile(content), save=False)
            export.audit_sequence = _record_export(
                actor=actor,
                model=model,
                data=data,
                export_format=export.format,
                content=content,
                is_background=True,
            )
            export.filename = filename
            export.sha256 = hashlib.sha256(content).hexdigest()
            export.size_bytes = len(content)
            export.status = ReportExport.Status.DONE
            export.progress = 100
            export.stage = "Ready"
            export.finished_at = timezone.now()
            export.save()
    except NotFound:
        _fail(
            export.pk, "You may no longer see this model, so the report was not made."
        )
    except Exception as error:
        logger.exception("report export %s failed", export.pk)
        _fail(export.pk, f"The report could not be prepared: {type(error).__name__}.")
    return ReportExport.objects.get(pk=export.pk)


def _fail(export_id: int, message: str) -> None:
    ReportExport.objects.filter(pk=export_id).update(
        status=ReportExport.Status.FAILED,
        stage="Failed",
        error=message,
        finished_at=timezone.now(),
    )
