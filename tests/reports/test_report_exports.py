"""Exports of the period report (CSV, XLSX, PDF) and the data-out CSV, with callers' numbers only when allowed."""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib

import pytest
from factories.access import make_user
from openpyxl import load_workbook
from rest_framework.test import APIClient

from fleet.models import AuditEntry

pytestmark = pytest.mark.django_db
QUERY = {"region": "kota-jambi", "period": "2026-10"}


def _client(*roles) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user("-".join(("export", *roles)), *roles))
    return client


def _section(text: str, title: str) -> list[list[str]]:
    """The rows (header first) of the CSV block titled ``title``."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    start = rows.index([title]) + 1
    end = next((i for i in range(start, len(rows)) if not rows[i]), len(rows))
    return rows[start:end]


def test_csv_in_indonesian_with_the_figures(history):
    response = _client("planner").get("/api/reports/period.csv", QUERY, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="laporan-kota-jambi-2026-10.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffKota Jambi: Oktober 2026 (2026-10-01 - 2026-10-31)")
    channels = _section(text, "Laporan per saluran")
    assert channels[0] == ["Saluran", "Laporan", "Bagian (%)"]
    assert channels[1:] == [["Telepon", "6", "75.0"], ["WhatsApp", "2", "25.0"]]  # 6 and 2 of 8
    summary = dict(_section(text, "Ringkasan")[1:])
    assert summary["Rata-rata waktu tanggap (menit)"] == "14.2"  # 855 s
    assert summary["Bagian panggilan iseng (%)"] == "25.0"


def test_xlsx_has_a_sheet_per_table(history):
    response = _client("planner").get("/api/reports/period.xlsx", QUERY)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert {"summary", "channel", "response_agency", "unit_time", "spm_fire", "spm_ems"} <= set(book.sheetnames)
    rows = list(book["response_agency"].iter_rows(values_only=True))
    header = rows.index(next(r for r in rows if r and r[0] == "Instansi"))
    damkar = next(r for r in rows[header + 1 :] if r[0] == "Damkar")
    assert damkar[2:5] == (15.0, 4, 3)  # target 900 s; 4 reports, 3 reached (test_period_report.py)
    phases = list(book["response_phases"].iter_rows(values_only=True))
    damkar = next(r for r in phases if r and r[0] == "Damkar")
    assert damkar[1:3] == (1.3, 1.8)  # report to dispatch: mean 80 s, p90 108 s (test_period_handoffs_phases.py)
    assert "handoffs" in book.sheetnames


def test_pdf_is_a_pdf_naming_the_city_and_period(history):
    response = _client("planner").get("/api/reports/period.pdf", QUERY, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert b"/Title (Laporan Layanan 112 Kota Jambi - Periode: Oktober 2026)" in response.content
    text = _pdf_text(response.content)
    assert "Laporan Layanan 112 Kota Jambi" in text
    assert "Laporan per saluran" in text  # in Indonesian whatever the browser asks for
    assert "Bebas" not in text


def _pdf_text(pdf: bytes) -> str:
    """The page streams' text of a reportlab PDF (ASCII85 then Flate encoded), to look for words in."""
    chunks = re.findall(
        rb"/Filter \[ /ASCII85Decode /FlateDecode \] /Length \d+\s*>>\s*stream\r?\n(.*?)endstream", pdf, re.S
    )
    return "".join(zlib.decompress(base64.a85decode(c.strip(), adobe=True)).decode("latin-1") for c in chunks)


def test_data_out_csv_without_numbers_for_a_planner(history):
    response = _client("planner").get("/api/reports/incidents.csv", QUERY)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff"))))
    assert len(rows) == 8
    assert "caller_phone" not in rows[0]
    r1 = next(r for r in rows if r["received_at"] == "2026-10-01T00:30:00+07:00")
    assert (r1["response_s"], r1["first_on_scene_agency"], r1["incident_type"]) == ("480.0", "psc119", "fire")
    r7 = next(r for r in rows if r["incident_type"] == "medical")
    assert (r7["dispatches"], r7["dispatches_cancelled"], r7["response_s"]) == ("2", "1", "900.0")
    r9 = next(r for r in rows if r["outcome"] == "false_alarm")
    assert (r9["response_s"], r9["first_on_scene_agency"]) == ("", "damkar")  # dispatched, never on scene
    assert not AuditEntry.objects.filter(action="caller.read").exists()


def test_data_out_csv_with_numbers_for_a_dispatcher_is_audited_per_number(history):
    response = _client("dispatcher").get("/api/reports/incidents.csv", QUERY)
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    phones = {r["caller_phone"] for r in csv.DictReader(io.StringIO(text))} - {""}
    assert phones == {"+6281100000003", "+6281100000006", "+6281100000007"}  # R3, R6, R7
    reads = AuditEntry.objects.filter(action="caller.read")
    assert sorted(e.data["phone"] for e in reads) == sorted(phones)
    assert {(e.actor_label, e.data["via"], e.data["period"]) for e in reads} == {
        ("export-dispatcher", "report_export", "2026-10")
    }


def test_data_out_csv_audits_the_client_behind_the_trusted_proxy(history, settings):
    # nginx (10.0.0.2) appends the address it was connected from; the entry before it the client wrote itself.
    settings.SIAGA_NUM_PROXIES = 1
    response = _client("dispatcher").get(
        "/api/reports/incidents.csv", QUERY, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )
    assert response.status_code == 200
    b"".join(response.streaming_content)
    reads = AuditEntry.objects.filter(action="caller.read")
    assert reads.exists()
    assert set(reads.values_list("remote_addr", flat=True)) == {"203.0.113.7"}
