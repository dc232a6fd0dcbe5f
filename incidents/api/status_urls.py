"""The crew status endpoint (answers with or without a trailing slash, as the other device endpoints)."""

from django.urls import re_path

from incidents.api.status_views import CrewStatusView

urlpatterns = [
    re_path(r"^ingest/status/?$", CrewStatusView.as_view(), name="ingest-status"),
]
