"""Who did something, from where, in what role: the one value every write's audit entry is made from.

A service that changes something takes an :class:`Actor` and never the loose ``user``, ``actor_kind``,
``remote_addr`` triple: a view builds it from its request (:meth:`Actor.of_request`), a device endpoint from
the device it authenticated (:meth:`Actor.crew`), intake from the citizen's channel (:meth:`Actor.citizen`),
and a command or the system's own policies use :data:`SYSTEM`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from access.roles import roles_of
from access.tokens import api_token_of
from fleet.models import ActorKind
from gis_core.client_address import client_address

if TYPE_CHECKING:
    from django.http import HttpRequest

    from fleet.models import Device


@dataclass(frozen=True)
class Actor:
    """An actor as the audit log records it.

    Attributes
    ----------
    kind
        dispatcher (a person at the console or admin), crew_device, system (Siaga itself, a command, or a
        machine client's API token) or citizen (:class:`~fleet.models.ActorKind`).
    user
        The person who acted (a saved user), or None; an API token's principal is not a person.
    device
        The crew device that acted, or None.
    remote_addr
        The client's IP address when the action came over HTTP.
    role
        The console roles the person held when acting, comma-separated (``dispatcher``); empty for anyone
        else. None (the default for a person) reads them from the database when the audit entry is
        written (:attr:`roles`), so building an actor costs no query and works in async code.
    api_token
        ``{"api_token": prefix, "api_token_name": name}`` when a machine client acted; empty otherwise.
    name
        What to call an actor that is no user, device or token: a crew's or an agency's WhatsApp number
        (``+62811... (crew of PSC119-02)``), an agency's own system.
    """

    kind: str = ActorKind.SYSTEM
    user: Any = None
    device: Device | None = None
    remote_addr: str | None = None
    role: str | None = None
    api_token: dict[str, str] = field(default_factory=dict)
    name: str = ""

    @classmethod
    def person(cls, user: Any, *, remote_addr: str | None = None) -> Actor:
        """``user`` acting, from ``remote_addr``: a logged-in person is a dispatcher-kind actor with their
        roles, an API token's principal is a system actor naming its token, anyone else the system."""
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(remote_addr=remote_addr)
        token = api_token_of(user)
        if token is not None:
            return cls(remote_addr=remote_addr, api_token={"api_token": token.prefix, "api_token_name": token.name})
        return cls(kind=ActorKind.DISPATCHER, user=user, remote_addr=remote_addr)

    @classmethod
    def of_request(cls, request: HttpRequest) -> Actor:
        """The request's user, from the client's address (``gis_core.client_address``: the real one behind the
        reverse proxy, ``SIAGA_NUM_PROXIES``)."""
        return cls.person(getattr(request, "user", None), remote_addr=client_address(request))

    @classmethod
    def crew(cls, device: Device, *, remote_addr: str | None = None) -> Actor:
        """A crew acting through its unit's device (its secret proved it)."""
        return cls(kind=ActorKind.CREW_DEVICE, device=device, remote_addr=remote_addr)

    @classmethod
    def citizen(cls, *, remote_addr: str | None = None) -> Actor:
        """A member of the public (a WhatsApp sender, a caller sharing a location)."""
        return cls(kind=ActorKind.CITIZEN, remote_addr=remote_addr)

    @property
    def person_user(self) -> Any:
        """The saved user who acted, for a ``*_by`` foreign key; None for devices, citizens and the system."""
        return self.user if self.user is not None and getattr(self.user, "pk", None) else None

    @cached_property
    def roles(self) -> str:
        """The roles the audit log records: ``role`` if given, else the person's roles now, else empty."""
        if self.role is not None:
            return self.role
        if self.person_user is None:
            return ""
        return ",".join(sorted(roles_of(self.user)))

    @property
    def label(self) -> str:
        """What the audit log names the actor by: the username, the device identifier, the token's prefix,
        else its ``name``."""
        if self.person_user is not None:
            return self.user.get_username()
        if self.device is not None:
            return self.device.identifier
        if self.api_token:
            return f"api-token:{self.api_token['api_token']}"
        return self.name


SYSTEM = Actor()
"""Siaga itself: a policy, a command, a scheduled job."""
