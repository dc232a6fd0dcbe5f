"""Admin for the fleet's reference tables: agencies, stations, unit types, units, incident types.

What the admin may change is the configuration a centre keeps by hand: the incident-type table (which
agencies and capabilities a type needs, first loaded from ``fixtures/incident_types.json``), agencies
and their response targets (the KPI targets), stations, unit types and units. Every save or delete
made here is written to the append-only audit log (who, what, when, from where), like the services'
actions.

What it may not change is state that has its own service: a unit's status (the state machine of
``incidents.services.status``), its last known position (the GPS ingest), device secrets (only hashes are
stored; ``fleet.services.devices``), and the audit log itself (read-only here, append-only in the
database).

Staff who are not superusers see and pick only the rows of their regions (``RegionScopedAdminMixin``);
the shared tables (capabilities, unit types, incident types) are the same for every region.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.gis.admin import GISModelAdmin
from django.db import models
from django.db.models import Q
from django.forms import BaseModelFormSet
from django.http import HttpRequest

from access.selectors import regions_administered_by
from fleet.actors import Actor
from fleet.models import Agency, AuditEntry, Capability, Device, InboundMessage, Station, Unit, UnitType
from fleet.services.audit import audit_record
from fleet.services.crew_sessions import crew_sessions_revoke
from fleet.services.devices import device_create, device_deactivated, device_secret_rotate
from gis_core.admin_scoping import RegionScopedAdminMixin


def admin_audit(request: HttpRequest, obj: models.Model, action: str, data: dict[str, Any]) -> None:
    audit_record(
        action=f"admin.{obj._meta.model_name}.{action}",
        actor=Actor.of_request(request),
        obj=obj,
        data=data,
    )


def form_changes(form) -> dict[str, Any]:
    """The changed fields of a model form, as text (enough to read what an admin did)."""
    return {name: str(form.cleaned_data.get(name)) for name in form.changed_data}


class AuditedAdmin(admin.ModelAdmin):
    """Writes every add, change and delete made in the admin to the fleet audit log."""

    def save_model(self, request: HttpRequest, obj: models.Model, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        admin_audit(request, obj, "change" if change else "add", {"str": str(obj), "changed": form_changes(form)})

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        admin_audit(request, obj, "delete", {"str": str(obj)})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for obj in queryset:
            admin_audit(request, obj, "delete", {"str": str(obj)})
        super().delete_queryset(request, queryset)


@admin.register(Capability)
class CapabilityAdmin(AuditedAdmin):
    list_display = ("code", "name", "name_id")
    search_fields = ("code", "name", "name_id")


@admin.register(UnitType)
class UnitTypeAdmin(AuditedAdmin):
    list_display = ("code", "name", "name_id", "routing_profile")
    list_filter = ("routing_profile",)
    search_fields = ("code", "name", "name_id")
    filter_horizontal = ("capabilities",)


@admin.register(Agency)
class AgencyAdmin(RegionScopedAdminMixin, AuditedAdmin):
    """``response_target_s`` is the KPI target (report to first unit on scene); empty: the kind's default.
    A target per priority (the inline) overrides it for reports of that priority."""

    list_display = ("code", "name", "kind", "region", "response_target_s", "is_demo")
    list_filter = (("region", admin.RelatedOnlyFieldListFilter), "kind", "is_demo")
    search_fields = ("code", "name")
    list_select_related = ("region",)

    def save_model(self, request: HttpRequest, obj: Agency, form, change: bool) -> None:
        # Audited in save_related instead, once the per-priority targets (the inline) are saved too.
        admin.ModelAdmin.save_model(self, request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets: list[BaseModelFormSet], change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        targets = {str(t.priority): t.target_s for t in obj.priority_targets.all()}
        data = {"str": str(obj), "changed": form_changes(form), "target_by_priority_s": targets}
        admin_audit(request, obj, "change" if change else "add", data)


@admin.register(Station)
class StationAdmin(RegionScopedAdminMixin, AuditedAdmin, GISModelAdmin):
    region_path = "agency__region"
    choice_region_paths = {"agency": "region"}
    list_display = ("code", "name", "kind", "agency", "is_demo")
    list_filter = (
        ("agency__region", admin.RelatedOnlyFieldListFilter),
        ("agency", admin.RelatedOnlyFieldListFilter),
        "kind",
        "is_demo",
    )
    search_fields = ("code", "name")
    list_select_related = ("agency",)
    raw_id_fields = ("facility",)


@admin.register(Unit)
class UnitAdmin(RegionScopedAdminMixin, AuditedAdmin):
    """Status and position are read-only here: they change through the state machine and the GPS ingest."""

    region_path = "agency__region"
    choice_region_paths = {"agency": "region", "home_station": "agency__region"}
    list_display = ("call_sign", "agency", "unit_type", "home_station", "status", "status_changed_at", "is_demo")
    list_filter = (
        ("agency__region", admin.RelatedOnlyFieldListFilter),
        ("agency", admin.RelatedOnlyFieldListFilter),
        "unit_type",
        "status",
        "is_demo",
    )
    search_fields = ("call_sign",)
    list_select_related = ("agency", "unit_type", "home_station")
    readonly_fields = ("status", "status_changed_at", "last_fix")


@admin.register(Device)
class DeviceAdmin(RegionScopedAdminMixin, AuditedAdmin):
    """Register, move or deactivate crew devices. Adding one (``device_create``) or the "new secret" action
    (``device_secret_rotate``) shows the secret once, on the next page; only its hash is stored."""

    region_path = "unit__agency__region"
    choice_region_paths = {"unit": "agency__region"}
    list_display = ("identifier", "unit", "is_active", "last_seen_at")
    list_filter = ("is_active", ("unit__agency", admin.RelatedOnlyFieldListFilter))
    search_fields = ("identifier", "unit__call_sign")
    list_select_related = ("unit",)
    fields = ("identifier", "unit", "is_active", "last_seen_at")
    readonly_fields = ("last_seen_at",)
    actions = ("new_secret", "end_crew_sessions")

    def save_model(self, request: HttpRequest, obj: Device, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            if not obj.is_active:
                device_deactivated(device=obj)
            return
        device, secret = device_create(
            unit=obj.unit, identifier=obj.identifier, actor=Actor.of_request(request)
        )  # audited there
        obj.pk, obj.token_hash, obj._state.adding = device.pk, device.token_hash, False
        if not obj.is_active:
            Device.objects.filter(pk=obj.pk).update(is_active=False)
        self._show_secret(request, device, secret)

    @admin.action(description="Give the selected device a new secret (shown once)")
    def new_secret(self, request: HttpRequest, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one device: each new secret is shown once.", messages.ERROR)
            return
        device = queryset.get()
        secret = device_secret_rotate(device=device, actor=Actor.of_request(request))
        self._show_secret(request, device, secret)

    @admin.action(description="End the crew page sessions of the selected devices (a lost phone)")
    def end_crew_sessions(self, request: HttpRequest, queryset) -> None:
        ended = sum(crew_sessions_revoke(device=device, actor=Actor.of_request(request)) for device in queryset)
        self.message_user(request, f"{ended} crew page session(s) ended; pair the phone again from the console.")

    def _show_secret(self, request: HttpRequest, device: Device, secret: str) -> None:
        self.message_user(
            request,
            f"Secret of device {device.identifier} (shown this once; set it in the app now): {secret}. "
            f"Traccar Client server URL: <this server>/api/ingest/osmand?key={secret}",
            messages.WARNING,
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only (a database trigger refuses UPDATE and DELETE)."""

    list_display = ("at", "actor_kind", "actor_label", "remote_addr", "action", "object_type", "object_id")
    list_filter = ("actor_kind", "action")
    search_fields = ("actor_label", "action", "object_id")
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest):
        # An entry has no region of its own: staff who are not superusers see what people of their regions
        # and their regions' devices did; the system's own entries stay with superusers.
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        mine = regions_administered_by(request.user)
        by_people = Q(actor_user__memberships__region__in=mine)
        return queryset.filter(by_people | Q(actor_device__unit__agency__region__in=mine)).distinct()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """Read-only: every raw payload as it came, with its outcome and the reason it failed (the incidents app
    adds the replay of WhatsApp deliveries: ``incidents.admin``)."""

    list_display = ("pk", "received_at", "channel", "outcome", "error_short", "device", "remote_addr")
    list_filter = ("channel", "outcome")
    search_fields = ("error", "body")
    date_hierarchy = "received_at"
    list_select_related = ("device",)

    def get_queryset(self, request: HttpRequest):
        # A payload has no region of its own: staff who are not superusers see their regions' devices'
        # payloads (the incidents app adds the WhatsApp deliveries of their reports); the rest (unknown
        # devices, deliveries that recorded nothing) stay with superusers.
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(self.visible_to(request.user)).distinct()

    def visible_to(self, user) -> Q:
        """The payloads a staff user who is not a superuser may read: the devices of the regions they administer."""
        return Q(device__unit__agency__region__in=regions_administered_by(user))

    @admin.display(description="error")
    def error_short(self, obj: InboundMessage) -> str:
        return obj.error if len(obj.error) <= 160 else obj.error[:159] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: InboundMessage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: InboundMessage | None = None) -> bool:
        return False
