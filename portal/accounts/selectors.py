"""Reads about service accounts, limited to what the actor may see."""

from django.db.models import Count, Q
from django.utils import timezone

from kernel.models import ApiToken, ServiceAccount
from portal.accounts import access


def service_account_list(*, actor):
    """The accounts the actor may see, with their usable token counts (one
    query)."""
    now = timezone.now()
    usable = Q(user__api_tokens__revoked_at__isnull=True) & (
        Q(user__api_tokens__expires_at__isnull=True)
        | Q(user__api_tokens__expires_at__gt=now)
    )
    return (
        access.visible_accounts(actor)
        .select_related("user", "team", "created_by")
        .annotate(usable_tokens=Count("user__api_tokens", filter=usable))
        .order_by("team__name", "user__username")
    )


def service_account_get(*, actor, account_id: int) -> ServiceAccount:
    return access.account_or_404(actor, account_id)


def service_account_tokens(*, account: ServiceAccount):
    return ApiToken.objects.filter(user_id=account.user_id).order_by(
        "revoked_at", "-created_at"
    )
