"""Agencies, stations, units and their crews' devices, GPS fixes, reports, dispatch and the audit log.

Geometry is EPSG:4326; a point is (lon, lat). Times are timezone-aware. Writes go through
``fleet.services``: the models hold structure and database-level guarantees (one active
assignment per unit, an append-only audit log), not business rules.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.utils import translation

from gis_core.models import Facility, Kecamatan, Kelurahan, Region


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


class UnitType(NamedInTwoLanguages):
    code = models.SlugField(max_length=32, unique=True)
    capabilities = models.ManyToManyField(Capability, related_name="unit_types")

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
    is_demo = models.BooleanField(default=False)

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
    """

    channel = models.CharField(max_length=24, help_text="osmand, traccar_json, owntracks, batch, whatsapp")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    headers = models.JSONField(default=dict, blank=True)
    query = models.TextField(blank=True, help_text="the query string as sent, secrets masked")
    body = models.TextField(blank=True, help_text="the body as sent (form, JSON, ...), secrets masked")
    outcome = models.CharField(max_length=24, blank=True, help_text="accepted, rejected, duplicate, ...")
    error = models.TextField(blank=True)


class PositionFix(models.Model):
    """One GPS fix. Stored whatever it says; ``flags`` lists what is wrong, ``is_valid`` if nothing is."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="fixes")
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="fixes")
    message = models.ForeignKey(InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="fixes")
    protocol = models.CharField(max_length=24)
    recorded_at = models.DateTimeField(null=True, blank=True, help_text="when the fix was taken, per the device")
    received_at = models.DateTimeField(auto_now_add=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    geom = models.PointField(srid=4326, null=True, blank=True, help_text="set only for in-range coordinates")
    speed_kph = models.FloatField(null=True, blank=True)
    heading_deg = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    altitude_m = models.FloatField(null=True, blank=True)
    battery_pct = models.FloatField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    flags = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    is_valid = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["unit", "recorded_at"]),
            models.Index(fields=["received_at"]),
        ]


class StatusChange(models.Model):
    """Every unit status transition, with when and who."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=UnitStatus.choices)
    to_status = models.CharField(max_length=16, choices=UnitStatus.choices)
    at = models.DateTimeField()
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL)
    assignment = models.ForeignKey("Assignment", null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]


class IncidentType(NamedInTwoLanguages):
    """The taxonomy a call taker picks from; what it needs is in IncidentTypeNeed."""

    code = models.SlugField(max_length=32, unique=True)
    category = models.CharField(max_length=32, help_text="fire, medical, traffic, disaster, security, social, ...")
    default_priority = models.PositiveSmallIntegerField(default=2)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class IncidentTypeNeed(models.Model):
    """One need of an incident type: ``count`` units of an agency kind with a capability."""

    incident_type = models.ForeignKey(IncidentType, on_delete=models.CASCADE, related_name="needs")
    agency_kind = models.CharField(max_length=16, choices=AgencyKind.choices)
    capability = models.ForeignKey(Capability, on_delete=models.PROTECT, related_name="needed_by")
    count = models.PositiveSmallIntegerField(default=1)
    optional = models.BooleanField(default=False, help_text="sometimes needed (e.g. Damkar extrication)")

    class Meta:
        ordering = ["incident_type", "pk"]


class Channel(models.TextChoices):
    PHONE = "phone", "phone"
    WHATSAPP = "whatsapp", "WhatsApp"
    OTHER = "other", "other"


class Priority(models.IntegerChoices):
    CRITICAL = 1, "1 critical"
    HIGH = 2, "2 high"
    MEDIUM = 3, "3 medium"
    LOW = 4, "4 low"


class ResponseTarget(models.Model):
    """An agency's response target for reports of one priority: overrides ``Agency.response_target_s``.

    DOMAIN.md: targets are configurable per agency and priority (e.g. PSC 119: 8 minutes for a
    critical report, 15 for the rest).
    """

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="priority_targets")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    target_s = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="report to first unit on scene, seconds"
    )

    class Meta:
        ordering = ["agency", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "priority"], name="response_target_agency_priority_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agency.code} priority {self.priority}: {self.target_s} s"


class IncidentStatus(models.TextChoices):
    AWAITING_LOCATION = "awaiting_location", "awaiting location"
    OPEN = "open", "open"
    DISPATCHED = "dispatched", "dispatched"
    CLOSED = "closed", "closed"
    CANCELLED = "cancelled", "cancelled"


class Outcome(models.TextChoices):
    UNKNOWN = "unknown", "not yet known"
    GENUINE = "genuine", "genuine"
    FALSE_ALARM = "false_alarm", "false (good intent)"
    PRANK = "prank", "prank"
    SILENT = "silent", "silent or ghost call"


class LocationSource(models.TextChoices):
    DISPATCHER = "dispatcher", "set by a dispatcher"
    CALLER_GPS = "caller_gps", "caller's GPS (AML or app)"
    WHATSAPP = "whatsapp", "WhatsApp shared location"
    GEOCODED = "geocoded", "geocoded from the address"


class AddressSource(models.TextChoices):
    """Who wrote a report's address: a person (typed, or a search suggestion picked), or reverse geocoding
    of its location (a location from a click, a GPS fix or WhatsApp while no person gave an address)."""

    PERSON = "person", "given by a person"
    REVERSE = "reverse", "reverse geocoded from the location"


class Incident(models.Model):
    """A report: from a call or a WhatsApp conversation to its closure."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="incidents")
    reference = models.CharField(max_length=32, unique=True, help_text="human reference, e.g. JMB-2026-000123")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    caller_phone = models.CharField(max_length=32, blank=True, db_index=True, help_text="E.164, e.g. +62811...")
    caller_name = models.CharField(max_length=128, blank=True)
    incident_type = models.ForeignKey(IncidentType, null=True, blank=True, on_delete=models.PROTECT)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.HIGH)
    description = models.TextField(blank=True)
    address_text = models.TextField(blank=True)
    address_source = models.CharField(
        max_length=16, choices=AddressSource.choices, blank=True,
        help_text="who wrote address_text; a reverse-geocoded address follows the location, a person's never",
    )  # fmt: skip
    geom = models.PointField(srid=4326, null=True, blank=True)
    location_accuracy_m = models.FloatField(null=True, blank=True)
    location_source = models.CharField(max_length=16, choices=LocationSource.choices, blank=True)
    kecamatan = models.ForeignKey(Kecamatan, null=True, blank=True, on_delete=models.SET_NULL)
    kelurahan = models.ForeignKey(Kelurahan, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=24, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.UNKNOWN)
    caller_flags = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    received_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.reference


class LocationOffer(models.Model):
    """A location a caller shared (WhatsApp), offered to the dispatcher; never applied silently."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="location_offers")
    geom = models.PointField(srid=4326)
    source = models.CharField(max_length=16, choices=LocationSource.choices, default=LocationSource.WHATSAPP)
    label = models.TextField(blank=True, help_text="name and address the sender attached")
    received_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-received_at"]


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", "active"
    CLEARED = "cleared", "cleared"
    CANCELLED = "cancelled", "cancelled"


class Assignment(models.Model):
    """One unit sent to one incident, with the phase timestamps response times come from."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    capability = models.ForeignKey(Capability, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.ACTIVE)
    dispatched_at = models.DateTimeField()
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    transporting_at = models.DateTimeField(null=True, blank=True)
    at_hospital_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    eta_s_at_dispatch = models.FloatField(null=True, blank=True)
    current_eta_s = models.FloatField(null=True, blank=True)
    eta_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-dispatched_at"]
        constraints = [
            # The database itself refuses a second active assignment for a unit.
            models.UniqueConstraint(
                fields=["unit"], condition=Q(status="active"), name="one_active_assignment_per_unit"
            )
        ]


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
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"


class Caller(models.Model):
    """A phone number that has called or written, with its reputation."""

    phone = models.CharField(max_length=32, unique=True, help_text="E.164")
    first_seen_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.phone


class CallerFlag(models.Model):
    """A flag or block on a caller: set by policy or a person, audited, and liftable."""

    caller = models.ForeignKey(Caller, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=16, help_text="flag (mark new reports) or block (mark as blocked)")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]


class WhatsAppMessage(models.Model):
    """One inbound WhatsApp message, unique on its id so a retried delivery creates nothing twice."""

    message_id = models.CharField(max_length=128, unique=True)
    from_phone = models.CharField(max_length=32, db_index=True)
    profile_name = models.CharField(max_length=128, blank=True)
    kind = models.CharField(max_length=16, help_text="text, location, image, ...")
    sent_at = models.DateTimeField()
    payload = models.JSONField()
    inbound = models.ForeignKey(InboundMessage, null=True, blank=True, on_delete=models.SET_NULL)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="whatsapp")

    class Meta:
        ordering = ["-sent_at"]
