"""Who may call the crew page's endpoints: a paired crew page (its session), or a dispatcher making a link."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from fleet.models import Device
from fleet.services.crew_sessions import SESSION_PREFIX, crew_session_authenticate
from gis_core.credentials import basic_credentials


class CrewSessionAuthentication(BaseAuthentication):
    """``Authorization: Bearer crew_...``: a paired crew page. ``request.auth`` is its device; no user."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        basic_credentials(header)  # a malformed Basic header is a 401 credentials_invalid, as on every API URL
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(SESSION_PREFIX):
            return None
        return AnonymousUser(), crew_session_authenticate(token)  # CrewSessionInvalidError: 401

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="crew"'


class IsPairedCrew(BasePermission):
    """A crew page paired with a device (``CrewSessionAuthentication``); anyone else is refused."""

    message = "this is the crew page's: pair the phone from the dispatcher's console first"

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Device)
