"""Tables to CSV (one file, a titled block per table) and to XLSX (one sheet per table), with a title block."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from reports.exports.tables import Table


def tables_csv(tables: list[Table], *, heading: list[str]) -> str:
    """CSV text: the heading lines, then each table as its title, its header and its rows, a blank line between.

    Starts with a UTF-8 byte order mark so a spreadsheet opened by double-click reads the text as UTF-8.
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for line in heading:
        writer.writerow([line])
    for table in tables:
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.columns)
        writer.writerows(["" if cell is None else cell for cell in row] for row in table.rows)
    return out.getvalue()


def tables_xlsx(tables: list[Table], *, heading: list[str]) -> bytes:
    """An XLSX workbook: each table on a sheet of its own (named by its key), the heading above it."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(title=table.key[:31])
        for line in heading:
            sheet.append([line])
        sheet.append([table.title])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        sheet.append(table.columns)
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for row in table.rows:
            sheet.append(row)
        sheet.column_dimensions["A"].width = max(14, min(40, max((len(str(r[0])) for r in table.rows), default=0) + 2))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
