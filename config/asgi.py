"""ASGI entry point: the live console and the crew page over WebSocket (``incidents.websocket_urls``,
``crew.websocket_urls``), and Django over HTTP.

Daphne serves it for the WebSocket (``scripts/serve.sh``); plain HTTP goes to gunicorn and
``config/wsgi.py``, which runs views side by side. Its HTTP side stays for ASGI-only setups; static files
are served there too by WhiteNoise's middleware.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django is set up here, before anything imports models (the consumers do).
django_http = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from crew.websocket_urls import websocket_urlpatterns as crew_websocket_urlpatterns  # noqa: E402
from incidents.websocket_urls import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_http,
        # The session cookie authenticates, so the Origin must be one of ALLOWED_HOSTS (no cross-site
        # page can open a console socket with a dispatcher's cookie).
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns + crew_websocket_urlpatterns))
        ),
    }
)
