"""The IdP group mapping in the Django admin (platform admins; every change an
audit event through the services), and what the IdP provisioned, read-only."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from identity.access import may_manage_mappings
from identity.models import ExternalIdentity, GroupMapping, ScimGroup
from identity.services import group_mapping_create, group_mapping_delete
from kernel.admin import ReadOnlyAdmin
from kernel.errors import ServiceError


@admin.register(GroupMapping)
class GroupMappingAdmin(admin.ModelAdmin):
    """Add and delete only (a changed mapping is a deleted one and a new one,
    each audited). Roles and teams follow at each person's next sign-in or SCIM
    group update."""

    list_display = ["claim", "role", "team", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["claim"]
    list_select_related = ["team"]
    fields = ["claim", "role", "team"]
    actions = ["delete_selected_mappings"]

    def has_module_permission(self, request):
        return may_manage_mappings(request.user)

    def has_view_permission(self, request, obj=None):
        return may_manage_mappings(request.user)

    def has_add_permission(self, request):
        return may_manage_mappings(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return may_manage_mappings(request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        def clean(form_self):
            data = super(form, form_self).clean()
            if bool(data.get("role")) == (data.get("team") is not None):
                raise ValidationError("Choose a role or a team (one of them).")
            return data

        form.clean = clean
        return form

    def save_model(self, request, obj, form, change):
        try:
            saved = group_mapping_create(
                actor=request.user,
                claim=obj.claim,
                role=obj.role,
                team_id=obj.team_id,
            )
        except ServiceError as error:
            raise ValidationError(error.message) from error
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        group_mapping_delete(actor=request.user, mapping_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for mapping_id in queryset.values_list("pk", flat=True):
            group_mapping_delete(actor=request.user, mapping_id=mapping_id)

    @admin.action(description="Delete the selected mappings", permissions=["delete"])
    def delete_selected_mappings(self, request, queryset):
        count = 0
        for mapping_id in queryset.values_list("pk", flat=True):
            try:
                group_mapping_delete(actor=request.user, mapping_id=mapping_id)
            except ServiceError as error:
                self.message_user(request, error.message, messages.ERROR)
                return
            count += 1
        self.message_user(request, f"Deleted {count} mapping(s).")


class _ManagersOnly(ReadOnlyAdmin):
    def has_module_permission(self, request):
        return may_manage_mappings(request.user)

    def has_view_permission(self, request, obj=None):
        return may_manage_mappings(request.user)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(_ManagersOnly):
    list_display = ["user", "subject", "external_id", "last_synced_at"]
    search_fields = ["user__username", "subject", "external_id"]
    list_select_related = ["user"]


@admin.register(ScimGroup)
class ScimGroupAdmin(_ManagersOnly):
    list_display = ["display_name", "external_id", "updated_at"]
    search_fields = ["display_name", "external_id"]
