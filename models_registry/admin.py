"""Read-only admin pages for every registry record.

Nothing is added, changed or deleted here: every write of the registry goes
through ``models_registry.services``, which checks the rules and records the
audit event in the same transaction; an admin form would skip both. Changelists
show only what the signed-in person may see (``access.models_for`` and the
selectors), and select their related rows up front.
"""

from django.contrib import admin

from kernel.admin import ReadOnlyAdmin
from models_registry import access, selectors
from models_registry.models import (
    Artifact,
    DatasetSnapshot,
    Evaluation,
    FairnessSlice,
    ModelCard,
    ModelCardRevision,
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
    ReproductionCheck,
    TeamReviewer,
    TrainingRun,
    TrainingRunInput,
)


class RegistryReadOnlyAdmin(ReadOnlyAdmin):
    """No add, change or delete; rows limited to the models the user may see.

    ``model_path`` is the lookup from this table to its registered model (None
    for tables that only people who see every model may read).
    """

    model_path = "model"
    show_full_result_count = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.model_path is None:
            return queryset
        visible = access.models_for(request.user).values("pk")
        if self.model_path == "pk":
            return queryset.filter(pk__in=visible)
        return queryset.filter(**{f"{self.model_path}__in": visible})


class SeesAllModelsMixin:
    """For link tables without a role permission of their own: people who see
    every model (auditors, platform admins) may read them."""

    def has_view_permission(self, request, obj=None):
        return access.sees_all_models(request.user)

    def has_module_permission(self, request):
        return access.sees_all_models(request.user)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return access.sees_all_models(request.user)


@admin.register(RegisteredModel)
class RegisteredModelAdmin(RegistryReadOnlyAdmin):
    model_path = "pk"
    list_display = [
        "name",
        "title",
        "team",
        "risk_class",
        "domain",
        "regulatory_tier",
        "serving_mode",
        "last_version_number",
        "created_at",
    ]
    list_filter = ["risk_class", "domain", "regulatory_tier", "serving_mode", "team"]
    search_fields = ["name", "title"]
    list_select_related = ["team", "created_by"]
    ordering = ["name"]


@admin.register(TeamReviewer)
class TeamReviewerAdmin(SeesAllModelsMixin, RegistryReadOnlyAdmin):
    list_display = ["user", "team", "created_at"]
    list_filter = ["team"]
    search_fields = ["user__username", "team__slug", "team__name"]
    list_select_related = ["user", "team"]
    model_path = None  # team-wide assignments; only people who see all read them


@admin.register(RegisteredModelUserObjectPermission)
class ModelUserPermissionAdmin(SeesAllModelsMixin, RegistryReadOnlyAdmin):
    model_path = "content_object"
    list_display = ["content_object", "user", "permission"]
    list_filter = ["permission__codename"]
    search_fields = ["content_object__name", "user__username"]
    list_select_related = ["content_object", "user", "permission__content_type"]


@admin.register(RegisteredModelGroupObjectPermission)
class ModelGroupPermissionAdmin(SeesAllModelsMixin, RegistryReadOnlyAdmin):
    model_path = "content_object"
    list_display = ["content_object", "group", "permission"]
    list_filter = ["permission__codename"]
    search_fields = ["content_object__name", "group__name"]
    list_select_related = ["content_object", "group", "permission__content_type"]


@admin.register(DatasetSnapshot)
class DatasetSnapshotAdmin(RegistryReadOnlyAdmin):
    list_display = ["name", "team", "short_sha256", "row_count", "created_at"]
    list_filter = ["team"]
    search_fields = ["name", "sha256", "uri"]
    list_select_related = ["team"]
    ordering = ["-created_at"]

    def get_queryset(self, request):
        # The same rule as the pages and the API.
        return selectors.dataset_list(actor=request.user)

    @admin.display(description="sha256")
    def short_sha256(self, snapshot):
        return f"{snapshot.sha256[:12]}…"


class TrainingRunInputInline(ReadOnlyInline):
    model = TrainingRunInput
    fields = ["role", "snapshot"]
    readonly_fields = ["role", "snapshot"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("snapshot")


@admin.register(TrainingRun)
class TrainingRunAdmin(RegistryReadOnlyAdmin):
    list_display = [
        "external_run_id",
        "model",
        "code_commit",
        "random_seed",
        "created_at",
    ]
    list_filter = ["model__team"]
    search_fields = ["external_run_id", "code_commit", "model__name"]
    list_select_related = ["model"]
    inlines = [TrainingRunInputInline]
    ordering = ["-created_at"]


@admin.register(Artifact)
class ArtifactAdmin(RegistryReadOnlyAdmin):
    list_display = [
        "model",
        "short_sha256",
        "format",
        "size_bytes",
        "preprocessing_code_version",
        "created_at",
    ]
    list_filter = ["format"]
    search_fields = ["sha256", "uri", "model__name"]
    list_select_related = ["model"]
    ordering = ["-created_at"]

    @admin.display(description="sha256")
    def short_sha256(self, artifact):
        return f"{artifact.sha256[:12]}…"


@admin.register(ModelVersion)
class ModelVersionAdmin(RegistryReadOnlyAdmin):
    list_display = [
        "model",
        "version",
        "semantic_version",
        "status",
        "registered_by",
        "production_approved_at",
        "created_at",
    ]
    list_filter = ["status", "model__risk_class"]
    search_fields = ["model__name", "semantic_version", "description"]
    list_select_related = ["model", "registered_by"]
    ordering = ["model__name", "-version"]


@admin.register(Evaluation)
class EvaluationAdmin(RegistryReadOnlyAdmin):
    model_path = "version__model"
    list_display = ["__str__", "split", "dataset", "created_at"]
    list_filter = ["split"]
    search_fields = ["version__model__name", "dataset__name"]
    list_select_related = ["version__model", "dataset"]
    ordering = ["-created_at"]


@admin.register(FairnessSlice)
class FairnessSliceAdmin(RegistryReadOnlyAdmin):
    model_path = "evaluation__version__model"
    list_display = ["__str__", "evaluation", "size"]
    list_filter = ["attribute"]
    search_fields = ["attribute", "group", "evaluation__version__model__name"]
    list_select_related = ["evaluation__version__model"]


@admin.register(ModelCard)
class ModelCardAdmin(RegistryReadOnlyAdmin):
    model_path = "version__model"
    list_display = ["__str__", "revision", "updated_by", "updated_at"]
    search_fields = ["version__model__name"]
    list_select_related = ["version__model", "updated_by"]
    ordering = ["-updated_at"]


@admin.register(ModelCardRevision)
class ModelCardRevisionAdmin(RegistryReadOnlyAdmin):
    model_path = "card__version__model"
    list_display = ["card_version", "revision", "edited_by", "edited_at"]
    search_fields = ["card__version__model__name"]
    list_select_related = ["card__version__model", "edited_by"]
    ordering = ["-edited_at"]

    @admin.display(description="version")
    def card_version(self, revision):
        return str(revision.card.version)


@admin.register(ReproductionCheck)
class ReproductionCheckAdmin(RegistryReadOnlyAdmin):
    model_path = "version__model"
    list_display = ["version", "mode", "is_passed", "checked_by", "created_at"]
    list_filter = ["is_passed", "mode"]
    search_fields = ["version__model__name", "external_run_id", "artifact_sha256"]
    list_select_related = ["version__model", "checked_by"]
    ordering = ["-created_at"]
