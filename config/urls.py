from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from crew.urls import api_urlpatterns as crew_api_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("gis_core.api.urls")),
    path("api/", include("gazetteer.api.urls")),
    path("api/", include("fleet.api.urls")),
    path("api/", include("incidents.api.urls")),
    path("api/coverage/", include("coverage.api.urls")),
    path("api/reports/", include("reports.api.urls")),
    path("api/", include(crew_api_urlpatterns)),
    path("crew/", include("crew.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("ops.urls")),  # /health/live, /health/ready, /metrics
    path("reports/", include("reports.urls")),
    path("", include("console.urls")),
]

# Refusals and unknown addresses are pages in the console's style (console/templates/403.html, 404.html).
handler403 = "console.views.permission_denied"
handler404 = "console.views.page_not_found"
