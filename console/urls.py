"""Console pages (HTML) and the few JSON layers the map needs that the API does not serve."""

from django.contrib.auth import views as auth_views
from django.urls import path

from console import api, views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="console/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dispatch/", views.dispatcher_page, name="dispatch"),
    path("plan/", views.planner_page, name="plan"),
    path("console/regions/<slug:slug>/roads.geojson", api.roads_geojson, name="roads"),
]
