"""Serializers for reports and callers: validated input, GeoJSON queue, the full detail of a report.

Points are EPSG:4326: input as ``[lon, lat]`` or a GeoJSON Point, output as GeoJSON geometries.
Durations are seconds (``_s``).
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from access import roles
from gis_core.api.fields import PointField
from gis_core.api.serializers import RegionField
from incidents.models import Assignment, CallerFlag, Channel, Incident, LocationOffer, LocationSource, WhatsAppMessage
from incidents.representations import area_public, assignment_public, incident_feature, incident_public, seconds_between
from incidents.selectors.incidents import CallerHistory
from incidents.services.callers import FLAG_KINDS

# ---------------------------------------------------------------- input


class IncidentCreateSerializer(serializers.Serializer):
    region = RegionField(capability=roles.DISPATCH)  # placing a report: where the user may dispatch
    channel = serializers.ChoiceField(choices=Channel.choices)
    caller_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    caller_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=128)
    incident_type = serializers.CharField(max_length=32)
    priority = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=4)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    location = PointField(required=False, allow_null=True, default=None)
    location_accuracy_m = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)
    # geocoded: the point of a place search suggestion the call taker picked (its name then is the address).
    location_source = serializers.ChoiceField(
        choices=[LocationSource.DISPATCHER, LocationSource.CALLER_GPS, LocationSource.GEOCODED],
        default=LocationSource.DISPATCHER,
    )
    address_text = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if attrs["location"] is None and not attrs["address_text"].strip():
            raise serializers.ValidationError(
                "give a location ([lon, lat] or a GeoJSON Point) or an address_text to locate later"
            )
        return attrs


class IncidentLocationSerializer(serializers.Serializer):
    location = PointField()
    location_accuracy_m = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)
    location_source = serializers.ChoiceField(
        choices=[LocationSource.DISPATCHER, LocationSource.CALLER_GPS, LocationSource.GEOCODED],
        default=LocationSource.DISPATCHER,
    )
    address_text = serializers.CharField(required=False, allow_blank=True, default=None, allow_null=True)


class IncidentClassifySerializer(serializers.Serializer):
    """Triage: the fields given change, the others stay (an empty text clears it)."""

    incident_type = serializers.CharField(required=False, max_length=32, default=None, allow_null=True)
    priority = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=4)
    description = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None, trim_whitespace=False
    )
    caller_name = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None, max_length=128)
    address_text = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None, trim_whitespace=False
    )


class IncidentCloseSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=16)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CallerFlagCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FLAG_KINDS)
    reason = serializers.CharField()
    duration_s = serializers.FloatField(required=False, allow_null=True, min_value=1)
    region = serializers.CharField(
        required=False, max_length=64, help_text="the centre whose flag it is (slug or code); default: your home region"
    )


class CallerFlagLiftSerializer(serializers.Serializer):
    reason = serializers.CharField()
    region = serializers.CharField(required=False, max_length=64, help_text="the centre whose flag it is")


# ---------------------------------------------------------------- output


class IncidentQueueSerializer(GeoFeatureModelSerializer):
    """One report of the queue as a GeoJSON Feature (geometry null while it awaits its location).

    The fields describe the schema; the Feature is ``incidents.representations.incident_feature``, the
    shape a live report message carries too. The queryset comes from ``incidents_queue``.
    """

    region = serializers.CharField(source="region.slug")
    incident_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    incident_type_name = serializers.CharField(source="incident_type.name", default=None)
    location = GeometryField(source="geom", allow_null=True)
    kecamatan = serializers.JSONField(help_text="{code, name} or null")
    kelurahan = serializers.JSONField(help_text="{code, name} or null")
    pending_offers = serializers.JSONField(help_text="[{id, location [lon, lat], label, source, received_at}]")
    active_units = serializers.IntegerField()
    assignments = serializers.JSONField(help_text="all of the report's, oldest first, as in assignment lists")
    handoffs = serializers.JSONField(help_text="its hand-offs to agencies, oldest first (handoff_public)")
    handoff_escalated = serializers.BooleanField(help_text="a hand-off not acknowledged in time")

    class Meta:
        model = Incident
        geo_field = "geom"
        fields = (
            "id",
            "reference",
            "region",
            "status",
            "priority",
            "channel",
            "incident_type",
            "incident_type_name",
            "description",
            "address_text",
            "address_source",
            "outcome",
            "location",
            "location_accuracy_m",
            "location_source",
            "kecamatan",
            "kelurahan",
            "caller_phone",
            "caller_name",
            "caller_flags",
            "received_at",
            "closed_at",
            "pending_offers",
            "active_units",
            "assignments",
            "handoffs",
            "handoff_escalated",
        )

    def to_representation(self, instance: Incident) -> dict:
        return incident_feature(
            instance,
            assignments=instance.assignments.all(),
            pending_offers=instance.pending_offers,
            handoffs=instance.handoffs.all(),
        )


class LocationOfferSerializer(serializers.ModelSerializer):
    location = GeometryField(source="geom")
    applied_by = serializers.CharField(source="applied_by.username", default=None)

    class Meta:
        model = LocationOffer
        fields = ("id", "location", "source", "label", "received_at", "applied_at", "applied_by")


class AssignmentSerializer(serializers.ModelSerializer):
    """One unit on the report: its phase timestamps and the response times derived from them.

    The fields describe the schema; the output is ``incidents.representations.assignment_public``, the
    shape the queue, the live messages and the dispatch endpoints use too.
    """

    incident = serializers.IntegerField(source="incident_id")
    reference = serializers.CharField(source="incident.reference")
    unit = serializers.CharField(source="unit.call_sign")
    unit_id = serializers.IntegerField()
    call_sign = serializers.CharField(source="unit.call_sign")
    agency = serializers.CharField(source="unit.agency.code")
    agency_name = serializers.CharField(source="unit.agency.name")
    capability = serializers.CharField(source="capability.code", default=None)
    times_s = serializers.JSONField(help_text="dispatch_s, turnout_s, travel_s, response_s, on_scene_s, ...")
    notification = serializers.JSONField(help_text="the crew's WhatsApp message: {state, delivered, ...} or null")

    class Meta:
        model = Assignment
        fields = (
            "id",
            "incident",
            "reference",
            "unit",
            "unit_id",
            "call_sign",
            "agency",
            "agency_name",
            "capability",
            "status",
            "dispatched_at",
            "en_route_at",
            "on_scene_at",
            "transporting_at",
            "at_hospital_at",
            "cleared_at",
            "cancelled_at",
            "eta_s_at_dispatch",
            "current_eta_s",
            "eta_updated_at",
            "times_s",
            "notification",
        )

    def to_representation(self, instance: Assignment) -> dict:
        return assignment_public(instance)


class WhatsAppMessageSerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField()

    class Meta:
        model = WhatsAppMessage
        fields = ("id", "message_id", "kind", "sent_at", "from_phone", "profile_name", "text")

    def get_text(self, wa: WhatsAppMessage) -> str | None:
        text = wa.payload.get("text") if isinstance(wa.payload, dict) else None
        return str(text.get("body", "")) if isinstance(text, dict) else None


class CallerFlagSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)
    lifted_by = serializers.CharField(source="lifted_by.username", default=None)
    phone = serializers.CharField(source="caller.phone")

    class Meta:
        model = CallerFlag
        fields = (
            "id",
            "phone",
            "kind",
            "reason",
            "created_at",
            "created_by",
            "expires_at",
            "lifted_at",
            "lifted_by",
            "lift_reason",
        )


class CallerReportSerializer(serializers.ModelSerializer):
    incident_type = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Incident
        fields = ("id", "reference", "received_at", "channel", "incident_type", "status", "outcome", "caller_flags")


def caller_history_data(history: CallerHistory, *, exclude_pk: int | None = None, limit: int | None = None) -> dict:
    """A caller's record as JSON: counts per outcome, flags in force, all flags, recent reports."""
    reports = [r for r in history.reports if r.pk != exclude_pk][:limit]
    return {
        "phone": history.phone,
        "first_seen_at": history.caller.first_seen_at if history.caller else None,
        "report_count": history.report_count,
        "outcome_counts": history.outcome_counts,
        "pranks_counted": history.pranks_counted,
        "active_flags": CallerFlagSerializer(history.active_flags, many=True).data,
        "flags": CallerFlagSerializer(history.flags, many=True).data,
        "reports": CallerReportSerializer(reports, many=True).data,
    }


class IncidentDetailSerializer(serializers.ModelSerializer):
    """A report in full; ``caller`` is filled from the context (``caller_history``).

    The report itself is ``incidents.representations.incident_public`` (as in the queue and the live
    messages); the detail adds its needs, creator, response times, every location offer, the
    WhatsApp messages and the caller's record. The fields describe the schema.
    """

    region = serializers.CharField(source="region.slug")
    location = GeometryField(source="geom", allow_null=True)
    incident_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    incident_type_name = serializers.CharField(source="incident_type.name", default=None)
    needs = serializers.SerializerMethodField()
    kecamatan = serializers.SerializerMethodField()
    kelurahan = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", default=None)
    location_offers = LocationOfferSerializer(many=True)
    pending_offers = serializers.JSONField(help_text="as in the queue")
    active_units = serializers.IntegerField(help_text="as in the queue")
    handoffs = serializers.JSONField(help_text="as in the queue")
    handoff_escalated = serializers.BooleanField(help_text="as in the queue")
    assignments = AssignmentSerializer(many=True)
    whatsapp_messages = WhatsAppMessageSerializer(source="whatsapp", many=True)
    times_s = serializers.SerializerMethodField()
    caller = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = (
            "id",
            "reference",
            "region",
            "status",
            "outcome",
            "priority",
            "channel",
            "incident_type",
            "incident_type_name",
            "needs",
            "description",
            "address_text",
            "address_source",
            "location",
            "location_accuracy_m",
            "location_source",
            "kecamatan",
            "kelurahan",
            "caller_phone",
            "caller_name",
            "caller_flags",
            "received_at",
            "closed_at",
            "created_by",
            "times_s",
            "location_offers",
            "pending_offers",
            "active_units",
            "assignments",
            "handoffs",
            "handoff_escalated",
            "whatsapp_messages",
            "caller",
        )

    def to_representation(self, instance: Incident) -> dict:
        offers = list(instance.location_offers.all())
        pending = [o for o in offers if o.applied_at is None]
        data = incident_public(
            instance, assignments=instance.assignments.all(), pending_offers=pending, handoffs=instance.handoffs.all()
        )
        data.update(
            needs=self.get_needs(instance),
            created_by=instance.created_by.username if instance.created_by is not None else None,
            times_s=self.get_times_s(instance),
            location_offers=LocationOfferSerializer(offers, many=True).data,
            whatsapp_messages=WhatsAppMessageSerializer(instance.whatsapp.all(), many=True).data,
            caller=self.get_caller(instance),
        )
        return data

    def get_needs(self, incident: Incident) -> list[dict]:
        if incident.incident_type is None:
            return []
        return [
            {"agency_kind": n.agency_kind, "capability": n.capability.code, "count": n.count, "optional": n.optional}
            for n in incident.incident_type.needs.all()
        ]

    def get_kecamatan(self, incident: Incident) -> dict | None:
        return area_public(incident.kecamatan)

    def get_kelurahan(self, incident: Incident) -> dict | None:
        return area_public(incident.kelurahan)

    def get_times_s(self, incident: Incident) -> dict:
        """The report's own response times: to the first dispatch and to the first unit on scene."""
        assignments = list(incident.assignments.all())
        first = {
            phase: min((getattr(a, phase) for a in assignments if getattr(a, phase)), default=None)
            for phase in ("dispatched_at", "on_scene_at")
        }
        return {
            "first_dispatch_s": seconds_between(incident.received_at, first["dispatched_at"]),
            "first_on_scene_s": seconds_between(incident.received_at, first["on_scene_at"]),
            "open_s": seconds_between(incident.received_at, incident.closed_at),
        }

    def get_caller(self, incident: Incident) -> dict | None:
        history = self.context.get("caller_history")
        return caller_history_data(history, exclude_pk=incident.pk, limit=10) if history is not None else None
