"""Fleet API routes (dispatch): units, stations, recommendations, assignments, unit status, KPIs.

Response shapes are documented in ``incidents.api.dispatch_views``.
"""

from django.urls import path

from incidents.api import dispatch_views as views
from incidents.api import kpi_views

urlpatterns = [
    path("units/", views.UnitList.as_view(), name="unit-list"),
    path("units/eta/", views.UnitsEta.as_view(), name="units-eta"),
    path("units/<int:pk>/status/", views.UnitStatusSet.as_view(), name="unit-status"),
    path("stations/", views.StationList.as_view(), name="station-list"),
    path(
        "incidents/<int:pk>/recommendations/", views.IncidentRecommendations.as_view(), name="incident-recommendations"
    ),
    path("incidents/<int:pk>/assignments/", views.IncidentAssignments.as_view(), name="incident-assignments"),
    path("assignments/<int:pk>/cancel/", views.AssignmentCancel.as_view(), name="assignment-cancel"),
    path("kpis/response/", views.ResponseKpis.as_view(), name="kpis-response"),
    path("kpis/eta-accuracy/", kpi_views.EtaAccuracyView.as_view(), name="kpis-eta-accuracy"),
    path("kpis/eta-accuracy.png", kpi_views.EtaAccuracyChart.as_view(), name="kpis-eta-accuracy-png"),
]
