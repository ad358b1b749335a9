"""Governed aliases, configured by platform admins in the Django admin: which
alias names the version live (full traffic) in which environment."""

from django.db import transaction

from approvals.models import Environment
from audit.services import audit_record
from mlflow_bridge import errors
from mlflow_bridge.models import GovernedAlias
from mlflow_bridge.services import checks


def validate_governed_alias(alias: str) -> None:
    checks.validate_alias(alias)
    checks.validate_alias_not_reserved(alias)


def governed_alias_save(
    *, actor, governed: GovernedAlias, alias: str, environment: Environment
) -> GovernedAlias:
    """Create or change a governed alias (platform admins, in the admin)."""
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
    with transaction.atomic():
        before = (
            {"alias": governed.alias, "environment": governed.environment.name}
            if governed.pk
            else {}
        )
        governed.alias = alias
        governed.environment = environment
        governed.save()
        after = {"alias": alias, "environment": environment.name}
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
            payload={"alias": governed.alias, "environment": governed.environment.name},
        )
        governed.delete()
