"""The crew page (``/crew/``) and its JSON endpoints (``/api/crew/``)."""

from django.urls import path

from crew import api, views

app_name = "crew"

urlpatterns = [
    path("", views.crew_page, name="page"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
]

api_urlpatterns = [
    path("crew/pairings/", api.PairingCreateView.as_view(), name="crew-pairing-create"),
    path("crew/pair/", api.PairView.as_view(), name="crew-pair"),
    path("crew/state/", api.CrewStateView.as_view(), name="crew-state"),
]
