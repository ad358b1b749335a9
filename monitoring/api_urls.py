"""Routes of the monitoring API, included under /api/v1/monitoring/ by portal.urls."""

from django.urls import path

from monitoring import api, api_profiles
from monitoring.llm import api as llm_api

MODEL_ENV = "models/<slug:name>/environments/<slug:environment>"

urlpatterns = [
    path(
        f"{MODEL_ENV}/predictions",
        api.PredictionIngest.as_view(),
        name="api-monitoring-predictions",
    ),
    path(
        f"{MODEL_ENV}/labels", api.LabelIngest.as_view(), name="api-monitoring-labels"
    ),
    path(
        f"{MODEL_ENV}/metrics",
        api.MetricIngest.as_view(),
        name="api-monitoring-metrics",
    ),
    path(
        f"{MODEL_ENV}/profiles",
        api_profiles.ProfileIngest.as_view(),
        name="api-monitoring-profiles",
    ),
    path(
        f"{MODEL_ENV}/profile-spec",
        api_profiles.ProfileSpecDetail.as_view(),
        name="api-monitoring-profile-spec",
    ),
    path(
        f"{MODEL_ENV}/windows", api.WindowList.as_view(), name="api-monitoring-windows"
    ),
    path(
        f"{MODEL_ENV}/llm-calls",
        llm_api.LlmCallIngest.as_view(),
        name="api-monitoring-llm-calls",
    ),
    path(
        f"{MODEL_ENV}/llm-calls/period",
        llm_api.LlmCallPeriod.as_view(),
        name="api-monitoring-llm-period",
    ),
    path(
        "models/<slug:name>/versions/<int:number>/reference",
        api.ReferenceUpload.as_view(),
        name="api-monitoring-reference",
    ),
    path(
        "models/<slug:name>/config",
        api.ConfigDetail.as_view(),
        name="api-monitoring-config",
    ),
    path("batches/<int:id>", api.BatchDetail.as_view(), name="api-monitoring-batch"),
    path("alerts/", api.AlertList.as_view(), name="api-monitoring-alerts"),
    path("alerts/<int:id>", api.AlertDetail.as_view(), name="api-monitoring-alert"),
    path(
        "alerts/<int:id>/acknowledge",
        api.AlertAcknowledge.as_view(),
        name="api-monitoring-alert-acknowledge",
    ),
    path(
        "alerts/<int:id>/resolve",
        api.AlertResolve.as_view(),
        name="api-monitoring-alert-resolve",
    ),
]
