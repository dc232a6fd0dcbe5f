from django.urls import path
from rest_framework.routers import SimpleRouter

from gis_core.api import views

router = SimpleRouter()
router.register("regions", views.RegionViewSet, basename="region")

urlpatterns = [
    *router.urls,
    path("regions/<slug:slug>/kecamatan/", views.KecamatanList.as_view(), name="kecamatan-list"),
    path("regions/<slug:slug>/kelurahan/", views.KelurahanList.as_view(), name="kelurahan-list"),
    path("regions/<slug:slug>/locate/", views.LocateView.as_view(), name="locate"),
    path("regions/<slug:slug>/closures/", views.RegionClosures.as_view(), name="region-closures"),
    path("routing/eta/", views.EtaView.as_view(), name="eta"),
    path("routing/route/", views.RouteView.as_view(), name="route"),
    path("routing/isochrone/", views.IsochroneView.as_view(), name="isochrone"),
    path("routing/matrix/", views.MatrixView.as_view(), name="matrix"),
]
