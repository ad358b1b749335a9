"""Searches: MLflow filter clauses and ``order_by`` keys turned into ORM
filters and orderings (``fixed_sql`` reads a page of the result)."""

import re

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform

from kernel.guards import is_digits
from mlflow_bridge import errors, filters, mapping
from mlflow_bridge.models import RegisteredModelTag
from models_registry.models import EntryKind


def _compare(lookup: str, clause: filters.Clause) -> Q:
    comparator, value = clause.comparator, clause.value
    if comparator == "=":
        return Q(**{lookup: value})
    if comparator == "!=":
        return ~Q(**{lookup: value})
    if comparator in ("LIKE", "ILIKE"):
        kind = "regex" if comparator == "LIKE" else "iregex"
        return Q(**{f"{lookup}__{kind}": filters.like_to_regex(str(value))})
    if comparator == "IN":
        return Q(**{f"{lookup}__in": list(value)})
    if comparator == "NOT IN":
        return ~Q(**{f"{lookup}__in": list(value)})
    numeric = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
    return Q(**{f"{lookup}__{numeric[comparator]}": value})


def _require(clause: filters.Clause, comparators: tuple[str, ...], what: str) -> None:
    if clause.comparator not in comparators:
        raise errors.invalid(
            f"Invalid comparator '{clause.comparator}' for {what}: use one of "
            f"{', '.join(comparators)}."
        )


def _require_text(clause: filters.Clause) -> None:
    values = clause.value if isinstance(clause.value, tuple) else (clause.value,)
    if not all(isinstance(value, str) for value in values):
        raise errors.invalid(
            f"Invalid value {clause.value!r} for '{clause.key}': quote it as a string."
        )


TEXT = ("=", "!=", "LIKE", "ILIKE")
# Governed version tags that are fields (rendered from them on reads).
_VERSION_FIELD_TAGS = {
    **mapping.ARTIFACT_FIELD_TAGS,
    mapping.SEMANTIC_VERSION_TAG: "semantic_version",
    mapping.PREPROCESSING_TAG: "artifact__preprocessing_code_version",
}
PROMPT_TAG = "mlflow.prompt.is_prompt"


def _prompt_clause(clause: filters.Clause, field: str) -> Q:
    """A clause on MLflow's prompt marker, as a condition on the entry's kind:
    prompts carry the tag with the value "true", models do not carry it (so
    only a "!=" clause matches them, as in MLflow)."""
    if clause.comparator in ("=", "!="):
        matches_true = clause.value == "true"
    else:
        pattern = filters.like_to_regex(str(clause.value))
        flags = re.IGNORECASE if clause.comparator == "ILIKE" else 0
        matches_true = re.fullmatch(pattern, "true", flags) is not None
    if clause.comparator == "!=":
        return ~Q(**{field: EntryKind.PROMPT}) if matches_true else Q(pk__in=[])
    return Q(**{field: EntryKind.PROMPT}) if matches_true else Q(pk__in=[])


def _asks_for_prompts(clauses: list[filters.Clause]) -> bool:
    return any(clause.kind == "tag" and clause.key == PROMPT_TAG for clause in clauses)


def filter_models(models: QuerySet, clauses: list[filters.Clause]) -> QuerySet:
    # Prompts are listed only when the filter asks about them (as MLflow's
    # search_prompts does); model searches leave them out, server side.
    if not _asks_for_prompts(clauses):
        models = models.exclude(kind=EntryKind.PROMPT)
    for clause in clauses:
        if clause.kind == "attribute":
            if clause.key != "name":
                raise errors.invalid(
                    f"Invalid attribute name: {clause.key}. Registered models are "
                    "searched by name and tags."
                )
            _require(clause, (*TEXT, "IN", "NOT IN"), "name")
            _require_text(clause)
            models = models.filter(_compare("name", clause))
            continue
        _require(clause, TEXT, "tags")
        _require_text(clause)
        if clause.key == mapping.TEAM_TAG:
            models = models.filter(_compare("team__slug", clause))
        elif clause.key in mapping.MODEL_FIELD_TAGS:
            models = models.filter(
                _compare(mapping.MODEL_FIELD_TAGS[clause.key], clause)
            )
        elif clause.key == mapping.TITLE_TAG:
            models = models.filter(_compare("title", clause))
        elif clause.key == PROMPT_TAG:
            # The entry's kind: MLflow clients add "tags.`mlflow.prompt.is_prompt`
            # != 'true'" to model searches and "= 'true'" to search_prompts.
            models = models.filter(_prompt_clause(clause, "kind"))
        else:
            value_q = _compare("value", clause)
            tagged = RegisteredModelTag.objects.filter(
                Q(model=OuterRef("pk"), key=clause.key) & value_q
            )
            models = models.filter(Exists(tagged))
    return models


def filter_versions(versions: QuerySet, clauses: list[filters.Clause]) -> QuerySet:
    if not _asks_for_prompts(clauses):
        versions = versions.exclude(model__kind=EntryKind.PROMPT)
    for index, clause in enumerate(clauses):
        if clause.kind == "tag" and clause.key == PROMPT_TAG:
            _require(clause, TEXT, "tags")
            _require_text(clause)
            versions = versions.filter(_prompt_clause(clause, "model__kind"))
            continue
        if clause.kind == "tag":
            _require(clause, TEXT, "tags")
            _require_text(clause)
            if clause.key == mapping.SIZE_TAG:
                _require(clause, ("=", "!="), clause.key)
                if not is_digits(str(clause.value)):
                    raise errors.invalid(f"{clause.key} is a whole number of bytes.")
                size = filters.Clause(
                    "tag", clause.key, clause.comparator, int(clause.value)
                )
                versions = versions.filter(_compare("artifact__size_bytes", size))
                continue
            if clause.key in _VERSION_FIELD_TAGS:
                lookup = _VERSION_FIELD_TAGS[clause.key]
                versions = versions.filter(_compare(lookup, clause))
                continue
            name = f"mlflow_tag_{index}"
            versions = versions.annotate(**{name: KeyTextTransform(clause.key, "tags")})
            matched = _compare(name, clause)
            if clause.comparator == "!=":
                matched = Q(**{f"{name}__isnull": False}) & matched
            versions = versions.filter(matched)
            continue
        key = clause.key
        if key == "version_number":
            _require(clause, ("=", "!=", ">", ">=", "<", "<="), key)
            if not isinstance(clause.value, int):
                raise errors.invalid(
                    f"Invalid value for numeric attribute 'version_number': "
                    f"{clause.value!r}"
                )
            versions = versions.filter(_compare("version", clause))
        elif key == "name":
            _require(clause, (*TEXT, "IN", "NOT IN"), key)
            _require_text(clause)
            versions = versions.filter(_compare("model__name", clause))
        elif key == "run_id":
            _require(clause, ("=", "!=", "IN", "NOT IN"), key)
            _require_text(clause)
            positive = filters.Clause(
                clause.kind,
                key,
                "IN" if clause.comparator in ("IN", "NOT IN") else "=",
                clause.value,
            )
            matched = _compare("training_run__external_run_id", positive) | _compare(
                "mlflow_link__run_id", positive
            )
            if clause.comparator in ("!=", "NOT IN"):
                matched = ~matched
            versions = versions.filter(matched)
        elif key == "source_path":
            _require(clause, TEXT, key)
            _require_text(clause)
            versions = versions.filter(_compare("artifact__uri", clause))
        else:
            raise errors.invalid(
                f"Invalid attribute name: {key}. Model versions are searched by "
                "name, run_id, source_path, version_number and tags."
            )
    return versions


MODEL_ORDER = {
    "name": "name",
    "last_updated_timestamp": "updated_at",
    "timestamp": "updated_at",
    "creation_timestamp": "created_at",
}
VERSION_ORDER = {
    "name": "model__name",
    "version_number": "version",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
}


def ordering(order_by: list[str], known: dict[str, str]) -> list[str]:
    fields = []
    for clause in order_by:
        parts = clause.split()
        if not parts or len(parts) > 2:
            raise errors.invalid(f"Invalid order_by clause '{clause}'.")
        key = parts[0].strip("`").removeprefix("attribute.")
        direction = parts[1].upper() if len(parts) == 2 else "ASC"
        if key not in known or direction not in ("ASC", "DESC"):
            raise errors.invalid(
                f"Invalid order by key '{clause}' specified. Valid keys are "
                f"{', '.join(sorted(known))}, each with ASC or DESC."
            )
        field_name = known[key]
        if field_name in {name.lstrip("-") for name in fields}:
            raise errors.invalid(f"`order_by` contains duplicate fields: {order_by}")
        fields.append(field_name if direction == "ASC" else f"-{field_name}")
    return fields


def with_tiebreaks(fields: list[str], tiebreaks: list[str]) -> list[str]:
    present = {name.lstrip("-") for name in fields}
    return fields + [name for name in tiebreaks if name.lstrip("-") not in present]
