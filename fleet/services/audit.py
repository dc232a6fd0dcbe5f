"""The append-only audit log: every action, who made it, when and from where."""

from __future__ import annotations

from django.db import models

from fleet.actors import SYSTEM, Actor
from fleet.models import AuditEntry


def audit_record(
    *,
    action: str,
    actor: Actor = SYSTEM,
    obj: models.Model | None = None,
    data: dict | None = None,
) -> AuditEntry:
    """Append one audit entry.

    Parameters
    ----------
    action
        What happened, dotted: ``unit.status_set``, ``dispatch.assign``, ``caller.flag_lift``.
    actor
        Who acted, from where, in what role (:class:`~fleet.actors.Actor`); the name is copied into
        ``actor_label`` so the entry still reads right after a user or device is renamed or deleted, and a
        machine client's token is named in ``data``.
    obj
        The object acted on; its model name and primary key are stored.
    data
        Anything else worth keeping (JSON-serialisable): before/after values, the reason given.
    """
    return AuditEntry.objects.create(
        action=action,
        actor_kind=actor.kind,
        actor_user=actor.person_user,
        actor_device=actor.device,
        actor_label=actor.label,
        actor_role=actor.roles,
        remote_addr=actor.remote_addr,
        object_type=(obj._meta.model_name or "") if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data={**(data or {}), **actor.api_token},
    )
