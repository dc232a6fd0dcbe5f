from django.urls import path

from gazetteer.api import views

urlpatterns = [
    path("regions/<slug:slug>/search/", views.SearchView.as_view(), name="gazetteer-search"),
    path("regions/<slug:slug>/reverse/", views.ReverseView.as_view(), name="gazetteer-reverse"),
]
