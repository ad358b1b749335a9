"""The audit API's URLs, included under /api/v1/audit/ by portal.urls."""

from django.urls import path

from audit import api, api_exports

urlpatterns = [
    path("events/", api.event_list, name="api-audit-events"),
    path("events/<int:sequence>/", api.event_detail, name="api-audit-event"),
    path("checkpoints/", api.checkpoint_list, name="api-audit-checkpoints"),
    # Downloads for scripts: the same files as the pages' export links.
    path("events.csv", api_exports.event_export_csv, name="api-audit-events-csv"),
    path(
        "checkpoints.json",
        api_exports.checkpoint_export,
        name="api-audit-checkpoints-export",
    ),
    path(
        "events.jsonl",
        api_exports.event_range_export,
        name="api-audit-events-range",
    ),
    path("public-key.pem", api_exports.public_key, name="api-audit-public-key"),
]
