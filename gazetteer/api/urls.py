from django.urls import path

from gazetteer.api import views

urlpatterns = [
    path("regions/<slug:slug>/search/", views.SearchView.as_view(), name="gazetteer-search"),
    path("regions/<slug:slug>/reverse/", views.ReverseView.as_view(), name="gazetteer-reverse"),
    path(
        "regions/<slug:slug>/names/<int:z>/<int:x>/<int:y>.mvt", views.NamesTileView.as_view(), name="gazetteer-names"
    ),
]
