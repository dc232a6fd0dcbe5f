"""Fleet API routes (ingest): device protocols and position history (crew status: ``incidents.api.status_urls``).

Device endpoints answer with or without a trailing slash: apps are configured with a URL typed by
hand, and a redirect would lose a POST body.
"""

from django.urls import path, re_path

from fleet.api.ingest_views import (
    BatchIngestView,
    OsmAndIngestView,
    OwnTracksIngestView,
    UnitPositionsView,
)

urlpatterns = [
    re_path(r"^ingest/osmand/?$", OsmAndIngestView.as_view(), name="ingest-osmand"),
    re_path(r"^ingest/owntracks/?$", OwnTracksIngestView.as_view(), name="ingest-owntracks"),
    re_path(r"^ingest/batch/?$", BatchIngestView.as_view(), name="ingest-batch"),
    path("units/<int:unit_id>/positions/", UnitPositionsView.as_view(), name="unit-positions"),
]
