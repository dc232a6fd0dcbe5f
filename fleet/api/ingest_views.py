"""HTTP ingest for crews' devices, the crew status endpoint, and a unit's position history.

Every device request is stored raw (``InboundMessage``) before it is authenticated or parsed, so
nothing a crew sent is lost even when it is refused: its query string and its body, whichever were
sent (Traccar Client for Android POSTs everything in the query string with an empty body). The stored
copy never holds the secret (no Authorization header; ``key`` and other secret-named values masked,
``fleet.ingest.masking``).

Credentials (each device has its own secret, see ``fleet.services.devices``):

- OsmAnd / Traccar Client: the device sends only ``id``. The secret goes either as HTTP Basic auth
  (user = the device id or empty, password = the secret) or as a ``key`` query parameter, e.g. the
  server URL ``https://siaga.example/api/ingest/osmand?key=<secret>`` in Traccar Client.
- OwnTracks: HTTP Basic (user = the OwnTracks user, password = the secret); the device name comes
  from ``X-Limit-D``, and the device identifier is ``user/device``.
- Batch and status: HTTP Basic (user = the device identifier, password = the secret).

An unknown device is a 400 (as Traccar answers), a wrong or missing secret a 401, a device sending for
another device or unit a 403; all in the one JSON error shape.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qsl

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from fleet.api.permissions import CanDispatch
from fleet.ingest import batch, osmand, owntracks, traccar_json
from fleet.ingest.fix import loads_json
from fleet.ingest.masking import mask_body, mask_query
from fleet.models import ActorKind, Device, InboundMessage, PositionFix, UnitStatus
from fleet.selectors_positions import HistoryTooLargeError, fixes_track, unit_fixes_between
from fleet.selectors_units import unit_for_user
from fleet.services.devices import DeviceAuthError, DeviceUnitMismatchError, device_authenticate
from fleet.services.positions import PositionRecordResult, inbound_message_close, inbound_message_store, position_record
from fleet.services.status import unit_status_set
from gis_core.api.authentication import BasicAuthentication
from gis_core.credentials import CredentialsInvalidError, basic_credentials
from gis_core.errors import DomainError

_KEPT_HEADERS = {
    "CONTENT_TYPE": "Content-Type",
    "HTTP_USER_AGENT": "User-Agent",
    "HTTP_X_LIMIT_U": "X-Limit-U",
    "HTTP_X_LIMIT_D": "X-Limit-D",
    "HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
}
HISTORY_DEFAULT = timedelta(hours=24)


# -- shared plumbing ----------------------------------------------------------------------------------


def _basic_credentials(request) -> tuple[str, str] | None:
    """The request's HTTP Basic ``(user, secret)``, or None; ``CredentialsInvalidError`` (401) if malformed."""
    return basic_credentials(request.META.get("HTTP_AUTHORIZATION"))


def _store(request, channel: str) -> InboundMessage:
    """Store the request as it came: query string and body (whichever were sent, both when both were),
    secrets masked, and the headers worth keeping."""
    headers = {name: request.META[key] for key, name in _KEPT_HEADERS.items() if request.META.get(key)}
    headers["Method"] = request.method
    try:
        basic = _basic_credentials(request)
    except CredentialsInvalidError as exc:
        basic = None
        headers["Authorization-Invalid"] = str(exc)  # refused by _authenticate; never the secret
    if basic is not None:
        headers["Authorization-User"] = basic[0]  # who it claimed to be; never the secret
    body = request.body.decode("utf-8", errors="backslashreplace")
    return inbound_message_store(
        channel=channel,
        query=mask_query(request.META.get("QUERY_STRING", "")),
        body=mask_body(body, content_type=request.META.get("CONTENT_TYPE", "")),
        headers=headers,
        remote_addr=request.META.get("REMOTE_ADDR"),
    )


def _authenticate(basic: tuple[str, str] | None, *, identifier: str | None, key: str | None = None) -> Device:
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


def _handled(message: InboundMessage, work: Callable[[], Response]) -> Response:
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


def _record(device: Device, fixes, protocol: str, message: InboundMessage) -> PositionRecordResult:
    return position_record(device=device, fixes=fixes, protocol=protocol, message=message)


class _DeviceEndpoint(APIView):
    """Devices authenticate themselves in the view (per-device secrets), not as Django users.

    No throttles, and JSON only (no browsable API to negotiate): these run for every fix a device sends.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)  # open to devices: each request proves itself with its device secret
    throttle_classes = ()
    renderer_classes = (JSONRenderer,)


# -- protocols ----------------------------------------------------------------------------------------


class OsmAndIngestView(_DeviceEndpoint):
    """OsmAnd / Traccar Client: GET or POST with query or form keys, or Traccar Client 9+ JSON.

    Answers an empty 200 like Traccar. JSON is recognised by ``Content-Type: application/json``.
    """

    def get(self, request):
        return self._ingest(request)

    def post(self, request):
        return self._ingest(request)

    def _ingest(self, request) -> Response:
        is_json = request.method == "POST" and request.content_type == "application/json"
        query = request.META.get("QUERY_STRING", "")
        message = _store(request, "traccar_json" if is_json else "osmand")
        return _handled(message, lambda: self._work(request, message, is_json, query))

    def _work(self, request, message: InboundMessage, is_json: bool, query: str) -> Response:
        basic = _basic_credentials(request)
        query_pairs = parse_qsl(query, keep_blank_values=True)
        if is_json:
            payload = loads_json(request.body)
            device = _authenticate(
                basic, identifier=traccar_json.identifier_of(payload), key=dict(query_pairs).get("key")
            )
            _record(device, traccar_json.parse_traccar_json(payload), "traccar_json", message)
        else:
            pairs = query_pairs
            if request.method == "POST":
                pairs = pairs + parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            device = _authenticate(basic, identifier=osmand.identifier_of(pairs), key=dict(pairs).get("key"))
            _record(device, osmand.parse_osmand(pairs), "osmand", message)
        return Response(status=200)


class OwnTracksIngestView(_DeviceEndpoint):
    """OwnTracks HTTP mode. Answers ``[]`` (no commands) once the message is stored and recorded."""

    def post(self, request):
        message = _store(request, "owntracks")
        return _handled(message, lambda: self._work(request, message))

    def _work(self, request, message: InboundMessage) -> Response:
        basic = _basic_credentials(request)
        if basic is None or not basic[0]:
            raise DeviceAuthError("OwnTracks must send HTTP Basic auth: user = OwnTracks user, password = secret")
        user, secret = basic
        device_name = request.META.get("HTTP_X_LIMIT_D", "").strip()
        identifier = user if "/" in user or not device_name else f"{user}/{device_name}"
        device = device_authenticate(identifier=identifier, secret=secret)
        payload = loads_json(request.body) if request.body.strip() else None
        topic = payload.get("topic") if isinstance(payload, dict) else None
        if isinstance(topic, str) and topic.removeprefix("owntracks/") != identifier:
            raise DeviceUnitMismatchError(f"device {identifier!r} sent a message for topic {topic!r}")
        _record(device, owntracks.parse_owntracks(payload, device_identifier=identifier), "owntracks", message)
        return Response([], status=200)


class BatchIngestView(_DeviceEndpoint):
    """Siaga's batch format (schema in ``fleet.ingest.batch``); answers what was stored and flagged.

    A fix naming another device or unit refuses the whole request (403): nothing of it is recorded as
    fixes, the raw body stays stored with the refusal, and the sender learns which fixes were wrong.
    """

    def post(self, request):
        message = _store(request, "batch")
        return _handled(message, lambda: self._work(request, message))

    def _work(self, request, message: InboundMessage) -> Response:
        basic = _basic_credentials(request)
        payload = loads_json(request.body)
        named = batch.identifier_of(payload)
        key = dict(parse_qsl(request.META.get("QUERY_STRING", ""))).get("key")
        device = _authenticate(basic, identifier=None if basic else named, key=key)
        fixes = batch.parse_batch(payload, device_identifier_default=device.identifier)
        result = _record(device, fixes, "batch", message)
        flagged = {i: row.flags for i, row in enumerate(result.fixes) if row.flags}
        return Response(
            {
                "stored": len(result.fixes),
                "valid": sum(row.is_valid for row in result.fixes),
                "flags": flagged,
                "unit_moved": result.last_fix_changed,
            }
        )


# -- crew status --------------------------------------------------------------------------------------


class CrewStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=UnitStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class CrewStatusView(_DeviceEndpoint):
    """POST ``{"status": "en_route"}`` from a crew device: the unit status set by its crew.

    The state machine is ``fleet.services.status``; an illegal transition is a 409 naming the allowed
    next statuses.
    """

    def post(self, request):
        message = _store(request, "crew_status")
        return _handled(message, lambda: self._work(request, message))

    def _work(self, request, message: InboundMessage) -> Response:
        device = _authenticate(_basic_credentials(request), identifier=None)
        payload = loads_json(request.body)
        serializer = CrewStatusSerializer(data=payload if isinstance(payload, dict) else {})
        serializer.is_valid(raise_exception=True)
        change = unit_status_set(
            unit=device.unit,
            to_status=serializer.validated_data["status"],
            actor_kind=ActorKind.CREW_DEVICE,
            device=device,
            note=serializer.validated_data["note"],
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
        inbound_message_close(message=message, outcome="accepted", device=device)
        return Response(
            {"unit": device.unit.call_sign, "from": change.from_status, "status": change.to_status, "at": change.at}
        )


# -- history ------------------------------------------------------------------------------------------


class FixFeatureSerializer(GeoFeatureModelSerializer):
    class Meta:
        model = PositionFix
        geo_field = "geom"
        fields = (
            "id", "recorded_at", "received_at", "speed_kph", "heading_deg", "accuracy_m", "altitude_m",
            "battery_pct", "protocol", "flags", "is_valid",
        )  # fmt: skip


class UnitPositionsView(APIView):
    """GET a unit's fixes as GeoJSON: one Point feature per fix and a LineString ``track`` feature.

    Query: ``start``, ``end`` (ISO 8601 with a zone; default the last 24 hours up to now),
    ``include_invalid`` (``true`` to list flagged fixes too; the track always uses valid fixes only).
    """

    authentication_classes = (BasicAuthentication, SessionAuthentication)
    permission_classes = (CanDispatch,)  # a unit's track: dispatchers (and admins)

    def get(self, request, unit_id: int):
        unit = unit_for_user(request.user, pk=unit_id)  # another centre's unit: the same 404 as a missing one
        if unit is None:
            raise NotFound(f"no unit with id {unit_id}")
        end = _query_time(request, "end") or timezone.now()
        start = _query_time(request, "start") or end - HISTORY_DEFAULT
        if start >= end:
            raise ValidationError({"start": f"must be before end ({end.isoformat()})"})
        include_invalid = request.query_params.get("include_invalid", "false").lower() in {"1", "true", "yes"}
        try:
            fixes = unit_fixes_between(unit_id=unit.pk, start=start, end=end, include_invalid=include_invalid)
        except HistoryTooLargeError as exc:
            raise ValidationError({"start": str(exc)}) from exc
        features = FixFeatureSerializer(fixes, many=True).data["features"]
        for feature in features:
            feature["properties"]["kind"] = "fix"
        track = fixes_track(fixes)
        features.append(
            {
                "type": "Feature",
                "geometry": None if track is None else {"type": "LineString", "coordinates": track.coords},
                "properties": {"kind": "track", "points": 0 if track is None else len(track.coords)},
            }
        )
        return Response(
            {
                "type": "FeatureCollection",
                "unit": {"id": unit.pk, "call_sign": unit.call_sign},
                "start": start,
                "end": end,
                "features": features,
            }
        )


def _query_time(request, name: str):
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = parse_datetime(raw.replace(" ", "+"))
    except ValueError:
        value = None
    if value is None or value.utcoffset() is None:
        raise ValidationError({name: f"{raw!r} is not an ISO 8601 time with a zone, e.g. 2026-03-01T08:00:00+07:00"})
    return value
