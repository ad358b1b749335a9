from django.urls import path

from identity import views
from identity.scim import urls as scim_urls

app_name = "identity"

urlpatterns = [
    path("sso/start/", views.SsoStartView.as_view(), name="oidc-start"),
    path("sso/callback/", views.SsoCallbackView.as_view(), name="oidc-callback"),
    *scim_urls.urlpatterns,
]
