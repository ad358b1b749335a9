"""Governed aliases, configured by platform admins in the Django admin: which
alias names the version live (full traffic) in which environment, for which
kind of entry, globally, for one team or for one entry (see GovernedAlias)."""

from django.db import transaction

from approvals.models import Environment
from audit.services import audit_record
from kernel.models import Team
from mlflow_bridge import errors
from mlflow_bridge.models import GovernedAlias
from mlflow_bridge.services import checks
from models_registry.models import EntryKind, RegisteredModel


def validate_governed_alias(alias: str) -> None:
    checks.validate_alias(alias)
    checks.validate_alias_not_reserved(alias)


def _describe(governed: GovernedAlias) -> dict:
    return {
        "alias": governed.alias,
        "environment": governed.environment.name if governed.environment else None,
        "kind": governed.kind,
        "team": governed.team.slug if governed.team_id else None,
        "model": governed.model.name if governed.model_id else None,
    }


def governed_alias_save(
    *,
    actor,
    governed: GovernedAlias,
    alias: str,
    environment: Environment | None,
    kind: str = "",
    team: Team | None = None,
    model: RegisteredModel | None = None,
) -> GovernedAlias:
    """Create or change a governed alias (platform admins, in the admin). No
    environment: the alias is free where the rule applies."""
    if not (
        actor.is_superuser
        or actor.has_perm(
            "mlflow_bridge.change_governedalias"
            if governed.pk
            else "mlflow_bridge.add_governedalias"
        )
    ):
        raise errors.denied("Only platform admins configure governed aliases.")
    validate_governed_alias(alias)
    if team is not None and model is not None:
        raise errors.invalid("A governed alias applies to one team or one entry.")
    if kind not in ("", *EntryKind.values):
        raise errors.invalid(f"Kind is one of: {', '.join(EntryKind.values)}.")
    clash = GovernedAlias.objects.filter(
        alias=alias, kind=kind, team=team, model=model
    ).exclude(pk=governed.pk)
    if clash.exists():
        raise errors.MlflowError(
            errors.RESOURCE_ALREADY_EXISTS,
            f"A rule for '{alias}' with this kind and scope exists already.",
        )
    with transaction.atomic():
        before = _describe(governed) if governed.pk else {}
        governed.alias = alias
        governed.environment = environment
        governed.kind = kind
        governed.team = team
        governed.model = model
        governed.save()
        after = _describe(governed)
        if before != after:
            audit_record(
                actor=actor,
                action="mlflow.governed_alias_saved",
                target=governed,
                payload={"before": before, "after": after},
            )
    return governed


def governed_alias_delete(*, actor, governed: GovernedAlias) -> None:
    if not (actor.is_superuser or actor.has_perm("mlflow_bridge.delete_governedalias")):
        raise errors.denied("Only platform admins configure governed aliases.")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="mlflow.governed_alias_deleted",
            target=governed,
            payload=_describe(governed),
        )
        governed.delete()
