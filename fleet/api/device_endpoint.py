"""What every device endpoint shares: the raw request stored first, the device authenticated from its
own secret, and a refusal written on the stored message before it propagates.

Used by the position ingest (``fleet.api.ingest_views``) and the crew status endpoint
(``incidents.api.status_views``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from fleet.errors import DeviceAuthError, DeviceUnitMismatchError
from fleet.ingest.masking import mask_body, mask_query
from fleet.models import Device, InboundMessage
from fleet.services.devices import device_authenticate
from fleet.services.inbound import RawRequest, inbound_message_close, inbound_message_store
from gis_core.credentials import CredentialsInvalidError, basic_credentials
from gis_core.errors import DomainError

_KEPT_HEADERS = {
    "CONTENT_TYPE": "Content-Type",
    "HTTP_USER_AGENT": "User-Agent",
    "HTTP_X_LIMIT_U": "X-Limit-U",
    "HTTP_X_LIMIT_D": "X-Limit-D",
    "HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
}


# ----------------------------------------------------------------------------------


def basic_pair(request) -> tuple[str, str] | None:
    """The request's HTTP Basic ``(user, secret)``, or None; ``CredentialsInvalidError`` (401) if malformed."""
    return basic_credentials(request.META.get("HTTP_AUTHORIZATION"))


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
    body = request.body.decode("utf-8", errors="backslashreplace")
    return RawRequest(
        channel=channel,
        query=mask_query(request.META.get("QUERY_STRING", "")),
        body=mask_body(body, content_type=request.META.get("CONTENT_TYPE", "")),
        headers=headers,
        remote_addr=request.META.get("REMOTE_ADDR"),
    )


def device_request_store(request, channel: str) -> InboundMessage:
    """Store the request as it came (``device_request_raw``)."""
    return inbound_message_store(**asdict(device_request_raw(request, channel)))


def device_request_authenticate(
    basic: tuple[str, str] | None, *, identifier: str | None, key: str | None = None
) -> Device:
    """The device the request authenticates as (``basic``: its HTTP Basic pair); it must be the one the
    payload names."""
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


class DeviceEndpoint(APIView):
    """Devices authenticate themselves in the view (per-device secrets), not as Django users.

    No throttles, and JSON only (no browsable API to negotiate): these run for every fix a device sends.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)  # open to devices: each request proves itself with its device secret
    throttle_classes = ()
    renderer_classes = (JSONRenderer,)
