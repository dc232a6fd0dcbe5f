"""Idempotent creation for console users: a report or a dispatch carried out once per ``Idempotency-Key``.

A call taker's browser, or an agency's system through the API, may send a request again when its answer was lost
(a worker restarted, the proxy answered 502, the network dropped). Without a key each resend would create another
report or assignment. With one (the header's syntax is the devices' one, ``fleet.api.device_endpoint``), the first
request claims ``(user, endpoint, key)`` in the transaction that creates the object; a resend, even one arriving
while the first is still running (it waits on the claimed row), gets the object the first created and creates
nothing. A refused request (a domain error rolls the transaction back) claims no key, so it can be sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from incidents.models import UserRequestKey

_CLAIM_SQL = f"""
    INSERT INTO {UserRequestKey._meta.db_table} (user_id, endpoint, key, object_id, created_at)
    VALUES (%s, %s, %s, NULL, now()) ON CONFLICT (user_id, endpoint, key) DO NOTHING RETURNING id
"""


def request_once(*, user: Any, endpoint: str, key: str | None, create: Callable[[], int]) -> tuple[int, bool]:
    """Run ``create`` (which returns the new object's id) once per ``(user, endpoint, key)``.

    Returns
    -------
    tuple[int, bool]
        The object's id, and whether this was a resend (the first request's object, nothing created).
    """
    if key is None:
        return create(), False
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, [user.pk, endpoint, key])
            claimed = cursor.fetchone()
        if claimed is None:
            first = UserRequestKey.objects.get(user_id=user.pk, endpoint=endpoint, key=key)
            if first.object_id is not None:
                return int(first.object_id), True
        object_id = create()
        UserRequestKey.objects.filter(user_id=user.pk, endpoint=endpoint, key=key).update(object_id=object_id)
    return object_id, False
