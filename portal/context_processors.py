from kernel.roles import AUDITOR, PLATFORM_ADMIN, ROLE_LABELS, user_roles
from portal.accounts.access import may_see_service_accounts


def navigation(request):
    """Which navigation entries the signed-in user sees."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": None}
    roles = user_roles(user)
    return {
        "nav": {
            "roles": [ROLE_LABELS[role] for role in sorted(roles)],
            "show_audit": user.is_superuser or bool(roles & {AUDITOR, PLATFORM_ADMIN}),
            "show_service_accounts": may_see_service_accounts(user),
            "show_admin": user.is_staff,
        }
    }
