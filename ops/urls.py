from django.urls import path

from ops import views

urlpatterns = [
    path("health/live", views.LiveView.as_view(), name="health-live"),
    path("health/ready", views.ReadyView.as_view(), name="health-ready"),
    path("metrics", views.MetricsView.as_view(), name="metrics"),
]
