"""What a version registration from MLflow becomes in Gatehouse: the artifact
record of its source (sha256 read from a ``file://`` source or taken from the
tags) and the lineage of its training run."""

from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError

from kernel.guards import is_digits, loads_checked
from mlflow_bridge import errors, mapping, sources
from mlflow_bridge.services import checks
from models_registry import validation


def _artifact(
    source: str, reserved: dict[str, str], extra_roots: tuple[str, ...]
) -> tuple[dict[str, Any], str]:
    """The artifact record of a source, and the environment lock found beside
    it ("" if none)."""
    tagged_sha = reserved.get(mapping.SHA256_TAG)
    tagged_size = reserved.get(mapping.SIZE_TAG)
    if tagged_sha is not None and validation.sha256_errors(tagged_sha):
        raise errors.invalid(
            f"Tag {mapping.SHA256_TAG} must be a SHA-256 digest: 64 lowercase "
            "hexadecimal characters."
        )
    if tagged_size is not None and not is_digits(tagged_size):
        raise errors.invalid(f"Tag {mapping.SIZE_TAG} is a whole number of bytes.")
    digest = None
    is_local = sources.local_path(source) is not None
    readable = is_local and bool(settings.MLFLOW_FILE_SOURCE_ROOTS or extra_roots)
    if tagged_sha is None or readable:
        if not is_local:
            raise errors.invalid(
                f"Gatehouse pins every version to the sha256 of its artifact and "
                f"cannot read '{source}'. Set the tags {mapping.SHA256_TAG} (64 "
                f"lowercase hex) and {mapping.SIZE_TAG} on the version, or register "
                "a file:// source the portal may read."
            )
        try:
            digest = sources.digest_source(source, extra_roots=extra_roots)
        except errors.MlflowError as error:
            if tagged_sha is not None:
                digest = None
            else:
                raise errors.invalid(
                    f"{error.message} Set the tags {mapping.SHA256_TAG} and "
                    f"{mapping.SIZE_TAG} on the version instead."
                ) from error
    if digest is not None and tagged_sha is not None and digest.sha256 != tagged_sha:
        raise errors.invalid(
            f"Tag {mapping.SHA256_TAG} says {tagged_sha} but the source's sha256 is "
            f"{digest.sha256}."
        )
    if digest is None and tagged_size is None:
        raise errors.invalid(
            f"Set the tag {mapping.SIZE_TAG} with {mapping.SHA256_TAG}: Gatehouse "
            "records the artifact's size."
        )
    feature_spec: Any = []
    if mapping.FEATURE_SPEC_TAG in reserved:
        try:
            feature_spec = loads_checked(reserved[mapping.FEATURE_SPEC_TAG])
        except ParseError as error:
            raise errors.invalid(
                f"Tag {mapping.FEATURE_SPEC_TAG} must be JSON: a list of "
                '{"name", "type"} features.'
            ) from error
    artifact = {
        "uri": source,
        "sha256": digest.sha256 if digest else tagged_sha,
        "size_bytes": digest.size_bytes if digest else int(tagged_size),
        "format": reserved.get(mapping.FORMAT_TAG, mapping.DEFAULT_FORMAT),
        "preprocessing_code_version": reserved.get(mapping.PREPROCESSING_TAG, ""),
        "feature_spec": feature_spec,
    }
    return artifact, digest.environment_lock_hash if digest else ""


def _seed(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError as error:
        message = f"Tag {mapping.SEED_TAG} must be a whole number."
        raise errors.invalid(message) from error


def lineage(
    *,
    reserved: dict[str, str],
    environment_lock_hash: str,
    run_tags: dict[str, str] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The code and environment of a run, from the version's gatehouse. tags or
    (for imports) the MLflow run's own tags; and the tags still missing."""
    run_tags = run_tags or {}
    found = {
        "code_repository": reserved.get(mapping.CODE_REPOSITORY_TAG)
        or run_tags.get("mlflow.source.git.repoURL")
        or run_tags.get(mapping.CODE_REPOSITORY_TAG, ""),
        "code_commit": reserved.get(mapping.CODE_COMMIT_TAG)
        or run_tags.get("mlflow.source.git.commit")
        or run_tags.get(mapping.CODE_COMMIT_TAG, ""),
        "environment_lock_hash": reserved.get(mapping.ENVIRONMENT_TAG)
        or run_tags.get(mapping.ENVIRONMENT_TAG)
        or environment_lock_hash,
        "entrypoint": reserved.get(mapping.ENTRYPOINT_TAG)
        or run_tags.get("mlflow.source.name", ""),
    }
    seed = reserved.get(mapping.SEED_TAG) or run_tags.get(mapping.SEED_TAG)
    found["random_seed"] = _seed(seed)
    missing = [
        tag
        for tag, field_name in (
            (mapping.CODE_REPOSITORY_TAG, "code_repository"),
            (mapping.CODE_COMMIT_TAG, "code_commit"),
            (mapping.ENVIRONMENT_TAG, "environment_lock_hash"),
        )
        if not found[field_name]
    ]
    return found, missing


def version_inputs(source, tags, extra_roots):
    if not isinstance(source, str) or not source:
        raise errors.invalid("Missing value for required parameter 'source'.")
    if problems := validation.uri_errors(source):
        raise errors.invalid(f"Invalid source '{source}': {problems[0]}")
    reserved, plain = checks.split_tags(
        tags or {}, mapping.VERSION_CREATE_TAGS, "version"
    )
    artifact, environment_lock = _artifact(source, reserved, extra_roots)
    return reserved, plain, artifact, environment_lock
