"""Who may use the gazetteer's API: console users with the dispatcher or admin role.

The roles are the console's Django groups (``console.roles``: dispatcher, planner, admin). The gazetteer
sits below the console and does not import it, so the two group names are named here.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

SEARCH_ROLES = frozenset({"dispatcher", "admin"})


class CanSearchPlaces(BasePermission):
    """A logged-in user (session or HTTP Basic) who is a superuser or in the dispatcher or admin group."""

    message = "place search is for dispatchers and admins: log in with a dispatcher or admin account"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.is_superuser or user.groups.filter(name__in=SEARCH_ROLES).exists()
