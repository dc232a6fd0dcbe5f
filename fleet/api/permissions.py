"""Who may call the fleet API: dispatchers and call takers act on reports and units; any role reads the map.

HTTP Basic or a session authenticates the user; the roles are ``access.roles``'. Device ingest and the
WhatsApp webhook are not here: they name ``AllowAny`` and prove the caller themselves. An API token passes
where a view names its scope (``access.permissions.RolePermission``).
"""

from __future__ import annotations

from access import roles
from access.permissions import RolePermission


class CanDispatch(RolePermission):
    """Dispatchers (and admins): reports, callers, recommendations, dispatch, unit status, KPIs."""

    message = "this needs the dispatcher role: ask an administrator"

    def user_may(self, user) -> bool:
        return roles.can_dispatch(user)


class CanSeeFleet(RolePermission):
    """Reading the units and stations layers: any console role (the planner's map shows them too)."""

    message = "this needs a console role (dispatcher, planner or admin): ask an administrator"

    def user_may(self, user) -> bool:
        return roles.has_role(user)
