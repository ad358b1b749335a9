"""What people read instead of internal names: one set of labels for every page,
report and PDF.

Three registries, filled by the apps in their ``AppConfig.ready`` (the kernel
imports no app, so it never names their models):

* vocabularies: a short name (``"risk_class"``) for a set of stored values and
  their labels, usually a model's ``TextChoices``: ``"high"`` reads
  "EU AI Act: high risk" as a regulatory tier and "High" as a risk class;
* target types: an audit event's ``target_type`` (``"approvals.deploymentrequest"``)
  reads as "Deployment request", from the model's ``verbose_name`` through
  Django's app registry;
* target links: how to turn target ids of one type into page URLs, for a whole
  page of events at once (one query per type at most, never one per row).

Audit actions are labelled here, in ``AUDIT_ACTIONS`` (the vocabulary
``"audit_action"``): every action an app records must have its label here
(``tests/kernel/test_audit_action_labels.py`` walks the code for them).

Templates use them through ``{% load labels %}`` (``kernel/templatetags/labels.py``).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

from django.apps import apps
from django.urls import reverse

# What each audit action reads as, on the home page, the audit desk and reports.
AUDIT_ACTIONS = {
    "alert.acknowledged": "Alert acknowledged",
    "alert.cleared": "Alert cleared",
    "alert.escalated": "Alert escalated",
    "alert.opened": "Alert raised",
    "alert.resolved": "Alert resolved",
    "audit.checkpoint_taken": "Audit checkpoint signed",
    "audit.exported": "Audit log exported",
    "auth.break_glass_login": "Break-glass sign-in",
    "auth.locked_out": "Locked out after failed sign-ins",
    "auth.login": "Signed in",
    "auth.login_failed": "Sign-in failed",
    "auth.logout": "Signed out",
    "auth.unlocked": "Sign-in lockout lifted",
    "card.updated": "Card edited",
    "dataset.recorded": "Dataset snapshot recorded",
    "deployment.executed": "Deployed",
    "deployment.rolled_back": "Deployment rolled back",
    "environment.changed": "Environment changed",
    "environment.created": "Environment created",
    "evaluation.recorded": "Evaluation recorded",
    "finding.status_changed": "Validation finding status changed",
    "group.member_added": "Added to a group",
    "group.member_removed": "Removed from a group",
    "identity.group_deleted": "Identity provider group deleted",
    "identity.group_provisioned": "Identity provider group provisioned",
    "identity.group_updated": "Identity provider group updated",
    "identity.linked": "Single sign-on identity linked",
    "identity.mapping_created": "Group mapping created",
    "identity.mapping_deleted": "Group mapping deleted",
    "identity.profile_updated": "Profile updated by single sign-on",
    "identity.role_granted": "Role granted by single sign-on",
    "identity.role_revoked": "Role revoked by single sign-on",
    "identity.staff_changed": "Admin access changed by single sign-on",
    "identity.team_joined": "Team joined by single sign-on",
    "identity.team_left": "Team left by single sign-on",
    "identity.user_deactivated": "Person deactivated",
    "identity.user_deleted": "Person deleted by the identity provider",
    "identity.user_provisioned": "Person provisioned by the identity provider",
    "identity.user_reactivated": "Person reactivated",
    "identity.user_updated": "Person updated by the identity provider",
    "llm_app.registered": "LLM application version registered",
    "llm_evaluation.imported": "LLM evaluation imported",
    "mlflow.alias_deleted": "MLflow alias removed",
    "mlflow.alias_set": "MLflow alias set",
    "mlflow.governed_alias_deleted": "Governed alias removed",
    "mlflow.governed_alias_saved": "Governed alias saved",
    "mlflow.model_tag_deleted": "MLflow tag removed",
    "mlflow.model_tags_set": "MLflow tags set",
    "mlflow.version_linked": "MLflow version linked",
    "model.registered": "Registered",
    "model.reviewer_assigned": "Reviewer assigned",
    "model.risk_class_changed": "Risk class changed",
    "model.updated": "Details changed",
    "monitoring.config_changed": "Monitoring settings changed",
    "monitoring.profiles_received": "Window profiles received",
    "monitoring.reference_bootstrapped": "Drift reference taken from serving",
    "monitoring.reference_uploaded": "Drift reference uploaded",
    "monitoring.retention_applied": "Old monitoring data pruned",
    "permission.granted": "Permission granted",
    "permission.revoked": "Permission revoked",
    "policy.changed": "Approval policy changed",
    "policy.created": "Approval policy created",
    "prompt.discarded": "Empty prompt removed",
    "prompt.registered": "Prompt version registered",
    "prompt.tuning_declared": "Prompt tuning data declared",
    "report.exported": "Lineage report exported",
    "reproduction.checked": "Reproduction checked",
    "request.cancelled": "Request cancelled",
    "request.decided": "Decision recorded",
    "request.expired": "Request expired",
    "request.rejected": "Request rejected",
    "request.submitted": "Deploy requested",
    "review.labelled": "Review item labelled",
    "role.granted": "Role granted",
    "role.revoked": "Role revoked",
    "run.recorded": "Training run recorded",
    "service_account.created": "Service account created",
    "service_account.deactivated": "Service account deactivated",
    "team.created": "Team created",
    "team.member_added": "Added to a team",
    "team.member_removed": "Removed from a team",
    "token.created": "API token created",
    "token.revoked": "API token revoked",
    "user.created": "Person added",
    "user.password_set": "Password set",
    "user.updated": "Account changed",
    "validation.recorded": "Validation report recorded",
    "version.registered": "Version registered",
    "version.updated": "Version changed",
    "webhook.endpoint_changed": "Webhook endpoint changed",
}

_VOCABULARIES: dict[str, dict[str, str]] = {"audit_action": dict(AUDIT_ACTIONS)}
_TARGET_LINKS: dict[str, Callable[[list[str]], Mapping[str, str]]] = {}
# Target types that are not a model (or whose model name says little).
_TARGET_TYPE_LABELS: dict[str, str] = {}


def register_vocabulary(name: str, choices: Iterable[tuple[str, str]]) -> None:
    """Label the values of ``name`` with ``(value, label)`` pairs, e.g. a
    ``TextChoices.choices``."""
    _VOCABULARIES[name] = {str(value): str(label) for value, label in choices}


def vocabulary(name: str) -> dict[str, str]:
    """The ``{value: label}`` of a registered vocabulary (empty when unknown)."""
    return dict(_VOCABULARIES.get(name, {}))


def humanise(value) -> str:
    """A stored name people can read when nothing better is registered:
    ``"out_of_time"`` reads "Out of time"."""
    text = str(value).replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:]


def label(name: str, value) -> str:
    """The label of ``value`` in the vocabulary ``name``; empty for no value."""
    if value is None or value == "":
        return ""
    known = _VOCABULARIES.get(name, {})
    return known.get(str(value)) or humanise(value)


def register_target(
    target_type: str,
    *,
    urls: Callable[[list[str]], Mapping[str, str]] | None = None,
    type_label: str = "",
) -> None:
    """Say how audit events show targets of ``target_type``.

    ``urls`` takes the ids of one page of events and returns ``{id: url}`` for
    those it can link (in at most one query); ``type_label`` overrides the
    model's verbose name.
    """
    if urls is not None:
        _TARGET_LINKS[target_type] = urls
    if type_label:
        _TARGET_TYPE_LABELS[target_type] = type_label


def target_type_label(target_type: str) -> str:
    """``"approvals.deploymentrequest"`` reads "Deployment request"."""
    if not target_type:
        return ""
    if target_type in _TARGET_TYPE_LABELS:
        return _TARGET_TYPE_LABELS[target_type]
    try:
        model = apps.get_model(target_type)
    except (LookupError, ValueError):
        return humanise(target_type.rpartition(".")[2] or target_type)
    return humanise(model._meta.verbose_name)


def target_urls(targets: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """``{(target_type, target_id): url}`` for the targets that have a page,
    with one resolver call per type."""
    ids_by_type: dict[str, set[str]] = defaultdict(set)
    for target_type, target_id in targets:
        if target_type in _TARGET_LINKS and target_id:
            ids_by_type[target_type].add(str(target_id))
    found = {}
    for target_type, ids in ids_by_type.items():
        for target_id, url in _TARGET_LINKS[target_type](sorted(ids)).items():
            found[(target_type, str(target_id))] = url
    return found


def event_rows(events) -> list[dict]:
    """Audit events as ``{"event", "target_url"}`` rows for a page, with one
    resolver call per target type on the page."""
    events = list(events)
    urls = target_urls((event.target_type, event.target_id) for event in events)
    return [
        {"event": event, "target_url": urls.get((event.target_type, event.target_id))}
        for event in events
    ]


def digit_ids(ids: Iterable[str]) -> list[int]:
    """The ids that are database keys (a resolver's input is text)."""
    return [int(value) for value in ids if str(value).isdigit()]


def urls_by_id(url_name: str) -> Callable[[list[str]], dict[str, str]]:
    """A resolver for pages addressed by the target's own id (no query)."""

    def urls(ids: list[str]) -> dict[str, str]:
        return {str(pk): reverse(url_name, args=[pk]) for pk in digit_ids(ids)}

    return urls


def moment(value, *, seconds: bool = False) -> str:
    """A UTC time as people read it: ``2026-03-01 14:05 UTC``, never with
    microseconds. Takes an aware datetime or an ISO 8601 text (as in the JSON
    report); anything else comes back as text."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return str(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")
