"""HTTP ingest for crews' devices and a unit's position history (the crew status endpoint, which shares
the device plumbing of ``fleet.api.device_endpoint``, is ``incidents.api.status_views``).

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

from dataclasses import asdict
from datetime import timedelta
from urllib.parse import parse_qsl

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from fleet.api.device_endpoint import (
    DeviceEndpoint,
    basic_pair,
    crew_bearer,
    device_request_authenticate,
    device_request_handled,
    device_request_once,
    device_request_raw,
    device_request_store,
)
from fleet.api.permissions import CanDispatch
from fleet.errors import DeviceAuthError, DeviceUnitMismatchError, HistoryTooLargeError, IngestUnavailableError
from fleet.ingest import batch, osmand, traccar_json
from fleet.ingest.fix import loads_json
from fleet.models import Device, InboundMessage, PositionFix
from fleet.selectors.positions import fixes_track, unit_fixes_between
from fleet.selectors.units import unit_for_user
from fleet.services.devices import device_authenticate
from fleet.services.inbound import RawRequest, inbound_message_store
from fleet.services.owntracks_http import owntracks_http_record, owntracks_identifier
from fleet.services.positions import PositionRecordResult, position_record
from fleet.services.spool import DATABASE_AWAY, credential_remember, spool_append
from gis_core.api.authentication import BasicAuthentication

HISTORY_DEFAULT = timedelta(hours=24)


def _record(device: Device, fixes, protocol: str, message: InboundMessage) -> PositionRecordResult:
    return position_record(device=device, fixes=fixes, protocol=protocol, message=message)


# -- protocols ----------------------------------------------------------------------------------------


class OsmAndIngestView(DeviceEndpoint):
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
        message = device_request_store(request, "traccar_json" if is_json else "osmand")
        return device_request_handled(message, lambda: self._work(request, message, is_json, query))

    def _work(self, request, message: InboundMessage, is_json: bool, query: str) -> Response:
        basic = basic_pair(request)
        query_pairs = parse_qsl(query, keep_blank_values=True)
        if is_json:
            payload = loads_json(request.body)
            device = device_request_authenticate(
                basic, identifier=traccar_json.identifier_of(payload), key=dict(query_pairs).get("key")
            )
            _record(device, traccar_json.parse_traccar_json(payload), "traccar_json", message)
        else:
            pairs = query_pairs
            if request.method == "POST":
                pairs = pairs + parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            device = device_request_authenticate(
                basic, identifier=osmand.identifier_of(pairs), key=dict(pairs).get("key")
            )
            _record(device, osmand.parse_osmand(pairs), "osmand", message)
        return Response(status=200)


class OwnTracksIngestView(DeviceEndpoint):
    """OwnTracks HTTP mode. Answers ``[]`` (no commands) once the message is stored and recorded.

    OwnTracks forgets a message whatever the answer, so when the database is away the request is spooled
    (``fleet.services.spool``, replayed once it is back) and answered 200 only if the spool took it; a 503 if not.
    """

    def post(self, request):
        raw = device_request_raw(request, "owntracks")
        try:
            message = inbound_message_store(**asdict(raw))
            return device_request_handled(message, lambda: self._work(request, message))
        except DATABASE_AWAY:
            return self._spool(request, raw)

    def _work(self, request, message: InboundMessage) -> Response:
        user, secret = self._credentials(request)
        device = device_authenticate(identifier=self._identifier(request, user), secret=secret)
        credential_remember(identifier=device.identifier, token_hash=device.token_hash)
        owntracks_http_record(device=device, body=request.body, message=message)
        return Response([], status=200)

    def _spool(self, request, raw: RawRequest) -> Response:
        user, secret = self._credentials(request)
        if spool_append(raw=raw, identifier=self._identifier(request, user), secret=secret) is None:
            raise IngestUnavailableError("positions cannot be stored right now: send this message again later")
        return Response([], status=200)

    @staticmethod
    def _credentials(request) -> tuple[str, str]:
        basic = basic_pair(request)
        if basic is None or not basic[0]:
            raise DeviceAuthError("OwnTracks must send HTTP Basic auth: user = OwnTracks user, password = secret")
        return basic

    @staticmethod
    def _identifier(request, user: str) -> str:
        return owntracks_identifier(user=user, device_name=request.META.get("HTTP_X_LIMIT_D", ""))


class BatchIngestView(DeviceEndpoint):
    """Siaga's batch format (schema in ``fleet.ingest.batch``); answers what was stored and flagged.

    Authenticated by the device secret or a crew page's session (``Authorization: Bearer crew_...``); an
    ``Idempotency-Key`` makes a resend record nothing again (``device_request_once``).

    A fix naming another device or unit refuses the whole request (403): nothing of it is recorded as
    fixes, the raw body stays stored with the refusal, and the sender learns which fixes were wrong.
    """

    def post(self, request):
        message = device_request_store(request, "batch")
        return device_request_handled(message, lambda: self._work(request, message))

    def _work(self, request, message: InboundMessage) -> Response:
        basic = basic_pair(request)
        payload = loads_json(request.body)
        named = batch.identifier_of(payload)
        key = dict(parse_qsl(request.META.get("QUERY_STRING", ""))).get("key")
        bearer = crew_bearer(request)
        device = device_request_authenticate(
            basic, identifier=None if basic or bearer else named, key=key, bearer=bearer
        )
        if bearer is not None and named is not None and named != device.identifier:
            raise DeviceUnitMismatchError(f"paired with device {device.identifier!r} but the batch names {named!r}")
        fixes = batch.parse_batch(payload, device_identifier_default=device.identifier)

        def record() -> dict:
            result = _record(device, fixes, "batch", message)
            return {
                "stored": len(result.fixes),
                "valid": sum(row.is_valid for row in result.fixes),
                "flags": {i: row.flags for i, row in enumerate(result.fixes) if row.flags},
                "unit_moved": result.last_fix_changed,
            }

        return device_request_once(request, device=device, channel="batch", message=message, work=record)


# -- crew status --------------------------------------------------------------------------------------


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
