"""The WhatsApp Cloud API webhook end to end through Django's test client.

Bodies follow the Cloud API's webhook envelope (``entry[].changes[].value.messages[]`` with
``contacts[]``); each is signed as Meta signs it: ``X-Hub-Signature-256: sha256=`` + the hex HMAC-SHA256
of the raw body bytes under the app secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from factories.fleet import make_incident

from fleet.models import AuditEntry, InboundMessage
from incidents.models import Channel, Incident, IncidentStatus, LocationOffer, LocationSource, WhatsAppMessage

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("jambi_region"),
]

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "siaga-verify-token"
URL = "/api/whatsapp/webhook/"
SENDER = "6281234567890"  # WhatsApp sends wa_id / from without the +
SENDER_E164 = "+6281234567890"
DISPATCHER_POINT = (103.6131, -1.5913)  # Kota Jambi centre, set by a call taker
SHARED_POINT = (103.6200, -1.6000)  # what the caller shares on WhatsApp

whatsapp_settings = override_settings(WHATSAPP_APP_SECRET=APP_SECRET, WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN)


@pytest.fixture(autouse=True)
def _whatsapp_settings(jambi_region):
    jambi_region.whatsapp_phone_number_id = "106540352242922"  # the number of _envelope's metadata
    jambi_region.full_clean()
    jambi_region.save()
    with whatsapp_settings:
        yield


def _sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _ts(ago_s: float = 0) -> str:
    return str(int((timezone.now() - timedelta(seconds=ago_s)).timestamp()))


def _text(message_id: str, body: str, *, sender: str = SENDER, ago_s: float = 0) -> dict:
    return {"from": sender, "id": message_id, "timestamp": _ts(ago_s), "type": "text", "text": {"body": body}}


def _location(message_id: str, lonlat=SHARED_POINT, *, sender: str = SENDER, ago_s: float = 0) -> dict:
    return {
        "from": sender,
        "id": message_id,
        "timestamp": _ts(ago_s),
        "type": "location",
        "location": {
            "latitude": lonlat[1],
            "longitude": lonlat[0],
            "name": "Toko Sinar Jaya",
            "address": "Jl. Sultan Agung No. 12, Jambi",
        },
    }


def _envelope(*messages: dict, statuses: list[dict] | None = None, name: str = "Budi") -> bytes:
    value: dict = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "62741112112", "phone_number_id": "106540352242922"},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": m["from"]} for m in messages]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    document = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    # Meta's bodies are compact JSON with non-ASCII text as \\u escapes; the signature covers these bytes.
    return json.dumps(document, separators=(",", ":")).encode()


def _post(client, body: bytes, signature: str | None = None):
    headers = {} if signature == "" else {"HTTP_X_HUB_SIGNATURE_256": signature or _sign(body)}
    return client.post(URL, data=body, content_type="application/json", **headers)


# -- subscription handshake ---------------------------------------------------------------------------


def test_handshake_echoes_the_challenge_when_the_token_matches(client) -> None:
    response = client.get(
        URL, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
    ],
)
def test_handshake_with_a_wrong_token_or_mode_is_403(client, params: dict) -> None:
    response = client.get(URL, params)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "verify_token_mismatch"


def test_handshake_is_refused_while_no_verify_token_is_configured(client) -> None:
    with override_settings(WHATSAPP_VERIFY_TOKEN=""):
        response = client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})
    assert response.status_code == 403


# -- signature ----------------------------------------------------------------------------------------


def test_a_signed_text_creates_a_report_awaiting_location(client) -> None:
    body = _envelope(_text("wamid.A1", "Tolong, rumah terbakar di Jl. Sultan Agung"))
    response = _post(client, body)
    assert response.status_code == 200, response.content
    assert response.json()["messages_new"] == 1
    incident = Incident.objects.get()
    assert (incident.channel, incident.status) == (Channel.WHATSAPP, IncidentStatus.AWAITING_LOCATION)
    assert (incident.caller_phone, incident.caller_name) == (SENDER_E164, "Budi")
    assert incident.geom is None
    assert "rumah terbakar" in incident.description
    assert response.json()["incidents"] == [incident.reference]
    wa = WhatsAppMessage.objects.get()
    assert (wa.message_id, wa.kind, wa.from_phone, wa.incident_id) == ("wamid.A1", "text", SENDER_E164, incident.pk)
    delivery = InboundMessage.objects.get(channel="whatsapp")
    assert delivery.body.encode() == body  # the raw delivery, byte for byte
    assert delivery.outcome == "accepted"
    assert AuditEntry.objects.filter(action="whatsapp.message").count() == 1


@pytest.mark.parametrize(
    "signature",
    [
        "",  # no header
        "sha256=" + "0" * 64,
        _sign(b"another body"),
        "sha1=abc",
        "WRONG-SECRET",  # replaced below by a signature under another secret
    ],
)
def test_a_wrongly_signed_delivery_is_403_and_nothing_is_stored(client, signature: str) -> None:
    body = _envelope(_text("wamid.B1", "kebakaran"))
    if signature == "WRONG-SECRET":
        signature = _sign(body, "not-the-app-secret")
    response = _post(client, body, signature)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not InboundMessage.objects.exists()
    assert not WhatsAppMessage.objects.exists()
    assert not Incident.objects.exists()


def test_the_signature_is_over_the_raw_bytes_not_the_parsed_json(client) -> None:
    compact = _envelope(_text("wamid.C1", "banjir"))
    spaced = json.dumps(json.loads(compact), indent=2).encode()  # the same JSON, other bytes
    assert _post(client, spaced, _sign(compact)).status_code == 403
    assert _post(client, spaced, _sign(spaced)).status_code == 200


def test_no_app_secret_configured_refuses_everything(client) -> None:
    body = _envelope(_text("wamid.D1", "tolong"))
    with override_settings(WHATSAPP_APP_SECRET=""):
        response = _post(client, body, _sign(body, ""))
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


# -- idempotence --------------------------------------------------------------------------------------


def test_a_retried_delivery_duplicates_nothing(client) -> None:
    body = _envelope(_text("wamid.E1", "ada kecelakaan"), _location("wamid.E2"))
    assert _post(client, body).json()["messages_new"] == 2
    counts = (Incident.objects.count(), WhatsAppMessage.objects.count(), LocationOffer.objects.count())
    assert counts == (1, 2, 1)
    retry = _post(client, body)
    assert retry.status_code == 200
    assert (retry.json()["messages_new"], retry.json()["messages_duplicate"]) == (0, 2)
    assert (Incident.objects.count(), WhatsAppMessage.objects.count(), LocationOffer.objects.count()) == counts
    assert Incident.objects.get().description.count("ada kecelakaan") == 1
    # Each delivery is kept raw; the retry is marked as such.
    assert list(InboundMessage.objects.order_by("pk").values_list("outcome", flat=True)) == ["accepted", "duplicate"]


def test_a_message_retried_inside_a_later_delivery_is_not_processed_twice(client) -> None:
    _post(client, _envelope(_text("wamid.F1", "pohon tumbang")))
    response = _post(client, _envelope(_text("wamid.F1", "pohon tumbang"), _text("wamid.F2", "di depan masjid")))
    assert (response.json()["messages_new"], response.json()["messages_duplicate"]) == (1, 1)
    incident = Incident.objects.get()
    assert incident.description.count("pohon tumbang") == 1
    assert "di depan masjid" in incident.description


# -- text then location -------------------------------------------------------------------------------


def test_text_then_location_attaches_an_offer_to_the_open_report(client) -> None:
    _post(client, _envelope(_text("wamid.G1", "ibu saya pingsan", ago_s=120)))
    response = _post(client, _envelope(_location("wamid.G2")))
    assert response.status_code == 200
    incident = Incident.objects.get()
    offer = incident.location_offers.get()
    assert (offer.geom.x, offer.geom.y) == SHARED_POINT
    assert offer.source == LocationSource.WHATSAPP
    assert offer.label == "Toko Sinar Jaya — Jl. Sultan Agung No. 12, Jambi"
    assert offer.applied_at is None
    # Offered, not applied: the report still awaits a dispatcher's decision.
    assert (incident.geom, incident.status) == (None, IncidentStatus.AWAITING_LOCATION)
    assert set(WhatsAppMessage.objects.values_list("incident_id", flat=True)) == {incident.pk}


def test_a_location_never_overwrites_a_location_the_dispatcher_set(client) -> None:
    # The caller phoned first; the call taker placed the report on the map.
    incident = make_incident(
        geom=DISPATCHER_POINT,
        caller_phone=SENDER_E164,
        location_source=LocationSource.DISPATCHER,
        received_at=timezone.now() - timedelta(minutes=3),
    )
    _post(client, _envelope(_text("wamid.H1", "ini lokasi saya")))
    _post(client, _envelope(_location("wamid.H2")))
    assert Incident.objects.count() == 1
    incident.refresh_from_db()
    assert (incident.geom.x, incident.geom.y) == DISPATCHER_POINT
    assert incident.location_source == LocationSource.DISPATCHER
    [offer] = incident.location_offers.all()
    assert (offer.geom.x, offer.geom.y) == SHARED_POINT


def test_a_location_with_no_open_report_opens_a_new_one(client) -> None:
    # A report of this number older than the window (SIAGA_WHATSAPP_ATTACH_WINDOW_S = 900 s) and a
    # closed one: neither is "open from the last minutes".
    make_incident(caller_phone=SENDER_E164, received_at=timezone.now() - timedelta(hours=2))
    make_incident(caller_phone=SENDER_E164, status=IncidentStatus.CLOSED, received_at=timezone.now())
    response = _post(client, _envelope(_location("wamid.I1")))
    assert response.status_code == 200
    new = Incident.objects.get(channel=Channel.WHATSAPP)
    assert (new.status, new.geom) == (IncidentStatus.AWAITING_LOCATION, None)
    assert "location shared on WhatsApp" in new.description
    offer = new.location_offers.get()
    assert (offer.geom.x, offer.geom.y) == SHARED_POINT


def test_another_number_never_attaches_to_someone_elses_report(client) -> None:
    _post(client, _envelope(_text("wamid.J1", "kebakaran")))
    _post(client, _envelope(_location("wamid.J2", sender="6289876543210"), name="Sari"))
    assert Incident.objects.count() == 2
    assert Incident.objects.get(caller_phone="+6289876543210").location_offers.count() == 1


# -- other deliveries ---------------------------------------------------------------------------------


def test_delivery_statuses_create_nothing(client) -> None:
    status = {"id": "wamid.K1", "status": "delivered", "timestamp": _ts(), "recipient_id": SENDER}
    response = _post(client, _envelope(statuses=[status]))
    assert response.status_code == 200
    assert (response.json()["statuses"], response.json()["outcome"]) == (1, "ignored")
    assert not Incident.objects.exists()


def test_one_delivery_batching_several_entries_changes_and_senders(client) -> None:
    # PROTOCOLS.md: one POST can batch several entries, changes and messages; statuses come the same way.
    first = json.loads(_envelope(_text("wamid.M1", "ada banjir"), _location("wamid.M2")))
    second = json.loads(_envelope(_text("wamid.M3", "orang terlantar", sender="6289876543210"), name="Sari"))
    receipt = json.loads(_envelope(statuses=[{"id": "wamid.X", "status": "read", "timestamp": _ts()}]))
    first["entry"][0]["changes"].append(receipt["entry"][0]["changes"][0])
    first["entry"].append(second["entry"][0])
    body = json.dumps(first, separators=(",", ":")).encode()
    response = _post(client, body)
    assert response.status_code == 200, response.content
    assert (response.json()["messages_new"], response.json()["statuses"]) == (3, 1)
    budi = Incident.objects.get(caller_phone=SENDER_E164)
    sari = Incident.objects.get(caller_phone="+6289876543210")
    assert ("ada banjir" in budi.description, budi.location_offers.count()) == (True, 1)
    assert ("orang terlantar" in sari.description, sari.location_offers.count()) == (True, 0)
    assert (budi.caller_name, sari.caller_name) == ("Budi", "Sari")


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"object": "whatsapp_business_account"}'])
def test_a_signed_body_that_is_not_an_envelope_is_400_and_kept(client, body: bytes) -> None:
    response = _post(client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"
    assert InboundMessage.objects.get().outcome == "rejected"


def test_a_nul_in_a_text_or_a_name_is_kept_readably_not_a_500(client) -> None:
    # JSON may carry \u0000, which PostgreSQL text cannot hold: WhatsApp would retry a 500 forever.
    body = _envelope(_text("wamid.N1", "Tolong\u0000 kebakaran"), name="Bu\u0000di")
    response = _post(client, body)
    assert response.status_code == 200, response.content
    incident = Incident.objects.get()
    assert "Tolong" in incident.description
    assert "kebakaran" in incident.description
    assert "\x00" not in incident.description + incident.caller_name
