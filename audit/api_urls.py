"""The audit API's URLs, included under /api/v1/audit/ by portal.urls."""

from django.urls import path

from audit import api

urlpatterns = [
    path("events/", api.event_list, name="api-audit-events"),
    path("events/<int:sequence>/", api.event_detail, name="api-audit-event"),
    path("checkpoints/", api.checkpoint_list, name="api-audit-checkpoints"),
]
