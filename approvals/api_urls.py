"""Routes of the approvals API, included under /api/v1/ by portal.urls."""

from django.urls import path

from approvals.api import deployments, requests, validations

urlpatterns = [
    path("requests/", requests.RequestListSubmit.as_view(), name="api-requests"),
    path("requests/queue", requests.RequestQueue.as_view(), name="api-request-queue"),
    path("requests/<int:id>/", requests.RequestDetail.as_view(), name="api-request"),
    path(
        "requests/<int:id>/decisions",
        requests.RequestDecisions.as_view(),
        name="api-request-decisions",
    ),
    path(
        "requests/<int:id>/cancel",
        requests.RequestCancel.as_view(),
        name="api-request-cancel",
    ),
    path("deployments/", deployments.DeploymentList.as_view(), name="api-deployments"),
    path(
        "deployments/<int:id>/",
        deployments.DeploymentDetail.as_view(),
        name="api-deployment",
    ),
    path(
        "deployments/<int:id>/rollback",
        deployments.DeploymentRollback.as_view(),
        name="api-deployment-rollback",
    ),
    path(
        "models/<slug:name>/deployments/<slug:environment>",
        deployments.LiveDeployments.as_view(),
        name="api-model-live",
    ),
    path(
        "versions/<int:id>/validations",
        validations.VersionValidations.as_view(),
        name="api-version-validations",
    ),
    path(
        "findings/<int:id>/status",
        validations.FindingStatusChange.as_view(),
        name="api-finding-status",
    ),
]
