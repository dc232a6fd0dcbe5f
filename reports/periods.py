"""A report's period: a month, quarter, year or from/to range of local dates, as a UTC-aware window.

Pure (no Django, no database). Periods are read in the region's time zone: October 2026 in Ambon is
2026-10-01 00:00 WIT (UTC+9) to 2026-11-01 00:00 WIT, nine hours before the same dates in UTC.

Accepted forms: ``period=2026-10`` (a month), ``2026-Q4`` (a quarter), ``2026`` (a year), or
``from=2026-01-01`` and ``to=2026-10-30`` (local dates, both included, as a person says "from 1 January
to 30 October").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reports.errors import ReportPeriodError

MAX_DAYS = 3 * 366 + 1  # three years: a longer report is a different question (and an expensive one)
MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_YEAR = re.compile(r"(\d{4})")


@dataclass(frozen=True)
class Period:
    """A window of local dates ``first``..``last`` (both included) in ``time_zone``, and its UTC bounds."""

    kind: str  # month, quarter, year or range
    first: date
    last: date
    time_zone: str

    @property
    def since(self) -> datetime:
        """Start, aware: ``first`` at 00:00 local."""
        return datetime.combine(self.first, datetime.min.time(), tzinfo=ZoneInfo(self.time_zone))

    @property
    def until(self) -> datetime:
        """End (excluded), aware: the day after ``last`` at 00:00 local."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(self.time_zone))

    @property
    def key(self) -> str:
        """``2026-10``, ``2026-Q4``, ``2026`` or ``2026-01-01_2026-10-30``: file names and the API's echo."""
        if self.kind == "month":
            return self.first.strftime("%Y-%m")
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.first.year)
        return f"{self.first.isoformat()}_{self.last.isoformat()}"

    def label_id(self) -> str:
        """The period in Bahasa Indonesia: ``Oktober 2026``, ``Triwulan IV 2026``, ``1 Januari - 30 Oktober 2026``."""
        if self.kind == "month":
            return f"{MONTHS_ID[self.first.month - 1]} {self.first.year}"
        if self.kind == "quarter":
            return f"Triwulan {['I', 'II', 'III', 'IV'][(self.first.month - 1) // 3]} {self.first.year}"
        if self.kind == "year":
            return f"Tahun {self.first.year}"
        return f"{_date_id(self.first)} - {_date_id(self.last)}"

    def months(self) -> list[str]:
        """Every local month the period touches, ``YYYY-MM``, in order."""
        out, y, m = [], self.first.year, self.first.month
        while (y, m) <= (self.last.year, self.last.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def _date_id(day: date) -> str:
    return f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"


def period_parse(*, time_zone: str, period: str | None = None, first: str | None = None, last: str | None = None):
    """The :class:`Period` named by ``period`` (``2026-10``, ``2026-Q4``, ``2026``) or by ``first``/``last`` dates.

    Parameters
    ----------
    time_zone
        The region's IANA zone, that the dates are local to.
    period
        A month, quarter or year; or None when ``first`` and ``last`` are given.
    first, last
        ISO local dates (``2026-01-01``), both included.

    Raises
    ------
    ReportPeriodError
        Neither or both forms given, a value that is no date, ``last`` before ``first``, or over three years.
    """
    if period is not None and (first is not None or last is not None):
        raise ReportPeriodError("give either period=(2026-10, 2026-Q4 or 2026) or from= and to=, not both")
    if period is not None:
        return _named(_text(period, "period"), time_zone)
    if first is None or last is None:
        raise ReportPeriodError(
            "name the period: period=2026-10 (a month), 2026-Q4, 2026, or from=2026-01-01&to=2026-10-30"
        )
    start, end = _date(first, "from"), _date(last, "to")
    if end < start:
        raise ReportPeriodError(f"to ({end.isoformat()}) is before from ({start.isoformat()})")
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportPeriodError(f"a report covers at most {MAX_DAYS} days; split {start} to {end} into years")
    return Period("range", start, end, time_zone)


def _text(value: str, name: str) -> str:
    if not isinstance(value, str) or len(value) > 32 or "\x00" in value:
        raise ReportPeriodError(f"{name} must be a short text such as 2026-10")
    return value.strip()


def _date(value: str, name: str) -> date:
    value = _text(value, name)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ReportPeriodError(f"{name}={value!r} is not a date: write it as 2026-01-31") from None
    return _in_range(day, name)


def _in_range(day: date, name: str) -> date:
    if not 2000 <= day.year <= 2100:
        raise ReportPeriodError(f"{name} must be a year between 2000 and 2100")
    return day


def _named(value: str, time_zone: str) -> Period:
    if m := _MONTH.fullmatch(value):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ReportPeriodError(f"period={value!r}: a month is 01 to 12")
        first = _in_range(date(year, month, 1), "period")
        return Period("month", first, _month_end(year, month), time_zone)
    if m := _QUARTER.fullmatch(value):
        year, quarter = int(m[1]), int(m[2])
        first = _in_range(date(year, 3 * quarter - 2, 1), "period")
        return Period("quarter", first, _month_end(year, 3 * quarter), time_zone)
    if m := _YEAR.fullmatch(value):
        first = _in_range(date(int(m[1]), 1, 1), "period")
        return Period("year", first, date(first.year, 12, 31), time_zone)
    raise ReportPeriodError(f"period={value!r} is not a month (2026-10), quarter (2026-Q4) or year (2026)")


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)
