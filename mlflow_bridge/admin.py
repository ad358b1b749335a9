"""Admin pages: platform admins configure governed aliases; tags, free aliases
and version links are read-only here (MLflow clients write them through the
services), limited to the models the signed-in person may see."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError

from kernel.admin import ReadOnlyAdmin
from mlflow_bridge import services
from mlflow_bridge.errors import MlflowError
from mlflow_bridge.models import (
    GovernedAlias,
    ModelAlias,
    RegisteredModelTag,
    VersionLink,
)
from models_registry import access


class GovernedAliasForm(forms.ModelForm):
    class Meta:
        model = GovernedAlias
        fields = ("alias", "kind", "team", "model", "environment")
        help_texts = {
            "kind": "Blank: entries of every kind.",
            "team": "Only this team's entries (leave blank for every team).",
            "model": "Only this entry (leave blank for every entry).",
            "environment": "Blank: the alias is free where this rule applies.",
        }

    def clean_alias(self):
        alias = self.cleaned_data["alias"]
        try:
            services.validate_governed_alias(alias)
        except MlflowError as error:
            raise ValidationError(error.message) from error
        return alias


@admin.register(GovernedAlias)
class GovernedAliasAdmin(admin.ModelAdmin):
    form = GovernedAliasForm
    list_display = ("alias", "kind", "team", "model", "environment", "updated_at")
    list_select_related = ("environment", "team", "model")
    list_filter = ("kind",)

    def save_model(self, request, obj, form, change):
        # The form has set the new values on obj; the service checks, saves and
        # audits them in one transaction.
        values = {
            "alias": obj.alias,
            "environment": obj.environment,
            "kind": obj.kind,
            "team": obj.team,
            "model": obj.model,
        }
        if change:
            obj = GovernedAlias.objects.select_related(
                "environment", "team", "model"
            ).get(pk=obj.pk)
        try:
            services.governed_alias_save(actor=request.user, governed=obj, **values)
        except MlflowError as error:
            raise PermissionDenied(error.message) from error

    def delete_model(self, request, obj):
        try:
            services.governed_alias_delete(actor=request.user, governed=obj)
        except MlflowError as error:
            raise PermissionDenied(error.message) from error

    def delete_queryset(self, request, queryset):
        for governed in queryset.select_related("environment", "team", "model"):
            self.delete_model(request, governed)


class VisibleReadOnlyAdmin(ReadOnlyAdmin):
    """Read-only rows of the models the signed-in person may see."""

    model_path = "model"

    def get_queryset(self, request):
        visible = access.models_for(request.user).values("pk")
        return (
            super().get_queryset(request).filter(**{f"{self.model_path}__in": visible})
        )


@admin.register(RegisteredModelTag)
class RegisteredModelTagAdmin(VisibleReadOnlyAdmin):
    list_display = ("model", "key", "value", "updated_at")
    list_select_related = ("model",)
    search_fields = ("model__name", "key")


@admin.register(ModelAlias)
class ModelAliasAdmin(VisibleReadOnlyAdmin):
    list_display = ("model", "alias", "version", "updated_by", "updated_at")
    list_select_related = ("model", "version", "version__model", "updated_by")
    search_fields = ("model__name", "alias")


@admin.register(VersionLink)
class VersionLinkAdmin(VisibleReadOnlyAdmin):
    model_path = "version__model"
    list_display = ("version", "run_id", "imported_from", "imported_version")
    list_select_related = ("version", "version__model")
    search_fields = ("version__model__name", "run_id")
