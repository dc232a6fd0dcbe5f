"""Admin for access: memberships (superusers only: users stay with them) and API tokens (region admins).

A region admin (the ``region_admin`` role in the region, ``access.roles.REGION_ADMIN``, with staff status to
open /admin/) or a superuser makes a region's API tokens, lists them (never their secrets: only a hash is
kept) and revokes them. The token is shown once, in the message after saving the new token.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from access.models import ApiToken, Membership, Scope
from access.selectors import regions_administered_by
from access.services import api_token_create, api_token_revoke


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "region", "role", "agencies", "is_home")

    def clean(self) -> dict:
        data = super().clean()
        region, agencies = data.get("region"), data.get("agencies")
        if region is not None and agencies:
            foreign = [str(agency) for agency in agencies if agency.region_id != region.pk]
            if foreign:
                self.add_error("agencies", f"not agencies of {region.name}: {', '.join(foreign)}")
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ("user", "region", "role", "agency_limit", "is_home", "created_at")
    list_filter = ("region", "role", "is_home")
    search_fields = ("user__username", "user__first_name", "user__last_name", "region__name", "region__slug")
    list_select_related = ("user", "region")
    autocomplete_fields = ("user", "region")
    filter_horizontal = ("agencies",)
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("agencies")

    @admin.display(description="agencies")
    def agency_limit(self, obj: Membership) -> str:
        return ", ".join(agency.code for agency in obj.agencies.all()) or "all"


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiToken
        fields = ("region", "name", "scopes")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ("name", "region", "prefix", "scopes", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("region", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    list_select_related = ("region", "created_by")
    actions = ("revoke",)

    def _may(self, request) -> bool:
        return regions_administered_by(request.user).exists()

    def has_module_permission(self, request) -> bool:
        return self._may(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may(request)

    def has_add_permission(self, request) -> bool:
        return self._may(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row keeps who made the token and when it was last used

    def get_queryset(self, request):
        return super().get_queryset(request).filter(region__in=regions_administered_by(request.user))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("region", "name", "scopes")
        return ("name", "region", "prefix", "scopes", "created_by", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("region", "prefix", "scopes", "created_by", "created_at", "last_used_at", "revoked_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = regions_administered_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = api_token_create(
            region=obj.region, name=obj.name, scopes=form.cleaned_data["scopes"], created_by=request.user
        )
        for field in ApiToken._meta.concrete_fields:  # the admin goes on with the saved row (its log, its link)
            setattr(obj, field.attname, getattr(issued.token, field.attname))
        obj._state.adding = False
        messages.warning(
            request,
            f"The token for {obj.name!r}: {issued.text}  Copy it now: it is shown only this once (only its hash "
            "is kept). Clients send it as 'Authorization: Bearer <token>'.",
        )

    @admin.action(description="Revoke the selected API tokens")
    def revoke(self, request, queryset) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token)
        self.message_user(request, f"{len(tokens)} token(s) revoked; their requests are now refused (401).")
