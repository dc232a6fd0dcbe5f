"""The crew page's WebSocket route (served by ``config.asgi`` beside the console's)."""

from django.urls import path

from crew.consumers import CrewLiveConsumer

websocket_urlpatterns = [
    path("ws/crew/units/<int:unit_id>/", CrewLiveConsumer.as_asgi()),
]
