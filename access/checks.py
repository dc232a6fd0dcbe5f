"""System checks: every view's ``required_scopes`` names real scopes, and every ``throttle_scope`` a rate.

Views in other apps name scopes as text (``gis_core`` stands below ``access`` and cannot import
``access.models.Scope``); this check keeps that text in step with the one list, at start-up and in tests.
"""

from __future__ import annotations

from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.settings import api_settings

from access.models import Scope

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# POST endpoints that only read: they take their question in a JSON body (ETAs from many origins).
READING_POSTS = {"eta"}


def _view_classes(resolver: URLResolver):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _view_classes(entry)
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
            if view_class is not None:
                yield entry, view_class


@checks.register()
def check_token_scopes_and_rates(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    rates = api_settings.DEFAULT_THROTTLE_RATES or {}
    for pattern, view in _view_classes(get_resolver()):
        where = f"{view.__module__}.{view.__qualname__} ({pattern.pattern})"
        for method, scope in (getattr(view, "required_scopes", None) or {}).items():
            if scope not in Scope.values:
                errors.append(checks.Error(f"{where}: unknown scope {scope!r}", id="access.E001"))
            if method in WRITE_METHODS and scope not in READING_POSTS:
                errors.append(checks.Error(f"{where}: a token may not {method} (scopes only read)", id="access.E002"))
        for kwarg, model in (getattr(view, "scoped_objects", None) or {}).items():
            if not any(f.name == "region" for f in model._meta.get_fields()):
                errors.append(checks.Error(f"{where}: {model.__name__} of {kwarg!r} has no region", id="access.E003"))
        scope = getattr(view, "throttle_scope", None)
        if scope and scope not in rates:
            errors.append(checks.Error(f"{where}: no rate for throttle scope {scope!r}", id="access.E004"))
    return errors
