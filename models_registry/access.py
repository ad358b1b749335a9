"""Who may see and do what with a registered model.

One rule, used by every selector, service, page and API: a person sees every model
if they hold the *global* ``view_registeredmodel`` permission (auditors and
platform admins), otherwise only models on which they, or one of their groups
(their team), hold the *object* permission. Object permissions live in the direct
foreign-key tables of django-guardian, so they die with their model.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

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


def _holding(actor, codename: str, model_ref) -> Q:
    user_rows = RegisteredModelUserObjectPermission.objects.filter(
        content_object=model_ref, user=actor, permission__codename=codename
    )
    group_rows = RegisteredModelGroupObjectPermission.objects.filter(
        content_object=model_ref, group__user=actor, permission__codename=codename
    )
    return Q(Exists(user_rows)) | Q(Exists(group_rows))


def models_for(
    actor, codename: str = VIEW, queryset: QuerySet | None = None
) -> QuerySet:
    """The models on which the actor holds ``codename`` (one query when evaluated)."""
    queryset = RegisteredModel.objects.all() if queryset is None else queryset
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return queryset.none()
    if actor.is_superuser or (codename == VIEW and sees_all_models(actor)):
        return queryset
    return queryset.filter(_holding(actor, codename, OuterRef("pk")))


def model_permissions(actor, model: RegisteredModel) -> frozenset[str]:
    """Every object permission codename the actor holds on the model (cached)."""
    cache = actor.__dict__.setdefault("_gatehouse_model_permissions", {})
    if model.pk not in cache:
        user_codenames = RegisteredModelUserObjectPermission.objects.filter(
            content_object=model, user=actor
        ).values_list("permission__codename", flat=True)
        group_codenames = RegisteredModelGroupObjectPermission.objects.filter(
            content_object=model, group__user=actor
        ).values_list("permission__codename", flat=True)
        codenames = set(user_codenames.union(group_codenames))
        if actor.is_superuser or sees_all_models(actor):
            codenames.add(VIEW)
        cache[model.pk] = frozenset(codenames)
    return cache[model.pk]


def has_model_permission(actor, model: RegisteredModel, codename: str) -> bool:
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    return codename in model_permissions(actor, model)


def forget_model_permissions(actor) -> None:
    actor.__dict__.pop("_gatehouse_model_permissions", None)
