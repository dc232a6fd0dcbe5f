"""Import population figures from a CSV onto the region, its kecamatan and its kelurahan, keyed on Kemendagri code.

The real files are messy (see SOURCES.md): city totals under the region's own code, sums over the pre-split
kecamatan layout (``15.71.07+15.71.09``), undated news figures next to dated BPS ones, several rows for one
code. The rules, applied in this order:

1. A row with an unreadable population, date or code rejects the whole file (nothing is written).
2. A row whose code joins several codes with ``+`` is skipped: it is a sum over today's areas and belongs to
   none of them.
3. A row whose code is neither the region's, nor one of its kecamatan or kelurahan, is skipped and reported.
4. Of several rows for one code, the newest date wins (a year, then month, then day; ``YYYY-mid`` is 30 June);
   a dated row beats an undated one; on an equal date an official figure beats an estimate, then the earlier
   row in the file wins. Every losing row is reported as superseded.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from gis_core.importers.errors import ImportValidationError
from gis_core.importers.summary import ImportSummary
from gis_core.models import Kecamatan, Kelurahan, PopulationKind, Region

# Words in the kind (or, failing that, source) column. An estimate marker wins over an official one, so
# "BPS figures as retold on a blog, unverified" is an estimate. "BPS estimate" is BPS's own figure: official.
ESTIMATED_MARKERS = ("news", "blog", "unverified", "unofficial", "unstated", "guess")
OFFICIAL_MARKERS = ("bps", "census", "sensus", "projection", "proyeksi", "dukcapil", "civil registry")
UNDATED_PREFIXES = ("unknown", "undated", "n/a", "?")
_DATE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{1,2}|mid)(?:-(?P<day>\d{1,2}))?)?$", re.IGNORECASE)
_POPULATION = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$")
_MAX_POPULATION = 2**31 - 1


@dataclass(frozen=True)
class PopulationMapping:
    """CSV column names; the defaults are those of ``data/*/population_*.csv``."""

    code: str = "kode_kemendagri"
    population: str = "population"
    year: str = "reference_date"
    source: str = "original_source"
    where_found: str = "where_found"
    kind: str = "kind"
    name: str = "area"


@dataclass(frozen=True)
class _Row:
    label: str
    line: int
    code: str
    population: int
    date: tuple[int, int, int] | None
    source: str
    kind: str

    @property
    def rank(self) -> tuple:
        """Higher wins: dated, then newer, then official, then earlier in the file."""
        return (self.date is not None, self.date or (0, 0, 0), self.kind == PopulationKind.OFFICIAL, -self.line)


def import_population(*, region: Region, path: Path, mapping: PopulationMapping | None = None) -> ImportSummary:
    """Set population, year, source and kind on the region and its areas from a CSV.

    Parameters
    ----------
    region
        The region; rows are matched on its own code (city total -> ``Region.population``) and on the codes of
        its kecamatan and kelurahan, which must be imported first.
    path
        A UTF-8 CSV with a header row.
    mapping
        Column names; ``PopulationMapping()`` (the real files' columns) when omitted.

    Returns
    -------
    ImportSummary
        ``updated`` / ``unchanged`` count areas (and the region) given a figure; ``skipped`` lists pre-split and
        unmatched rows with the reason, ``superseded`` the rows that lost to a better one for the same code.
        Nothing is ever created.

    Raises
    ------
    ImportValidationError
        Missing columns, or rows with an unreadable population, date or code, each named by line. Nothing is
        written.
    """
    mapping = mapping or PopulationMapping()
    path = Path(path)
    summary = ImportSummary(source=path.name)
    rows = _read(path, mapping)
    targets = _targets(region)
    by_code: dict[str, list[_Row]] = {}
    for row in rows:
        if "+" in row.code:
            summary.skipped.append(f"{row.label}: a sum over several of today's areas ({row.code}), not one area")
        elif row.code not in targets:
            summary.skipped.append(
                f"{row.label}: code {row.code!r} is not {region.name} ({region.code}) nor one of its kecamatan "
                "or kelurahan"
            )
        else:
            by_code.setdefault(row.code, []).append(row)
    winners = {code: _choose(candidates, summary) for code, candidates in by_code.items()}
    with transaction.atomic():
        for code, row in winners.items():
            _write(targets[code], row, summary)
    return summary


def _read(path: Path, mapping: PopulationMapping) -> list[_Row]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            required = [mapping.code, mapping.population, mapping.year, mapping.source]
            missing = [name for name in required if name not in columns]
            if missing:
                raise ImportValidationError(
                    f"{path.name}: column(s) {', '.join(repr(m) for m in missing)} not found; "
                    f"the header has {', '.join(columns) or 'nothing'}"
                )
            problems: list[str] = []
            rows = [_row(reader.line_num, raw, mapping, problems) for raw in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportValidationError(f"{path}: cannot read it as a UTF-8 CSV ({exc})") from exc
    if problems:
        raise ImportValidationError(
            f"{path.name}: {len(problems)} problem(s) in {len(rows)} rows; nothing was imported", problems=problems
        )
    if not rows:
        raise ImportValidationError(f"{path.name}: no data rows")
    return [row for row in rows if row is not None]


def _cell(raw: dict, column: str) -> str:
    return (raw.get(column) or "").strip()


def _row(line: int, raw: dict, mapping: PopulationMapping, problems: list[str]) -> _Row | None:
    code, date_text = _cell(raw, mapping.code), _cell(raw, mapping.year)
    label = f"line {line} ({_cell(raw, mapping.name) or 'no name'}, {code or 'no code'}, {date_text or 'no date'})"
    errors = []
    if not code:
        errors.append(f"no code in column {mapping.code!r}")
    population = _population(_cell(raw, mapping.population), errors)
    date = _date(date_text, errors)
    if errors:
        problems.extend(f"{label}: {error}" for error in errors)
        return None
    source, where = _cell(raw, mapping.source), _cell(raw, mapping.where_found)
    return _Row(
        label=label,
        line=line,
        code=code,
        population=population,
        date=date,
        source=f"{source}; where found: {where}" if where else source,
        kind=classify_kind(_cell(raw, mapping.kind), source),
    )


def _population(text: str, errors: list[str]) -> int:
    if not _POPULATION.match(text):
        errors.append(f"population {text!r} is not a whole number")
        return 0
    value = int(text.replace(",", ""))
    if not 0 < value <= _MAX_POPULATION:
        errors.append(f"population {value} is out of range")
    return value


def _date(text: str, errors: list[str]) -> tuple[int, int, int] | None:
    """(year, month, day) with 0 for an unknown month or day; None for an undated row."""
    if not text or text.lower().startswith(UNDATED_PREFIXES):
        return None
    match = _DATE.match(text)
    if match is None:
        errors.append(f"date {text!r} not understood (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-mid or 'unknown ...')")
        return None
    year, month, day = int(match["year"]), match["month"], match["day"]
    if (month or "").lower() == "mid":
        return (year, 6, 30) if day is None else _bad(text, errors)
    month_n, day_n = int(month or 0), int(day or 0)
    try:
        dt.date(year, month_n or 1, day_n or 1)
    except ValueError:
        return _bad(text, errors)
    if not 1800 <= year <= 2100:
        return _bad(text, errors)
    return (year, month_n, day_n)


def _bad(text: str, errors: list[str]) -> None:
    errors.append(f"date {text!r} is not a real date")


def classify_kind(kind_text: str, source_text: str = "") -> str:
    """``official`` for BPS census, projection or estimate and Dukcapil; ``estimated`` for anything else.

    The kind column decides; when it names neither, the source column does. Text that names neither is
    counted as an estimate: a figure of unknown provenance is not an official one.
    """
    for text in (kind_text.lower(), source_text.lower()):
        if any(marker in text for marker in ESTIMATED_MARKERS):
            return PopulationKind.ESTIMATED
        if any(marker in text for marker in OFFICIAL_MARKERS):
            return PopulationKind.OFFICIAL
    return PopulationKind.ESTIMATED


def _targets(region: Region) -> dict[str, Region | Kecamatan | Kelurahan]:
    targets: dict[str, Region | Kecamatan | Kelurahan] = {region.code: region}
    targets.update({k.code: k for k in Kecamatan.objects.filter(region=region)})
    targets.update({k.code: k for k in Kelurahan.objects.filter(kecamatan__region=region)})
    return targets


def _choose(candidates: list[_Row], summary: ImportSummary) -> _Row:
    winner = max(candidates, key=lambda row: row.rank)
    for row in sorted(candidates, key=lambda row: row.line):
        if row is not winner:
            summary.superseded.append(f"{row.label}: {row.population} lost to {winner.label}: {_why(winner, row)}")
    return winner


def _why(winner: _Row, loser: _Row) -> str:
    if loser.date is None and winner.date is not None:
        return f"a dated figure ({winner.population}) beats an undated one"
    if winner.date != loser.date:
        return f"the newer figure ({winner.population}) wins"
    if winner.kind != loser.kind:
        return f"same date, the official figure ({winner.population}) beats the estimate"
    return f"same date and kind, the earlier row ({winner.population}) wins"


def _write(target: Region | Kecamatan | Kelurahan, row: _Row, summary: ImportSummary) -> None:
    values = {
        "population": row.population,
        "population_year": row.date[0] if row.date else None,
        "population_source": row.source,
    }
    if not isinstance(target, Region):
        values["population_kind"] = row.kind
    if all(getattr(target, name) == value for name, value in values.items()):
        summary.unchanged += 1
        return
    for name, value in values.items():
        setattr(target, name, value)
    target.save(update_fields=list(values))
    summary.updated += 1
