"""Lineage pages, mounted by portal.urls under /models/ in the ``registry``
namespace (beside the registry's own pages, whose URLs they always had)."""

from django.urls import path

from portal.lineage import views

urlpatterns = [
    path(
        "datasets/<int:id>/impact/",
        views.dataset_impact,
        name="dataset-impact",
    ),
    path("<slug:name>/lineage/", views.model_lineage, name="model-lineage"),
    path(
        "<slug:name>/versions/<int:number>/lineage/",
        views.version_lineage,
        name="version-lineage",
    ),
]
