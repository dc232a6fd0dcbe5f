"""Reports API routes (under ``/api/reports/``)."""

from django.urls import path

from reports.api import views

urlpatterns = [
    path("period/", views.PeriodReportView.as_view(), name="reports-period"),
    path("period.csv", views.PeriodExportView.as_view(kind="csv"), name="reports-period-csv"),
    path("period.xlsx", views.PeriodExportView.as_view(kind="xlsx"), name="reports-period-xlsx"),
    path("period.pdf", views.PeriodExportView.as_view(kind="pdf"), name="reports-period-pdf"),
    path("spm/", views.SpmView.as_view(), name="reports-spm"),
    path("incidents.csv", views.IncidentsCsvView.as_view(), name="reports-incidents-csv"),
    *[
        path(f"maps/coverage.{fmt}", views.CoverageMapView.as_view(fmt=fmt), name=f"reports-map-coverage-{fmt}")
        for fmt in ("gpkg", "geojson", "png")
    ],
    *[
        path(f"maps/incidents.{fmt}", views.IncidentMapView.as_view(fmt=fmt), name=f"reports-map-incidents-{fmt}")
        for fmt in ("gpkg", "geojson", "png")
    ],
]
