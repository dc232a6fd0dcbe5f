"""What every device endpoint shares: the raw request stored first, the device authenticated from its
own secret, and a refusal written on the stored message before it propagates.

Used by the position ingest (``fleet.api.ingest_views``) and the crew status endpoint
(``incidents.api.status_views``).

A paired crew page (``crew/``) authenticates with its session token instead of the device's secret
(``Authorization: Bearer crew_...``, ``fleet.services.crew_sessions``). A request may carry an
``Idempotency-Key`` header (up to 64 letters, digits or ``-_.:``): once a request with that key was carried
out for the device, a resend with it is answered as the first was and records nothing again
(:func:`device_request_once`); its raw copy is still stored, with the outcome ``duplicate``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from fleet.errors import DeviceAuthError, DeviceUnitMismatchError, IdempotencyKeyInvalidError
from fleet.ingest.masking import mask_body, mask_query
from fleet.models import Device, DeviceRequestKey, InboundMessage
from fleet.services.crew_sessions import SESSION_PREFIX, crew_session_authenticate
from fleet.services.devices import device_authenticate
from fleet.services.inbound import RawRequest, inbound_message_close, inbound_message_store
from gis_core.client_address import client_address
from gis_core.credentials import CredentialsInvalidError, basic_credentials
from gis_core.errors import DomainError

_KEPT_HEADERS = {
    "CONTENT_TYPE": "Content-Type",
    "HTTP_USER_AGENT": "User-Agent",
    "HTTP_X_LIMIT_U": "X-Limit-U",
    "HTTP_X_LIMIT_D": "X-Limit-D",
    "HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
    "HTTP_IDEMPOTENCY_KEY": "Idempotency-Key",
}
_IDEMPOTENCY_KEY_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


# ----------------------------------------------------------------------------------


def basic_pair(request) -> tuple[str, str] | None:
    """The request's HTTP Basic ``(user, secret)``, or None; ``CredentialsInvalidError`` (401) if malformed."""
    return basic_credentials(request.META.get("HTTP_AUTHORIZATION"))


def crew_bearer(request) -> str | None:
    """The crew session token of an ``Authorization: Bearer crew_...`` header, or None."""
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token.startswith(SESSION_PREFIX) else None


def device_request_raw(request, channel: str) -> RawRequest:
    """The request as it is stored: query string and body (whichever were sent, both when both were), secrets
    masked, and the headers worth keeping."""
    headers = {name: request.META[key] for key, name in _KEPT_HEADERS.items() if request.META.get(key)}
    headers["Method"] = request.method
    try:
        basic = basic_pair(request)
    except CredentialsInvalidError as exc:
        basic = None
        headers["Authorization-Invalid"] = str(exc)  # refused by _authenticate; never the secret
    if basic is not None:
        headers["Authorization-User"] = basic[0]  # who it claimed to be; never the secret
    elif crew_bearer(request) is not None:
        headers["Authorization-Kind"] = "crew session"  # never the token
    body = request.body.decode("utf-8", errors="backslashreplace")
    return RawRequest(
        channel=channel,
        query=mask_query(request.META.get("QUERY_STRING", "")),
        body=mask_body(body, content_type=request.META.get("CONTENT_TYPE", "")),
        headers=headers,
        remote_addr=client_address(request),
    )


def device_request_store(request, channel: str) -> InboundMessage:
    """Store the request as it came (``device_request_raw``)."""
    return inbound_message_store(**asdict(device_request_raw(request, channel)))


def device_request_authenticate(
    basic: tuple[str, str] | None, *, identifier: str | None, key: str | None = None, bearer: str | None = None
) -> Device:
    """The device the request authenticates as (``basic``: its HTTP Basic pair; ``bearer``: a crew page's
    session token); it must be the one the payload names."""
    if bearer is not None:
        device = crew_session_authenticate(bearer)
        if identifier is not None and device.identifier != identifier:
            raise DeviceUnitMismatchError(
                f"paired with device {device.identifier!r} but the request is for device {identifier!r}"
            )
        return device
    if basic is not None and basic[0]:
        device = device_authenticate(identifier=basic[0], secret=basic[1])
        if identifier is not None and device.identifier != identifier:
            raise DeviceUnitMismatchError(
                f"authenticated as device {device.identifier!r} but the request is for device {identifier!r}"
            )
        return device
    if identifier is None:
        raise DeviceAuthError("no credentials: use HTTP Basic auth (user = device identifier, password = secret)")
    return device_authenticate(identifier=identifier, secret=basic[1] if basic is not None else key)


def device_request_handled(message: InboundMessage, work: Callable[[], Response]) -> Response:
    """Run ``work``; a refusal or failure is written on the stored message before it propagates.

    Any domain error (bad payload, bad credentials, illegal status change) or validation error is a
    refusal; the API's handler turns it into its status and code.
    """
    try:
        return work()
    except (DomainError, ValidationError) as exc:
        inbound_message_close(message=message, outcome="rejected", error=str(exc))
        raise
    except Exception as exc:
        inbound_message_close(message=message, outcome="error", error=f"{type(exc).__name__}: {exc}")
        raise


def idempotency_key(request) -> str | None:
    """The request's ``Idempotency-Key`` header, or None; ``IdempotencyKeyInvalidError`` (400) if malformed."""
    key = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise IdempotencyKeyInvalidError(
            "Idempotency-Key: send 1 to 64 letters, digits or -_.: (a UUID will do), the same for every resend"
        )
    return key


_KEY_INSERT_SQL = f"""
    INSERT INTO {DeviceRequestKey._meta.db_table} (device_id, key, channel, message_id, response, created_at)
    VALUES (%s, %s, %s, %s, '{{}}'::jsonb, now()) ON CONFLICT (device_id, key) DO NOTHING RETURNING id
"""


def device_request_once(
    request, *, device: Device, channel: str, message: InboundMessage, work: Callable[[], dict]
) -> Response:
    """Carry out ``work`` (which returns the answer's body) once per the request's ``Idempotency-Key``.

    Without a key, ``work`` runs. With one, the key is claimed in the same transaction as ``work``'s
    writes: a resend (even one arriving while the first is still running, which waits on the key's
    row) gets the first answer with ``"duplicate": true`` and changes nothing. A refused request claims
    no key, so it can be sent again.
    """
    key = idempotency_key(request)
    if key is None:
        return Response(work())
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_KEY_INSERT_SQL, [device.pk, key, channel, message.pk])
            claimed = cursor.fetchone()
        if claimed is None:
            first = DeviceRequestKey.objects.get(device=device, key=key)
            inbound_message_close(
                message=message, outcome="duplicate", device=device,
                error=f"Idempotency-Key {key!r} was carried out already (message {first.message_id})",
            )  # fmt: skip
            return Response({**first.response, "duplicate": True})
        body = json.loads(json.dumps(work(), cls=DjangoJSONEncoder))
        DeviceRequestKey.objects.filter(pk=claimed[0]).update(response=body)
    return Response(body)


class DeviceEndpoint(APIView):
    """Devices authenticate themselves in the view (per-device secrets), not as Django users.

    No throttles, and JSON only (no browsable API to negotiate): these run for every fix a device sends.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)  # open to devices: each request proves itself with its device secret
    throttle_classes = ()
    renderer_classes = (JSONRenderer,)
