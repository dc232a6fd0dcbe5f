"""Hand-off routes: a report's legs to agencies, their updates (the dispatcher's and the agency's), KPIs."""

from django.urls import path

from incidents.api import handoff_views as views

urlpatterns = [
    path("incidents/<int:pk>/handoffs/", views.IncidentHandoffs.as_view(), name="incident-handoffs"),
    path("handoffs/<int:pk>/", views.HandoffUpdate.as_view(), name="handoff-update"),
    path("handoffs/<int:pk>/agency/", views.HandoffAgencyUpdate.as_view(), name="handoff-agency-update"),
    path("kpis/handoffs/", views.HandoffKpis.as_view(), name="kpis-handoffs"),
]
