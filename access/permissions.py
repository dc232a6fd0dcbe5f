"""The API's default permission: a logged-in user holding a console role (``REST_FRAMEWORK`` settings).

Deny by default: a view that names no permission class needs a role, so a new URL is never open by
accident. A view open to others names ``AllowAny`` in its own code with who may call it and how they prove
it (device ingest: the device secret; the WhatsApp webhook: Meta's signature). The apps' own modules
(``fleet/api/permissions.py``, ``coverage/api/permissions.py``) narrow it to the role a view needs.

Machine clients (``access.authentication.ApiTokenAuthentication``) hold no role. Every role permission
here is a :class:`RolePermission`, which lets an API token through instead where the view says so:

``required_scopes``
    ``{"GET": Scope.KPIS}``: the HTTP methods a token may use on the view and the scope each needs
    (HEAD counts as GET). A method not named is refused to every token, so a token never writes.
``scoped_objects``
    ``{"pk": Incident}``: URL arguments naming objects (with a ``region``) that must be of the token's
    region; another region's object, like a missing one, is a 404. A view without it serves a token
    only when the request names the token's region (``region`` in the query or the JSON body): another
    region is a 404 as an unknown one is, and none named is a 400.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from access import roles
from access.models import ApiToken
from access.tokens import api_token_of
from gis_core.models import Region
from gis_core.selectors import region_by_slug_or_code


class RolePermission(BasePermission):
    """A role check (``user_may``) that an API token may pass instead, within its scopes and its region."""

    def has_permission(self, request, view) -> bool:
        token = api_token_of(request.user)
        if token is not None:
            return self._token_may(request, view, token)
        return self.user_may(request.user)

    def user_may(self, user) -> bool:
        raise NotImplementedError

    def _token_may(self, request, view, token: ApiToken) -> bool:
        method = "GET" if request.method == "HEAD" else request.method
        scope = (getattr(view, "required_scopes", None) or {}).get(method)
        if scope is None:
            self.message = f"an API token cannot {request.method} here: tokens read only what their scopes name"
            return False
        if scope not in token.scopes:
            self.message = f"this API token lacks the scope {scope!r}: ask the region's administrator for one with it"
            return False
        objects = getattr(view, "scoped_objects", None) or {}
        if objects:
            _objects_of_region(view, objects, token)
        else:
            _named_region_is_tokens(request, token)
        return True


def _objects_of_region(view, objects: dict, token: ApiToken) -> None:
    for kwarg, model in objects.items():
        pk = view.kwargs[kwarg]
        if not model.objects.filter(pk=pk, region_id=token.region_id).exists():
            raise NotFound(f"no {model._meta.verbose_name} with id {pk}")


def _named_region_is_tokens(request, token: ApiToken) -> None:
    named = [request.query_params.get("region")]
    if isinstance(request.data, dict):
        named.append(request.data.get("region"))
    named = [value for value in named if value is not None]
    if not named:
        raise serializers.ValidationError(
            {"region": f"required with an API token: name the token's region ({token.region.slug})"}
        )
    theirs = Region.objects.filter(pk=token.region_id)
    for value in named:
        if not isinstance(value, str):
            raise serializers.ValidationError({"region": "a region slug or code, as text (e.g. kota-jambi)"})
        if region_by_slug_or_code(value, among=theirs) is None:
            raise NotFound(f"unknown region {value!r}")


class HasRole(RolePermission):
    """A user holding any console role in a region (dispatcher, planner, supervisor, region admin): the shared
    map and routing (each region's data then only of the regions where the user holds one)."""

    message = "this needs a console role in a region (dispatcher, planner, supervisor or admin): ask an administrator"

    def user_may(self, user) -> bool:
        return roles.has_role(user)
