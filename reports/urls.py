"""The reports' page (under ``/reports/``)."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [path("", views.supervisor_page, name="page")]
