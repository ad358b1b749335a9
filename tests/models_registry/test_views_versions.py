"""The version page, the model card editor and the card history."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from kernel import roles
from models_registry import services
from models_registry.models import ModelCard, ModelCardRevision, ModelVersion
from tests.models_registry import factories
from tests.models_registry.test_views_models import VISIBILITY, person

pytestmark = pytest.mark.django_db

AWS_KEY = "AKIA" + "ABCDEFGHIJKLMNOP"


@pytest.fixture
def data_scientist(team):
    return person("dana", roles.DATA_SCIENTIST, team=team)


@pytest.fixture
def platform_admin(db):
    return person("pat", roles.PLATFORM_ADMIN, is_staff=True)


@pytest.fixture
def model(data_scientist, team):
    return factories.make_model(
        data_scientist, team, name="credit-scoring", title="Consumer credit scoring"
    )


@pytest.fixture
def version(data_scientist, model):
    return factories.make_passing_version(data_scientist, model)


@pytest.fixture
def people(data_scientist, other_team, platform_admin, model, team):
    assigned_reviewer = person("rita", roles.REVIEWER)
    assigned_risk_officer = person("rio", roles.RISK_OFFICER)
    services.model_reviewer_assign(
        actor=platform_admin, user=assigned_reviewer, model=model
    )
    services.model_reviewer_assign(
        actor=platform_admin, user=assigned_risk_officer, team=team
    )
    return {
        "owner": data_scientist,
        "other_scientist": person("sam", roles.DATA_SCIENTIST, team=other_team),
        "assigned_reviewer": assigned_reviewer,
        "unassigned_reviewer": person("ursula", roles.REVIEWER),
        "assigned_risk_officer": assigned_risk_officer,
        "unassigned_risk_officer": person("rick", roles.RISK_OFFICER),
        "auditor": person("audrey", roles.AUDITOR),
        "platform_admin": platform_admin,
        "outsider": person("otto"),
    }


def _body(response) -> str:
    return response.content.decode()


def _url(name: str, version: ModelVersion) -> str:
    return reverse(name, args=[version.model.name, version.version])


def _row(body: str, marker: str) -> str:
    at = body.index(marker)
    return body[body.rindex("<tr", 0, at) : body.index("</tr>", at)]


def _card_post(card: ModelCard, **changes) -> dict:
    return {"base_revision": card.revision, **card.content(), **changes}


def _state(version):
    card = ModelCard.objects.get(version=version)
    return (
        card.revision,
        card.content(),
        ModelCardRevision.objects.filter(card=card).count(),
        AuditEvent.objects.count(),
    )


# --- Who sees what -------------------------------------------------------------------

PAGES = ["registry:version-detail", "registry:card-history"]


@pytest.mark.parametrize("page", [*PAGES, "registry:card-edit"])
def test_pages_send_anonymous_people_to_the_login(client, version, page):
    url = _url(page, version)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("persona", "sees"), VISIBILITY)
def test_version_pages_answer_404_to_people_who_may_not_see_the_model(
    client, people, version, page, persona, sees
):
    client.force_login(people[persona])
    response = client.get(_url(page, version))
    assert response.status_code == (200 if sees else 404)
    if not sees:
        assert version.artifact.sha256 not in _body(response)


def test_version_page_answers_404_for_a_version_that_does_not_exist(
    client, data_scientist, version
):
    client.force_login(data_scientist)
    url = reverse("registry:version-detail", args=[version.model.name, 99])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("owner", 200),
        ("assigned_reviewer", 403),
        ("assigned_risk_officer", 403),
        ("auditor", 403),
        ("platform_admin", 403),
        ("other_scientist", 404),
        ("unassigned_reviewer", 404),
        ("unassigned_risk_officer", 404),
        ("outsider", 404),
    ],
)
def test_card_editor_needs_the_change_permission(
    client, people, version, persona, status
):
    client.force_login(people[persona])
    before = _state(version)
    get = client.get(_url("registry:card-edit", version))
    card = ModelCard.objects.get(version=version)
    post = client.post(
        _url("registry:card-edit", version), _card_post(card, caveats="Changed.")
    )
    assert get.status_code == status
    if status == 200:
        assert post.status_code == 302
    else:
        assert post.status_code == status
        assert _state(version) == before


def test_edit_link_is_shown_only_to_people_who_may_edit(client, people, version):
    edit_url = _url("registry:card-edit", version)
    shown = {}
    for persona in ("owner", "assigned_reviewer", "auditor", "platform_admin"):
        client.force_login(people[persona])
        shown[persona] = edit_url in _body(
            client.get(_url("registry:version-detail", version))
        )
    assert shown == {
        "owner": True,
        "assigned_reviewer": False,
        "auditor": False,
        "platform_admin": False,
    }


# --- The version page ----------------------------------------------------------------


def test_version_page_shows_the_summary(client, data_scientist, model):
    version = factories.make_version(
        data_scientist,
        model,
        semantic_version="2.1.0",
        tags={"owner": "credit", "stage": "candidate"},
        description="Adds bureau features.",
        artifact={"size_bytes": 2_500_000, "format": "xgboost"},
    )
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:version-detail", version)))
    artifact = version.artifact
    assert f'<code class="wrap">{artifact.uri}</code>' in body
    assert f'<code class="wrap">{artifact.sha256}</code>' in body
    assert "2.4\xa0MB (2500000 bytes)" in body
    assert "<dt>Format</dt><dd>XGBoost</dd>" in body
    assert "<code>prep-1.4.2</code>" in body
    assert '<li class="tag"><code>income</code> numeric</li>' in body
    assert '<li class="tag"><code>region</code> categorical</li>' in body
    assert "<dt>Semantic version</dt><dd>2.1.0</dd>" in body
    assert "by dana</dd>" in body
    assert "<code>owner=credit</code>" in body
    assert "<code>stage=candidate</code>" in body
    assert "Adds bureau features." in body


def test_version_page_shows_the_card_with_its_revision(client, data_scientist, model):
    version = factories.make_version(data_scientist, model)
    services.model_card_update(
        actor=data_scientist, version=version, caveats="Recalibrate\nevery year."
    )
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:version-detail", version)))
    assert "Revision 2, by dana" in body
    for label, text in [
        ("Intended use", "Score consumer loan applications."),
        ("Out-of-scope uses", "Business lending."),
        ("Users", "Credit officers."),
        ("Limitations", "Thin-file applicants."),
        ("Ethical considerations", "Monitored for disparity by sex."),
        ("Training data", "Loans 2019-2023."),
        ("Evaluation data", "Loans 2024."),
        ("Caveats", "Recalibrate<br>every year."),
        ("Recommendations", "Human review below 0.3 confidence."),
    ]:
        assert f"<dt>{label}</dt>\n    <dd>{text}</dd>" in body
    assert "Card frozen" not in body


def test_version_page_marks_a_frozen_card(client, data_scientist, version):
    ModelVersion.objects.filter(pk=version.pk).update(
        status="approved", production_approved_at=datetime(2025, 3, 1, tzinfo=UTC)
    )
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:version-detail", version)))
    assert '<span class="badge frozen">Card frozen</span>' in body
    assert '<span class="badge frozen">Frozen</span>' in body
    assert _url("registry:card-edit", version) not in body


def test_version_page_shows_the_checklist_under_the_five_headings(
    client, data_scientist, version
):
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:version-detail", version)))
    headings = re.findall(
        r'<h3 id="check-\d+"><span class="badge status-(\w+)">\w+</span> ([^<]+)</h3>',
        body,
    )
    assert headings == [
        ("pass", "Offline metrics aligned with business risk"),
        ("pass", "Data and code reproducibility"),
        ("pass", "Packaged artifacts with versioning and rollback"),
        ("pass", "Online monitoring and drift strategy"),
        ("pass", "Governance and approval path"),
    ]
    items = re.findall(r'<li class="check-item status-(\w+)" data-item="(\w+)">', body)
    assert items == [
        ("pass", "success_metrics_defined"),
        ("pass", "offline_metrics_met"),
        ("pass", "fairness_slices"),
        ("pass", "lineage_recorded"),
        ("pass", "reproducibility_verified"),
        ("pass", "no_leakage"),
        ("pass", "artifact_pinned"),
        ("pass", "online_metrics_defined"),
        ("pass", "model_card_complete"),
    ]
    assert "Every offline success metric is met on the test split." in body
    assert "Checklist passes" in body


def test_version_page_shows_failing_items_with_their_reason(
    client, data_scientist, model
):
    version = factories.make_version(
        data_scientist, model, card={"intended_use": "Score loans."}
    )
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:version-detail", version)))
    item = body[body.index('data-item="model_card_complete"') :]
    item = item[: item.index("</li>")]
    assert '<span class="badge status-fail">Fails</span>' in item
    assert "Empty: out of scope uses, users, limitations" in item
    assert "No evaluation on the test split." in body
    assert "No training run is linked to the version." in body
    assert "Checklist fails" in body
    assert (
        '<h3 id="check-5"><span class="badge status-fail">Fails</span> '
        "Governance and approval path</h3>"
    ) in body


def test_version_page_shows_evaluations_per_split(client, data_scientist, version):
    validation = factories.make_snapshot(data_scientist, version.model.team)
    services.evaluation_record(
        actor=data_scientist,
        version=version,
        split="validation",
        dataset=validation,
        metrics={"auc": 0.83, "brier": 0.12},
    )
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:version-detail", version)))
    section = body[body.index('id="evaluations-heading"') :]
    section = section[: section.index("</section>")]
    assert re.findall(
        r'<th scope="col" class="number"><code>(\w+)</code>', section
    ) == [
        "auc",
        "brier",
        "ks",
    ]
    test_row = _row(section, '<th scope="row">Test</th>')
    assert re.findall(r'<td class="number">([^<]+)</td>', test_row) == [
        "0.81",
        "—",
        "0.42",
    ]
    validation_row = _row(section, '<th scope="row">Validation</th>')
    assert re.findall(r'<td class="number">([^<]+)</td>', validation_row) == [
        "0.83",
        "0.12",
        "—",
    ]
    assert validation.name in validation_row


def _evaluate_with_slices(actor, version, slices, split="test"):
    snapshot = factories.make_snapshot(actor, version.model.team)
    return services.evaluation_record(
        actor=actor,
        version=version,
        split=split,
        dataset=snapshot,
        metrics={"auc": 0.8},
        slices=slices,
    )


def _slice(attribute, group, size, **metrics):
    return {"attribute": attribute, "group": group, "size": size, "metrics": metrics}


def test_worst_disparity_is_highlighted_on_its_row(client, data_scientist, model):
    version = factories.make_version(data_scientist, model)
    evaluation = _evaluate_with_slices(
        data_scientist,
        version,
        [
            _slice("age_band", "18-30", 900, auc=0.79, tpr=0.70),
            _slice("age_band", "31-60", 3000, auc=0.80, tpr=0.72),
            _slice("sex", "female", 4000, auc=0.72, tpr=0.69),
            _slice("sex", "male", 6000, auc=0.82, tpr=0.71),
        ],
    )
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:version-detail", version)))
    section = body[body.index(f'id="slices-{evaluation.pk}"') :]
    slices = section[: section.index("</table>")]
    rows = re.findall(
        r'<tr( class="worst")? data-attribute="([^"]+)" data-group="([^"]+)">', slices
    )
    assert rows == [
        ("", "age_band", "18-30"),
        ("", "age_band", "31-60"),
        (' class="worst"', "sex", "female"),
        ("", "sex", "male"),
    ]
    worst_row = _row(slices, 'data-group="female"')
    assert '<span class="marker">worst disparity</span>' in worst_row
    assert re.findall(r'<td class="number( worst-value)?">([^<]+)</td>', worst_row) == [
        ("", "4000"),
        (" worst-value", "0.72"),
        ("", "0.69"),
    ]
    assert slices.count('<span class="marker">worst disparity</span>') == 1
    assert (
        "Worst disparity: <code>auc</code> is 0.72 for sex=female against 0.82 for "
        "sex=male, a gap of <strong>0.1</strong>, above the limit of 0.05."
    ) in section
    gaps = section[section.index('<table class="disparities">') :]
    gaps = gaps[: gaps.index("</table>")]
    assert re.findall(
        r'<tr( class="worst")? data-attribute="([^"]+)" data-metric="([^"]+)">', gaps
    ) == [
        (' class="worst"', "sex", "auc"),
        ("", "age_band", "tpr"),
        ("", "sex", "tpr"),
        ("", "age_band", "auc"),
    ]


def test_equal_groups_have_no_worst_disparity(client, data_scientist, model):
    version = factories.make_version(data_scientist, model)
    _evaluate_with_slices(
        data_scientist,
        version,
        [
            {
                "attribute": "sex",
                "group": "female",
                "size": 10,
                "metrics": {"auc": 0.8},
            },
            {"attribute": "sex", "group": "male", "size": 10, "metrics": {"auc": 0.8}},
        ],
    )
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:version-detail", version)))
    assert 'class="worst"' not in body
    assert "Worst disparity" not in body


def test_version_page_shows_the_lineage(client, data_scientist, model):
    team = model.team
    train = factories.make_snapshot(
        data_scientist,
        team,
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2023, 12, 31, tzinfo=UTC),
        pii_columns=[
            {"column": "email", "handling": "hashed", "legal_basis": ""},
            {"column": "region", "handling": "kept", "legal_basis": "contract"},
        ],
    )
    test = factories.make_snapshot(data_scientist, team, pii_columns=[])
    run = factories.make_run(
        data_scientist,
        model,
        inputs=[(train, "train"), (test, "test")],
        parameters={"max_depth": 6, "learning_rate": 0.1},
        random_seed=7,
    )
    version = factories.make_version(data_scientist, model, run=run)
    services.reproduction_check_record(
        actor=data_scientist,
        version=version,
        artifact_sha256=factories.digest("something else"),
        external_run_id="rerun-9",
    )
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:version-detail", version)))
    lineage = body[body.index('id="lineage-heading"') :]
    assert f'<a href="/models/runs/{run.pk}/">{run.external_run_id}</a>' in lineage
    assert "https://git.example.com/credit/scoring" in lineage
    assert f"<dt>Commit</dt><dd><code>{run.code_commit}</code></dd>" in lineage
    assert run.environment_lock_hash in lineage
    assert "<dt>Random seed</dt><dd>7</dd>" in lineage
    assert "<code>learning_rate=0.1</code>" in lineage
    assert "<code>max_depth=6</code>" in lineage
    train_row = _row(lineage, '<th scope="row">Training</th>')
    assert f'<a href="/models/datasets/{train.pk}/">{train.name}</a>' in train_row
    assert f'title="{train.sha256}"' in train_row
    assert '<td class="number">10000</td>' in train_row
    assert "2019-01-01</time> \N{EN DASH} <time" in train_row
    assert "2023-12-31" in train_row
    assert "<code>email</code> hashed" in train_row
    assert "<code>region</code> kept (contract)" in train_row
    test_row = _row(lineage, '<th scope="row">Test</th>')
    assert "no PII columns" in test_row
    assert "Not reproduced" in lineage
    assert "re-run rerun-9" in lineage
    difference = _row(lineage, "<code>artifact sha256</code>")
    assert version.artifact.sha256 in difference
    assert factories.digest("something else") in difference
    assert "<strong>no</strong>" in difference


def test_reproduction_by_metrics_shows_each_difference(client, data_scientist, team):
    model = factories.make_model(
        data_scientist,
        team,
        reproducibility_tolerance={
            "mode": "metrics",
            "tolerances": {"auc": 0.01, "ks": 0.001},
        },
    )
    version = factories.make_passing_version(data_scientist, model)
    services.reproduction_check_record(
        actor=data_scientist,
        version=version,
        artifact_sha256=factories.digest("rerun"),
        metrics={"auc": 0.805, "ks": 0.43},
    )
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:version-detail", version)))
    lineage = body[body.index('id="lineage-heading"') :]
    auc = _row(lineage, "<code>auc</code></th>")
    ks = _row(lineage, "<code>ks</code></th>")
    assert re.findall(r"<td>(?:<code class=\"wrap\">)?([^<]+)", auc) == [
        "0.81",
        "0.805",
        "0.005",
        "0.01",
        "yes",
    ]
    assert 'class="misses"' in ks
    assert "<strong>no</strong>" in ks
    assert "Not reproduced" in lineage


def test_dataset_links_only_to_snapshots_the_person_may_open(
    client, people, data_scientist, version
):
    # A snapshot used only for an evaluation is not visible to reviewers
    # (selectors.dataset_list), so their page names it without a link.
    holdout = factories.make_snapshot(data_scientist, version.model.team)
    services.evaluation_record(
        actor=data_scientist,
        version=version,
        split="out_of_time",
        dataset=holdout,
        metrics={"auc": 0.79},
    )
    link = f'<a href="/models/datasets/{holdout.pk}/">{holdout.name}</a>'
    client.force_login(people["owner"])
    assert link in _body(client.get(_url("registry:version-detail", version)))
    client.force_login(people["assigned_reviewer"])
    body = _body(client.get(_url("registry:version-detail", version)))
    assert link not in body
    assert holdout.name in body
    assert client.get(f"/models/datasets/{holdout.pk}/").status_code == 404


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["owner", "assigned_reviewer", "auditor"])
def test_version_page_runs_a_fixed_number_of_queries(
    client, people, data_scientist, version, persona
):
    url = _url("registry:version-detail", version)
    client.force_login(people[persona])
    few = _count_queries(client, url)
    for number in range(12):
        _evaluate_with_slices(
            data_scientist,
            version,
            [
                {
                    "attribute": attribute,
                    "group": f"group-{group}",
                    "size": 100 + group,
                    "metrics": {"auc": 0.7 + group / 100, "tpr": 0.6 + number / 100},
                }
                for attribute in ("sex", "age_band", "region")
                for group in range(4)
            ],
            split=("test", "validation", "out_of_time")[number % 3],
        )
        services.reproduction_check_record(
            actor=data_scientist,
            version=version,
            artifact_sha256=version.artifact.sha256,
        )
    services.model_card_update(actor=data_scientist, version=version, caveats="More.")
    many = _count_queries(client, url)
    assert many == few
    # One more than before: the version's pending deployment requests.
    assert many <= 16
    assert _body(client.get(url)).count('class="worst"') == 2 * 13


# --- The card editor -----------------------------------------------------------------


def test_card_editor_shows_the_current_text(client, data_scientist, version):
    client.force_login(data_scientist)
    response = client.get(_url("registry:card-edit", version))
    body = _body(response)
    assert response.status_code == 200
    assert '<input type="hidden" name="base_revision" value="1"' in body
    assert ">\nScore consumer loan applications.</textarea>" in body
    assert '<label for="id_out_of_scope_uses">Out-of-scope uses</label>' in body


def test_card_edit_saves_a_revision_and_redirects(client, data_scientist, version):
    client.force_login(data_scientist)
    card = ModelCard.objects.get(version=version)
    events = AuditEvent.objects.count()
    response = client.post(
        _url("registry:card-edit", version),
        _card_post(card, caveats="Recalibrate\r\nevery quarter.  ", users=""),
        follow=True,
    )
    assert response.redirect_chain == [(_url("registry:version-detail", version), 302)]
    assert "Model card saved as revision 2." in _body(response)
    card.refresh_from_db()
    assert (card.revision, card.caveats, card.users) == (
        2,
        "Recalibrate\nevery quarter.",
        "",
    )
    assert card.updated_by == data_scientist
    revision = ModelCardRevision.objects.get(card=card, revision=2)
    assert revision.content == card.content()
    event = AuditEvent.objects.get(action="card.updated")
    assert AuditEvent.objects.count() == events + 1
    assert event.payload["diff"] == {
        "caveats": ["Recalibrate yearly.", "Recalibrate\nevery quarter."],
        "users": ["Credit officers.", ""],
    }


def test_card_edit_without_changes_makes_no_revision(client, data_scientist, version):
    client.force_login(data_scientist)
    card = ModelCard.objects.get(version=version)
    before = _state(version)
    response = client.post(
        _url("registry:card-edit", version), _card_post(card), follow=True
    )
    assert "Nothing changed: the card is as it was." in _body(response)
    assert _state(version) == before


def test_card_edit_refuses_secrets_on_the_right_field(client, data_scientist, version):
    client.force_login(data_scientist)
    card = ModelCard.objects.get(version=version)
    before = _state(version)
    response = client.post(
        _url("registry:card-edit", version),
        _card_post(
            card,
            limitations=f"Needs the key {AWS_KEY} to load.",
            caveats="Recalibrate yearly, new text.",
        ),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == ["limitations"]
    assert form.errors["limitations"] == [
        "Looks like it holds credentials (an AWS access key id). Secrets must "
        "never be stored in Gatehouse: remove them."
    ]
    body = _body(response)
    field = body[body.index('<label for="id_limitations">') :]
    field = field[: field.index("</p>")]
    assert '<span class="error" role="alert">Looks like it holds credentials' in field
    assert _state(version) == before


def test_frozen_card_shows_an_explanation_and_no_form(client, data_scientist, version):
    ModelVersion.objects.filter(pk=version.pk).update(
        status="approved", production_approved_at=datetime(2025, 3, 1, tzinfo=UTC)
    )
    client.force_login(data_scientist)
    response = client.get(_url("registry:card-edit", version))
    body = _body(response)
    assert response.status_code == 200
    assert "This card can no longer be edited" in body
    assert "was approved for production on" in body
    assert "<textarea" not in body
    assert 'method="post" action="/models/credit' not in body


def test_frozen_card_refuses_a_post(client, data_scientist, version):
    client.force_login(data_scientist)
    card = ModelCard.objects.get(version=version)
    ModelVersion.objects.filter(pk=version.pk).update(
        status="approved", production_approved_at=datetime(2025, 3, 1, tzinfo=UTC)
    )
    before = _state(version)
    response = client.post(
        _url("registry:card-edit", version), _card_post(card, caveats="Too late.")
    )
    assert response.status_code == 409
    assert "The model card is frozen" in _body(response)
    assert "<textarea" not in _body(response)
    assert _state(version) == before


def test_card_edit_does_not_overwrite_a_newer_revision(client, data_scientist, version):
    client.force_login(data_scientist)
    stale = _card_post(ModelCard.objects.get(version=version), caveats="Mine.")
    services.model_card_update(
        actor=data_scientist, version=version, limitations="Theirs."
    )
    before = _state(version)
    response = client.post(_url("registry:card-edit", version), stale)
    assert response.status_code == 409
    body = _body(response)
    assert "Someone else saved revision 2 while you were editing." in body
    assert '<input type="hidden" name="base_revision" value="2"' in body
    assert ">\nMine.</textarea>" in body
    assert _state(version) == before
    # Saving again after looking goes through.
    again = client.post(
        _url("registry:card-edit", version), {**stale, "base_revision": 2}
    )
    assert again.status_code == 302
    card = ModelCard.objects.get(version=version)
    assert (card.revision, card.caveats, card.limitations) == (
        3,
        "Mine.",
        "Thin-file applicants.",
    )


def test_card_edit_rejects_a_missing_base_revision(client, data_scientist, version):
    client.force_login(data_scientist)
    data = _card_post(ModelCard.objects.get(version=version), caveats="New.")
    del data["base_revision"]
    before = _state(version)
    response = client.post(_url("registry:card-edit", version), data)
    assert response.status_code == 400
    assert _state(version) == before


# --- Card history --------------------------------------------------------------------


def test_card_history_shows_who_changed_what(client, data_scientist, team, version):
    colleague = person("cora", roles.DATA_SCIENTIST, team=team)
    services.model_card_update(
        actor=colleague, version=version, caveats="Recalibrate twice a year."
    )
    services.model_card_update(
        actor=data_scientist,
        version=version,
        users="Credit officers, auditors.",
        limitations="",
    )
    client.force_login(data_scientist)
    body = _body(client.get(_url("registry:card-history", version)))
    assert re.findall(r'<h2 id="revision-(\d+)">', body) == ["3", "2", "1"]
    third = body[body.index('id="revision-3"') : body.index('id="revision-2"')]
    second = body[body.index('id="revision-2"') : body.index('id="revision-1"')]
    first = body[body.index('id="revision-1"') :]
    assert "By dana on" in third
    assert "Changed: users, limitations." in third
    assert "<del>Credit officers.</del>" in third
    assert "<ins>Credit officers, auditors.</ins>" in third
    assert "<del>Thin-file applicants.</del>" in third
    assert "Caveats" not in third
    assert "By cora on" in second
    assert "Changed: caveats." in second
    assert "<del>Recalibrate yearly.</del>" in second
    assert "<ins>Recalibrate twice a year.</ins>" in second
    assert "First text of the card." in first
    assert "Score consumer loan applications." in first


def test_card_history_runs_a_fixed_number_of_queries(client, data_scientist, version):
    url = _url("registry:card-history", version)
    client.force_login(data_scientist)
    few = _count_queries(client, url)
    for number in range(10):
        services.model_card_update(
            actor=data_scientist, version=version, caveats=f"Edit {number}."
        )
    assert _count_queries(client, url) == few
