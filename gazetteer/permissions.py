"""Who may use the gazetteer's API: dispatchers and call takers placing a report (and admins).

HTTP Basic or a session authenticates the user; the roles are ``access.roles``'.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from access import roles


class CanSearchPlaces(BasePermission):
    """Dispatchers (and admins): place search and reverse geocoding while taking a call."""

    message = "place search is for dispatchers and admins: log in with a dispatcher or admin account"

    def has_permission(self, request, view) -> bool:
        return roles.can_dispatch(request.user)
