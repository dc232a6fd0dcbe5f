"""Reports and their dispatch: incident types, reports (incidents), location offers, assignments, the
units' status timeline, callers and their flags, WhatsApp messages.

The tables keep the names they had when these models lived in ``fleet`` (``fleet_incident``, ...): the
move changed the code's home, not the data (``incidents/migrations/0001_initial.py``).

Geometry is EPSG:4326; a point is (lon, lat). Times are timezone-aware. Writes go through
``incidents.services``: the models hold structure and database-level guarantees (one active
assignment per unit), not business rules.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db.models import Q

from fleet.models import (
    ActorKind,
    Agency,
    AgencyKind,
    Capability,
    Device,
    InboundMessage,
    NamedInTwoLanguages,
    Unit,
    UnitStatus,
)
from gis_core.models import Kecamatan, Kelurahan, Region


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
        db_table = "fleet_statuschange"
        ordering = ["at", "pk"]


class IncidentType(NamedInTwoLanguages):
    """The taxonomy a call taker picks from; what it needs is in IncidentTypeNeed."""

    code = models.SlugField(max_length=32, unique=True)
    category = models.CharField(max_length=32, help_text="fire, medical, traffic, disaster, security, social, ...")
    default_priority = models.PositiveSmallIntegerField(default=2)

    class Meta:
        db_table = "fleet_incidenttype"
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
        db_table = "fleet_incidenttypeneed"
        ordering = ["incident_type", "pk"]


class RegionIncidentType(models.Model):
    """One region's override of a shared incident type (``IncidentType``): whether its call takers are offered
    it, its default priority there, and, when it lists needs of its own (``RegionIncidentTypeNeed``), what
    it needs there instead of the shared needs (Ambon sends security reports to Polresta, Kodim or Satpol
    PP). A region without an override of a type uses the shared row as it is
    (``incidents.selectors.incident_types``).
    """

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="incident_types")
    incident_type = models.ForeignKey(IncidentType, on_delete=models.CASCADE, related_name="region_overrides")
    offered = models.BooleanField(default=True, help_text="Shown to this region's call takers (off: not used here)")
    default_priority = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="This region's default priority for the type (empty: the shared one)"
    )

    class Meta:
        ordering = ["region", "incident_type__code"]
        verbose_name = "incident type of a region"
        constraints = [
            models.UniqueConstraint(fields=["region", "incident_type"], name="incidents_one_override_per_region"),
            models.CheckConstraint(
                condition=Q(default_priority__isnull=True) | Q(default_priority__gte=1, default_priority__lte=4),
                name="incidents_override_priority_1_to_4",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_type.code} in {self.region.name}"


class RegionIncidentTypeNeed(models.Model):
    """One need of a region's override; any present replace the shared type's needs in that region."""

    override = models.ForeignKey(RegionIncidentType, on_delete=models.CASCADE, related_name="needs")
    agency_kind = models.CharField(max_length=16, choices=AgencyKind.choices)
    capability = models.ForeignKey(Capability, on_delete=models.PROTECT, related_name="needed_by_regions")
    count = models.PositiveSmallIntegerField(default=1)
    optional = models.BooleanField(default=False, help_text="sometimes needed (e.g. Damkar extrication)")

    class Meta:
        ordering = ["override", "pk"]


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
        db_table = "fleet_responsetarget"
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
    # The version of what a console shows of the report (incidents.representations.incident_public ``version``):
    # a database trigger adds one on every UPDATE of the row, in the updating transaction and under its row lock
    # (incidents/migrations/0009_incident_revision.py); a change of its assignments, offers, hand-offs or their
    # messages touches the row (incidents.live.live_incident_changed), so it only grows, whichever process wrote.
    revision = models.BigIntegerField(default=1, editable=False)

    class Meta:
        db_table = "fleet_incident"
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
        db_table = "fleet_locationoffer"
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
    # What the ETA at dispatch was computed on, so its error can be judged later (eta_accuracy).
    eta_network_version = models.ForeignKey(
        "gis_core.RoadNetworkVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    eta_profile = models.CharField(max_length=32, blank=True, help_text="the vehicle profile the ETA used")
    eta_road_class = models.CharField(
        max_length=32, blank=True, help_text="OSM highway class of the road the report's location attaches to"
    )
    eta_hour_band = models.CharField(
        max_length=8,
        blank=True,
        help_text="hour band whose learned speeds the ETA used (00-06 ... 20-24, local), or all: all-day weights",
    )
    current_eta_s = models.FloatField(null=True, blank=True)
    eta_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "fleet_assignment"
        ordering = ["-dispatched_at"]
        constraints = [
            # The database itself refuses a second active assignment for a unit.
            models.UniqueConstraint(
                fields=["unit"], condition=Q(status="active"), name="one_active_assignment_per_unit"
            )
        ]


class Caller(models.Model):
    """A phone number that has called or written to one centre, with its reputation there.

    A number is a caller per region: its flags, blocks and prank count belong to the centre that set
    them, and another centre neither sees nor applies them.
    """

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="callers")
    phone = models.CharField(max_length=32, help_text="E.164")
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "fleet_caller"
        constraints = [models.UniqueConstraint(fields=["region", "phone"], name="caller_region_phone_unique")]

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
        db_table = "fleet_callerflag"
        ordering = ["-created_at"]


class WhatsAppMessage(models.Model):
    """One inbound WhatsApp message, unique on its id so a retried delivery creates nothing twice."""

    message_id = models.CharField(max_length=128, unique=True)
    from_phone = models.CharField(max_length=32, db_index=True)
    profile_name = models.CharField(max_length=128, blank=True)
    kind = models.CharField(max_length=16, help_text="text, location, image, ...")
    sent_at = models.DateTimeField()
    payload = models.JSONField()
    # No database constraint: raw messages are partitioned (fleet.models.InboundMessage); retention keeps
    # any message this still points at.
    inbound = models.ForeignKey(InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="whatsapp")
    # A quick reply of a crew or an agency (incidents.services.replies): what became of it and why.
    outcome = models.CharField(max_length=16, blank=True, help_text="applied, refused, illegal, unknown")
    outcome_detail = models.TextField(blank=True)

    class Meta:
        db_table = "fleet_whatsappmessage"
        ordering = ["-sent_at"]


class OutboundState(models.TextChoices):
    """Where an outbound message is: queued (due at ``next_attempt_at``), accepted by the receiver (``sent``),
    then, for WhatsApp, the delivery receipts ``delivered`` and ``read``; ``failed`` after a permanent refusal,
    the last retry, or a ``failed`` receipt."""

    QUEUED = "queued", "queued"
    SENT = "sent", "sent (accepted)"
    DELIVERED = "delivered", "delivered"
    READ = "read", "read"
    FAILED = "failed", "failed"


class OutboundPurpose(models.TextChoices):
    DISPATCH = "dispatch", "dispatch notification to a crew"
    HANDOFF = "handoff", "hand-off to an agency"
    REPLY = "reply", "answer to a crew's or agency's reply"


class OutboundMessage(models.Model):
    """One message Siaga sends: a WhatsApp Cloud API request or a signed webhook POST, queued and retried.

    Written in the transaction that causes it (a dispatch, a hand-off) and sent after commit by the worker
    (``incidents.services.outbound``), so sending never blocks or fails that transaction.
    """

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="outbound_messages")
    channel = models.CharField(max_length=16, help_text="whatsapp or webhook")
    purpose = models.CharField(max_length=16, choices=OutboundPurpose.choices)
    to = models.CharField(max_length=500, help_text="E.164 number (whatsapp) or URL (webhook)")
    body = models.JSONField(help_text="the request body as sent")
    state = models.CharField(max_length=16, choices=OutboundState.choices, default=OutboundState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="due then; null once finished")
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=128, null=True, blank=True, unique=True, help_text="wamid")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    handoff = models.ForeignKey("Handoff", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbound_due_idx")]


class OutboundAttempt(models.Model):
    """One try at sending an outbound message: the request (never the token), the answer, or the error."""

    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    url = models.CharField(max_length=500)
    request_body = models.TextField()
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    retry = models.BooleanField(default=False, help_text="whether another attempt was scheduled")

    class Meta:
        ordering = ["at", "pk"]


class DeliveryReceipt(models.Model):
    """A ``statuses`` entry of the WhatsApp webhook: sent, delivered, read or failed, for a message we sent."""

    message = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="receipts"
    )
    provider_message_id = models.CharField(max_length=128, db_index=True)
    status = models.CharField(max_length=16)
    at = models.DateTimeField()
    payload = models.JSONField()
    inbound = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )  # no database constraint: see WhatsAppMessage.inbound

    class Meta:
        ordering = ["at", "pk"]
        constraints = [models.UniqueConstraint(fields=["provider_message_id", "status"], name="delivery_receipt_once")]


class HandoffStatus(models.TextChoices):
    PENDING = "pending", "pending (not yet delivered)"
    SENT = "sent", "sent"
    ACKNOWLEDGED = "acknowledged", "acknowledged"
    ON_SCENE = "on_scene", "on scene (as told by the agency)"
    CLOSED = "closed", "closed"


class Handoff(models.Model):
    """A leg of a report handed to an agency Siaga tracks no units of (Polresta, Satpol PP, DLHP, ...)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="handoffs")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="handoffs")
    channel = models.CharField(max_length=16, help_text="whatsapp, webhook or manual (phone, radio)")
    source = models.CharField(max_length=16, help_text="dispatcher or incident_type")
    status = models.CharField(max_length=16, choices=HandoffStatus.choices, default=HandoffStatus.PENDING)
    agency_reference = models.CharField(max_length=64, blank=True, help_text="the agency's own number")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True, help_text="not acknowledged in time")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # One open leg per agency and report; a closed one may be followed by a new hand-off.
            models.UniqueConstraint(
                fields=["incident", "agency"], condition=~Q(status="closed"), name="one_open_handoff_per_agency"
            )
        ]


class UserRequestKey(models.Model):
    """An ``Idempotency-Key`` a console user sent with a request that created something, and what it created.

    A resend with the same key (a lost answer, a retry after a 502) is answered with the object the first
    created and creates nothing (``incidents.services.request_keys``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=32, help_text="what the request did: incident_create, dispatch_assign")
    key = models.CharField(max_length=64)
    object_id = models.BigIntegerField(null=True, help_text="the report or assignment the request created")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "endpoint", "key"], name="user_request_key_unique"),
        ]
