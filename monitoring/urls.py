from django.urls import path

from monitoring import views
from monitoring.llm import views as llm_views

app_name = "monitoring"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("deployments/<int:id>/", views.dashboard, name="dashboard"),
    path("deployments/<int:id>/llm/", llm_views.dashboard, name="llm-dashboard"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:id>/", views.alert_detail, name="alert-detail"),
    path(
        "alerts/<int:id>/acknowledge/",
        views.alert_acknowledge,
        name="alert-acknowledge",
    ),
    path("alerts/<int:id>/resolve/", views.alert_resolve, name="alert-resolve"),
    path("review/", views.review_queue, name="review-queue"),
    path("review/<int:id>/", views.review_item, name="review-item"),
]
