from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from identity import views as identity_views
from models_registry import urls as registry_urls
from portal import api, views
from portal.lineage import urls as lineage_urls

api_v1 = [
    path("me/", api.me, name="api-me"),
    path("", include("portal.accounts.api_urls")),
    path("audit/", include("audit.api_urls")),
    path("reports/", include("portal.reports.api_urls")),
    path("", include("models_registry.api_urls")),
    path("", include("portal.lineage.api_urls")),
    path("", include("approvals.api_urls")),
    path("monitoring/", include("monitoring.api_urls")),
]

urlpatterns = [
    # The APIs first: most requests are theirs, and Django tries the patterns
    # in order (every pattern before a match costs its test). No pattern below
    # matches a path under these prefixes, so no route changes.
    path("api/v1/", include(api_v1)),
    # MLflow clients: the model-registry part of MLflow's REST API.
    path("api/2.0/mlflow/", include(("mlflow_bridge.urls", "mlflow"))),
    path("ajax-api/2.0/mlflow/", include(("mlflow_bridge.urls", "mlflow-ajax"))),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        views.ThrottledLoginView.as_view(),
        name="login",
    ),
    # Signs out here and, after a single sign-on, at the identity provider too.
    path("logout/", identity_views.logout, name="logout"),
    path("", include("identity.urls")),
    path("tokens/", views.api_tokens, name="api-tokens"),
    path(
        "tokens/<int:token_id>/revoke/",
        views.api_token_revoke_view,
        name="api-token-revoke",
    ),
    path("service-accounts/", include("portal.accounts.urls")),
    path("audit/", include("audit.urls")),
    # The lineage pages join the registry's and approvals' records, so they live
    # in the shell; their URLs stay in the registry's namespace, after its own
    # routes (no path matches both, so resolution is unchanged).
    path(
        "models/",
        include(
            (
                registry_urls.urlpatterns + lineage_urls.urlpatterns,
                registry_urls.app_name,
            )
        ),
    ),
    path("approvals/", include("approvals.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("reports/", include("portal.reports.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI with its init script served from /api/docs/?script rather than
    # inline, as the Content-Security-Policy requires (templates/portal/api_docs.html).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="portal/api_docs.html"
        ),
        name="api-docs",
    ),
]

# Errors answer JSON under /api/ and a styled page elsewhere; a database that
# cannot be reached answers 503 with Retry-After (kernel/errorpages.py).
handler400 = "kernel.errorpages.bad_request"
handler403 = "kernel.errorpages.permission_denied"
handler404 = "kernel.errorpages.page_not_found"
handler500 = "kernel.errorpages.server_error"
