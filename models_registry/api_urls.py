"""Routes of the registry API, included under /api/v1/ by portal.urls."""

from django.urls import path

from models_registry.api import (
    datasets,
    llm_apps,
    llm_evaluations,
    registered_models,
    versions,
)

urlpatterns = [
    path(
        "models/",
        registered_models.ModelListCreate.as_view(),
        name="api-models",
    ),
    path(
        "models/<slug:name>/",
        registered_models.ModelDetail.as_view(),
        name="api-model",
    ),
    path(
        "models/<slug:name>/risk-class",
        registered_models.ModelRiskClass.as_view(),
        name="api-model-risk-class",
    ),
    path(
        "models/<slug:name>/versions/",
        registered_models.ModelVersionListRegister.as_view(),
        name="api-model-versions",
    ),
    path(
        "models/<slug:name>/llm-app-versions",
        llm_apps.LlmAppVersionRegister.as_view(),
        name="api-model-llm-app-versions",
    ),
    path(
        "models/<slug:name>/runs/",
        registered_models.ModelRunListCreate.as_view(),
        name="api-model-runs",
    ),
    path("versions/", versions.VersionList.as_view(), name="api-versions"),
    path("versions/<int:id>/", versions.VersionDetail.as_view(), name="api-version"),
    path(
        "versions/<int:id>/checklist",
        versions.VersionChecklist.as_view(),
        name="api-version-checklist",
    ),
    path(
        "versions/<int:id>/card",
        versions.VersionCard.as_view(),
        name="api-version-card",
    ),
    path(
        "versions/<int:id>/card/revisions",
        versions.VersionCardRevisionList.as_view(),
        name="api-version-card-revisions",
    ),
    path(
        "versions/<int:id>/evaluations",
        versions.VersionEvaluationListCreate.as_view(),
        name="api-version-evaluations",
    ),
    path(
        "versions/<int:id>/reproductions",
        versions.VersionReproductionListCreate.as_view(),
        name="api-version-reproductions",
    ),
    path(
        "versions/<int:id>/llm-evaluations",
        llm_evaluations.VersionLlmEvaluationListImport.as_view(),
        name="api-version-llm-evaluations",
    ),
    path(
        "versions/<int:id>/tuning-snapshots",
        llm_evaluations.VersionTuningSnapshots.as_view(),
        name="api-version-tuning-snapshots",
    ),
    path(
        "llm-evaluations/<int:id>/",
        llm_evaluations.LlmEvaluationDetail.as_view(),
        name="api-llm-evaluation",
    ),
    path(
        "llm-evaluations/<int:id>/cases",
        llm_evaluations.LlmEvaluationCases.as_view(),
        name="api-llm-evaluation-cases",
    ),
    path(
        "llm-evaluations/<int:id>/cases.csv",
        llm_evaluations.LlmEvaluationCasesCsv.as_view(),
        name="api-llm-evaluation-cases-csv",
    ),
    path("datasets/", datasets.DatasetListCreate.as_view(), name="api-datasets"),
    path("datasets/<int:id>/", datasets.DatasetDetail.as_view(), name="api-dataset"),
    path("runs/<int:id>/", datasets.RunDetail.as_view(), name="api-run"),
]
