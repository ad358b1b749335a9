"""Aliases: free aliases stored per model, and governed aliases, which name the
version live (full traffic) in an environment and move only with deployments:
setting one opens a deployment request instead. Platform admins configure the
governed aliases in the Django admin."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from approvals import services as approvals
from approvals.models import (
    Deployment,
    DeploymentRequest,
    DeploymentStatus,
    Environment,
    Strategy,
)
from audit.services import audit_record
from kernel.errors import ServiceError
from mlflow_bridge import errors, selectors
from mlflow_bridge.models import ModelAlias
from mlflow_bridge.services import checks
from models_registry import access
from models_registry.models import ModelVersion, RegisteredModel


def request_url(request: DeploymentRequest) -> str:
    base = getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/approvals/requests/{request.pk}/"


def _version_of(model: RegisteredModel, number: int) -> ModelVersion:
    version = (
        ModelVersion.objects.select_related("model", "artifact")
        .filter(model=model, version=number)
        .first()
    )
    if version is None:
        raise errors.does_not_exist(
            f"Model Version (name={model.name}, version={number}) not found"
        )
    return version


def alias_set(
    *, actor, name: str, alias: str, number: int, client: str = ""
) -> DeploymentRequest | None:
    """Point an alias at a version.

    A governed alias is not set: a deployment request (full traffic) for the
    version and the alias's environment is opened, or the pending one found,
    and returned; None means the alias now names the version (a governed one
    because that version is already live there)."""
    model = selectors.model_get(actor=actor, name=name)
    checks.validate_alias(alias)
    checks.validate_alias_not_reserved(alias)
    version = _version_of(model, number)
    environment = _governed_environment(model, alias)
    if environment is not None:
        return _request_deployment(actor, version, alias, environment, client)
    checks.require(actor, model, access.CHANGE, "set aliases")
    with transaction.atomic():
        model = checks.lock_model(model)
        current = ModelAlias.objects.filter(model=model, alias=alias).first()
        if current is not None and current.version_id == version.pk:
            return None
        ModelAlias.objects.update_or_create(
            model=model,
            alias=alias,
            defaults={
                "version": version,
                "updated_by": actor,
                "updated_at": timezone.now(),
            },
        )
        audit_record(
            actor=actor,
            action="mlflow.alias_set",
            target=version,
            scope=model.name,
            payload={
                "alias": alias,
                "version": version.version,
                "previous": current.version.version if current else None,
            },
        )
    return None


def _pending(version: ModelVersion, environment: Environment):
    return (
        DeploymentRequest.objects.pending()
        .filter(version=version, environment=environment)
        .order_by("-created_at", "-pk")
        .first()
    )


def _governed_environment(model: RegisteredModel, alias: str) -> Environment | None:
    """The environment whose live version the alias names for this entry (the
    most specific governed-alias rule), or None when the alias is free."""
    environment_id = selectors.governed_for(model).get(alias)
    if environment_id is None:
        return None
    return Environment.objects.get(pk=environment_id)


def _request_deployment(
    actor, version: ModelVersion, alias: str, environment: Environment, client: str
) -> DeploymentRequest | None:
    is_live = Deployment.objects.filter(
        model_id=version.model_id,
        environment=environment,
        version=version,
        status=DeploymentStatus.ACTIVE,
        strategy=Strategy.FULL,
    ).exists()
    if is_live:
        return None
    pending = _pending(version, environment)
    if pending is not None:
        return pending
    justification = (
        f"Requested by setting the governed MLflow alias '{alias}' to "
        f"version {version.version} from an MLflow client"
        + (f" ({client[:120]})" if client else "")
        + "."
    )
    try:
        return approvals.deployment_request_submit(
            actor=actor,
            version=version,
            environment=environment,
            strategy=Strategy.FULL,
            justification=justification,
        )
    except ServiceError as error:
        # A concurrent call may have opened the same request a moment ago.
        pending = _pending(version, environment)
        if pending is not None:
            return pending
        raise errors.from_service_error(error) from error


def alias_delete(*, actor, name: str, alias: str) -> None:
    """Delete a free alias (deleting a missing one changes nothing, as MLflow);
    a governed alias is refused: it follows deployments."""
    model = selectors.model_get(actor=actor, name=name)
    checks.validate_alias(alias)
    environment = _governed_environment(model, alias)
    if environment is not None:
        base = getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000")
        raise errors.denied(
            f"'{alias}' is a governed alias: it names the version live in "
            f"{environment} and moves only with deployments. To take that "
            f"version out, roll the deployment back in Gatehouse: "
            f"{base.rstrip('/')}/models/{model.name}/"
        )
    checks.require(actor, model, access.CHANGE, "delete aliases")
    with transaction.atomic():
        model = checks.lock_model(model)
        current = (
            ModelAlias.objects.select_related("version")
            .filter(model=model, alias=alias)
            .first()
        )
        if current is None:
            return
        current.delete()
        audit_record(
            actor=actor,
            action="mlflow.alias_deleted",
            target=current.version,
            scope=model.name,
            payload={"alias": alias, "version": current.version.version},
        )
