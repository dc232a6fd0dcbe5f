"""WSGI entry point: Django over HTTP, served by gunicorn (``scripts/serve.sh``).

In DEBUG, static files are served from the apps' static folders by Django's own
``StaticFilesHandler``, as ``runserver`` does, so the demo needs no ``collectstatic``; with DEBUG off a
front server (or collectstatic plus a static server) serves ``STATIC_ROOT``. The live console's WebSocket
is the ASGI application's (``config/asgi.py``, Daphne).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402

if settings.DEBUG:
    application = StaticFilesHandler(application)
