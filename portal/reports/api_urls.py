"""The reports API's URLs, included under /api/v1/reports/ by portal.urls."""

from django.urls import path

from portal.reports import api

urlpatterns = [
    path("models/<slug:name>/", api.ModelReport.as_view(), name="api-model-report"),
    path(
        "models/<slug:name>/versions/<int:number>/",
        api.VersionReport.as_view(),
        name="api-version-report",
    ),
]
