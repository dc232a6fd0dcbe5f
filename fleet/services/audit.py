"""The append-only audit log: every action, who made it, when and from where."""

from __future__ import annotations

from typing import Any

from django.db import models

from fleet.models import ActorKind, AuditEntry, Device


def audit_record(
    *,
    action: str,
    actor_kind: str = ActorKind.SYSTEM,
    user: Any = None,
    device: Device | None = None,
    remote_addr: str | None = None,
    obj: models.Model | None = None,
    data: dict | None = None,
    label: str = "",
) -> AuditEntry:
    """Append one audit entry.

    Parameters
    ----------
    action
        What happened, dotted: ``unit.status_set``, ``dispatch.assign``, ``caller.flag_lift``.
    actor_kind
        dispatcher, crew_device, system or citizen.
    user, device
        The person or device that acted, if any; their name is copied into ``actor_label`` so the
        entry still reads right after either is renamed or deleted.
    remote_addr
        The client's IP address, when the action came over HTTP.
    obj
        The object acted on; its model name and primary key are stored.
    data
        Anything else worth keeping (JSON-serialisable): before/after values, the reason given.
    label
        Who acted when neither a user nor a device did (a crew's or an agency's WhatsApp number).
    """
    if user is not None and getattr(user, "is_authenticated", False):
        label = user.get_username()
    elif device is not None:
        label = device.identifier
    return AuditEntry.objects.create(
        action=action,
        actor_kind=actor_kind,
        actor_user=user if label and user is not None and getattr(user, "pk", None) else None,
        actor_device=device,
        actor_label=label,
        remote_addr=remote_addr,
        object_type=(obj._meta.model_name or "") if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
    )
