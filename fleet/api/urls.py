"""Fleet API: one urls module per concern, each owned by its views module."""

from django.urls import include, path

urlpatterns = [
    path("", include("fleet.api.dispatch_urls")),
    path("", include("fleet.api.ingest_urls")),
    path("", include("fleet.api.incident_urls")),
]
