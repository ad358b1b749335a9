from django.urls import path

from portal.reports import views

app_name = "reports"

urlpatterns = [
    path("schema.json", views.schema, name="schema"),
    path("models/<slug:name>/", views.model_report, name="model-report"),
    path(
        "models/<slug:name>/versions/<int:number>/",
        views.version_report,
        name="version-report",
    ),
    path("models/<slug:name>/exports/", views.export_start, name="export-start"),
    path("exports/<int:id>/", views.export_detail, name="export-detail"),
    path("exports/<int:id>/download/", views.export_download, name="export-download"),
]
