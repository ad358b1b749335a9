from django.urls import path

from identity.scim import views

urlpatterns = [
    path("scim/v2/Users", views.users, name="scim-users"),
    path("scim/v2/Users/<str:scim_id>", views.user, name="scim-user"),
    path("scim/v2/Groups", views.groups, name="scim-groups"),
    path("scim/v2/Groups/<str:scim_id>", views.group, name="scim-group"),
    path("scim/v2/ServiceProviderConfig", views.config, name="scim-provider-config"),
]
