"""Who may use the gazetteer's API: dispatchers and call takers placing a report (and admins).

HTTP Basic or a session authenticates the user; the roles are ``access.roles``'.
"""

from __future__ import annotations

from access import roles
from access.permissions import RolePermission


class CanSearchPlaces(RolePermission):
    """Dispatchers, supervisors and region admins: place search and reverse geocoding while taking a call."""

    message = "place search is for dispatchers and admins: log in with a dispatcher or admin account"

    def user_may(self, user) -> bool:
        return roles.can_dispatch(user)
