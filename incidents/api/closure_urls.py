"""Road closure routes: closing or slowing roads, and lifting a closure (reading them is gis_core's)."""

from django.urls import path

from incidents.api import closure_views as views

urlpatterns = [
    path("closures/", views.ClosureCreate.as_view(), name="closure-create"),
    path("closures/<int:pk>/lift/", views.ClosureLift.as_view(), name="closure-lift"),
]
