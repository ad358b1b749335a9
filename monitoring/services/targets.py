"""Which version a batch is about, and the monitoring configuration of a model."""

from django.conf import settings

from approvals.models import Environment
from approvals.selectors import deployment_live_list, environment_get
from models_registry.models import ModelVersion, RegisteredModel
from monitoring.errors import BatchInvalid, NoLiveVersion
from monitoring.models import MonitoringConfig, MonitoringTarget


def environment_by_name(name: str) -> Environment:
    """The environment of that name (``environment_not_found`` when none)."""
    return environment_get(name=name)


def live_version(
    model: RegisteredModel, environment: Environment, number: int | None
) -> ModelVersion:
    """The version a batch names, or the one live in the environment.

    Without a number: the version of the active full deployment, or of the only
    version live there; several live versions (a canary beside the full one)
    need the batch to say which one it comes from.
    """
    if number is not None:
        version = (
            ModelVersion.objects.select_related("artifact")
            .filter(model=model, version=number)
            .first()
        )
        if version is None:
            raise BatchInvalid(
                "The batch was refused.",
                fields={"version": [f"{model.name} has no version {number}."]},
            )
        return version
    live = list(
        deployment_live_list(model=model, environment=environment).order_by("pk")
    )
    versions = {deployment.version_id: deployment.version for deployment in live}
    if len(versions) == 1:
        return next(iter(versions.values()))
    if not live:
        problem = (
            f"No version of {model.name} is live in {environment.name}: "
            "say which version the batch comes from."
        )
    else:
        names = ", ".join(f"v{d.version.version} ({d.strategy})" for d in live)
        problem = (
            f"Several versions are live in {environment.name} ({names}): "
            "say which version the batch comes from."
        )
    raise NoLiveVersion("The batch was refused.", fields={"version": [problem]})


def target_for(version: ModelVersion, environment: Environment) -> MonitoringTarget:
    target, _ = MonitoringTarget.objects.get_or_create(
        version=version,
        environment=environment,
        defaults={"model_id": version.model_id},
    )
    return target


def config_for(model: RegisteredModel) -> MonitoringConfig:
    """The model's stored configuration, or the defaults (unsaved)."""
    config = MonitoringConfig.objects.filter(model=model).first()
    if config is None:
        config = MonitoringConfig(model=model)
    if not config.retrain_checks:
        config.retrain_checks = list(settings.MONITORING_RETRAIN_CHECKS)
    return config
