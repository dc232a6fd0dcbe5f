"""The SPM tables (``reports.selectors.spm``) as export tables, in the active language."""

from __future__ import annotations

from django.utils.translation import gettext as _

from reports.exports.tables import Table, minutes, percent
from reports.selectors.spm import SpmTable


def spm_export_tables(tables: list[SpmTable]) -> list[Table]:
    """One table per SPM table: each kecamatan's events, share within the standard, p90 and WMK share."""
    out = []
    for spm in tables:
        title = (
            _("SPM fire: reached within %(minutes)s min per kecamatan")
            if spm["kind"] == "fire"
            else _("PSC 119: reached within %(minutes)s min per kecamatan")
        )
        table = Table(
            f"spm_{spm['kind']}",
            title % {"minutes": round(spm["target_s"] / 60)},
            [
                _("Kecamatan"), _("Events"), _("Reached"), _("Within standard"), _("Within standard (%)"),
                _("P90 (min)"), _("Population in WMK (%)"), _("Fails"), _("Rank"),
            ],
        )  # fmt: skip
        rank = {code: i + 1 for i, code in enumerate(spm["failing"])}
        for row in [*spm["kecamatan"], spm["totals"]]:
            table.rows.append(
                [
                    row["name"] or _("No kecamatan"), row["events"], row["reached"], row["within"],
                    percent(row["share_within"]), minutes(row["p90_s"]), percent(row["wmk_population_share"]),
                    _("yes") if row["fails"] and row["code"] else "", rank.get(row["code"], ""),
                ]
            )  # fmt: skip
        if spm["wmk_note"]:
            table.rows.append([_("WMK not computed: %(why)s") % {"why": spm["wmk_note"]}, *[""] * 8])
        out.append(table)
        if spm["new_posko"]:
            out.append(new_posko_table(spm))
    return out


def new_posko_table(spm: SpmTable) -> Table:
    """What one new posko in each failing kecamatan would change (``reports.selectors.posko``)."""
    table = Table(
        f"posko_{spm['kind']}",
        _("One new posko per failing kecamatan"),
        [
            _("Kecamatan"), _("Longitude"), _("Latitude"), _("Street"), _("Population in WMK before (%)"),
            _("Population in WMK after (%)"), _("People gained"), _("Events"),
            _("Within standard before (%)"), _("Within standard after (%)"),
        ],
    )  # fmt: skip
    for e in spm["new_posko"]:
        site = e["site"] or {"lon": None, "lat": None, "street": e["note"]}
        table.rows.append(
            [
                e["name"], site["lon"], site["lat"], site["street"] or "",
                percent(e["wmk_population_share_before"]), percent(e["wmk_population_share_after"]),
                e["population_gained"], e["fires"], percent(e["fires_within_share_before"]),
                percent(e["fires_within_share_after"]),
            ]
        )  # fmt: skip
    return table
