"""Admin for the incidents app's configuration: the incident-type table and each agency's response target
per priority (an inline on the fleet's agency page), and the replay of WhatsApp deliveries (an action on
the fleet's raw-message page). Every change is audited as the fleet's admin audits its own.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q
from django.forms import BaseModelFormSet
from django.http import HttpRequest

from access.selectors import regions_for_user
from fleet import admin as fleet_admin
from fleet.actors import Actor
from fleet.admin import AuditedAdmin, admin_audit, form_changes
from fleet.models import Agency, InboundMessage
from incidents.errors import WebhookPayloadError
from incidents.models import IncidentType, IncidentTypeNeed, ResponseTarget
from incidents.services.whatsapp import CHANNEL as WHATSAPP
from incidents.services.whatsapp import whatsapp_inbound_replay


class IncidentTypeNeedInline(admin.TabularInline):
    model = IncidentTypeNeed
    extra = 1
    fields = ("agency_kind", "capability", "count", "optional")


@admin.register(IncidentType)
class IncidentTypeAdmin(AuditedAdmin):
    """The type -> needs table. ``load_incident_types`` (and ``load_demo_fleet``) reset the types the
    fixture lists to the fixture, so a lasting change belongs in ``fixtures/incident_types.json`` too."""

    list_display = ("code", "name", "name_id", "category", "default_priority", "needs_summary")
    list_filter = ("category", "default_priority")
    search_fields = ("code", "name", "name_id")
    inlines = (IncidentTypeNeedInline,)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).prefetch_related("needs__capability")

    @admin.display(description="needs")
    def needs_summary(self, obj: IncidentType) -> str:
        return ", ".join(
            f"{n.count} x {n.agency_kind}/{n.capability.code}{' (optional)' if n.optional else ''}"
            for n in obj.needs.all()
        )

    def save_model(self, request: HttpRequest, obj: IncidentType, form, change: bool) -> None:
        # Audited in save_related instead, once the needs (the inline) are saved too.
        admin.ModelAdmin.save_model(self, request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets: list[BaseModelFormSet], change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        needs = [
            {"agency_kind": n.agency_kind, "capability": n.capability.code, "count": n.count, "optional": n.optional}
            for n in obj.needs.select_related("capability")
        ]
        data = {"str": str(obj), "changed": form_changes(form), "needs": needs}
        admin_audit(request, obj, "change" if change else "add", data)


class ResponseTargetInline(admin.TabularInline):
    model = ResponseTarget
    extra = 1
    fields = ("priority", "target_s")


admin.site.unregister(Agency)


@admin.register(Agency)
class AgencyAdmin(fleet_admin.AgencyAdmin):
    inlines = (ResponseTargetInline,)


admin.site.unregister(InboundMessage)


@admin.register(InboundMessage)
class InboundMessageAdmin(fleet_admin.InboundMessageAdmin):
    """Adds the replay: WhatsApp deliveries whose messages could not be processed (outcome failed or
    partial) are replayed with the "replay" action."""

    actions = ("replay",)

    def visible_to(self, user) -> Q:
        """Also the WhatsApp deliveries that made reports of the user's regions."""
        return super().visible_to(user) | Q(whatsappmessage__incident__region__in=regions_for_user(user))

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("fleet.change_inboundmessage")

    @admin.action(description="Replay the selected WhatsApp deliveries (nothing is recorded twice)",
                  permissions=("replay",))  # fmt: skip
    def replay(self, request: HttpRequest, queryset) -> None:
        for delivery in queryset.order_by("received_at", "pk"):
            if delivery.channel != WHATSAPP:
                self.message_user(request, f"Delivery {delivery.pk} is {delivery.channel}, not WhatsApp: skipped.",
                                  messages.WARNING)  # fmt: skip
                continue
            before = delivery.outcome
            try:
                result = whatsapp_inbound_replay(inbound=delivery, actor=Actor.of_request(request))
            except WebhookPayloadError as exc:
                self.message_user(request, f"Delivery {delivery.pk} cannot be replayed: {exc}", messages.ERROR)
                continue
            level = messages.SUCCESS if delivery.outcome in ("accepted", "duplicate") else messages.WARNING
            self.message_user(
                request,
                f"Delivery {delivery.pk}: {before} → {delivery.outcome}; {result.messages_new} new, "
                f"{result.messages_duplicate} already recorded"
                + (f"; reports {', '.join(result.incidents)}" if result.incidents else "")
                + (f"; {delivery.error}" if delivery.error else ""),
                level,
            )
