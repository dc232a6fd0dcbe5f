"""The API's default permission: a logged-in user holding a console role (``REST_FRAMEWORK`` settings).

Deny by default: a view that names no permission class needs a role, so a new URL is never open by
accident. A view open to others names ``AllowAny`` in its own code with who may call it and how they prove
it (device ingest: the device secret; the WhatsApp webhook: Meta's signature). The apps' own modules
(``fleet/api/permissions.py``, ``coverage/api/permissions.py``) narrow it to the role a view needs.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from access import roles


class HasRole(BasePermission):
    """A user holding any console role (dispatcher, planner or admin): the shared map and routing."""

    message = "this needs a console role (dispatcher, planner or admin): ask an administrator"

    def has_permission(self, request, view) -> bool:
        return roles.has_role(request.user)
