"""The little world the fuzz tests call into: a team, its people, a model with
versions, a validation report with a finding, a deployment and a request.

Shared by the schema fuzz test and the hostile-strings test, so that paths with
ids reach real objects in both.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group

from kernel import roles
from kernel.models import Team
from models_registry import services
from portal.services import api_token_create
from tests.approvals import scenarios
from tests.conftest import make_user
from tests.models_registry import factories


@dataclass
class World:
    """A little data, so that paths with ids reach real objects."""

    tokens: dict[str, str]
    ids: dict[str, object]
    people: dict[str, object] = field(default_factory=dict)
    cast: object = None


def seed() -> World:
    """Write the world (call it inside a transaction that is rolled back)."""
    group = Group.objects.create(name="team:fuzz")
    team = Team.objects.create(name="Fuzz", slug="fuzz", group=group)
    cast = scenarios.Cast(team)
    auditor = make_user("audrey", roles.AUDITOR)
    model, version = scenarios.passing_model(cast)
    report = scenarios.validate(
        cast,
        version,
        outcome="passed_with_findings",
        findings=[
            {"severity": "low", "title": "Calibration drifts", "owner": "author"}
        ],
    )
    deployment = scenarios.deploy(cast, version, env="staging")
    # An LLM application with a prompt version to pin (issue #12).
    prompt = factories.make_model(cast.author, team, name="fuzz-prompt", kind="prompt")
    services.prompt_version_register(
        actor=cast.author, model=prompt, template="Hello {{customer}}"
    )
    app = factories.make_model(cast.author, team, name="fuzz-app", kind="llm_app")
    request = scenarios.request(cast, version, env="production")
    people = {
        "data_scientist": cast.requester,
        "reviewer": cast.reviewer,
        "risk_officer": cast.risk_officer,
        "validator": cast.validator,
        "auditor": auditor,
        "platform_admin": cast.admin,
    }
    tokens = {
        persona: api_token_create(user=user, name="fuzz")[1]
        for persona, user in people.items()
    }
    ids = {
        "name": model.name,
        "environment": "staging",
        "number": version.version,
        "versions": version.pk,
        "requests": request.pk,
        "deployments": deployment.pk,
        "runs": version.training_run_id,
        "datasets": version.training_run.run_inputs.first().snapshot_id,
        "findings": report.findings.first().pk,
        "sequence": 1,
        "llm_app": app.name,
        "prompt": prompt.name,
    }
    return World(tokens=tokens, ids=ids, people=people, cast=cast)
