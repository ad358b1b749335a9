from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction

from kernel.admin import ReadOnlyAdmin
from kernel.errors import PermissionDenied
from kernel.models import ApiToken, ServiceAccount, Team
from portal.login_failures import login_lockout_release, may_unlock
from portal.services import (
    user_account_save,
    user_groups_set,
    user_password_set,
    user_permissions_set,
)

User = get_user_model()


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Every change made here goes through a service and is an audit event, in
    the admin's transaction: the account (user_account_save), roles and teams
    (user_groups_set), direct permissions (user_permissions_set) and the
    password (user_password_set)."""

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly.append("is_superuser")  # only superusers make superusers
        return readonly

    def save_model(self, request, obj, form, change):
        user_account_save(
            actor=request.user, user=obj, is_new=not change, changed=form.changed_data
        )

    def save_related(self, request, form, formsets, change):
        groups = form.cleaned_data.pop("groups", None)
        permissions = form.cleaned_data.pop("user_permissions", None)
        super().save_related(request, form, formsets, change)
        if groups is not None:
            user_groups_set(actor=request.user, user=form.instance, groups=groups)
        if permissions is not None:
            user_permissions_set(
                actor=request.user, user=form.instance, permissions=permissions
            )

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user_password_set(actor=request.user, user=User.objects.get(pk=id))
        return response


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    exclude = ["digest"]


@admin.register(ServiceAccount)
class ServiceAccountAdmin(ReadOnlyAdmin):
    """Read-only: service accounts are created, given tokens and deactivated on
    their own pages (/service-accounts/), each an audit event."""

    list_display = ["user", "team", "created_by", "created_at"]
    list_filter = ["team"]
    search_fields = ["user__username", "team__name", "description"]
    list_select_related = ["user", "team", "created_by"]


@admin.register(AccessAttempt)
class AccessAttemptAdmin(ReadOnlyAdmin):
    """Failed-login counts kept by django-axes; a username is locked while its
    count reaches the limit within the cool-off. Platform admins lift a lock
    with the "unlock" action, an audit event naming them (never by deleting
    rows here: deleting is switched off)."""

    list_display = (
        "username",
        "ip_address",
        "failures_since_start",
        "attempt_time",
        "path_info",
    )
    list_filter = ("attempt_time",)
    search_fields = ("username", "ip_address")
    fields = (*list_display, "user_agent")
    actions = ["unlock"]

    def has_unlock_permission(self, request):
        return may_unlock(request.user)

    @admin.action(description="Unlock the selected usernames", permissions=["unlock"])
    def unlock(self, request, queryset):
        try:
            count = login_lockout_release(
                actor=request.user,
                attempt_ids=list(queryset.values_list("pk", flat=True)),
            )
        except PermissionDenied as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, f"Unlocked: {count} failure count(s) cleared.")
