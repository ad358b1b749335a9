from django.urls import path

from approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.queue, name="queue"),
    # The form of a version, by its number; the old address by database id
    # redirects there.
    path(
        "models/<slug:name>/versions/<int:number>/request/",
        views.request_new,
        name="request-new",
    ),
    path("request/new/", views.request_new_by_id, name="request-new-by-id"),
    path("requests/<int:id>/", views.request_detail, name="request-detail"),
    path("requests/<int:id>/decide/", views.request_decide, name="request-decide"),
    path("requests/<int:id>/cancel/", views.request_cancel, name="request-cancel"),
    path("deployments/<int:id>/", views.deployment_detail, name="deployment-detail"),
    path(
        "deployments/<int:id>/rollback/",
        views.deployment_rollback,
        name="deployment-rollback",
    ),
    path("models/<slug:name>/timeline/", views.model_timeline, name="model-timeline"),
    path(
        "versions/<int:id>/validate/", views.version_validate, name="version-validate"
    ),
]
