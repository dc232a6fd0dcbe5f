"""Fleet API: device ingest and position history (units, reports and dispatch: ``incidents.api.urls``)."""

from django.urls import include, path

urlpatterns = [
    path("", include("fleet.api.ingest_urls")),
]
