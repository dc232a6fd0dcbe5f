"""Device ingest end to end through Django's test client, with payloads as the real clients send them.

Payload shapes follow PROTOCOLS.md (Traccar Client / OsmAnd query string and form, Traccar Client 9+
JSON, OwnTracks HTTP, Siaga's batch). Times are relative to the real clock, because the endpoints
validate against the server's own ``now``. Places (lon, lat) are those of ``test_positions.py``,
whose distances to the Kota Jambi kecamatan union were measured with PostGIS.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from factories.access import basic_header, make_user
from factories.fleet import make_agency, make_device, make_unit

from fleet.models import InboundMessage, PositionFix, Unit, UnitStatus
from incidents.models import StatusChange

pytestmark = pytest.mark.django_db

CENTRE = (103.6131, -1.5913)  # inside kecamatan Pasar Jambi
FAR = (103.6770, -1.6150)  # 7,575 m from CENTRE (haversine, hand-checked in test_positions.py)
MONAS_JAKARTA = (106.8272, -6.1754)  # 609,955 m outside Kota Jambi (PostGIS)
SECRET = "device-secret-1"
OSMAND = "/api/ingest/osmand"
OWNTRACKS = "/api/ingest/owntracks"
BATCH = "/api/ingest/batch"
STATUS = "/api/ingest/status"


@pytest.fixture
def unit(jambi_kecamatan):
    return make_unit(agency=make_agency(region=jambi_kecamatan), call_sign="AMB-01")


@pytest.fixture
def device(unit):
    return make_device(unit=unit, identifier="356938035643809", secret=SECRET)


def _unix(ago_s: float) -> int:
    return int((timezone.now() - timedelta(seconds=ago_s)).timestamp())


def _osmand_query(device_id: str = "356938035643809", *, lonlat=CENTRE, ago_s: float = 30, **extra) -> dict:
    """The keys Traccar Client (Android) puts in its request, in its order."""
    query = {"id": device_id, "timestamp": str(_unix(ago_s)), "lat": str(lonlat[1]), "lon": str(lonlat[0])}
    query |= {"speed": "0.0", "bearing": "0.0", "altitude": "21.0", "accuracy": "12.0", "batt": "87.0"}
    query |= {k: str(v) for k, v in extra.items()}
    return query


def _fixes(unit_id: int):
    return list(PositionFix.objects.filter(unit_id=unit_id).order_by("pk"))


def _last_fix(unit_id: int) -> PositionFix | None:
    return Unit.objects.select_related("last_fix").get(pk=unit_id).last_fix


def _error(response) -> dict:
    return response.json()["error"]


# -- OsmAnd / Traccar Client --------------------------------------------------------------------------


def test_osmand_get_query_string_with_key_stores_speed_in_kph(client, device) -> None:
    query = _osmand_query(speed="10.0", key=SECRET)  # 10 knots
    response = client.get(f"{OSMAND}?{urlencode(query)}")
    assert response.status_code == 200, response.content
    [fix] = _fixes(device.unit_id)
    assert fix.speed_kph == pytest.approx(18.52)  # 10 kn x 1.852 km/h per knot
    assert (fix.accuracy_m, fix.altitude_m, fix.battery_pct, fix.protocol) == (12.0, 21.0, 87.0, "osmand")
    assert fix.is_valid
    assert fix.flags == []
    assert _last_fix(device.unit_id) == fix
    message = InboundMessage.objects.get(pk=fix.message_id)
    assert (message.channel, message.outcome, message.device_id) == ("osmand", "accepted", device.pk)
    assert SECRET not in message.query  # the stored copy never holds the secret
    assert "key=***" in message.query


def test_traccar_client_post_with_empty_body_and_basic_auth(client, device) -> None:
    # Traccar Client (Android 8.x) POSTs the query string with an empty body.
    query = _osmand_query(speed="5.399568")  # 2.7777 m/s x 1.943844 = 5.3996 kn
    response = client.post(
        f"{OSMAND}?{urlencode(query)}", data=b"", content_type="", HTTP_AUTHORIZATION=basic_header("", SECRET)
    )
    assert response.status_code == 200, response.content
    [fix] = _fixes(device.unit_id)
    assert fix.speed_kph == pytest.approx(10.0, abs=0.001)  # 5.399568 kn x 1.852 = 10.000 km/h


def test_osmand_form_body(client, device) -> None:
    body = urlencode(_osmand_query(speed="20", key=SECRET))
    response = client.post(OSMAND, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    [fix] = _fixes(device.unit_id)
    assert fix.speed_kph == pytest.approx(37.04)  # 20 kn x 1.852
    message = InboundMessage.objects.get(pk=fix.message_id)
    assert SECRET not in message.body


def test_traccar_client_json_body_speed_is_metres_per_second(client, device) -> None:
    stamp = (timezone.now() - timedelta(seconds=20)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.862Z")
    body = {
        "device_id": "356938035643809",
        "location": {
            "timestamp": stamp,
            "coords": {
                "latitude": CENTRE[1],
                "longitude": CENTRE[0],
                "accuracy": 5,
                "speed": 10,
                "heading": -1,
                "altitude": 5,
            },
            "is_moving": True,
            "odometer": 1200,
            "event": "motionchange",
            "battery": {"level": 0.79, "is_charging": False},
            "activity": {"type": "in_vehicle"},
            "extras": {},
        },
    }
    response = client.post(f"{OSMAND}?key={SECRET}", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    [fix] = _fixes(device.unit_id)
    assert fix.speed_kph == pytest.approx(36.0)  # 10 m/s x 3.6, not knots
    assert fix.heading_deg is None  # -1 means unknown
    assert fix.battery_pct == pytest.approx(79.0)  # 0.79 x 100
    assert (fix.protocol, fix.is_valid) == ("traccar_json", True)


# -- OwnTracks ----------------------------------------------------------------------------------------


def test_owntracks_http_with_basic_auth_and_limit_headers(client, unit) -> None:
    device = make_device(unit=unit, identifier="amb01/phone", secret=SECRET)
    body = {
        "_type": "location", "lat": CENTRE[1], "lon": CENTRE[0], "tst": _unix(15), "acc": 12, "alt": 21,
        "vel": 38, "cog": 270, "batt": 81, "bs": 1, "tid": "a1", "t": "u", "conn": "m",
        "created_at": _unix(10), "m": 1,
    }  # fmt: skip
    response = client.post(
        OWNTRACKS,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_header("amb01", SECRET),
        HTTP_X_LIMIT_U="amb01",
        HTTP_X_LIMIT_D="phone",
    )
    assert response.status_code == 200, response.content
    assert response.json() == []
    [fix] = _fixes(device.unit_id)
    assert fix.speed_kph == 38.0  # vel is km/h already
    assert (fix.heading_deg, fix.protocol, fix.is_valid) == (270.0, "owntracks", True)
    # A transition or lwt carries no fix and breaks nothing.
    for other in ({"_type": "lwt", "tst": _unix(5)}, {"_type": "transition", "event": "enter", "tst": _unix(5)}):
        response = client.post(
            OWNTRACKS, data=json.dumps(other), content_type="application/json",
            HTTP_AUTHORIZATION=basic_header("amb01", SECRET), HTTP_X_LIMIT_D="phone",
        )  # fmt: skip
        assert (response.status_code, response.json()) == (200, [])
    assert len(_fixes(device.unit_id)) == 1
    assert InboundMessage.objects.filter(channel="owntracks", outcome="ignored").count() == 2


def test_owntracks_without_auth_is_401_and_the_fix_is_kept_raw(client, unit) -> None:
    make_device(unit=unit, identifier="amb01/phone", secret=SECRET)
    body = json.dumps({"_type": "location", "lat": CENTRE[1], "lon": CENTRE[0], "tst": _unix(15)})
    response = client.post(OWNTRACKS, data=body, content_type="application/json", HTTP_X_LIMIT_D="phone")
    assert response.status_code == 401
    assert "HTTP Basic" in _error(response)["message"]
    message = InboundMessage.objects.get(channel="owntracks")
    assert (message.outcome, message.body) == ("rejected", body)
    assert not PositionFix.objects.exists()


# -- batch --------------------------------------------------------------------------------------------


def _post_batch(client, fixes: list[dict], *, user: str = "356938035643809", secret: str = SECRET, **top):
    return client.post(
        BATCH,
        data=json.dumps({"fixes": fixes, **top}),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_header(user, secret),
    )


def _batch_fix(lonlat=CENTRE, *, ago_s: float = 30, **fields) -> dict:
    recorded_at = (timezone.now() - timedelta(seconds=ago_s)).isoformat()
    return {"recorded_at": recorded_at, "lon": lonlat[0], "lat": lonlat[1], **fields}


def test_batch_stores_every_fix_and_answers_what_was_flagged(client, device) -> None:
    fixes = [_batch_fix(ago_s=90, speed_kph=40.0), _batch_fix((0.0, 0.0), ago_s=60), _batch_fix(ago_s=30)]
    response = _post_batch(client, fixes)
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 3, "valid": 2, "flags": {"1": ["zero_position"]}, "unit_moved": True}
    rows = _fixes(device.unit_id)
    assert [row.speed_kph for row in rows] == [40.0, None, None]
    assert _last_fix(device.unit_id) == rows[2]


def test_batch_for_another_unit_is_403_and_the_raw_message_is_kept(client, device) -> None:
    other = make_unit(agency=device.unit.agency, call_sign="AMB-02")
    response = _post_batch(client, [_batch_fix(), _batch_fix(ago_s=20, unit_id=other.pk)])
    assert response.status_code == 403
    error = _error(response)
    assert error["code"] == "wrong_unit"
    assert f"fix 1 names unit {other.pk}" in error["message"]
    assert not PositionFix.objects.exists()
    message = InboundMessage.objects.get(channel="batch")
    assert message.outcome == "rejected"
    assert f'"unit_id": {other.pk}' in message.body
    assert "reports only for its own unit" in message.error


def test_osmand_device_posting_as_another_device_is_403_and_kept(client, device) -> None:
    other_unit = make_unit(agency=device.unit.agency, call_sign="AMB-02")
    make_device(unit=other_unit, identifier="other-phone", secret="other-secret")
    query = urlencode(_osmand_query("other-phone"))
    # Authenticated as 356938035643809 but reporting for other-phone (another unit).
    response = client.get(f"{OSMAND}?{query}", HTTP_AUTHORIZATION=basic_header("356938035643809", SECRET))
    assert response.status_code == 403
    assert "authenticated as device '356938035643809'" in _error(response)["message"]
    assert not PositionFix.objects.exists()
    assert InboundMessage.objects.get(channel="osmand").outcome == "rejected"


def test_traccar_json_for_another_device_is_403_and_kept(client, device) -> None:
    other_unit = make_unit(agency=device.unit.agency, call_sign="AMB-02")
    make_device(unit=other_unit, identifier="other-phone", secret="other-secret")
    body = {"device_id": "other-phone", "location": {"timestamp": datetime.now(UTC).isoformat(),
            "coords": {"latitude": CENTRE[1], "longitude": CENTRE[0], "speed": 10}}}  # fmt: skip
    response = client.post(OSMAND, data=json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=basic_header("356938035643809", SECRET))  # fmt: skip
    assert response.status_code == 403
    assert _error(response)["code"] == "wrong_unit"
    assert not PositionFix.objects.exists()
    assert InboundMessage.objects.get(channel="traccar_json").outcome == "rejected"


def test_owntracks_message_for_another_devices_topic_is_403_and_kept(client, unit) -> None:
    make_device(unit=unit, identifier="amb01/phone", secret=SECRET)
    other_unit = make_unit(agency=unit.agency, call_sign="AMB-02")
    make_device(unit=other_unit, identifier="amb02/phone", secret="other-secret")
    body = {"_type": "location", "lat": CENTRE[1], "lon": CENTRE[0], "tst": _unix(15),
            "topic": "owntracks/amb02/phone"}  # fmt: skip
    response = client.post(OWNTRACKS, data=json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=basic_header("amb01", SECRET), HTTP_X_LIMIT_D="phone")  # fmt: skip
    assert response.status_code == 403
    assert "sent a message for topic 'owntracks/amb02/phone'" in _error(response)["message"]
    assert not PositionFix.objects.exists()
    assert InboundMessage.objects.get(channel="owntracks").outcome == "rejected"


@pytest.mark.parametrize(
    ("query_extra", "status", "code"),
    [
        ({"key": "wrong"}, 401, "device_auth_failed"),
        ({}, 401, "device_auth_failed"),  # no secret at all
        ({"id": "never-registered", "key": SECRET}, 400, "unknown_device"),  # Traccar answers 400
    ],
)
def test_bad_credentials(client, device, query_extra: dict, status: int, code: str) -> None:
    query = _osmand_query() | query_extra
    response = client.get(f"{OSMAND}?{urlencode(query)}")
    assert response.status_code == status
    assert _error(response)["code"] == code
    assert not PositionFix.objects.exists()
    message = InboundMessage.objects.get()
    assert message.outcome == "rejected"
    assert "wrong" not in message.query + message.body  # the presented key is masked too
    assert ("key=***" in message.query) == ("key" in query)


@pytest.mark.parametrize("named", [{"id": 1}, [], True, "x" * 65])
def test_a_batch_naming_its_device_badly_is_400_not_500(client, device, named) -> None:
    # The device named in the body is read before authenticating (key= in the query, no Basic auth).
    body = json.dumps({"device": named, "fixes": [_batch_fix()]})
    response = client.post(f"{BATCH}?key={SECRET}", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "device: the device identifier" in _error(response)["message"]
    assert InboundMessage.objects.get(channel="batch").outcome == "rejected"
    assert not PositionFix.objects.exists()


def test_a_nul_in_a_fix_is_kept_as_a_replacement_character_not_a_500(client, device) -> None:
    # JSON may carry \u0000 (a tracker's buggy firmware), which PostgreSQL text and jsonb cannot hold.
    response = _post_batch(client, [_batch_fix(attributes={"driver": "Bu\x00di"})])
    assert response.status_code == 200, response.content
    fix = PositionFix.objects.get()
    assert (fix.attributes["driver"], fix.is_valid) == ("Bu\ufffddi", True)
    assert "Bu\\u0000di" in InboundMessage.objects.get(channel="batch").body  # the raw body, as sent


def test_batch_with_a_wrong_password_is_401(client, device) -> None:
    response = _post_batch(client, [_batch_fix()], secret="not-it")
    assert response.status_code == 401
    assert "wrong secret" in _error(response)["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"fixes": [{"lon": 103.6, "lat": -1.6, "speed": 3}]}), "unknown key(s) speed"),
        (json.dumps({"fixes": []}), "non-empty list"),
    ],
)
def test_bad_batch_bodies_are_400_with_a_message(client, device, body: str, fragment: str) -> None:
    response = client.post(BATCH, data=body, content_type="application/json", HTTP_AUTHORIZATION=basic_header(
        "356938035643809", SECRET
    ))  # fmt: skip
    assert response.status_code == 400
    assert fragment in _error(response)["message"]
    assert InboundMessage.objects.get().outcome == "rejected"


# -- late and out-of-order ----------------------------------------------------------------------------


def test_late_and_out_of_order_bursts_never_move_the_unit_back(client, device) -> None:
    assert client.get(f"{OSMAND}?{urlencode(_osmand_query(ago_s=10, key=SECRET))}").status_code == 200
    newest = _last_fix(device.unit_id)
    # The phone was offline: buffered fixes from 10 to 2 minutes ago arrive now, newest first.
    for ago_s in (120, 240, 360, 480, 600):
        lonlat = (CENTRE[0] - ago_s * 1e-6, CENTRE[1])
        response = client.get(f"{OSMAND}?{urlencode(_osmand_query(lonlat=lonlat, ago_s=ago_s, key=SECRET))}")
        assert response.status_code == 200
        assert _last_fix(device.unit_id) == newest
    assert PositionFix.objects.filter(unit_id=device.unit_id, is_valid=True).count() == 6
    # An out-of-order batch: the unit moves to its newest fix (5 s ago), whatever the order sent.
    response = _post_batch(client, [_batch_fix(ago_s=8), _batch_fix(ago_s=5), _batch_fix(ago_s=9)])
    assert response.json()["unit_moved"] is True
    last = _last_fix(device.unit_id)
    assert last.recorded_at == max(row.recorded_at for row in _fixes(device.unit_id))
    # A later batch entirely older than that leaves it alone.
    response = _post_batch(client, [_batch_fix(ago_s=7), _batch_fix(ago_s=6)])
    assert response.json() == {"stored": 2, "valid": 2, "flags": {}, "unit_moved": False}
    assert _last_fix(device.unit_id) == last


# -- flags --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query_extra", "flag", "valid"),
    [
        ({"lat": "0.0", "lon": "0.0"}, "zero_position", False),
        ({"lat": "91.5"}, "out_of_range", False),
        ({"lat": str(MONAS_JAKARTA[1]), "lon": str(MONAS_JAKARTA[0])}, "outside_region", False),
        ({"timestamp": "FUTURE"}, "future_timestamp", False),  # 1 h ahead; SIAGA_FIX_MAX_FUTURE_S = 300
        ({"timestamp": "PAST"}, "stale_timestamp", False),  # 8 days old; SIAGA_FIX_MAX_PAST_S = 7 days
        ({"accuracy": "900"}, "poor_accuracy", True),  # > SIAGA_FIX_MAX_ACCURACY_M = 250; a warning only
        ({"valid": "false"}, "device_invalid", False),
    ],
)
def test_each_flag_is_stored_and_flagged_not_dropped(client, device, query_extra: dict, flag: str, valid: bool):
    query = _osmand_query(key=SECRET) | query_extra
    if query["timestamp"] == "FUTURE":
        query["timestamp"] = str(_unix(-3600))
    elif query["timestamp"] == "PAST":
        query["timestamp"] = str(_unix(8 * 86400))
    response = client.get(f"{OSMAND}?{urlencode(query)}")
    assert response.status_code == 200, response.content
    [fix] = _fixes(device.unit_id)
    assert fix.flags == [flag]
    assert fix.is_valid is valid
    assert (_last_fix(device.unit_id) == fix) is valid


def test_impossible_implied_speed_is_flagged(client, device) -> None:
    assert client.get(f"{OSMAND}?{urlencode(_osmand_query(ago_s=120, key=SECRET))}").status_code == 200
    # FAR is 7,575 m from CENTRE; 60 s later that is 454 km/h > SIAGA_FIX_MAX_SPEED_KPH = 200.
    query = _osmand_query(lonlat=FAR, ago_s=60, key=SECRET)
    assert client.get(f"{OSMAND}?{urlencode(query)}").status_code == 200
    first, jump = _fixes(device.unit_id)
    assert jump.flags == ["impossible_speed"]
    assert _last_fix(device.unit_id) == first


def test_a_retried_request_is_stored_again_and_flagged_duplicate(client, device) -> None:
    url = f"{OSMAND}?{urlencode(_osmand_query(ago_s=30, key=SECRET))}"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    original, retry = _fixes(device.unit_id)
    assert (original.flags, retry.flags) == ([], ["duplicate"])
    assert _last_fix(device.unit_id) == original


# -- crew status --------------------------------------------------------------------------------------


def _post_status(client, status: str):
    return client.post(
        STATUS,
        data=json.dumps({"status": status, "note": "ban bocor"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_header("356938035643809", SECRET),
    )


def test_crew_status_legal_transition_is_200(client, device) -> None:
    response = _post_status(client, UnitStatus.OUT_OF_SERVICE)
    assert response.status_code == 200, response.content
    assert response.json()["from"] == "available"
    assert response.json()["status"] == "out_of_service"
    change = StatusChange.objects.get(unit_id=device.unit_id)
    assert (change.actor_kind, change.actor_device_id, change.note) == ("crew_device", device.pk, "ban bocor")


def test_crew_status_illegal_transition_is_409_and_nothing_changes(client, device) -> None:
    response = _post_status(client, UnitStatus.ON_SCENE)
    assert response.status_code == 409
    error = _error(response)
    assert error["code"] == "illegal_transition"
    assert "cannot go from available to on_scene" in error["message"]
    assert Unit.objects.get(pk=device.unit_id).status == UnitStatus.AVAILABLE
    assert not StatusChange.objects.exists()
    assert InboundMessage.objects.get(channel="crew_status").outcome == "rejected"


def test_crew_status_unknown_value_is_400(client, device) -> None:
    response = _post_status(client, "flying")
    assert response.status_code == 400
    assert "status" in _error(response)["message"]


# -- history ------------------------------------------------------------------------------------------


@pytest.fixture
def dispatcher(client, unit):
    user = make_user("dispatcher", "dispatcher", password="pw")
    client.force_login(user)
    return user


def _history_url(unit_id: int, **params) -> str:
    return f"/api/units/{unit_id}/positions/?{urlencode(params)}"


def test_history_points_and_track_with_a_query_budget(client, device, dispatcher, django_assert_max_num_queries):
    # 40 valid fixes a minute apart moving west, and one (0, 0) in between.
    fixes = [_batch_fix((CENTRE[0] - 0.0005 * i, CENTRE[1]), ago_s=3000 - 60 * i) for i in range(40)]
    fixes.insert(10, _batch_fix((0.0, 0.0), ago_s=2500))
    assert _post_batch(client, fixes).status_code == 200
    start = (timezone.now() - timedelta(hours=1)).isoformat()
    end = timezone.now().isoformat()
    # session + user (2), unit (1), fixes (1); the budget must not grow with the number of fixes.
    with django_assert_max_num_queries(5):
        response = client.get(_history_url(device.unit_id, start=start, end=end))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["type"] == "FeatureCollection"
    assert data["unit"] == {"id": device.unit_id, "call_sign": "AMB-01"}
    points = [f for f in data["features"] if f["properties"]["kind"] == "fix"]
    [track] = [f for f in data["features"] if f["properties"]["kind"] == "track"]
    assert len(points) == 40  # valid only by default
    assert all(p["geometry"]["type"] == "Point" for p in points)
    assert points[0]["geometry"]["coordinates"] == pytest.approx(list(CENTRE))
    assert track["geometry"]["type"] == "LineString"
    assert len(track["geometry"]["coordinates"]) == 40
    times = [p["properties"]["recorded_at"] for p in points]
    assert times == sorted(times)
    with django_assert_max_num_queries(5):
        response = client.get(_history_url(device.unit_id, start=start, end=end, include_invalid="true"))
    points = [f for f in response.json()["features"] if f["properties"]["kind"] == "fix"]
    assert len(points) == 41
    assert ["zero_position"] in [p["properties"]["flags"] for p in points]


def test_history_time_range_filters(client, device, dispatcher) -> None:
    fixes = [_batch_fix((CENTRE[0] - 0.0005 * i, CENTRE[1]), ago_s=3600 - 60 * i) for i in range(60)]
    assert _post_batch(client, fixes).status_code == 200
    rows = _fixes(device.unit_id)
    start, end = rows[10].recorded_at, rows[20].recorded_at  # [start, end): 10 fixes
    response = client.get(_history_url(device.unit_id, start=start.isoformat(), end=end.isoformat()))
    points = [f for f in response.json()["features"] if f["properties"]["kind"] == "fix"]
    assert [p["id"] for p in points] == [row.pk for row in rows[10:20]]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"start": "yesterday"}, "not an ISO 8601 time"),
        ({"start": "2026-03-01T08:00:00"}, "with a zone"),
        ({"start": "2026-03-02T08:00:00+07:00", "end": "2026-03-01T08:00:00+07:00"}, "must be before end"),
    ],
)
def test_history_bad_query_params_are_400(client, device, dispatcher, params: dict, fragment: str) -> None:
    response = client.get(_history_url(device.unit_id, **params))
    assert response.status_code == 400
    assert fragment in _error(response)["message"]


def test_history_anonymous_is_refused_and_unknown_unit_is_404(client, device, django_user_model) -> None:
    assert client.get(_history_url(device.unit_id)).status_code in (401, 403)
    client.force_login(make_user("d2", "dispatcher", password="pw"))
    response = client.get(_history_url(999_999))
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_history_defaults_to_the_last_24_hours(client, device, dispatcher) -> None:
    stale_ok = _batch_fix(ago_s=25 * 3600)  # 25 h ago: valid (within 7 days) but outside the default range
    assert _post_batch(client, [stale_ok, _batch_fix(ago_s=60)]).status_code == 200
    response = client.get(f"/api/units/{device.unit_id}/positions/")
    assert response.status_code == 200
    points = [f for f in response.json()["features"] if f["properties"]["kind"] == "fix"]
    assert len(points) == 1
    assert datetime.fromisoformat(points[0]["properties"]["recorded_at"]) > timezone.now() - timedelta(hours=1)


# -- the raw request as it came -----------------------------------------------------------------------


def _message(channel: str = "osmand") -> InboundMessage:
    return InboundMessage.objects.get(channel=channel)


@pytest.mark.parametrize("rotated", [False, True], ids=["wrong_secret", "rotated_secret"])
def test_a_refused_traccar_client_post_keeps_its_query_string(client, device, rotated: bool) -> None:
    # Traccar Client (Android) POSTs everything in the query string with an empty body.
    old = SECRET
    if rotated:
        from fleet.services.devices import device_secret_rotate

        device_secret_rotate(device=device)
    query = urlencode(_osmand_query(ago_s=40, key=old if rotated else "wrong-one"))
    response = client.post(f"{OSMAND}?{query}", data=b"", content_type="")
    assert response.status_code == 401, response.content
    message = _message()
    assert message.outcome == "rejected"
    assert message.body == ""
    kept = query.replace(f"key={old if rotated else 'wrong-one'}", "key=***")
    assert message.query == kept  # every key the device sent, in its order, the secret masked
    assert "lat=-1.5913" in message.query
    assert not PositionFix.objects.exists()


def test_a_fix_refused_for_a_bad_timestamp_keeps_its_query_string(client, device) -> None:
    query = urlencode(_osmand_query(timestamp="yesterday-ish", key=SECRET))
    response = client.post(f"{OSMAND}?{query}", data=b"", content_type="")
    assert response.status_code == 400, response.content
    message = _message()
    assert (message.outcome, message.body) == ("rejected", "")
    assert "timestamp=yesterday-ish" in message.query
    assert "timestamp" in message.error


def test_form_body_and_query_string_are_both_kept(client, device) -> None:
    body = urlencode(_osmand_query(speed="20"))
    response = client.post(f"{OSMAND}?key={SECRET}&source=fw", data=body,
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 200, response.content
    message = _message()
    assert (message.query, message.body) == ("key=***&source=fw", body)
    # Refused the same way, both are kept too.
    response = client.post(f"{OSMAND}?key=wrong&source=fw", data=body,
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 401
    refused = InboundMessage.objects.filter(outcome="rejected").get()
    assert (refused.query, refused.body) == ("key=***&source=fw", body)


def test_traccar_json_body_and_query_string_are_both_kept(client, device) -> None:
    coords = {"latitude": CENTRE[1], "longitude": CENTRE[0]}
    body = json.dumps(
        {"device_id": "356938035643809", "location": {"timestamp": datetime.now(UTC).isoformat(), "coords": coords}}
    )
    for key, status in ((SECRET, 200), ("wrong", 401)):
        response = client.post(f"{OSMAND}?key={key}", data=body, content_type="application/json")
        assert response.status_code == status, response.content
    accepted, refused = InboundMessage.objects.filter(channel="traccar_json").order_by("pk")
    assert (accepted.outcome, refused.outcome) == ("accepted", "rejected")
    for message in (accepted, refused):
        assert (message.query, message.body) == ("key=***", body)


def test_secrets_are_masked_in_query_form_and_json_alike(client, device) -> None:
    form = urlencode(_osmand_query()) + f"&%6Bey={SECRET}&password=hunter2"  # %6Bey is key to the parser
    assert client.post(f"{OSMAND}?token=t0k3n", data=form,
                       content_type="application/x-www-form-urlencoded").status_code == 200  # fmt: skip
    message = _message()
    assert SECRET not in message.body
    assert "hunter2" not in message.body
    assert "t0k3n" not in message.query
    assert message.body.endswith("&%6Bey=***&password=***")
    assert message.query == "token=***"
    fix = PositionFix.objects.get(message=message)
    assert not {"key", "password", "token"} & set(fix.attributes)  # nor in the fix's extra attributes
    batch_body = json.dumps({"fixes": [_batch_fix()], "auth": {"Secret": "s-123", "password": 4711}})
    response = client.post(f"{BATCH}?key={SECRET}", data=batch_body, content_type="application/json",
                           HTTP_AUTHORIZATION=basic_header("356938035643809", SECRET))  # fmt: skip
    assert response.status_code == 400, response.content  # "auth" is no batch key: refused, stored masked
    stored = _message("batch")
    assert "s-123" not in stored.body
    assert "4711" not in stored.body
    assert '"auth": {"Secret": "***", "password": "***"}' in stored.body
    assert stored.query == "key=***"


@pytest.mark.parametrize("path", [OWNTRACKS, BATCH, STATUS])
def test_every_device_endpoint_keeps_query_and_body_when_refused(client, device, path: str) -> None:
    body = json.dumps({"_type": "location", "status": "en_route", "fixes": [_batch_fix()]})
    response = client.post(f"{path}?key=wrong&fw=2.1", data=body, content_type="application/json",
                           HTTP_AUTHORIZATION=basic_header("356938035643809", "wrong"))  # fmt: skip
    assert response.status_code == 401, response.content
    message = InboundMessage.objects.get()
    assert (message.outcome, message.query, message.body) == ("rejected", "key=***&fw=2.1", body)


def test_a_resent_query_string_post_is_flagged_duplicate_not_recorded_twice(client, device) -> None:
    url = f"{OSMAND}?{urlencode(_osmand_query(ago_s=30))}"
    for _ in range(2):
        response = client.post(url, data=b"", content_type="", HTTP_AUTHORIZATION=basic_header("", SECRET))
        assert response.status_code == 200, response.content
    original, retry = _fixes(device.unit_id)
    assert (original.flags, retry.flags) == ([], ["duplicate"])
    assert (original.is_valid, retry.is_valid) == (True, False)
    assert _last_fix(device.unit_id) == original
    assert [m.query for m in InboundMessage.objects.order_by("pk")] == [url.partition("?")[2]] * 2
