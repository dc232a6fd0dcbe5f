"""Admin for memberships: which users belong to which region. Superusers only (users stay with them)."""

from __future__ import annotations

from django.contrib import admin

from access.models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "region", "is_home", "created_at")
    list_filter = ("region", "is_home")
    search_fields = ("user__username", "user__first_name", "user__last_name", "region__name", "region__slug")
    list_select_related = ("user", "region")
    autocomplete_fields = ("user", "region")
    readonly_fields = ("created_at",)
