"""The supervisor's page: the period report with charts and the exports' links (an HTML shell + reports.js).

It stands on the console's page shell (``console/base.html``, its region choice and strings): a login is
needed (anonymous: the login page) and a role that reads reports (``reports.api.permissions``; else 403).
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from console.selectors import console_config
from reports.api.permissions import may_read_reports
from reports.strings import JS_STRINGS


def supervisor_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not may_read_reports(request.user):
        raise PermissionDenied("the reports page needs a supervisor, dispatcher, planner or admin role")
    config = console_config(request=request, page="reports")
    config["report_strings"] = {key: str(text) for key, text in JS_STRINGS.items()}
    config["report_urls"] = {
        name: reverse(f"reports-{name}")
        for name in (
            "period", "period-csv", "period-xlsx", "period-pdf", "incidents-csv", "spm",
            *[f"map-{kind}-{fmt}" for kind in ("coverage", "incidents") for fmt in ("gpkg", "geojson", "png")],
        )
    }  # fmt: skip
    zone = config["region"]["time_zone"]["name"] if config["region"] else None
    # The page opens on the region's current local month; times it renders are the region's too.
    with timezone.override(zone):
        config["default_period"] = timezone.localtime(timezone.now()).strftime("%Y-%m")
        return render(request, "reports/supervisor.html", {"config": config, "page": "reports"})
