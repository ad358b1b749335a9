from django.urls import path

from models_registry import views

app_name = "registry"

urlpatterns = [
    path("", views.model_list, name="model-list"),
    path("datasets/<int:id>/", views.dataset_detail, name="dataset-detail"),
    path("runs/<int:id>/", views.run_detail, name="run-detail"),
    path("<slug:name>/", views.model_detail, name="model-detail"),
    path(
        "<slug:name>/risk-class/",
        views.model_risk_class_change,
        name="model-risk-class",
    ),
    path(
        "<slug:name>/versions/<int:number>/",
        views.version_detail,
        name="version-detail",
    ),
    path(
        "<slug:name>/versions/<int:number>/card/edit/",
        views.card_edit,
        name="card-edit",
    ),
    path(
        "<slug:name>/versions/<int:number>/card/history/",
        views.card_history,
        name="card-history",
    ),
]
