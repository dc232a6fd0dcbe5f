"""Fleet API routes (reports, callers, the WhatsApp webhook)."""

from django.urls import path

from incidents.api import incident_views as views
from incidents.api.whatsapp_views import WhatsAppWebhook

urlpatterns = [
    path("incidents/", views.IncidentListCreate.as_view(), name="incident-list"),
    path("incidents/<int:pk>/", views.IncidentDetail.as_view(), name="incident-detail"),
    path("incidents/<int:pk>/location/", views.IncidentLocation.as_view(), name="incident-location"),
    path(
        "incidents/<int:pk>/location-offers/<int:offer_id>/apply/",
        views.LocationOfferApply.as_view(),
        name="incident-location-offer-apply",
    ),
    path("incidents/<int:pk>/close/", views.IncidentClose.as_view(), name="incident-close"),
    path("callers/<str:phone>/", views.CallerDetail.as_view(), name="caller-detail"),
    path("callers/<str:phone>/flags/", views.CallerFlagCreate.as_view(), name="caller-flag-create"),
    path("callers/<str:phone>/flags/<int:flag_id>/lift/", views.CallerFlagLift.as_view(), name="caller-flag-lift"),
    path("whatsapp/webhook/", WhatsAppWebhook.as_view(), name="whatsapp-webhook"),
]
