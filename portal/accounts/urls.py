"""Service account pages, mounted under /service-accounts/ by portal.urls."""

from django.urls import path

from portal.accounts import views

urlpatterns = [
    path("", views.service_account_list, name="service-accounts"),
    path("<int:account_id>/", views.service_account_detail, name="service-account"),
    path(
        "<int:account_id>/deactivate",
        views.service_account_deactivate,
        name="service-account-deactivate",
    ),
    path(
        "<int:account_id>/tokens/<int:token_id>/revoke",
        views.service_account_token_revoke,
        name="service-account-token-revoke",
    ),
]
