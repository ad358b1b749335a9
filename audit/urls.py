from django.urls import path

from audit import checkpoint_views, views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="event-list"),
    path("events/<int:sequence>/", views.event_detail, name="event-detail"),
    path("events.csv", views.event_export_csv, name="event-export-csv"),
    path("verifications/", views.verification_list, name="verification-list"),
    path("verifications/run/", views.verification_run, name="verification-run"),
    path("checkpoints/", views.checkpoint_list, name="checkpoint-list"),
    path(
        "checkpoints/take/",
        checkpoint_views.checkpoint_take,
        name="checkpoint-take",
    ),
    path(
        "checkpoints/public-key.pem",
        views.checkpoint_public_key,
        name="checkpoint-public-key",
    ),
    path(
        "checkpoints/checkpoints.json",
        views.checkpoint_export,
        name="checkpoint-export",
    ),
    path(
        "checkpoints/events.jsonl",
        views.checkpoint_range_export,
        name="checkpoint-range-export",
    ),
]
