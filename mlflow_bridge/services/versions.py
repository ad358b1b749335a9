"""Model versions written by MLflow clients and by the importer: registration
with the artifact and training run, descriptions and version tags."""

from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from audit.services import audit_record
from kernel import db
from kernel.errors import ServiceError
from kernel.guards import is_digits
from mlflow_bridge import errors, mapping, selectors
from mlflow_bridge.models import VersionLink
from mlflow_bridge.services import checks
from mlflow_bridge.services.prompts import (
    check_content_tag,
    prompt_version_create,
    refuse_prompt_on_model,
)
from mlflow_bridge.services.version_inputs import lineage, version_inputs
from models_registry import access
from models_registry import services as registry
from models_registry.models import EntryKind, ModelVersion, TrainingRun


def model_version_create(
    *,
    actor,
    name: str,
    source: str,
    run_id: str = "",
    run_link: str = "",
    description: str = "",
    tags: dict[str, str] | None = None,
    logged_model_id: str = "",
) -> tuple[ModelVersion, bool]:
    """Register a version from an MLflow client.

    The source becomes the artifact (sha256 from the ``gatehouse.sha256`` tag or
    read from a ``file://`` source); a run id links the training run recorded
    under that id, or records one from the ``gatehouse.`` lineage tags, and is
    refused when neither is possible (a version without its run could never pass
    the lineage gate). Re-sending the same artifact returns its version."""
    model = selectors.model_get(actor=actor, name=name)
    checks.require(actor, model, access.REGISTER, "register versions")
    if model.kind == EntryKind.PROMPT:
        return prompt_version_create(
            actor=actor,
            model=model,
            source=source,
            description=description,
            tags=tags or {},
        )
    refuse_prompt_on_model(model, tags or {})
    reserved, plain, artifact, environment_lock = version_inputs(source, tags, ())
    run_spec = None
    training_run = None
    if run_id:
        training_run = TrainingRun.objects.filter(
            model=model, external_run_id=run_id
        ).first()
        if training_run is None:
            found, missing = lineage(
                reserved=reserved, environment_lock_hash=environment_lock
            )
            if missing:
                raise errors.invalid(
                    f"Run {run_id} is not recorded in Gatehouse for {model.name}, and "
                    f"the version's tags lack {', '.join(missing)} to record it. Set "
                    "them (the environment lock can also come from a requirements.txt "
                    "beside a file:// source), or record the run first with POST "
                    f"/api/v1/models/{model.name}/runs/."
                )
            run_spec = {"external_run_id": run_id, **found}
    elif any(tag in reserved for tag in mapping.LINEAGE_TAGS):
        raise errors.invalid(
            "Lineage tags describe a training run: give the version's run_id too."
        )
    return _register(
        actor=actor,
        model=model,
        artifact=artifact,
        reserved=reserved,
        plain=plain,
        description=description,
        run_spec=run_spec,
        training_run=training_run,
        link={"run_link": run_link, "logged_model_id": logged_model_id},
    )


def _register(
    *,
    actor,
    model,
    artifact,
    reserved,
    plain,
    description,
    run_spec,
    training_run,
    link: dict[str, Any],
) -> tuple[ModelVersion, bool]:
    kept = {key: value for key, value in link.items() if value}
    # With MLflow facts to keep, the version and its link are one transaction;
    # without, the registration's own transaction is the only one (no
    # savepoint inside an outer block).
    try:
        with transaction.atomic() if kept else nullcontext():
            version, created = registry.model_version_register_with_run(
                actor=actor,
                model=model,
                artifact=artifact,
                run=run_spec,
                training_run=training_run,
                description=description or "",
                tags=plain,
                semantic_version=reserved.get(mapping.SEMANTIC_VERSION_TAG, ""),
            )
            if created:
                # What answers read of a new version, known here: no link yet,
                # and (a trained model's version) no prompt content.
                ModelVersion.mlflow_link.related.set_cached_value(version, None)
                ModelVersion.prompt.related.set_cached_value(version, None)
            if created and kept:
                db.insert(VersionLink(version=version, **kept))
                audit_record(
                    actor=actor,
                    action="mlflow.version_linked",
                    target=version,
                    scope=model.name,
                    payload={
                        key: value for key, value in kept.items() if key != "run_facts"
                    },
                )
    except ServiceError as error:
        raise errors.from_service_error(error) from error
    return version, created


def model_version_import(
    *,
    actor,
    name: str,
    source: str,
    run: dict[str, Any] | None,
    description: str,
    tags: dict[str, str],
    imported_from: str,
    imported_version: str,
    extra_roots: tuple[str, ...] = (),
) -> tuple[ModelVersion, bool, list[str]]:
    """Register a version read from another MLflow registry.

    ``run`` holds the MLflow run: ``run_id``, ``tags``, ``params``, ``metrics``,
    ``dataset_inputs``, ``start_time``/``end_time`` (ms). When its code and
    environment are known a training run is recorded, with the params as its
    parameters and the metrics and dataset inputs under ``mlflow.metrics`` and
    ``mlflow.dataset_inputs``; otherwise the version is registered without one
    and the run's facts are kept on the version's MLflow link. Returns the
    version, whether it was created, and the lineage tags that were missing."""
    model = selectors.model_get(actor=actor, name=name)
    checks.require(actor, model, access.REGISTER, "register versions")
    reserved, plain, artifact, environment_lock = version_inputs(
        source, tags, extra_roots
    )
    run_spec, training_run, missing = None, None, []
    link: dict[str, Any] = {
        "imported_from": imported_from,
        "imported_version": imported_version,
    }
    if run is not None:
        parameters = {
            **run["params"],
            "mlflow.metrics": run["metrics"],
            "mlflow.dataset_inputs": run["dataset_inputs"],
        }
        training_run = TrainingRun.objects.filter(
            model=model, external_run_id=run["run_id"]
        ).first()
        found, missing = lineage(
            reserved=reserved,
            environment_lock_hash=environment_lock,
            run_tags=run["tags"],
        )
        if training_run is None and not missing:
            seed = found["random_seed"]
            if seed is None:
                seed = _seed_from_params(run["params"])
            run_spec = {
                "external_run_id": run["run_id"],
                **found,
                "random_seed": seed,
                "parameters": parameters,
                "started_at": _from_millis(run.get("start_time")),
                "ended_at": _from_millis(run.get("end_time")),
            }
        elif training_run is None:
            link.update(run_id=run["run_id"], run_facts=parameters)
    version, created = _register(
        actor=actor,
        model=model,
        artifact=artifact,
        reserved=reserved,
        plain=plain,
        description=description,
        run_spec=run_spec,
        training_run=training_run,
        link=link,
    )
    return version, created, missing


_SEED_PARAMS = ("random_seed", "seed", "random_state")


def _seed_from_params(params: dict[str, str]) -> int | None:
    for name in _SEED_PARAMS:
        value = params.get(name, "")
        if is_digits(value.removeprefix("-")):
            return int(value)
    return None


def _from_millis(value) -> datetime | None:
    if value in (None, "", 0, "0"):
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def model_version_describe(
    *, actor, name: str, number: int, description: str
) -> ModelVersion:
    version = selectors.version_get(actor=actor, name=name, number=number)
    try:
        return registry.model_version_update(
            actor=actor, version=version, description=description
        )
    except ServiceError as error:
        raise errors.from_service_error(error) from error


def _change_version_tags(actor, version: ModelVersion, change) -> None:
    checks.require(actor, version.model, access.CHANGE, "change version tags")
    try:
        with transaction.atomic():
            locked = (
                ModelVersion.objects.select_for_update(of=("self",))
                .select_related("model")
                .get(pk=version.pk)
            )
            tags = change(dict(locked.tags))
            if tags != locked.tags:
                registry.model_version_update(actor=actor, version=locked, tags=tags)
    except ServiceError as error:
        raise errors.from_service_error(error) from error


def model_version_tag_set(
    *, actor, name: str, number: int, key: str, value: str
) -> None:
    version = selectors.version_get(actor=actor, name=name, number=number)
    if check_content_tag(version, key, value):
        return
    checks.validate_tag(key, value)
    checks.refuse_reserved(key, "version")
    _change_version_tags(actor, version, lambda tags: {**tags, key: value})


def model_version_tag_delete(*, actor, name: str, number: int, key: str) -> None:
    version = selectors.version_get(actor=actor, name=name, number=number)
    if check_content_tag(version, key, None):
        return
    checks.validate_tag(key, "")
    checks.refuse_reserved(key, "version")
    _change_version_tags(
        actor,
        version,
        lambda tags: {name: value for name, value in tags.items() if name != key},
    )
