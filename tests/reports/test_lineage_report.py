"""The lineage report: its content, its formats, its audit event and who may
export it."""

import csv
import hashlib
import io
import json
import re
import zipfile

import jsonschema
import pypdf
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.selectors import chain_head
from kernel.spreadsheets import csv_cell
from portal.reports import render
from portal.reports.lineage_report import build_lineage_report
from portal.reports.tables import csv_tables
from tests.models_registry import lineage_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team):
    return lineage_world.build(team)


def report_url(world, version=None, **query):
    if version is None:
        url = reverse("reports:model-report", args=[world.model.name])
    else:
        url = reverse("reports:version-report", args=[world.model.name, version])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def schema():
    return render.published_schema()


def validate(data):
    jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.FormatChecker()
    ).validate(data)


# --- Content ----------------------------------------------------------------------


def test_report_sections_match_the_records(world, auditor):
    data = build_lineage_report(actor=auditor, model=world.model)
    snap = world.snap

    assert data["report"]["subject"] == {"model": world.model.name, "version": None}
    assert data["report"]["generated_by"] == auditor.username
    model = data["model"]
    assert (model["name"], model["risk_class"], model["regulatory_tier"]) == (
        world.model.name,
        "low",
        "minimal",
    )
    assert model["offline_success_metrics"] == world.model.offline_success_metrics
    assert model["online_success_metrics"] == world.model.online_success_metrics

    assert [
        (
            v["version"],
            v["artifact"]["sha256"],
            v["artifact"]["preprocessing_code_version"],
        )
        for v in data["versions"]
    ] == [
        (1, world.v1.artifact.sha256, "prep-1.4.2"),
        (2, world.v2.artifact.sha256, "prep-1.4.2"),
    ]

    datasets = {dataset["name"]: dataset for dataset in data["datasets"]}
    assert set(datasets) == {each.name for each in snap.values()}
    assert datasets["d-joined"]["parents"] == sorted([snap["b"].pk, snap["c"].pk])
    assert datasets["z-landing"]["derivation_depth"] == 4
    assert datasets["e-train"]["sha256"] == snap["e"].sha256
    assert datasets["e-train"]["schema"] == snap["e"].schema
    assert datasets["e-train"]["pii_columns"] == [
        {"column": "email", "handling": "hashed", "legal_basis": ""}
    ]

    runs = {run["id"]: run for run in data["runs"]}
    assert set(runs) == {world.run1.pk, world.run2.pk}
    assert runs[world.run1.pk]["code_commit"] == world.run1.code_commit
    assert (
        runs[world.run1.pk]["environment_lock_hash"] == world.run1.environment_lock_hash
    )
    assert runs[world.run1.pk]["inputs"] == [
        {"dataset": snap["t"].pk, "role": "test"},
        {"dataset": snap["e"].pk, "role": "train"},
    ]

    [evaluation] = data["evaluations"]
    assert (evaluation["version"], evaluation["split"], evaluation["dataset"]) == (
        1,
        "test",
        snap["t"].pk,
    )
    assert evaluation["metrics"] == {"auc": 0.81, "ks": 0.42}
    assert [
        (entry["attribute"], entry["group"], entry["size"])
        for entry in evaluation["fairness_slices"]
    ] == [("sex", "female", 40), ("sex", "male", 60)]

    assert [(card["version"], card["revision"]) for card in data["model_cards"]] == [
        (1, 1),
        (2, 1),
    ]
    assert data["model_cards"][0]["content"]["intended_use"] == (
        "Score consumer loan applications."
    )
    assert [len(card["revisions"]) for card in data["model_cards"]] == [1, 1]

    [check] = data["reproducibility_checks"]
    assert (check["version"], check["is_passed"], check["artifact_sha256"]) == (
        1,
        True,
        world.v1.artifact.sha256,
    )

    requests = {request["id"]: request for request in data["approval_requests"]}
    assert set(requests) == {
        world.first.request_id,
        world.second.request_id,
        world.pending.pk,
    }
    first_request = requests[world.first.request_id]
    assert first_request["status"] == "executed"
    assert first_request["gate_results"] == world.first.request.gate_results
    assert first_request["gate_results"][0]["id"] == "success_metrics_defined"
    [decision] = first_request["decisions"]
    approval = world.first.request.decisions.get()
    assert decision == {
        "id": approval.pk,
        "reviewer": approval.reviewer.username,
        "role": approval.role,
        "outcome": "approve",
        "comment": approval.comment,
        "created_at": decision["created_at"],
    }
    assert requests[world.pending.pk]["decisions"] == []

    deployments = {each["id"]: each for each in data["deployments"]}
    assert {key: value["status"] for key, value in deployments.items()} == {
        world.first.pk: "superseded",
        world.second.pk: "rolled_back",
        world.restored.pk: "active",
    }
    assert deployments[world.restored.pk]["restores"] == world.first.pk
    assert data["rollbacks"] == [
        {
            "rolled_back": world.second.pk,
            "rolled_back_version": 2,
            "environment": "staging",
            "at": data["rollbacks"][0]["at"],
            "by": world.cast.requester.username,
            "reason": lineage_world.ROLLBACK_REASON,
            "target": world.first.pk,
            "restored": world.restored.pk,
            "restored_version": 1,
        }
    ]

    scoped = AuditEvent.objects.filter(scope=world.model.name).order_by("sequence")
    audit = data["audit_events"]
    assert audit["is_included"] is True
    assert audit["total"] == scoped.count() == len(audit["events"])
    assert [event["sequence"] for event in audit["events"]] == list(
        scoped.values_list("sequence", flat=True)
    )
    assert audit["events"][0]["hash"] == scoped.first().hash
    actions = {entry["action"] for entry in audit["by_action"]}
    assert {"model.registered", "deployment.rolled_back"} <= actions

    assert data["monitoring_alerts"] == {"is_available": True, "alerts": []}

    chain = data["audit_chain"]
    head = chain_head()
    assert chain["is_intact"] is True
    assert (chain["head_sequence"], chain["head_hash"]) == head
    assert chain["event_count"] == AuditEvent.objects.count()
    validate(data)


def test_version_report_holds_that_version_only(world, auditor):
    data = build_lineage_report(actor=auditor, model=world.model, version=world.v1)
    assert data["report"]["subject"] == {"model": world.model.name, "version": 1}
    assert [version["version"] for version in data["versions"]] == [1]
    assert {run["id"] for run in data["runs"]} == {world.run1.pk}
    assert {request["version"] for request in data["approval_requests"]} == {1}
    assert {each["id"] for each in data["deployments"]} == {
        world.first.pk,
        world.restored.pk,
    }
    assert data["rollbacks"] == []
    validate(data)


def test_report_for_a_team_member_withholds_the_audit_log(world):
    data = build_lineage_report(actor=world.cast.author, model=world.model)
    assert data["audit_events"]["is_included"] is False
    assert data["audit_events"]["events"] == []
    assert data["audit_chain"]["is_intact"] is True
    validate(data)


def test_report_for_a_reviewer_keeps_hidden_snapshots_in_place(world):
    data = build_lineage_report(actor=world.cast.reviewer, model=world.model)
    hidden = [dataset for dataset in data["datasets"] if not dataset["is_visible"]]
    assert len(hidden) == 5
    assert all(dataset["sha256"] is None for dataset in hidden)
    validate(data)


def test_html_and_pdf_list_only_the_newest_events_but_count_all(
    world, auditor, settings
):
    settings.REPORT_INLINE_AUDIT_EVENTS = 3
    data = build_lineage_report(actor=auditor, model=world.model, audit_event_limit=3)
    audit = data["audit_events"]
    scoped = list(
        AuditEvent.objects.filter(scope=world.model.name)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert (audit["total"], audit["listed"]) == (len(scoped), 3)
    assert [event["sequence"] for event in audit["events"]] == scoped[-3:]
    assert "JSON and CSV" in audit["note"]


# --- Formats ----------------------------------------------------------------------


def test_html_report_on_screen_shows_every_section(client, world, auditor):
    client.force_login(auditor)
    response = client.get(report_url(world))
    assert response.status_code == 200
    body = response.content.decode()
    for section in (
        "r-identity",
        "r-versions",
        "r-datasets",
        "r-runs",
        "r-evaluations",
        "r-cards",
        "r-reproducibility",
        "r-validation",
        "r-requests",
        "r-deployments",
        "r-alerts",
        "r-audit",
        "r-chain",
    ):
        assert f'id="{section}"' in body
    assert world.v1.artifact.sha256 in body
    assert world.run1.environment_lock_hash in body
    assert lineage_world.ROLLBACK_REASON in body
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.action == "report.exported"
    assert event.payload["head_hash"] in body


def test_pdf_opens_and_holds_the_model_name_and_head_hash(client, world, auditor):
    client.force_login(auditor)
    response = client.get(report_url(world, format="pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="lineage-{world.model.name}-'
    )
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 2
    text = "".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", "", text)
    event = AuditEvent.objects.order_by("-sequence").first()
    assert world.model.name in text
    assert event.payload["head_hash"] in flat
    assert "Intact" in text
    assert world.v1.artifact.sha256 in flat


def test_json_download_validates_against_the_published_schema(client, world, auditor):
    client.force_login(auditor)
    response = client.get(report_url(world, format="json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    validate(data)
    published = client.get(reverse("reports:schema"))
    assert published.status_code == 200
    assert published.json() == schema()


def test_schema_rejects_a_report_missing_a_section(world, auditor):
    data = build_lineage_report(actor=auditor, model=world.model)
    del data["audit_chain"]
    with pytest.raises(jsonschema.ValidationError):
        validate(data)


def test_csv_zip_holds_one_table_per_section(client, world, auditor):
    client.force_login(auditor)
    response = client.get(report_url(world, format="csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))

    def table(name):
        with archive.open(f"{name}.csv") as handle:
            return list(csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8")))

    names = {name.removesuffix(".csv") for name in archive.namelist()}
    assert names == {
        "README.txt",
        "report",
        "model",
        "versions",
        "datasets",
        "dataset_parents",
        "runs",
        "run_inputs",
        "evaluations",
        "fairness_slices",
        "model_cards",
        "model_card_revisions",
        "reproducibility_checks",
        "validation_reports",
        "findings",
        "approval_requests",
        "gate_results",
        "decisions",
        "deployments",
        "rollbacks",
        "audit_events",
        "monitoring_alerts",
        "audit_chain",
    }
    assert [row["name"] for row in table("model")] == [world.model.name]
    assert [row["artifact_sha256"] for row in table("versions")] == [
        world.v1.artifact.sha256,
        world.v2.artifact.sha256,
    ]
    assert len(table("datasets")) == 7
    assert len(table("dataset_parents")) == 6
    assert len(table("run_inputs")) == 3
    assert len(table("fairness_slices")) == 2
    assert len(table("decisions")) == 2
    assert {row["status"] for row in table("deployments")} == {
        "superseded",
        "rolled_back",
        "active",
    }
    [rollback] = table("rollbacks")
    assert rollback["reason"] == lineage_world.ROLLBACK_REASON
    events = table("audit_events")
    assert len(events) == AuditEvent.objects.filter(scope=world.model.name).count() - 1
    [chain] = table("audit_chain")
    assert chain["is_intact"] == "true"
    assert json.loads(table("datasets")[0]["schema"])[0]["name"] == "income"


def test_csv_cells_that_would_run_as_formulas_are_neutralised():
    assert csv_cell("=HYPERLINK()") == "'=HYPERLINK()"
    assert csv_cell({"a": 1}) == '{"a": 1}'
    assert csv_cell(None) == ""


# --- The export's audit event ----------------------------------------------------


@pytest.mark.parametrize("export_format", ["html", "pdf", "json", "csv"])
def test_every_export_is_an_audit_event(client, world, auditor, export_format):
    client.force_login(auditor)
    before = chain_head()
    response = client.get(report_url(world, version=2, format=export_format))
    assert response.status_code == 200
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.sequence == before[0] + 1
    assert (event.action, event.scope, event.actor_id) == (
        "report.exported",
        world.model.name,
        auditor.pk,
    )
    assert (event.target_type, event.target_id) == (
        "models_registry.registeredmodel",
        str(world.model.pk),
    )
    payload = event.payload
    assert (payload["format"], payload["version"], payload["background"]) == (
        export_format,
        2,
        False,
    )
    assert (payload["head_sequence"], payload["head_hash"]) == before
    assert payload["chain_is_intact"] is True
    if export_format == "html":
        assert payload["sha256_of"] == "report-json"
        assert len(payload["sha256"]) == 64
    else:
        assert payload["sha256_of"] == "document"
        assert payload["sha256"] == hashlib.sha256(response.content).hexdigest()
        assert payload["size_bytes"] == len(response.content)
        assert response["X-Content-SHA256"] == payload["sha256"]


# --- Permissions and bad input ----------------------------------------------------


@pytest.mark.parametrize("export_format", ["html", "pdf", "json", "csv"])
def test_outsiders_get_404_and_nothing_is_recorded(
    client, world, outsider, export_format
):
    client.force_login(outsider)
    count = AuditEvent.objects.count()
    response = client.get(report_url(world, format=export_format))
    assert response.status_code == 404
    assert client.get(report_url(world, version=1)).status_code == 404
    assert AuditEvent.objects.count() == count


def test_a_data_scientist_of_another_team_may_not_export(client, world, other_team):
    from kernel import roles
    from tests.conftest import make_user

    client.force_login(make_user("sam", roles.DATA_SCIENTIST, team=other_team))
    count = AuditEvent.objects.count()
    assert client.get(report_url(world, format="json")).status_code == 404
    assert AuditEvent.objects.count() == count


@pytest.mark.parametrize("persona", ["author", "reviewer", "risk_officer"])
def test_people_who_see_the_model_may_export(client, world, persona):
    client.force_login(getattr(world.cast, persona))
    response = client.get(report_url(world, format="json"))
    assert response.status_code == 200
    validate(json.loads(response.content))


def test_auditors_export_every_model(client, world, auditor, other_team):
    from kernel import roles
    from tests.conftest import make_user
    from tests.models_registry import factories

    stranger = make_user("sam", roles.DATA_SCIENTIST, team=other_team)
    other = factories.make_model(stranger, other_team, name="other-teams-model")
    client.force_login(auditor)
    response = client.get(
        reverse("reports:model-report", args=[other.name]) + "?format=json"
    )
    assert response.status_code == 200


def test_unknown_version_is_404(client, world, auditor):
    client.force_login(auditor)
    count = AuditEvent.objects.count()
    assert client.get(report_url(world, version=7)).status_code == 404
    assert AuditEvent.objects.count() == count


def test_an_unknown_format_is_400_and_records_nothing(client, world, auditor):
    client.force_login(auditor)
    count = AuditEvent.objects.count()
    response = client.get(report_url(world, format="docx"))
    assert response.status_code == 400
    assert "format" in response.content.decode()
    assert "Select a valid choice" in response.content.decode()
    assert AuditEvent.objects.count() == count


def test_anonymous_people_are_sent_to_log_in(client, world):
    response = client.get(report_url(world, format="json"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_monitoring_alerts_join_the_report(world, auditor):
    from monitoring.models import Alert, MonitoringTarget

    target = MonitoringTarget.objects.create(
        model=world.model, version=world.v1, environment=world.restored.environment
    )
    alert = Alert.objects.create(
        target=target,
        kind="data_drift",
        subject="income",
        severity="high",
        title="Drift on income",
        first_window_start=world.restored.started_at,
        last_window_start=world.restored.started_at,
    )
    data = build_lineage_report(actor=auditor, model=world.model)
    assert data["monitoring_alerts"]["is_available"] is True
    [entry] = data["monitoring_alerts"]["alerts"]
    assert (entry["id"], entry["version"], entry["environment"]) == (
        alert.pk,
        1,
        "staging",
    )
    assert (entry["check"], entry["subject"], entry["status"]) == (
        "data_drift",
        "income",
        "open",
    )
    validate(data)
    only_v2 = build_lineage_report(actor=auditor, model=world.model, version=world.v2)
    assert only_v2["monitoring_alerts"]["alerts"] == []
    tables = {table.name: table for table in csv_tables(data)}
    assert [row["title"] for row in tables["monitoring_alerts"].rows] == [
        "Drift on income"
    ]
