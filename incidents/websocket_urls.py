"""WebSocket routes (served by ``config.asgi``)."""

from django.urls import path

from incidents.consumers import RegionLiveConsumer

websocket_urlpatterns = [
    path("ws/regions/<slug:slug>/", RegionLiveConsumer.as_asgi()),
]
