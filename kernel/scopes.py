"""What an API token may do: its scopes, and the one table that says which
scope each API and MLflow route needs.

A token acts as its owner (a person or a service account) and only within its
scopes: the owner's roles and object permissions still decide, a scope can only
narrow them. Sessions (people in a browser) are not scoped.

``ROUTE_SCOPES`` names a route by its view (``module.ViewName``); a view not
listed takes its module's read/write default (``MODULE_DEFAULTS``): GET, HEAD
and OPTIONS read, every other method writes. A route in neither is refused to
every token (fail closed) and fails ``tests/kernel/test_scopes.py``, which
walks the URL conf. OPTIONS needs no scope: it answers what the published
schema says anyway.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

REGISTRY_READ = "registry:read"
REGISTRY_WRITE = "registry:write"
REQUESTS_READ = "requests:read"
REQUESTS_CREATE = "requests:create"
DECISIONS_WRITE = "decisions:write"
VALIDATIONS_WRITE = "validations:write"
DEPLOYMENTS_ROLLBACK = "deployments:rollback"
MONITORING_READ = "monitoring:read"
MONITORING_PUSH = "monitoring:push"
MONITORING_WRITE = "monitoring:write"
AUDIT_READ = "audit:read"
ACCOUNTS_READ = "accounts:read"
ACCOUNTS_WRITE = "accounts:write"


@dataclass(frozen=True)
class Scope:
    name: str
    label: str
    # Scopes that approve, undo an approval or manage accounts: never on a
    # service account's token (service accounts approve nothing and manage
    # no account; approvals/access.py and portal/accounts/access.py refuse
    # them too).
    people_only: bool = False


SCOPES: tuple[Scope, ...] = (
    Scope(REGISTRY_READ, "Read models, versions, datasets, runs and lineage"),
    Scope(REGISTRY_WRITE, "Register and change models, versions, datasets, runs"),
    Scope(REQUESTS_READ, "Read deployment requests, deployments and validations"),
    Scope(REQUESTS_CREATE, "Request deployments and cancel own requests"),
    Scope(DECISIONS_WRITE, "Approve or reject deployment requests", True),
    Scope(VALIDATIONS_WRITE, "Record validation reports and findings", True),
    Scope(DEPLOYMENTS_ROLLBACK, "Roll back live deployments", True),
    Scope(MONITORING_READ, "Read monitoring windows, batches and alerts"),
    Scope(MONITORING_PUSH, "Push monitoring batches and reference data"),
    Scope(MONITORING_WRITE, "Acknowledge and resolve alerts, change configs"),
    Scope(AUDIT_READ, "Read and export the audit log"),
    Scope(ACCOUNTS_READ, "Read service accounts", True),
    Scope(ACCOUNTS_WRITE, "Create service accounts and their tokens", True),
)
SCOPE_NAMES: tuple[str, ...] = tuple(scope.name for scope in SCOPES)
SCOPE_LABELS: dict[str, str] = {scope.name: scope.label for scope in SCOPES}
PEOPLE_ONLY_SCOPES: frozenset[str] = frozenset(
    scope.name for scope in SCOPES if scope.people_only
)
SERVICE_ACCOUNT_SCOPES: tuple[str, ...] = tuple(
    name for name in SCOPE_NAMES if name not in PEOPLE_ONLY_SCOPES
)

# Any valid token, whatever its scopes (who am I; the API schema).
ANY_SCOPE = "any"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class ReadWrite:
    """A method-based default: ``read`` for GET/HEAD, ``write`` otherwise
    (None: the route takes no such method)."""

    read: str | None
    write: str | None = None


# Per view, when its module's default does not fit: a scope for every method,
# or a ReadWrite.
ROUTE_SCOPES: dict[str, str | ReadWrite] = {
    "portal.api.me": ANY_SCOPE,
    "drf_spectacular.views.SpectacularAPIView": ANY_SCOPE,
    "drf_spectacular.views.SpectacularSwaggerSplitView": ANY_SCOPE,
    # Approvals: deciding, validating and rolling back each have their own.
    "approvals.api.requests.RequestDecisions": DECISIONS_WRITE,
    "approvals.api.validations.VersionValidations": ReadWrite(
        REQUESTS_READ, VALIDATIONS_WRITE
    ),
    "approvals.api.validations.FindingStatusChange": VALIDATIONS_WRITE,
    "approvals.api.deployments.DeploymentRollback": DEPLOYMENTS_ROLLBACK,
    # Monitoring: pushing data is one scope, handling alerts and configs another.
    "monitoring.api.AlertAcknowledge": MONITORING_WRITE,
    "monitoring.api.AlertResolve": MONITORING_WRITE,
    "monitoring.api.ConfigDetail": ReadWrite(MONITORING_READ, MONITORING_WRITE),
    # Window profiles: pushing them, and the spec they are made on (read by
    # the same pushing clients, so a push token suffices for both).
    "monitoring.api_profiles.ProfileIngest": MONITORING_PUSH,
    "monitoring.api_profiles.ProfileSpecDetail": MONITORING_PUSH,
    # The MLflow bridge's catch-all answers ENDPOINT_NOT_FOUND to any token.
    "mlflow_bridge.api.unknown_endpoint": ANY_SCOPE,
}

# By the view's module (longest prefix wins).
MODULE_DEFAULTS: dict[str, ReadWrite] = {
    "models_registry.api.": ReadWrite(REGISTRY_READ, REGISTRY_WRITE),
    "portal.lineage.": ReadWrite(REGISTRY_READ),
    "mlflow_bridge.api.": ReadWrite(REGISTRY_READ, REGISTRY_WRITE),
    "approvals.api.": ReadWrite(REQUESTS_READ, REQUESTS_CREATE),
    "monitoring.api.": ReadWrite(MONITORING_READ, MONITORING_PUSH),
    "monitoring.llm.api.": ReadWrite(MONITORING_READ, MONITORING_PUSH),
    "audit.": ReadWrite(AUDIT_READ),
    "portal.reports.": ReadWrite(AUDIT_READ),
    "portal.accounts.": ReadWrite(ACCOUNTS_READ, ACCOUNTS_WRITE),
}


def view_key(view) -> str:
    """``module.Name`` of a resolved view: the DRF class behind ``as_view()``
    (or ``@api_view``), else the function itself."""
    target = getattr(view, "cls", None) or getattr(view, "view_class", None) or view
    return f"{target.__module__}.{target.__name__}"


@lru_cache(maxsize=1024)  # one entry per view: a few hundred at most
def _rule(key: str) -> str | ReadWrite | None:
    if key in ROUTE_SCOPES:
        return ROUTE_SCOPES[key]
    prefixes = [prefix for prefix in MODULE_DEFAULTS if key.startswith(prefix)]
    return MODULE_DEFAULTS[max(prefixes, key=len)] if prefixes else None


def required_scope(key: str, method: str) -> str | None:
    """The scope a token needs to call the view ``key`` with ``method``:
    a scope name, ``ANY_SCOPE``, or None when the route has no scope (every
    token is refused)."""
    method = method.upper()
    if method == "OPTIONS":
        return ANY_SCOPE
    rule = _rule(key)
    if rule is None or isinstance(rule, str):
        return rule
    return rule.read if method in READ_METHODS else rule.write


def missing_scope(scopes: Iterable[str], key: str, method: str) -> str | None:
    """None when a token with ``scopes`` may call the view ``key`` with
    ``method``; else the message of the refusal, naming the scope."""
    needed = required_scope(key, method)
    if needed == ANY_SCOPE or (needed is not None and needed in set(scopes)):
        return None
    if needed is None:
        return f"No API token may call {method.upper()} on this route."
    return (
        f"This API token lacks the scope '{needed}' "
        f"({SCOPE_LABELS[needed].lower()}). Create a token with that scope."
    )


def scopes_text(scopes: Iterable[str]) -> str:
    """Scopes as stored on a token: known names, in the list's order, spaces
    between (as in OAuth's ``scope`` parameter)."""
    wanted = set(scopes)
    return " ".join(name for name in SCOPE_NAMES if name in wanted)


def scopes_parse(text: str) -> frozenset[str]:
    return frozenset(text.split())


def scope_errors(scopes: Iterable[str], *, service_account: bool) -> list[str]:
    """What is wrong with a requested list of scopes (empty: nothing)."""
    wanted = list(scopes)
    if not wanted:
        return ["Choose at least one scope."]
    unknown = sorted({name for name in wanted if name not in SCOPE_LABELS})
    if unknown:
        return [f"Unknown scope: {', '.join(unknown)}."]
    if service_account:
        barred = [
            name for name in SCOPE_NAMES if name in PEOPLE_ONLY_SCOPES & set(wanted)
        ]
        if barred:
            return [
                f"{', '.join(barred)}: for people's tokens only. Service accounts "
                "approve nothing and manage no account."
            ]
    return []
