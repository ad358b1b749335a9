"""Import an MLflow registry into Gatehouse through MLflow's REST API.

Reads registered models (paged), their versions (paged) and each version's run
(params, metrics, tags, dataset inputs), and writes them with the bridge's
services, so every record obeys the same rules and is audited. Idempotent: a
model that exists is reused, a version already imported from the same tracking
URI (or with the same artifact) is skipped, tags and aliases that already hold
are not written again.
"""

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlflow_bridge import errors, mapping, services
from mlflow_bridge.models import VersionLink
from mlflow_bridge.selectors import governed_aliases
from models_registry.models import RegisteredModel

PAGE_SIZE = 100
TIMEOUT_SECONDS = 30


class SourceUnavailable(Exception):
    """The MLflow server could not be read."""


class MlflowReader:
    """A small client of MLflow's REST API (GET requests only)."""

    def __init__(self, tracking_uri: str):
        self.base = tracking_uri.rstrip("/")
        self.headers = {"Accept": "application/json"}
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        username = os.environ.get("MLFLOW_TRACKING_USERNAME")
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        elif username:
            password = os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
            pair = base64.b64encode(f"{username}:{password}".encode()).decode()
            self.headers["Authorization"] = f"Basic {pair}"

    def get(self, path: str, **params) -> dict[str, Any]:
        query = urllib.parse.urlencode(
            {key: value for key, value in params.items() if value not in (None, "")}
        )
        url = f"{self.base}/api/2.0/mlflow/{path}" + (f"?{query}" if query else "")
        if not url.startswith(("http://", "https://")):
            raise SourceUnavailable(f"{self.base} is not an http(s) URL.")
        request = urllib.request.Request(url, headers=self.headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", "replace")[:300]
            message = f"GET {url} answered {error.code}: {body}"
            raise SourceUnavailable(message) from error
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            raise SourceUnavailable(f"GET {url} failed: {error}") from error

    def paged(self, path: str, key: str, **params):
        token = None
        while True:
            page = self.get(path, max_results=PAGE_SIZE, page_token=token, **params)
            yield from page.get(key, [])
            token = page.get("next_page_token")
            if not token:
                return

    def models(self) -> list[dict[str, Any]]:
        return list(self.paged("registered-models/search", "registered_models"))

    def versions(self, name: str) -> list[dict[str, Any]]:
        quoted = name.replace("'", "\\'")
        versions = self.paged(
            "model-versions/search", "model_versions", filter=f"name='{quoted}'"
        )
        return sorted(versions, key=lambda version: int(version["version"]))

    def run(self, run_id: str) -> dict[str, Any]:
        run = self.get("runs/get", run_id=run_id)["run"]
        data, inputs, info = run.get("data", {}), run.get("inputs", {}), run["info"]
        return {
            "run_id": run_id,
            "params": {p["key"]: p.get("value", "") for p in data.get("params", [])},
            "metrics": {m["key"]: m["value"] for m in data.get("metrics", [])},
            "tags": {t["key"]: t.get("value", "") for t in data.get("tags", [])},
            "dataset_inputs": [
                _dataset_input(item) for item in inputs.get("dataset_inputs", [])
            ],
            "start_time": info.get("start_time"),
            "end_time": info.get("end_time"),
        }


def _dataset_input(item: dict[str, Any]) -> dict[str, str]:
    dataset = item.get("dataset", {})
    tags = {tag["key"]: tag.get("value", "") for tag in item.get("tags", [])}
    return {
        **{
            key: dataset.get(key, "")
            for key in ("name", "digest", "source_type", "source")
        },
        "context": tags.get("mlflow.data.context", ""),
    }


@dataclass
class Summary:
    counts: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        labels = (
            ("models_created", "models created"),
            ("models_existing", "models already in Gatehouse"),
            ("versions_created", "versions created"),
            ("versions_existing", "versions already imported"),
            ("runs_recorded", "versions with their training run recorded"),
            ("versions_without_lineage", "versions imported without a training run"),
            ("tags_written", "model tags written"),
            ("aliases_set", "aliases set"),
            ("governed_aliases_skipped", "governed aliases not imported"),
        )
        lines = [f"{label}: {self.counts[key]}" for key, label in labels]
        lines.append(f"skipped: {len(self.skipped)}")
        lines += [f"  - {reason}" for reason in self.skipped]
        if self.notes:
            lines.append("notes:")
            lines += [f"  - {note}" for note in self.notes]
        return lines


def import_registry(
    *,
    actor,
    reader: MlflowReader,
    team_slug: str | None = None,
    extra_roots: tuple[str, ...] = (),
    progress: Callable[[int, int, str], None] = lambda done, total, name: None,
) -> Summary:
    summary = Summary()
    models = reader.models()
    governed = set(governed_aliases())
    for index, source_model in enumerate(models):
        name = source_model["name"]
        progress(index, len(models), name)
        try:
            _import_model(
                actor=actor,
                reader=reader,
                source_model=source_model,
                team_slug=team_slug,
                extra_roots=extra_roots,
                governed=governed,
                summary=summary,
            )
        except errors.MlflowError as error:
            summary.skipped.append(f"model {name}: {error.message}")
    progress(len(models), len(models), "")
    return summary


def _tags(items: list[dict[str, str]]) -> dict[str, str]:
    return {item["key"]: item.get("value", "") for item in items or []}


def _import_model(
    *, actor, reader, source_model, team_slug, extra_roots, governed, summary
) -> None:
    name = source_model["name"]
    tags = _tags(source_model.get("tags"))
    if team_slug and mapping.TEAM_TAG not in tags:
        tags[mapping.TEAM_TAG] = team_slug
    model = RegisteredModel.objects.filter(name=name).first()
    if model is None:
        services.registered_model_create(
            actor=actor,
            name=name,
            description=source_model.get("description", ""),
            tags=tags,
        )
        model = RegisteredModel.objects.get(name=name)
        summary.counts["models_created"] += 1
        summary.counts["tags_written"] += sum(
            1 for key in tags if not mapping.is_reserved(key)
        )
    else:
        summary.counts["models_existing"] += 1
        for key, value in tags.items():
            if mapping.is_reserved(key):
                continue
            before = model.mlflow_tags.filter(key=key, value=value).exists()
            services.registered_model_tag_set(
                actor=actor, name=name, key=key, value=value
            )
            summary.counts["tags_written"] += 0 if before else 1
    numbers: dict[str, int] = {}
    for source_version in reader.versions(name):
        number = _import_version(
            actor=actor,
            reader=reader,
            model=model,
            source_version=source_version,
            extra_roots=extra_roots,
            summary=summary,
        )
        if number is not None:
            numbers[source_version["version"]] = number
    for item in source_model.get("aliases", []):
        alias, version = item["alias"], str(item["version"])
        if alias in governed:
            summary.counts["governed_aliases_skipped"] += 1
            summary.notes.append(
                f"alias {name}@{alias}: governed in Gatehouse; it follows "
                "deployments, which reviewers approve"
            )
            continue
        if version not in numbers:
            summary.skipped.append(
                f"alias {name}@{alias}: version {version} was not imported"
            )
            continue
        current = model.mlflow_aliases.filter(
            alias=alias, version__version=numbers[version]
        ).exists()
        services.alias_set(actor=actor, name=name, alias=alias, number=numbers[version])
        summary.counts["aliases_set"] += 0 if current else 1


def _import_version(
    *, actor, reader, model, source_version, extra_roots, summary
) -> int | None:
    """Import one version; return its Gatehouse number, or None if skipped."""
    label = f"version {model.name}/{source_version['version']}"
    link = (
        VersionLink.objects.select_related("version")
        .filter(
            version__model=model,
            imported_from=reader.base,
            imported_version=str(source_version["version"]),
        )
        .first()
    )
    if link is not None:
        summary.counts["versions_existing"] += 1
        return link.version.version
    run_id = source_version.get("run_id") or ""
    try:
        run = reader.run(run_id) if run_id else None
    except SourceUnavailable as error:
        summary.skipped.append(f"{label}: its run could not be read ({error})")
        return None
    try:
        version, created, missing = services.model_version_import(
            actor=actor,
            name=model.name,
            source=source_version.get("source", ""),
            run=run,
            description=source_version.get("description", ""),
            tags=_tags(source_version.get("tags")),
            imported_from=reader.base,
            imported_version=str(source_version["version"]),
            extra_roots=extra_roots,
        )
    except errors.MlflowError as error:
        summary.skipped.append(f"{label}: {error.message}")
        return None
    if not created:
        summary.counts["versions_existing"] += 1
        return version.version
    summary.counts["versions_created"] += 1
    if version.training_run_id:
        summary.counts["runs_recorded"] += 1
    elif run is not None:
        summary.counts["versions_without_lineage"] += 1
        summary.notes.append(
            f"{label}: imported without its training run (missing "
            f"{', '.join(missing)}); the run's facts are kept on the version"
        )
    return version.version
