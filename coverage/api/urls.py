from django.urls import path

from coverage.api import views

urlpatterns = [
    path("surface/", views.SurfaceView.as_view(), name="coverage-surface"),
    path("report/", views.CoverageReportView.as_view(), name="coverage-report"),
    path("gaps/", views.GapsView.as_view(), name="coverage-gaps"),
    path("siting/", views.SitingView.as_view(), name="coverage-siting"),
    path("live/", views.LiveView.as_view(), name="coverage-live"),
    path("whatif/", views.WhatIfView.as_view(), name="coverage-whatif"),
    path("runs/", views.RunListView.as_view(), name="coverage-runs"),
    path("runs/<int:run_id>/", views.RunDetailView.as_view(), name="coverage-run"),
    path("runs/<int:run_id>/compare/<int:other_id>/", views.RunCompareView.as_view(), name="coverage-run-compare"),
    path("runs/<int:run_id>/gaps.csv", views.RunGapsCsvView.as_view(), name="coverage-run-gaps-csv"),
    path("runs/<int:run_id>/map.png", views.RunMapView.as_view(), name="coverage-run-map"),
]
