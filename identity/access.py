"""Who may change identity settings: platform admins and superusers."""

from kernel.roles import PLATFORM_ADMIN, user_has_role


def may_manage_mappings(actor) -> bool:
    return bool(
        actor is not None
        and actor.is_active
        and (actor.is_superuser or user_has_role(actor, PLATFORM_ADMIN))
    )
