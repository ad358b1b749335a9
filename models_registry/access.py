"""Who may see and do what with a registered model.

One rule, used by every selector, service, page and API: a person sees every model
if they hold the *global* ``view_registeredmodel`` permission (auditors and
platform admins), otherwise only models on which they, or one of their groups
(their team), hold the *object* permission. Object permissions live in the direct
foreign-key tables of django-guardian, so they die with their model.

The rule is written once, as SQL (:func:`holding_sql`), and reaches querysets
as the :class:`Holding` expression. Global and object permissions are checked in
the same statement, so limiting a query to what someone may see costs no
queries of its own, and the SQL text depends only on the permission asked for,
so PostgreSQL can keep it prepared (``kernel.db``).
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import BooleanField, Expression, F, QuerySet

from kernel import db
from models_registry.models import (
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
)

VIEW = "view_registeredmodel"
CHANGE = "change_registeredmodel"
REGISTER = "register_version"
REVIEW = "review_registeredmodel"
ROLLBACK = "rollback_registeredmodel"


def sees_all_models(actor) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    return actor.is_superuser or actor.has_perm(f"models_registry.{VIEW}")


# ``{held}``: the permission ids the rule asks about. On one permission row
# (``codenames``) that row's id; for a codename, the ids of that codename in
# this app as an uncorrelated subquery, which PostgreSQL runs once per
# statement rather than once per row of a list (it was a nested loop over the
# permission and content-type tables for every model a page tested).
_HELD_GLOBALLY = (
    "EXISTS (SELECT 1 FROM {user_permissions} gh_up "
    "WHERE gh_up.user_id = %s AND gh_up.permission_id {held}) "
    "OR EXISTS (SELECT 1 FROM {user_groups} gh_ug "
    "JOIN {group_permissions} gh_gp ON gh_gp.group_id = gh_ug.group_id "
    "WHERE gh_ug.user_id = %s AND gh_gp.permission_id {held})"
)
_HELD_ON_OBJECT = (
    "EXISTS (SELECT 1 FROM {user_objects} gh_uo "
    "WHERE gh_uo.content_object_id = {model} AND gh_uo.user_id = %s "
    "AND gh_uo.permission_id {held}) "
    "OR EXISTS (SELECT 1 FROM {group_objects} gh_go "
    "JOIN {user_groups} gh_og ON gh_og.group_id = gh_go.group_id "
    "WHERE gh_go.content_object_id = {model} AND gh_og.user_id = %s "
    "AND gh_go.permission_id {held})"
)
_PERMISSIONS = (
    "FROM {permission} gh_p JOIN {content_type} gh_ct "
    "ON gh_ct.id = gh_p.content_type_id WHERE gh_ct.app_label = %s"
)
_CODENAME = (
    "IN (SELECT gh_pc.id FROM {permission} gh_pc JOIN {content_type} gh_cc "
    "ON gh_cc.id = gh_pc.content_type_id "
    "WHERE gh_cc.app_label = %s AND gh_pc.codename = %s)"
)


@cache
def _templates() -> dict[str, str]:
    """The rule's SQL texts, with ``{model}`` standing for the model's id:

    * ``view`` and ``other``: true where the actor holds a codename (the global
      permission counts for VIEW only); parameters: (the actor's id, app
      label, codename) four times (twice for ``other``);
    * ``codenames`` (no ``{model}``: a parameter): the codenames the actor
      holds on one model; parameters: app label, (model id, actor's id) twice,
      VIEW, the actor's id twice.
    """
    user = get_user_model()
    tables = {
        "permission": Permission._meta.db_table,
        "content_type": ContentType._meta.db_table,
        "user_permissions": user.user_permissions.through._meta.db_table,
        "user_groups": user.groups.through._meta.db_table,
        "group_permissions": Group.permissions.through._meta.db_table,
        "user_objects": RegisteredModelUserObjectPermission._meta.db_table,
        "group_objects": RegisteredModelGroupObjectPermission._meta.db_table,
        "model": "{model}",
    }
    permissions = _PERMISSIONS.format(**tables)
    codename = _CODENAME.format(**tables)
    globally = _HELD_GLOBALLY.format(**tables, held=codename)
    on_object = _HELD_ON_OBJECT.format(**tables, held=codename)
    row_globally = _HELD_GLOBALLY.format(**tables, held="= gh_p.id")
    row_on_object = _HELD_ON_OBJECT.format(**tables, held="= gh_p.id")
    return {
        "view": f"({globally} OR {on_object})",
        "other": f"({on_object})",
        "codenames": (
            f"SELECT gh_p.codename {permissions} AND ({row_on_object} "
            f"OR (gh_p.codename = %s AND ({row_globally})))"
        ).replace("{model}", "%s"),
    }


def holding_sql(actor, codename: str, model_column: str) -> tuple[str, list]:
    """SQL that is true where the actor holds ``codename`` on the model whose
    id is ``model_column`` (an active, non-superuser actor; see models_for)."""
    with_global = codename == VIEW
    sql = _templates()["view" if with_global else "other"]
    app_label = RegisteredModel._meta.app_label
    return (
        sql.replace("{model}", model_column),
        [actor.pk, app_label, codename] * (4 if with_global else 2),
    )


def visible_sql(actor, model_column: str) -> tuple[str, list]:
    """SQL that is true where the actor may see the model whose id is
    ``model_column``, for any actor (nobody, a superuser, anyone else)."""
    if not may(actor):
        return "1 = 0", []
    if actor.is_superuser:
        return "1 = 1", []
    return holding_sql(actor, VIEW, model_column)


class Holding(Expression):
    """``holding_sql`` as a queryset condition on the model at ``ref`` (a
    field path to a RegisteredModel id). The column is compiled by Django, so
    the expression stays right inside subqueries and joins."""

    conditional = True

    def __init__(self, actor, codename: str, ref: str = "pk"):
        super().__init__(output_field=BooleanField())
        self.actor, self.codename, self.ref = actor, codename, ref
        self.column = F(ref)

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, expressions):
        (self.column,) = expressions

    def as_sql(self, compiler, connection):
        column_sql, column_params = compiler.compile(self.column)
        if column_params:  # a plain column has none
            raise ValueError("Holding needs a column reference.")
        return holding_sql(self.actor, self.codename, column_sql)

    def __repr__(self):
        return f"Holding({self.actor.pk}, {self.codename!r}, {self.ref!r})"


def may(actor) -> bool:
    """Whether the actor may hold anything at all (authenticated and active)."""
    return bool(getattr(actor, "is_authenticated", False) and actor.is_active)


def models_for(
    actor, codename: str = VIEW, queryset: QuerySet | None = None
) -> QuerySet:
    """The models on which the actor holds ``codename`` (one query when
    evaluated, the permission check included)."""
    queryset = RegisteredModel.objects.all() if queryset is None else queryset
    return limit_to(actor, queryset, "pk", codename)


def limit_to(actor, queryset: QuerySet, ref: str, codename: str = VIEW) -> QuerySet:
    """Rows of ``queryset`` whose model (the RegisteredModel id at ``ref``) the
    actor holds ``codename`` on; e.g. ``limit_to(actor, versions, "model_id")``."""
    if not may(actor):
        return queryset.none()
    if actor.is_superuser:
        return queryset
    return queryset.filter(Holding(actor, codename, ref))


def model_permissions(actor, model: RegisteredModel) -> frozenset[str]:
    """Every codename the actor holds on the model, VIEW included when held
    globally (one query, then cached on the actor for the request)."""
    if not may(actor):
        return frozenset()
    cache_ = actor.__dict__.setdefault("_gatehouse_model_permissions", {})
    if model.pk not in cache_:
        params = [RegisteredModel._meta.app_label, *(model.pk, actor.pk) * 2]
        rows = db.rows(_templates()["codenames"], [*params, VIEW, actor.pk, actor.pk])
        codenames = {codename for (codename,) in rows}
        if actor.is_superuser:
            codenames.add(VIEW)
        cache_[model.pk] = frozenset(codenames)
    return cache_[model.pk]


def has_model_permission(actor, model: RegisteredModel, codename: str) -> bool:
    if not may(actor):
        return False
    if actor.is_superuser:
        return True
    return codename in model_permissions(actor, model)


def forget_model_permissions(actor) -> None:
    actor.__dict__.pop("_gatehouse_model_permissions", None)
