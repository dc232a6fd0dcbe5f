"""The crew page's shell, its web app manifest and its service worker.

Open to anyone: they hold no data. What the page shows it reads with its crew session token
(``crew.api``); a phone that is not paired sees how to pair.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from crew.selectors import CREW_STATUS_LABELS, PRIORITY_LABELS

# Bahasa Indonesia first: the page speaks to crews in the field.
STRINGS = {
    **CREW_STATUS_LABELS,
    **{f"priority_{k}": v for k, v in PRIORITY_LABELS.items()},
    "not_paired": "Ponsel ini belum dipasangkan dengan unit. Minta dispatcher membuat kode QR pemasangan.",
    "pairing": "Memasangkan…",
    "no_job": "Tidak ada tugas. Siaga.",
    "job": "Tugas",
    "waiting": "Menunggu terkirim",
    "sent_all": "Semua terkirim",
    "offline": "Offline",
    "online": "Online",
    "navigate": "Buka di aplikasi navigasi",
    "refused": "Ditolak",
    "others": "Unit lain di laporan ini",
    "eta": "Perkiraan tiba",
    "minutes": "mnt",
    "caller": "Pelapor",
    "landmark": "Patokan",
    "description": "Keterangan",
    "gps_off": "GPS tidak tersedia",
    "gps_on": "GPS aktif",
    "new_job": "TUGAS BARU",
}

# From the catalogue (locale/id), always in Bahasa Indonesia like the rest of the page, whatever the phone's
# language: where the vehicle stops short of the report, and the walk (or hose lay) from there.
CATALOGUE_STRINGS = {
    "walk": _("The vehicle stops here (the square on the map), then {minutes} min on foot ({metres} m)"),
    "walk_title": _("On foot from where the vehicle stops"),
}


def page_strings() -> dict[str, str]:
    """Every string of the page, the catalogue's in Bahasa Indonesia."""
    with translation.override("id"):
        return {**STRINGS, **{key: str(text) for key, text in CATALOGUE_STRINGS.items()}}


@require_safe
def crew_page(request: HttpRequest) -> HttpResponse:
    """``/crew/``: the crew's phone page (a pairing link opens it as ``/crew/#pair=<token>``)."""
    config = {
        "urls": {
            "pair": reverse("crew-pair"),
            "state": reverse("crew-state"),
            "batch": reverse("ingest-batch"),
            "status": reverse("ingest-status"),
            "sw": reverse("crew:sw"),
            "ws": "/ws/crew/units/{unit}/",  # crew/websocket_urls.py (not in the HTTP URLconf)
        },
        "ws_port": settings.SIAGA_WS_PORT,
        "strings": page_strings(),
    }
    return render(request, "crew/page.html", {"config": config})


@require_safe
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: the page can be added to the home screen and opens full screen."""
    body = {
        "name": "Siaga Kru", "short_name": "Siaga Kru", "lang": "id", "start_url": reverse("crew:page"),
        "scope": reverse("crew:page"), "display": "standalone", "background_color": "#111827",
        "theme_color": "#b91c1c",
        "icons": [{"src": static("crew/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }  # fmt: skip
    return JsonResponse(body, content_type="application/manifest+json")


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served under ``/crew/`` so that its scope is the page (static files are elsewhere)."""
    shell = [reverse("crew:page"), static("incidents/live_versions.js"), static("crew/crew.js")]
    shell += [static("crew/crew.css"), static("crew/icon.svg")]
    response = render(request, "crew/sw.js", {"shell": json.dumps(shell)}, content_type="application/javascript")
    response["Cache-Control"] = "no-cache"  # a new version is picked up at the next visit
    response["Service-Worker-Allowed"] = reverse("crew:page")
    return response
