"""Agencies, stations, units and their crews' devices, GPS fixes, reports, dispatch and the audit log.

Geometry is EPSG:4326; a point is (lon, lat). Times are timezone-aware. Writes go through
``fleet.services``: the models hold structure and database-level guarantees (one active
assignment per unit, an append-only audit log), not business rules.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.validators import URLValidator
from django.utils import translation

from gis_core.models import Facility, Region


class AgencyKind(models.TextChoices):
    EMS = "ems", "ambulance service (PSC 119)"
    FIRE = "fire", "fire and rescue (Damkar)"
    DISASTER = "disaster", "disaster management (BPBD)"
    POLICE = "police", "police (Polri / Polresta)"
    MILITARY = "military", "military (Kodim)"
    CIVIL = "civil", "civil service police (Satpol PP)"
    SOCIAL = "social", "social services (Dinas Sosial)"
    PUBLIC_WORKS = "public_works", "public works and environment (DLHP, PUPR)"
    OTHER = "other", "other"


class Agency(models.Model):
    """An agency that takes work from the 112 centre, per region."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="agencies")
    code = models.SlugField(max_length=32, help_text="short code, e.g. psc119, damkar")
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=AgencyKind.choices)
    response_target_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="report to first unit on scene, seconds (e.g. 900 for fire, SPM)"
    )
    is_demo = models.BooleanField(default=False, help_text="demo data, not a real agency record")
    # How a hand-off reaches an agency Siaga does not track (incidents.services.handoffs): its duty number on
    # WhatsApp, or a webhook to its own system signed with its secret; neither means by phone or radio.
    duty_whatsapp = models.CharField(
        max_length=32, blank=True, help_text="the duty desk's WhatsApp number, E.164 (+62...), for hand-offs"
    )
    # A CharField with the URL check: the admin's URLField form would guess a scheme for a bare host.
    handoff_webhook_url = models.CharField(
        max_length=500, blank=True, validators=[URLValidator(schemes=["http", "https"])],
        help_text="the agency's own system (https://...): hand-offs are POSTed here, signed",
    )  # fmt: skip
    handoff_webhook_secret = models.CharField(
        max_length=128, blank=True, help_text="HMAC-SHA256 key of X-Siaga-Signature-256, both ways"
    )

    class Meta:
        ordering = ["region", "code"]
        verbose_name_plural = "agencies"
        constraints = [models.UniqueConstraint(fields=["region", "code"], name="agency_region_code_unique")]

    def __str__(self) -> str:
        return self.name


class StationKind(models.TextChoices):
    HQ = "hq", "headquarters (mako)"
    POSKO = "posko", "post (posko / pos)"
    PUSKESMAS = "puskesmas", "puskesmas standby point"
    HOSPITAL = "hospital", "hospital (RSUD) standby point"
    STANDBY = "standby", "other standby point"
    POLICE = "police", "police station or post"


class Station(models.Model):
    """Where units are based: Damkar HQ and posko, puskesmas and RSUD ambulance standby points."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="stations")
    code = models.SlugField(max_length=48)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=StationKind.choices)
    geom = models.PointField(srid=4326)
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.SET_NULL, related_name="stations")
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ["agency", "code"]
        constraints = [models.UniqueConstraint(fields=["agency", "code"], name="station_agency_code_unique")]

    def __str__(self) -> str:
        return self.name


class NamedInTwoLanguages(models.Model):
    """A table row with an English ``name`` and an Indonesian ``name_id``, shown in the console's language."""

    name = models.CharField(max_length=128, help_text="English")
    name_id = models.CharField(max_length=128, blank=True, help_text="Bahasa Indonesia (the English name when empty)")

    class Meta:
        abstract = True

    def name_in(self, language: str | None = None) -> str:
        """The name in ``language`` (default: the active one): ``name_id`` for Indonesian when set, else ``name``."""
        language = language or translation.get_language() or settings.LANGUAGE_CODE
        return self.name_id if language.split("-")[0] == "id" and self.name_id else self.name


class Capability(NamedInTwoLanguages):
    """What a unit can do: als, bls, moto_ambulance, fire_engine, water_tanker, rescue, police_patrol, ..."""

    code = models.SlugField(max_length=32, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "capabilities"

    def __str__(self) -> str:
        return self.code


class RoutingProfile(models.TextChoices):
    """The vehicle profile a unit type is routed with (``gis_core.routing.profiles``)."""

    CAR = "car", "car-size vehicle (ambulance)"
    FIRE_ENGINE = "fire_engine", "large fire engine or truck"
    MOTORBIKE = "motorbike", "motorbike"


class UnitType(NamedInTwoLanguages):
    code = models.SlugField(max_length=32, unique=True)
    capabilities = models.ManyToManyField(Capability, related_name="unit_types")
    routing_profile = models.CharField(
        max_length=16,
        choices=RoutingProfile.choices,
        default=RoutingProfile.CAR,
        help_text="which roads its ETAs and routes may use, and at what speeds",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", "available"
    DISPATCHED = "dispatched", "dispatched"
    EN_ROUTE = "en_route", "en route"
    ON_SCENE = "on_scene", "on scene"
    TRANSPORTING = "transporting", "transporting"
    AT_HOSPITAL = "at_hospital", "at hospital"
    RETURNING = "returning", "returning"
    OUT_OF_SERVICE = "out_of_service", "out of service"


class Unit(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="units")
    call_sign = models.CharField(max_length=32)
    unit_type = models.ForeignKey(UnitType, on_delete=models.PROTECT, related_name="units")
    home_station = models.ForeignKey(Station, null=True, blank=True, on_delete=models.SET_NULL, related_name="units")
    status = models.CharField(max_length=16, choices=UnitStatus.choices, default=UnitStatus.AVAILABLE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Denormalised last known position: the newest *valid* fix by recorded_at (fleet.services).
    last_fix = models.ForeignKey(
        "PositionFix", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    crew_whatsapp = models.CharField(
        max_length=32, blank=True, help_text="the crew's WhatsApp number, E.164 (+62...): gets each dispatch"
    )
    is_demo = models.BooleanField(default=False)
    # The version of what a console shows of the unit (incidents.representations.unit_public ``version``):
    # a database trigger adds one on every UPDATE of the row, in the updating transaction and under its row
    # lock (fleet/migrations/0010_unit_revision.py), so it only grows, whichever process wrote.
    revision = models.BigIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["agency", "call_sign"]
        constraints = [models.UniqueConstraint(fields=["agency", "call_sign"], name="unit_agency_call_sign_unique")]

    def __str__(self) -> str:
        return self.call_sign


class ActorKind(models.TextChoices):
    DISPATCHER = "dispatcher", "dispatcher"
    CREW_DEVICE = "crew_device", "crew device"
    SYSTEM = "system", "system"
    CITIZEN = "citizen", "citizen"
    CREW = "crew", "crew (by WhatsApp)"
    AGENCY = "agency", "agency (hand-off reply)"


class Device(models.Model):
    """A crew phone or tracker bound to one unit; it reports only for that unit."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="devices")
    identifier = models.CharField(max_length=64, unique=True, help_text="Traccar id, or OwnTracks user/device")
    token_hash = models.CharField(max_length=128, help_text="hash of the device's secret (never the secret)")
    is_active = models.BooleanField(default=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["identifier"]

    def __str__(self) -> str:
        return self.identifier


class InboundMessage(models.Model):
    """Every raw payload a device, tracker bridge or webhook sent, stored before anything can fail.

    The request as it came: its query string and its body (both, when both were given), the headers
    worth keeping, and never a secret (``fleet.ingest.masking``).

    The table is partitioned by ``received_at`` (``fleet.services.partitions``; migration
    ``fleet.0010``): its primary key in the database is ``(id, received_at)``, ``id`` alone is unique
    by its sequence. Foreign keys onto it carry no database constraint (one could only reference the
    pair), so retention can drop whole partitions; it moves out first what others still point at.
    """

    channel = models.CharField(max_length=24, help_text="osmand, traccar_json, owntracks, batch, whatsapp, handoff")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    headers = models.JSONField(default=dict, blank=True)
    query = models.TextField(blank=True, help_text="the query string as sent, secrets masked")
    body = models.TextField(blank=True, help_text="the body as sent (form, JSON, ...), secrets masked")
    outcome = models.CharField(max_length=24, blank=True, help_text="accepted, rejected, duplicate, ...")
    error = models.TextField(blank=True)


class PositionFix(models.Model):
    """One GPS fix. Stored whatever it says; ``flags`` lists what is wrong, ``is_valid`` if nothing is.

    Partitioned by ``received_at``, the server's clock (never the device's, which may be missing or
    years off): see ``fleet.services.partitions``. The database's primary key is ``(id, received_at)``;
    ``id`` alone is unique by its sequence, and ``Unit.last_fix`` points at it.
    """

    # The (unit, recorded_at) index leads with unit_id: a second index on unit_id alone would cost as
    # much to keep at 500 million rows and serve nothing more.
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="fixes", db_index=False)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="fixes")
    message = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="fixes", db_constraint=False
    )
    protocol = models.CharField(max_length=24)
    recorded_at = models.DateTimeField(null=True, blank=True, help_text="when the fix was taken, per the device")
    received_at = models.DateTimeField(auto_now_add=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    # No spatial index: nothing searches fixes by place (readers go by unit and time), and a GiST index
    # over every fix would be the costliest one to keep up at ingest.
    geom = models.PointField(
        srid=4326, null=True, blank=True, spatial_index=False, help_text="set only for in-range coordinates"
    )
    speed_kph = models.FloatField(null=True, blank=True)
    heading_deg = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    altitude_m = models.FloatField(null=True, blank=True)
    battery_pct = models.FloatField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    flags = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    is_valid = models.BooleanField(default=False)

    class Meta:
        # Nothing else: retention drops whole partitions by received_at, so the B-tree on it is gone (the
        # default partition, the only one read by received_at, is small). A BRIN index there would tempt
        # the planner to AND a lossy bitmap of every fix in a track's received window into each track.
        indexes = [models.Index(fields=["unit", "recorded_at"])]


class AuditEntry(models.Model):
    """Append-only record of every action: who, what, when, from where (a trigger refuses edits)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    # No cascade and no SET NULL: deleting a user or device must never rewrite history.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )  # fmt: skip
    actor_device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_label = models.CharField(max_length=128, blank=True, help_text="username, device id or phone at the time")
    actor_role = models.CharField(max_length=64, blank=True, help_text="the console roles the person held then")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"


class CrewPairing(models.Model):
    """A one-time link (or its QR code) that pairs a crew's phone browser with one device of one unit.

    Made by a dispatcher or region admin; short-lived and single use. Only the SHA-256 of its token is
    kept; redeeming it (``fleet.services.crew_sessions``) gives the page a :class:`CrewSession`.
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="pairings")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the link's token (never the token)")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]


class CrewSession(models.Model):
    """The credential a paired crew page holds (a bearer token in the page's storage) for its device.

    It authenticates where the device's secret does (``/api/ingest/batch``, ``/api/ingest/status``) and
    the crew page's own endpoints; the device's secret is never shown to the page. Only its SHA-256 is kept.
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="crew_sessions")
    pairing = models.OneToOneField(CrewPairing, on_delete=models.CASCADE, related_name="session")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the session token")
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class DeviceRequestKey(models.Model):
    """An idempotency key a device sent with a request that was carried out, and the answer it got.

    A resend with the same key (an offline queue sending again after a lost answer) gets the stored
    answer and changes nothing; its raw request is still stored (outcome ``duplicate``).
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="request_keys")
    key = models.CharField(max_length=64)
    channel = models.CharField(max_length=24)
    message = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    response = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "key"], name="device_request_key_unique")]
