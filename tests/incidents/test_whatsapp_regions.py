"""WhatsApp for several centres: the receiving number decides the region; what cannot be routed is kept
and replayed (``whatsapp_replay``, the admin action) without recording any message twice.

Deliveries are built and signed by the helpers of ``test_whatsapp`` (Meta's envelope, ``X-Hub-Signature-256``).
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from factories.gis_core import make_region
from test_whatsapp import _envelope, _location, _post, _text, whatsapp_settings

from fleet.models import AuditEntry, InboundMessage
from gis_core.models import Region
from incidents.models import Incident, WhatsAppMessage

pytestmark = pytest.mark.django_db

JAMBI_NUMBER = "106540352242922"  # the phone_number_id in test_whatsapp's envelope
AMBON_NUMBER = "109876543210987"


@pytest.fixture(autouse=True)
def _whatsapp_settings():
    with whatsapp_settings:
        yield


@pytest.fixture
def regions(jambi_region):
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    return jambi_region, ambon


def _set_number(region: Region, number: str | None) -> None:
    region.whatsapp_phone_number_id = number
    region.full_clean()
    region.save()


def _to_number(body: bytes, number: str) -> bytes:
    document = json.loads(body)
    document["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number
    return json.dumps(document, separators=(",", ":")).encode()


def test_the_receiving_number_decides_the_region(client, regions) -> None:
    jambi, ambon = regions
    _set_number(jambi, JAMBI_NUMBER)
    _set_number(ambon, AMBON_NUMBER)
    to_jambi = _post(client, _envelope(_text("wamid.J1", "kebakaran di Telanaipura")))
    to_ambon = _post(client, _to_number(_envelope(_text("wamid.A1", "banjir di Sirimau", sender="6281311110000")),
                                        AMBON_NUMBER))  # fmt: skip
    assert (to_jambi.json()["outcome"], to_ambon.json()["outcome"]) == ("accepted", "accepted")
    assert Incident.objects.get(description__contains="Telanaipura").region == jambi
    assert Incident.objects.get(description__contains="Sirimau").region == ambon


def test_an_unknown_number_is_kept_with_its_reason_and_creates_nothing(client, regions) -> None:
    jambi, _ = regions
    _set_number(jambi, JAMBI_NUMBER)
    response = _post(client, _to_number(_envelope(_text("wamid.U1", "tolong")), "555000111"))
    assert response.status_code == 200  # stored: Meta must not retry it forever
    assert response.json()["outcome"] == "failed"
    delivery = InboundMessage.objects.get(channel="whatsapp")
    assert delivery.outcome == "failed"
    assert "555000111" in delivery.error
    assert "replay" in delivery.error
    assert not Incident.objects.exists()
    assert not WhatsAppMessage.objects.exists()  # not stored until routed, so a replay can still route it


def test_a_single_region_without_a_number_is_not_guessed(client, jambi_region) -> None:
    response = _post(client, _envelope(_text("wamid.S1", "tolong")))
    assert response.json()["outcome"] == "failed"
    assert JAMBI_NUMBER in InboundMessage.objects.get().error
    assert not Incident.objects.exists()


def test_replay_after_the_number_is_set_records_the_report_once(client, regions) -> None:
    jambi, _ = regions
    _post(client, _envelope(_text("wamid.R1", "rumah terbakar"), _location("wamid.R2")))
    delivery = InboundMessage.objects.get()
    assert delivery.outcome == "failed"
    _set_number(jambi, JAMBI_NUMBER)
    call_command("whatsapp_replay", str(delivery.pk))
    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.error) == ("accepted", "")
    incident = Incident.objects.get()
    assert (incident.region, incident.location_offers.count()) == (jambi, 1)
    call_command("whatsapp_replay", str(delivery.pk))  # again, and Meta's own retry: nothing twice
    delivery.refresh_from_db()
    assert delivery.outcome == "accepted"  # its own messages found again: not a duplicate of itself
    _post(client, _envelope(_text("wamid.R1", "rumah terbakar"), _location("wamid.R2")))
    assert (Incident.objects.count(), WhatsAppMessage.objects.count()) == (1, 2)
    assert incident.location_offers.count() == 1
    assert AuditEntry.objects.filter(action="whatsapp.replay").count() == 2


def test_a_partly_routable_delivery_replays_only_what_is_missing(client, regions) -> None:
    jambi, ambon = regions
    _set_number(jambi, JAMBI_NUMBER)
    first = json.loads(_envelope(_text("wamid.P1", "kebakaran")))
    second = json.loads(_to_number(_envelope(_text("wamid.P2", "banjir", sender="6281311110000")), AMBON_NUMBER))
    first["entry"].append(second["entry"][0])
    response = _post(client, json.dumps(first, separators=(",", ":")).encode())
    assert (response.json()["outcome"], response.json()["messages_new"]) == ("partial", 1)
    _set_number(ambon, AMBON_NUMBER)
    call_command("whatsapp_replay", "--all-failed")
    assert InboundMessage.objects.get().outcome == "accepted"
    assert sorted(Incident.objects.values_list("region__slug", flat=True)) == ["kota-ambon", "kota-jambi"]
    assert WhatsAppMessage.objects.count() == 2


def test_all_failed_replays_in_the_order_received_and_skips_the_rest(client, regions, capsys) -> None:
    jambi, _ = regions
    _post(client, _envelope(_text("wamid.O1", "ada kecelakaan")))
    _post(client, _envelope(_location("wamid.O2")))  # the location came second: it joins the text's report
    _post(client, b"{not json")  # rejected: replaying cannot help, --all-failed leaves it
    _set_number(jambi, JAMBI_NUMBER)
    call_command("whatsapp_replay", "--all-failed")
    incident = Incident.objects.get()
    assert ("kecelakaan" in incident.description, incident.location_offers.count()) == (True, 1)
    assert InboundMessage.objects.filter(outcome="rejected").count() == 1
    assert "2 deliveries replayed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name delivery ids or --all-failed"),
        (("--all-failed", "1"), "either delivery ids or --all-failed"),
        (("999999",), "no WhatsApp delivery 999999"),
        (("abc",), "invalid int value"),
    ],
)
def test_replay_refuses_what_it_cannot_do_with_a_message(regions, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("whatsapp_replay", *args)


def test_replay_refuses_a_delivery_of_another_channel(regions) -> None:
    gps = InboundMessage.objects.create(channel="osmand", body="id=x&lat=1", outcome="rejected")
    with pytest.raises(CommandError, match=f"no WhatsApp delivery {gps.pk}"):
        call_command("whatsapp_replay", str(gps.pk))


def test_the_admin_shows_failed_deliveries_and_replays_them(admin_client, client, regions) -> None:
    jambi, _ = regions
    _post(client, _envelope(_text("wamid.D1", "pingsan di pasar")))
    delivery = InboundMessage.objects.get()
    listing = admin_client.get("/admin/fleet/inboundmessage/", {"outcome": "failed", "channel": "whatsapp"})
    assert listing.status_code == 200
    assert JAMBI_NUMBER in listing.content.decode()  # the reason is in the list
    assert admin_client.get(f"/admin/fleet/inboundmessage/{delivery.pk}/change/").status_code == 200
    _set_number(jambi, JAMBI_NUMBER)
    data = {"action": "replay", "_selected_action": [delivery.pk]}
    response = admin_client.post("/admin/fleet/inboundmessage/", data, follow=True)
    assert response.status_code == 200
    assert "accepted" in response.content.decode()
    assert Incident.objects.get().region == jambi
    admin_client.post("/admin/fleet/inboundmessage/", data, follow=True)
    assert Incident.objects.count() == 1
    entry = AuditEntry.objects.filter(action="whatsapp.replay").order_by("at", "pk").first()  # the first replay
    assert (entry.actor_label, entry.data["before"]["outcome"]) == ("admin", "failed")


def test_the_raw_delivery_cannot_be_edited_in_the_admin(admin_client, client, regions) -> None:
    _post(client, _envelope(_text("wamid.E1", "tolong")))
    delivery = InboundMessage.objects.get()
    url = f"/admin/fleet/inboundmessage/{delivery.pk}/"
    assert admin_client.post(f"{url}change/", {"body": "changed", "outcome": "accepted"}).status_code == 403
    assert admin_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    delivery.refresh_from_db()
    assert delivery.outcome == "failed"


@pytest.mark.parametrize("bad", ["abc", "+62 741", "1" * 33])
def test_a_number_id_that_is_not_digits_is_refused(jambi_region, bad) -> None:
    with pytest.raises(ValidationError) as caught:
        _set_number(jambi_region, bad)
    assert "whatsapp_phone_number_id" in caught.value.message_dict


def test_regions_without_a_number_coexist_and_a_number_is_unique(regions) -> None:
    jambi, ambon = regions
    _set_number(jambi, "")
    _set_number(ambon, "  ")
    assert Region.objects.filter(whatsapp_phone_number_id__isnull=True).count() == 2
    _set_number(jambi, JAMBI_NUMBER)
    with pytest.raises(ValidationError) as caught:
        _set_number(ambon, JAMBI_NUMBER)
    assert list(caught.value.message_dict) == ["whatsapp_phone_number_id"]


def test_the_number_is_editable_in_the_region_admin(admin_client, jambi_region) -> None:
    page = admin_client.get(f"/admin/gis_core/region/{jambi_region.pk}/change/").content.decode()
    assert 'name="whatsapp_phone_number_id"' in page
