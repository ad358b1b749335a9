"""Service account API routes, included under /api/v1/ by portal.urls."""

from django.urls import path

from portal.accounts import api

urlpatterns = [
    path(
        "service-accounts/",
        api.ServiceAccountListCreate.as_view(),
        name="api-service-accounts",
    ),
    path(
        "service-accounts/<int:id>/",
        api.ServiceAccountDetail.as_view(),
        name="api-service-account",
    ),
    path(
        "service-accounts/<int:id>/deactivate",
        api.ServiceAccountDeactivate.as_view(),
        name="api-service-account-deactivate",
    ),
    path(
        "service-accounts/<int:id>/tokens",
        api.ServiceAccountTokenListCreate.as_view(),
        name="api-service-account-tokens",
    ),
    path(
        "service-accounts/<int:id>/tokens/<int:token_id>/revoke",
        api.ServiceAccountTokenRevoke.as_view(),
        name="api-service-account-token-revoke",
    ),
]
