"""Who may call the operations URLs."""

from __future__ import annotations

import hmac

from django.conf import settings
from rest_framework.permissions import BasePermission


class HoldsMetricsToken(BasePermission):
    """The scraper: ``Authorization: Bearer <SIAGA_METRICS_TOKEN>``, compared in constant time.

    No person and no API token may scrape (the figures tell how busy each centre is, and its regions' names);
    with no ``SIAGA_METRICS_TOKEN`` set, nobody may, so metrics are off until the operator gives Prometheus one.
    """

    message = "metrics need Authorization: Bearer <SIAGA_METRICS_TOKEN>"

    def has_permission(self, request, view) -> bool:
        expected = settings.SIAGA_METRICS_TOKEN
        scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if not expected or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), expected.encode())
