"""Admin for access: memberships and API tokens, for superusers and for region admins of their own regions.

A region admin manages the memberships of the regions they administer: the list, the pages and the choices
(region, user, agencies) hold only those regions' rows (another region's membership is a 404), a role is granted
only if its capabilities are within the admin's own there, and superusers' memberships are not theirs to touch.
Users themselves (passwords, staff and superuser status) stay with superusers.

A region admin (the ``region_admin`` role in the region, ``access.roles.REGION_ADMIN``, with staff status to
open /admin/) or a superuser makes a region's API tokens, lists them (never their secrets: only a hash is
kept) and revokes them. The token is shown once, in the message after saving the new token.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404

from access import roles
from access.models import ApiToken, Membership, Role, Scope
from access.selectors import regions_administered_by
from access.services import api_token_create, api_token_revoke
from gis_core.admin_scoping import RegionScopedAdminMixin


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "region", "role", "agencies", "is_home")

    def clean(self) -> dict:
        data = super().clean()
        region, agencies = data.get("region"), data.get("agencies")
        granter = getattr(self, "granter", None)
        if granter is not None and region is not None and data.get("role"):
            role = data["role"]
            if not roles.ROLE_CAPABILITIES[role] <= roles.capabilities_of(granter, region):
                self.add_error("role", f"you may not grant {role} in {region.name}: it is above your own role there")
        if region is not None and agencies:
            foreign = [str(agency) for agency in agencies if agency.region_id != region.pk]
            if foreign:
                self.add_error("agencies", f"not agencies of {region.name}: {', '.join(foreign)}")
        return data


class RegionAdminsOnly:
    """Admin pages for whoever administers a region (``regions_administered_by``); superusers included."""

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
        return self._may(request)


@admin.register(Membership)
class MembershipAdmin(RegionAdminsOnly, RegionScopedAdminMixin, admin.ModelAdmin):
    form = MembershipForm
    list_display = ("user", "region", "role", "agency_limit", "is_home", "created_at")
    list_filter = ("region", "role", "is_home")
    search_fields = ("user__username", "user__first_name", "user__last_name", "region__name", "region__slug")
    list_select_related = ("user", "region")
    autocomplete_fields = ("user", "region")
    filter_horizontal = ("agencies",)
    readonly_fields = ("created_at",)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(f"no membership {object_id}")  # another region's is the same 404 as one that never was

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related("agencies")
        if not request.user.is_superuser:
            queryset = queryset.exclude(user__is_superuser=True)  # a superuser's memberships are not a centre's
        return queryset

    def get_autocomplete_fields(self, request):
        # Autocomplete asks the user and region admins, which are superusers' only: plain scoped choices instead.
        return self.autocomplete_fields if request.user.is_superuser else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.granter = None if request.user.is_superuser else request.user
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            # Members of the admin's regions, and people of no region yet (a new desk); never a superuser.
            mine = regions_administered_by(request.user)
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_superuser=False)
                .filter(Q(memberships__region__in=mine) | Q(memberships__isnull=True))
                .distinct()
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "agencies" and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model._default_manager.filter(
                region__in=regions_administered_by(request.user)
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser:
            held = roles.capabilities_of(request.user)
            kwargs["choices"] = [("", "---------")] + [
                (value, label) for value, label in Role.choices if roles.ROLE_CAPABILITIES[value] <= held
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    @admin.display(description="agencies")
    def agency_limit(self, obj: Membership) -> str:
        return ", ".join(agency.code for agency in obj.agencies.all()) or "all"


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiToken
        fields = ("region", "name", "scopes")


@admin.register(ApiToken)
class ApiTokenAdmin(RegionAdminsOnly, admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ("name", "region", "prefix", "scopes", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("region", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    list_select_related = ("region", "created_by")
    actions = ("revoke",)

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
