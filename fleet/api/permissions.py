"""Who may call the fleet API: dispatchers and call takers act on reports and units; any role reads the map.

HTTP Basic or a session authenticates the user; the roles are ``access.roles``'. Device ingest and the
WhatsApp webhook are not here: they name ``AllowAny`` and prove the caller themselves.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from access import roles


class CanDispatch(BasePermission):
    """Dispatchers (and admins): reports, callers, recommendations, dispatch, unit status, KPIs."""

    message = "this needs the dispatcher role: ask an administrator"

    def has_permission(self, request, view) -> bool:
        return roles.can_dispatch(request.user)


class CanSeeFleet(BasePermission):
    """Reading the units and stations layers: any console role (the planner's map shows them too)."""

    message = "this needs a console role (dispatcher, planner or admin): ask an administrator"

    def has_permission(self, request, view) -> bool:
        return roles.has_role(request.user)
