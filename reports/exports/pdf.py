"""Tables to a printable A4 PDF (reportlab): the city's name and the period at the top of every page."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from reports.exports.tables import Table

_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa8b5")),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ").replace(".", ",")  # Indonesian decimal comma
    return str(value)


def tables_pdf(tables: list[Table], *, title: str, subtitle: str, footer: str) -> bytes:
    """A PDF with ``title`` (the city), ``subtitle`` (the period) and each table under its heading.

    Parameters
    ----------
    tables
        What to print, in order (``reports.exports.tables``).
    title, subtitle, footer
        Text on the first page and, shortened, on every page's header; ``footer`` says when and from what.
    """
    styles = getSampleStyleSheet()
    small = ParagraphStyle("header", parent=styles["BodyText"], fontSize=7.5, leading=9)
    out = io.BytesIO()

    def on_page(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 10 * mm, f"{title} · {subtitle}")
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"{footer} · {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=18 * mm,
        title=f"{title} - {subtitle}", author="Siaga 112", lang="id",
    )  # fmt: skip
    story = [
        Paragraph(escape(title), styles["Title"]),
        Paragraph(escape(subtitle), styles["Heading2"]),
        Spacer(1, 4 * mm),
    ]
    for table in tables:
        header = [Paragraph(f"<b>{escape(str(c))}</b>", small) for c in table.columns]
        body = PdfTable([header, *[[_cell(c) for c in row] for row in table.rows]], repeatRows=1, hAlign="LEFT")
        body.setStyle(_STYLE)
        heading = Paragraph(escape(table.title), styles["Heading3"])
        story.append(KeepTogether([heading, body]) if len(table.rows) < 30 else heading)
        if len(table.rows) >= 30:
            story.append(body)
        story.append(Spacer(1, 3 * mm))
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()
