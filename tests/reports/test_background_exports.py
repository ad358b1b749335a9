"""Large reports: prepared by a Celery task (eager here), with progress shown in
the browser and a download link when ready."""

import hashlib
import io
import json

import pypdf
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from models_registry.models import RegisteredModelGroupObjectPermission
from portal.models import ReportExport
from portal.reports import services
from tests.models_registry import lineage_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # Every report with a format to download counts as large.
    settings.REPORT_SYNC_MAX_ROWS = 1
    return lineage_world.build(team)


def start(client, world, export_format, version=""):
    return client.post(
        reverse("reports:export-start", args=[world.model.name]),
        {"format": export_format, "version": version},
    )


def test_a_large_report_offers_a_background_export(client, world, auditor):
    client.force_login(auditor)
    count = AuditEvent.objects.count()
    response = client.get(
        reverse("reports:model-report", args=[world.model.name]) + "?format=pdf"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "prepared in the background" in body
    assert reverse("reports:export-start", args=[world.model.name]) in body
    assert (ReportExport.objects.count(), AuditEvent.objects.count()) == (0, count)


def test_the_report_on_screen_is_never_deferred(client, world, auditor):
    client.force_login(auditor)
    response = client.get(reverse("reports:model-report", args=[world.model.name]))
    assert response.status_code == 200
    assert 'id="r-chain"' in response.content.decode()


def test_background_export_runs_and_offers_its_file(
    client, world, auditor, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    before = AuditEvent.objects.order_by("-sequence").first()
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, world, "pdf", version="1")
    export = ReportExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:export-detail", args=[export.pk])
    assert (export.status, export.progress, export.stage) == ("done", 100, "Ready")
    assert (export.requested_by, export.model, export.version_number) == (
        auditor,
        world.model,
        1,
    )

    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert 'http-equiv="refresh"' not in body
    download_url = reverse("reports:export-download", args=[export.pk])
    assert download_url in body

    download = client.get(download_url)
    assert download.status_code == 200
    content = b"".join(download.streaming_content)
    assert download["Content-Type"] == "application/pdf"
    assert hashlib.sha256(content).hexdigest() == export.sha256
    assert len(content) == export.size_bytes
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages
    )
    assert world.model.name in text

    event = AuditEvent.objects.get(sequence=export.audit_sequence)
    assert (event.action, event.scope, event.actor_id) == (
        "report.exported",
        world.model.name,
        auditor.pk,
    )
    assert event.payload["background"] is True
    assert event.payload["sha256"] == export.sha256
    assert event.payload["version"] == 1
    assert event.payload["head_sequence"] == before.sequence


def test_progress_is_stored_and_shown_while_the_export_runs(
    client, world, auditor, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    seen = {}
    render = services.render

    def render_and_look(data, export_format):
        export = ReportExport.objects.get()
        seen["row"] = (export.status, export.progress, export.stage)
        page = client.get(reverse("reports:export-detail", args=[export.pk]))
        seen["page"] = page.content.decode()
        return render(data, export_format)

    monkeypatch.setattr(services, "render", render_and_look)
    with django_capture_on_commit_callbacks(execute=True):
        start(client, world, "json")
    assert seen["row"] == ("running", 80, "Writing the JSON")
    assert 'http-equiv="refresh" content="2"' in seen["page"]
    assert 'value="80"' in seen["page"]
    assert "Writing the JSON" in seen["page"]
    export = ReportExport.objects.get()
    data = json.loads(export.file.read())
    # JSON lists every audit event, whatever the inline limit.
    assert data["audit_events"]["listed"] == data["audit_events"]["total"]


def test_a_queued_export_shows_its_waiting_state(client, world, auditor):
    client.force_login(auditor)
    # Without running the on-commit callback the task is never sent.
    response = start(client, world, "csv")
    export = ReportExport.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("reports:export-detail", args=[export.pk]))
    assert export.status == "queued"
    assert 'http-equiv="refresh"' in page.content.decode()
    download = client.get(reverse("reports:export-download", args=[export.pk]))
    assert download.status_code == 404


def test_running_the_task_twice_changes_nothing(
    client, world, auditor, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        start(client, world, "json")
    export = ReportExport.objects.get()
    count = AuditEvent.objects.count()
    again = services.report_export_run(export_id=export.pk)
    assert (again.status, again.sha256, again.audit_sequence) == (
        "done",
        export.sha256,
        export.audit_sequence,
    )
    assert AuditEvent.objects.count() == count


def test_exports_are_private_to_their_requester(
    client, world, auditor, platform_admin, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        start(client, world, "json")
    export = ReportExport.objects.get()
    client.force_login(platform_admin)
    assert (
        client.get(reverse("reports:export-detail", args=[export.pk])).status_code
        == 404
    )
    download = client.get(reverse("reports:export-download", args=[export.pk]))
    assert download.status_code == 404


def test_export_fails_cleanly_if_the_requester_lost_sight_of_the_model(
    client, world, django_capture_on_commit_callbacks
):
    author = world.cast.author
    client.force_login(author)
    response = start(client, world, "json")
    export = ReportExport.objects.get()
    # The team loses its rights on the model before a worker picks the job up.
    RegisteredModelGroupObjectPermission.objects.filter(
        content_object=world.model
    ).delete()
    count = AuditEvent.objects.count()
    services.report_export_run(export_id=export.pk)
    export.refresh_from_db()
    assert response.status_code == 302
    assert (export.status, export.file.name) == ("failed", "")
    assert "no longer see" in export.error
    assert AuditEvent.objects.count() == count


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"format": "docx"}, "format"),
        ({"format": "html"}, "format"),
        ({"format": "pdf", "version": "0"}, "version"),
        ({"format": "pdf", "version": "9"}, "version"),
        ({}, "format"),
    ],
)
def test_bad_export_requests_are_400_and_change_nothing(
    client, world, auditor, data, field
):
    client.force_login(auditor)
    count = AuditEvent.objects.count()
    response = client.post(
        reverse("reports:export-start", args=[world.model.name]), data
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert (ReportExport.objects.count(), AuditEvent.objects.count()) == (0, count)


def test_outsiders_cannot_start_an_export(client, world, outsider):
    client.force_login(outsider)
    count = AuditEvent.objects.count()
    assert start(client, world, "json").status_code == 404
    assert (ReportExport.objects.count(), AuditEvent.objects.count()) == (0, count)


def test_the_service_refuses_an_invisible_model(world, outsider):
    from models_registry.errors import ModelNotFound

    with pytest.raises(ModelNotFound):
        services.report_export_request(
            actor=outsider, model=world.model, export_format="json"
        )
    assert ReportExport.objects.count() == 0
