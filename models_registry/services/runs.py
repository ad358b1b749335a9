"""Training runs with their input snapshots; idempotent by run id per model."""

from datetime import datetime
from typing import Any

from django.db import transaction

from audit.services import audit_record
from models_registry import access, validation
from models_registry.errors import (
    RegistryConflict,
)
from models_registry.models import (
    DatasetSnapshot,
    InputRole,
    RegisteredModel,
    TrainingRun,
    TrainingRunInput,
)
from models_registry.services.preconditions import (
    FieldErrors,
    lock_model,
    require_model_permission,
)


def training_run_create(
    *,
    actor,
    model: RegisteredModel,
    external_run_id: str,
    code_repository: str,
    code_commit: str,
    environment_lock_hash: str,
    entrypoint: str = "",
    parameters: dict | None = None,
    random_seed: int | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    inputs: list[tuple[DatasetSnapshot, str]] | None = None,
) -> tuple[TrainingRun, bool]:
    """Record a training run with its input snapshots; idempotent by run id."""
    require_model_permission(actor, model, access.REGISTER)
    run = run_values(
        model=model,
        external_run_id=external_run_id,
        code_repository=code_repository,
        code_commit=code_commit,
        environment_lock_hash=environment_lock_hash,
        entrypoint=entrypoint,
        parameters=parameters,
        random_seed=random_seed,
        started_at=started_at,
        ended_at=ended_at,
        inputs=inputs,
    )
    with transaction.atomic():
        return run_record(actor=actor, model=lock_model(model), run=run)


def run_values(
    *,
    model: RegisteredModel,
    external_run_id: str,
    code_repository: str,
    code_commit: str,
    environment_lock_hash: str,
    entrypoint: str = "",
    parameters: dict | None = None,
    random_seed: int | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    inputs: list[tuple[DatasetSnapshot, str]] | None = None,
) -> dict[str, Any]:
    """The run's fields, checked (``RegistryInvalid`` with every field error)
    and with their defaults filled in, ready for ``run_record``."""
    parameters = parameters or {}
    inputs = inputs or []
    errors = FieldErrors()
    if not external_run_id or len(external_run_id) > 200:
        errors.add("external_run_id", "Required, at most 200 characters.")
    if not code_repository:
        errors.add("code_repository", "Required.")
    errors.add("code_repository", validation.secret_errors(code_repository))
    if not validation.COMMIT.match(code_commit or ""):
        errors.add(
            "code_commit", "Must be a git commit id: 7 to 64 hexadecimal characters."
        )
    errors.add("environment_lock_hash", validation.sha256_errors(environment_lock_hash))
    if not isinstance(parameters, dict):
        errors.add("parameters", "Must be an object.")
    errors.add("parameters", validation.secret_errors(parameters))
    errors.add("entrypoint", validation.secret_errors(entrypoint))
    if started_at and ended_at and ended_at < started_at:
        errors.add("ended_at", "Must not be before the start.")
    for snapshot, role in inputs:
        if role not in InputRole.values:
            errors.add("inputs", f"Role must be one of {', '.join(InputRole.values)}.")
        if snapshot.team_id != model.team_id:
            errors.add("inputs", f"Snapshot {snapshot.pk} belongs to another team.")
    errors.raise_if_any("The training run was not recorded.")
    return {
        "external_run_id": external_run_id,
        "code_repository": code_repository,
        "code_commit": code_commit,
        "environment_lock_hash": environment_lock_hash,
        "entrypoint": entrypoint,
        "parameters": parameters,
        "random_seed": random_seed,
        "started_at": started_at,
        "ended_at": ended_at,
        "inputs": inputs,
    }


def run_record(
    *, actor, model: RegisteredModel, run: dict[str, Any]
) -> tuple[TrainingRun, bool]:
    """Write a run checked by ``run_values``, or return the one recorded with
    the same id.

    The caller has checked the actor's right and holds the model's row lock in
    an open transaction: the lock serialises run creation per model, so two
    requests with the same run id cannot both pass the check below.
    """
    inputs = run["inputs"]
    existing = TrainingRun.objects.filter(
        model=model, external_run_id=run["external_run_id"]
    ).first()
    if existing is not None:
        if (existing.code_commit, existing.environment_lock_hash) != (
            run["code_commit"],
            run["environment_lock_hash"],
        ):
            raise RegistryConflict(
                "The training run was not recorded.",
                fields={
                    "external_run_id": [
                        "A run with this id exists with another commit or environment."
                    ]
                },
            )
        return existing, False
    fields = {key: value for key, value in run.items() if key != "inputs"}
    training_run = TrainingRun.objects.create(model=model, created_by=actor, **fields)
    TrainingRunInput.objects.bulk_create(
        [
            TrainingRunInput(run=training_run, snapshot=snapshot, role=role)
            for snapshot, role in dict.fromkeys(inputs)
        ]
    )
    audit_record(
        actor=actor,
        action="run.recorded",
        target=training_run,
        scope=model.name,
        payload={
            "external_run_id": run["external_run_id"],
            "code_repository": run["code_repository"],
            "code_commit": run["code_commit"],
            "environment_lock_hash": run["environment_lock_hash"],
            "random_seed": run["random_seed"],
            "parameters": run["parameters"],
            "inputs": [[snapshot.pk, role] for snapshot, role in inputs],
        },
    )
    return training_run, True
