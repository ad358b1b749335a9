"""The impact endpoint, included under /api/v1/ by portal.urls."""

from django.urls import path

from portal.lineage.api import DatasetImpact

urlpatterns = [
    path(
        "datasets/<int:id>/impact",
        DatasetImpact.as_view(),
        name="api-dataset-impact",
    ),
]
