"""Who may call the fleet API: dispatchers and call takers act on reports and units; any role reads the map.

HTTP Basic or a session authenticates the user; the roles are ``access.roles``', held per region. These
classes ask for the capability in at least one region; the view then looks its object or region up among
the regions where the user holds it (``capability=roles.DISPATCH``), so another region is a 404. Device ingest and the
WhatsApp webhook are not here: they name ``AllowAny`` and prove the caller themselves. An API token passes
where a view names its scope (``access.permissions.RolePermission``).
"""

from __future__ import annotations

from access import roles
from access.permissions import RolePermission


class CanDispatch(RolePermission):
    """Dispatchers, supervisors and region admins: reports, callers, recommendations, dispatch, unit status, KPIs."""

    message = "this needs the dispatcher, supervisor or region admin role in a region: ask an administrator"

    def user_may(self, user) -> bool:
        return roles.can_dispatch(user)


class CanSeeFleet(RolePermission):
    """Reading the units and stations layers: any console role (the planner's map shows them too)."""

    message = "this needs a console role in a region (dispatcher, planner, supervisor or admin): ask an administrator"

    def user_may(self, user) -> bool:
        return roles.has_role(user)
