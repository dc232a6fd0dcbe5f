"""Words the supervisor page's script shows, translated on the server and handed to the page as JSON."""

from django.utils.translation import gettext_lazy as _

from reports import labels

JS_STRINGS = {
    "loading": _("Loading…"),
    "reports": _("Reports"),
    "prank_share": _("Prank share"),
    "mean_response": _("Mean response"),
    "p90_response": _("P90 response"),
    "within_target": _("Within target"),
    "min": _("min"),
    "by_hour": _("Reports by hour of day (local time)"),
    "by_channel": _("Reports by channel"),
    "by_type": _("Reports by type"),
    "by_kecamatan": _("Reports by kecamatan"),
    "outcomes": _("Outcomes"),
    "prank_trend": _("Prank calls per month"),
    "response_agency": _("Response times per agency and priority"),
    "response_kecamatan": _("Response times per kecamatan"),
    "unit_time": _("Units' time per status (hours)"),
    "spm_fire": _("SPM fire per kecamatan"),
    "spm_ems": _("PSC 119 per kecamatan"),
    "agency": _("Agency"),
    "priority": _("Priority"),
    "kecamatan": _("Kecamatan"),
    "reached": _("Reached"),
    "mean_min": _("Mean (min)"),
    "p90_min": _("P90 (min)"),
    "within_target_pct": _("Within target (%)"),
    "events": _("Events"),
    "within_standard_pct": _("Within standard (%)"),
    "wmk_pct": _("Population in WMK (%)"),
    "rank": _("Rank"),
    "all": _("all"),
    "unit": _("Unit"),
    "no_kecamatan": labels.NO_KECAMATAN,
    "wmk_missing": _("WMK not computed: %(why)s"),
    "new_posko_later": _("What one new posko would change is not computed yet."),
}
