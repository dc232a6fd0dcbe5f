"""Incidents API: one urls module per concern, each owned by its views module."""

from django.urls import include, path

urlpatterns = [
    path("", include("incidents.api.dispatch_urls")),
    path("", include("incidents.api.incident_urls")),
    path("", include("incidents.api.status_urls")),
    path("", include("incidents.api.handoff_urls")),
    path("", include("incidents.api.closure_urls")),
]
