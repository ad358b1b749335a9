"""MLflow's registry routes; portal.urls mounts them under /api/2.0/mlflow/ and
/ajax-api/2.0/mlflow/ (the path the MLflow web UI uses)."""

from django.urls import path, re_path

from mlflow_bridge import api

urlpatterns = [
    path("registered-models/create", api.registered_model_create),
    path("registered-models/get", api.registered_model_get),
    path("registered-models/search", api.registered_model_search),
    path("registered-models/update", api.registered_model_update),
    path("registered-models/rename", api.registered_model_rename),
    path("registered-models/delete", api.registered_model_delete),
    path("registered-models/set-tag", api.registered_model_tag_set),
    path("registered-models/delete-tag", api.registered_model_tag_delete),
    path("registered-models/alias", api.alias),
    path("registered-models/get-latest-versions", api.latest_versions),
    path("model-versions/create", api.model_version_create),
    path("model-versions/get", api.model_version_get),
    path("model-versions/search", api.model_version_search),
    path("model-versions/update", api.model_version_update),
    path("model-versions/delete", api.model_version_delete),
    path("model-versions/transition-stage", api.model_version_transition_stage),
    path("model-versions/set-tag", api.model_version_tag_set),
    path("model-versions/delete-tag", api.model_version_tag_delete),
    path("model-versions/get-download-uri", api.model_version_download_uri),
    re_path(r"^.*$", api.unknown_endpoint),
]
