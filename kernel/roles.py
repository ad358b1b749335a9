"""Roles are Django groups with global permissions; this module is their definition.

Role groups are created by a data migration (portal 0002) and kept in step with
this table after every ``migrate`` (``KernelConfig.ready``), so an app that adds
models adds its permissions here and they reach the roles on the next migrate.
Permissions are only ever added here, never silently taken away from a group.
Teams are groups too, but they carry no global permissions: what a team may do
is granted per model through object permissions.
"""

from functools import cache

DATA_SCIENTIST = "data_scientist"
REVIEWER = "reviewer"
RISK_OFFICER = "risk_officer"
VALIDATOR = "validator"
AUDITOR = "auditor"
PLATFORM_ADMIN = "platform_admin"
# Leads the teams they are members of: creates their service accounts and
# manages those accounts' tokens (portal/accounts).
TEAM_LEAD = "team_lead"

ROLES = (
    DATA_SCIENTIST,
    REVIEWER,
    RISK_OFFICER,
    VALIDATOR,
    AUDITOR,
    PLATFORM_ADMIN,
    TEAM_LEAD,
)

ROLE_LABELS = {
    DATA_SCIENTIST: "Data scientist",
    REVIEWER: "Reviewer",
    RISK_OFFICER: "Risk officer",
    VALIDATOR: "Validator",
    AUDITOR: "Auditor",
    PLATFORM_ADMIN: "Platform admin",
    TEAM_LEAD: "Team lead",
}

_READ_TEAMS = ["portal.view_team"]
_READ_REGISTRY = [
    f"models_registry.view_{name}"
    for name in (
        "registeredmodel",
        "datasetsnapshot",
        "trainingrun",
        "artifact",
        "modelversion",
        "evaluation",
        "fairnessslice",
        "modelcard",
        "modelcardrevision",
        "reproductioncheck",
    )
]
_READ_APPROVALS = [
    f"approvals.view_{name}"
    for name in (
        "environment",
        "approvalpolicy",
        "deploymentrequest",
        "decision",
        "validationreport",
        "finding",
        "deployment",
    )
]
_READ_MLFLOW = [
    f"mlflow_bridge.view_{name}"
    for name in ("registeredmodeltag", "modelalias", "governedalias", "versionlink")
]
_READ_MONITORING = [
    f"monitoring.view_{name}"
    for name in (
        "monitoringtarget",
        "monitoringconfig",
        "referenceprofile",
        "monitoringbatch",
        "monitoringwindow",
        "checkresult",
        "alert",
        "reviewitem",
    )
]
_READ_AUDIT = [
    "audit.view_auditevent",
    "audit.export_auditevent",
    "audit.verify_auditevent",
    "audit.view_chainverification",
]

# "app_label.codename" per role. Unknown codenames (an app not migrated yet) are
# skipped and picked up by a later sync.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    DATA_SCIENTIST: [
        *_READ_TEAMS,
        "models_registry.add_registeredmodel",
        "models_registry.add_datasetsnapshot",
        "approvals.add_deploymentrequest",
        # Push monitoring batches and reference samples for their team's models.
        "monitoring.push_data",
    ],
    REVIEWER: [*_READ_TEAMS, "approvals.add_decision"],
    RISK_OFFICER: [
        *_READ_TEAMS,
        "models_registry.change_risk_class",
        "approvals.add_decision",
    ],
    VALIDATOR: [*_READ_TEAMS, "approvals.add_validationreport"],
    AUDITOR: [
        *_READ_TEAMS,
        *_READ_REGISTRY,
        *_READ_APPROVALS,
        *_READ_MONITORING,
        *_READ_AUDIT,
        *_READ_MLFLOW,
        "auth.view_user",
        "auth.view_group",
    ],
    PLATFORM_ADMIN: [
        *_READ_TEAMS,
        *_READ_REGISTRY,
        *_READ_APPROVALS,
        *_READ_MONITORING,
        *_READ_AUDIT,
        *_READ_MLFLOW,
        "approvals.change_approvalpolicy",
        "approvals.add_environment",
        "approvals.change_environment",
        "approvals.add_webhookendpoint",
        "approvals.change_webhookendpoint",
        "approvals.view_webhookendpoint",
        "approvals.view_webhookdelivery",
        "mlflow_bridge.add_governedalias",
        "mlflow_bridge.change_governedalias",
        "mlflow_bridge.delete_governedalias",
        "portal.add_team",
        "portal.change_team",
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "auth.change_group",
        "auth.view_group",
        "portal.view_apitoken",
        # Login lockouts (django-axes), lifted with the admin's audited action.
        "axes.view_accessattempt",
    ],
    TEAM_LEAD: [*_READ_TEAMS],
}


def sync_role_groups(apps) -> None:
    """Create the role groups and add the permissions of ROLE_PERMISSIONS.

    Takes an app registry (the historical one inside migrations) so that it can
    run from data migrations as well as after ``migrate``.
    """
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    wanted = {
        tuple(name.split(".", 1))
        for names in ROLE_PERMISSIONS.values()
        for name in names
    }
    known = {
        (app_label, codename): pk
        for pk, app_label, codename in permission_model.objects.filter(
            codename__in={codename for _, codename in wanted}
        ).values_list("pk", "content_type__app_label", "codename")
    }
    for role in ROLES:
        group, _ = group_model.objects.get_or_create(name=role)
        ids = [
            known[key]
            for key in (tuple(name.split(".", 1)) for name in ROLE_PERMISSIONS[role])
            if key in known
        ]
        group.permissions.add(*ids)


def sync_role_groups_migration(apps, schema_editor) -> None:
    """RunPython operation for data migrations: create any missing permissions
    (normally created only after migrate), then sync the role groups."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_role_groups(apps)


@cache
def _memberships_sql() -> str:
    """Every group of a user (roles and teams), and one row with no group when
    the user is a service account: one prepared query."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from kernel.models import ServiceAccount

    user_groups = get_user_model().groups.through._meta.db_table
    return (
        f"SELECT g.id, g.name FROM {user_groups} ug "  # noqa: S608
        f"JOIN {Group._meta.db_table} g ON g.id = ug.group_id WHERE ug.user_id = %s "
        f"UNION ALL SELECT NULL, NULL FROM {ServiceAccount._meta.db_table} "
        "WHERE user_id = %s"
    )


def remember_memberships(user, groups, is_service: bool) -> None:
    """Cache on the user object, for the request, what ``_load_roles`` reads:
    ``groups`` as (id, name) pairs of every group the user is in."""
    groups = list(groups)
    user._gatehouse_roles = frozenset(name for _, name in groups if name in ROLES)
    user._gatehouse_group_ids = frozenset(group_id for group_id, _ in groups)
    user._gatehouse_is_service_account = bool(is_service)


def forget_memberships(user) -> None:
    """Drop the cached roles, groups and teams (after the user's groups
    changed)."""
    for name in (
        "_gatehouse_roles",
        "_gatehouse_group_ids",
        "_gatehouse_is_service_account",
        "_gatehouse_team_rows",  # kernel.teams.remember_teams
    ):
        user.__dict__.pop(name, None)


def _load_roles(user) -> None:
    """The user's roles, groups and whether the user is a service account, in
    one prepared query (cached on the user object): every rule that asks for
    roles gets team membership and the service-account answer for free. Token
    authentication reads them with the token (kernel/authentication.py)."""
    from kernel import db

    rows = db.rows(_memberships_sql(), [user.pk, user.pk])
    remember_memberships(
        user,
        [(group_id, name) for group_id, name in rows if group_id is not None],
        any(group_id is None for group_id, _ in rows),
    )


def user_roles(user) -> frozenset[str]:
    """Return the role names the user holds (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if getattr(user, "_gatehouse_roles", None) is None:
        _load_roles(user)
    return user._gatehouse_roles


def group_ids(user) -> frozenset[int]:
    """Ids of every group the user is in, roles and teams (cached with the
    roles): ``team.group_id in group_ids(user)`` is team membership."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if getattr(user, "_gatehouse_group_ids", None) is None:
        _load_roles(user)
    return user._gatehouse_group_ids


def is_team_member(user, team) -> bool:
    return team.group_id in group_ids(user)


def is_service_account(user) -> bool:
    """Whether the user is a service account (cached with the roles)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "_gatehouse_is_service_account", None) is None:
        _load_roles(user)
    return user._gatehouse_is_service_account


def user_has_role(user, *roles: str) -> bool:
    return bool(user_roles(user).intersection(roles))


# Roles that read and never write: holding only these, a person changes nothing.
READ_ONLY_ROLES = frozenset({AUDITOR})


def reads_only(user) -> bool:
    """True for people whose every role only reads (auditors): they change
    nothing anywhere, so a write of theirs is refused (403) before its input is
    read, rather than answered with what is wrong with the input."""
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return False
    held = user_roles(user)
    return bool(held) and held <= READ_ONLY_ROLES


def writes_nothing(user) -> bool:
    """True for people who may change nothing anywhere: those whose roles only
    read, and those with neither a role nor a team (a team's models would grant
    them object rights). For writes whose target is named in the body, not the
    path: there is no object to answer 404 about before the body is read."""
    if reads_only(user):
        return True
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return False
    if user_roles(user):
        return False
    from kernel.models import Team

    groups = group_ids(user)
    return not (groups and Team.objects.filter(group_id__in=groups).exists())
