"""The period report as titled tables, in the active language: what the CSV, XLSX and PDF exports print.

Durations are shown in minutes (one decimal) and shares in percent, as a person reads them; the JSON API
keeps seconds and fractions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from reports import labels
from reports.selectors.period import PeriodReport


@dataclass
class Table:
    """One titled table: ``key`` names its sheet, ``columns`` its header, ``rows`` its cells."""

    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def _count_table(key: str, title: str, first: str, rows: list[dict]) -> Table:
    return Table(
        key,
        title,
        [first, _("Reports"), _("Share (%)")],
        [[r["label"], r["reports"], percent(r["share"])] for r in rows],
    )


def _response_columns(first: str) -> list[str]:
    return [first, _("Reports"), _("Reached"), _("Mean (min)"), _("P90 (min)"), _("Within target (%)")]


def _response_cells(row: dict) -> list:
    return [
        row["reports"],
        row["responded"],
        minutes(row["mean_s"]),
        minutes(row["p90_s"]),
        percent(row["share_within_target"]),
    ]


def summary_table(report: PeriodReport) -> Table:
    counts, overall = report["counts"], report["response"]["overall"]
    zone = report["period"]["time_zone"]
    return Table(
        "summary",
        _("Summary"),
        [_("Item"), _("Value")],
        [
            [_("Region"), report["region_name"]],
            [_("Period"), report["period"]["label_id"]],
            [_("From"), report["period"]["first_day"]],
            [_("To"), report["period"]["last_day"]],
            [_("Time zone"), f"{zone['abbreviation']} (UTC{zone['utc_offset']})"],
            [_("Reports"), counts["reports"]],
            [_("Prank calls"), counts["prank"]],
            [_("Prank share (%)"), percent(counts["prank_share"])],
            [_("Reports reached by a unit"), overall["responded"]],
            [_("Mean response (min)"), minutes(overall["mean_s"])],
            [_("P90 response (min)"), minutes(overall["p90_s"])],
            [_("Within target (%)"), percent(overall["share_within_target"])],
        ],
    )


def period_tables(report: PeriodReport) -> list[Table]:
    """Every table of the period report, in the order the PDF prints them."""
    counts, response, unit_time = report["counts"], report["response"], report["unit_time"]
    tables = [
        summary_table(report),
        _count_table("channel", _("Reports by channel"), _("Channel"), counts["by_channel"]),
        _count_table("type", _("Reports by type"), _("Type"), counts["by_type"]),
        _count_table("kecamatan", _("Reports by kecamatan"), _("Kecamatan"), counts["by_kecamatan"]),
        _count_table("hour", _("Reports by hour of day (local time)"), _("Hour"), counts["by_hour"]),
        _count_table("outcome", _("Outcomes"), _("Outcome"), counts["outcomes"]),
        Table(
            "prank_trend",
            _("Prank calls per month"),
            [_("Month"), _("Reports"), _("Prank calls"), _("Prank share (%)")],
            [[m["month"], m["reports"], m["prank"], percent(m["prank_share"])] for m in counts["prank_trend"]],
        ),
    ]
    agency = Table(
        "response_agency",
        _("Response times per agency and priority"),
        [_("Agency"), _("Priority"), _("Target (min)"), *_response_columns("")[1:]],
    )
    for row in response["by_agency"]:
        agency.rows.append([row["label"], _("all"), minutes(row["target_s"]), *_response_cells(row)])
        agency.rows.extend([row["label"], p["label"], None, *_response_cells(p)] for p in row["by_priority"])
    tables.append(agency)
    tables.append(Table("response_priority", _("Response times per priority"), _response_columns(_("Priority")),
                        [[r["label"], *_response_cells(r)] for r in response["by_priority"]]))  # fmt: skip
    tables.append(Table("response_kecamatan", _("Response times per kecamatan"), _response_columns(_("Kecamatan")),
                        [[r["label"], *_response_cells(r)] for r in response["by_kecamatan"]]))  # fmt: skip
    tables.append(phase_table(report))
    tables.append(handoff_table(report))
    statuses = unit_time["statuses"]
    tables.append(
        Table(
            "unit_time",
            _("Units' time per status (hours)"),
            [_("Unit"), _("Agency"), *[str(s["label"]) for s in statuses]],
            [
                [u["call_sign"], u["agency"], *[round(u["seconds_by_status"][s["key"]] / 3600, 1) for s in statuses]]
                for u in unit_time["units"]
            ],
        )
    )
    return tables


def phase_table(report: PeriodReport) -> Table:
    """Per agency, the phases of its first unit on scene: report -> dispatch -> en route -> on scene."""
    columns = [_("Agency")]
    for phase in labels.PHASES.values():
        columns += [f"{phase}: {_('Mean (min)')}", f"{phase}: {_('P90 (min)')}"]
    rows = []
    for row in report["response"]["by_agency"]:
        cells: list = [row["label"]]
        for phase in labels.PHASES:
            figures = row["phases"][phase]
            cells += [minutes(figures["mean_s"]), minutes(figures["p90_s"])]
        rows.append(cells)
    return Table("response_phases", _("Response phases per agency"), columns, rows)


def handoff_table(report: PeriodReport) -> Table:
    """Per agency, the period's hand-offs: sent, acknowledged (share, mean and p90 time), waiting, escalated."""
    return Table(
        "handoffs",
        _("Hand-offs to agencies"),
        [
            _("Agency"), _("Hand-offs"), _("Sent"), _("Acknowledged"), _("Acknowledged (%)"),
            _("Mean to acknowledgement (min)"), _("P90 to acknowledgement (min)"), _("Unacknowledged"),
            _("Escalated"),
        ],
        [
            [
                r["label"], r["handoffs"], r["sent"], r["acknowledged"], percent(r["acknowledged_share"]),
                minutes(r["ack_s"]["mean"]), minutes(r["ack_s"]["p90"]), r["unacknowledged"], r["escalated"],
            ]
            for r in report["hand_offs"]["by_agency"]
        ],
    )  # fmt: skip
