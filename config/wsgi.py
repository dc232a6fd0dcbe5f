"""WSGI entry point: Django over HTTP, served by gunicorn (``scripts/serve.sh``).

Static files are served by WhiteNoise's middleware (``config/settings.py``), with or without debug. The live
console's WebSocket is the ASGI application's (``config/asgi.py``, Daphne).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
