"""Callers: phone numbers in E.164, the flags and blocks on them, and the prank policy, each per region:
a centre's flags and the pranks it counts are its own, and another centre neither sees nor applies them.

Nothing is ever refused because of a caller's reputation. A report from a flagged or blocked number is
created like any other and marked (``Incident.caller_flags``: ``flagged``, ``blocked``) so the call
taker sees it; every flag, block and lift is written to the audit log and can be undone.

The policy (``caller_policy_apply``): a number gets a ``flag`` when ``SIAGA_PRANK_FLAG_COUNT`` of its
reports, received within the last ``SIAGA_PRANK_WINDOW_DAYS`` days, were closed as pranks. Reports
received before the caller's most recent lift do not count, so a person who lifts a policy flag is not
overruled by the same pranks a minute later. Blocks are only ever set by a person (``caller_block``,
24 hours by default, like Bontang's 112).

A person's read of a caller's personal data (the number, its history) is audited too
(``caller_read_record``), as UU PDP 27/2022 asks of personal data: who, when and from where.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from fleet.actors import SYSTEM, Actor
from fleet.models import AuditEntry
from fleet.services.audit import audit_record
from gis_core.models import Region
from incidents.errors import InvalidPhoneError, InvalidReportError, ReportStateError
from incidents.models import Caller, CallerFlag, Incident, Outcome

FLAG = "flag"
BLOCK = "block"
FLAG_KINDS = (FLAG, BLOCK)
# What a report from a number with an active flag of each kind is marked with.
MARKS = {FLAG: "flagged", BLOCK: "blocked"}
DEFAULT_BLOCK_S = 24 * 3600

_SEPARATORS = re.compile(r"[\s\-.()/]")


def phone_normalise(raw: str) -> str:
    """A phone number as E.164 (``+62...``), or ``InvalidPhoneError`` saying what to fix.

    Parameters
    ----------
    raw
        As typed by a call taker or sent by WhatsApp. Spaces, dashes, dots, slashes and brackets are
        ignored.

    Returns
    -------
    str
        ``+`` and 8 to 15 digits.

    Notes
    -----
    The rules, in order:

    - ``+62...`` stays as it is; ``0062...`` (the international prefix dialled from Indonesia) and
      ``62...`` become ``+62...``;
    - ``0...`` is a national number with its trunk 0 (mobile ``0812...``, Jambi landline ``0741...``)
      and becomes ``+62`` followed by the digits after the 0;
    - ``+`` followed by another country code is kept (a foreign number writing on WhatsApp);
    - after ``+62`` there must be 7 to 12 digits, the first not 0 (``+6208...`` is a doubled trunk
      prefix); any other number must have 8 to 15 digits in all (the E.164 maximum is 15);
    - a bare ``8...`` without the 0 or the country code is refused rather than guessed.
    """
    text = _SEPARATORS.sub("", raw or "")
    if not text:
        raise InvalidPhoneError("phone number is empty; leave the field out when the caller's number is unknown")
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("62"):
        digits = text
    elif text.startswith("0"):
        digits = "62" + text[1:]
    else:
        raise InvalidPhoneError(
            f"phone number {raw!r} has neither the leading 0 nor a country code; write it as 08... or +62..."
        )
    if not digits.isdigit():
        raise InvalidPhoneError(f"phone number {raw!r} contains characters other than digits")
    if digits.startswith("62"):
        national = digits[2:]
        if national.startswith("0"):
            raise InvalidPhoneError(f"phone number {raw!r}: after +62 drop the leading 0 (+62812..., not +620812...)")
        if not 7 <= len(national) <= 12:
            raise InvalidPhoneError(
                f"phone number {raw!r} has {len(national)} digits after the country code 62; "
                "Indonesian numbers have 7 to 12 (e.g. 0812-3456-7890)"
            )
    elif not 8 <= len(digits) <= 15:
        raise InvalidPhoneError(f"phone number {raw!r} has {len(digits)} digits; an international number has 8 to 15")
    return "+" + digits


def caller_get_or_create(*, region: Region, phone: str) -> Caller:
    """The region's caller with this E.164 number, created if new (safe when two requests race)."""
    caller, _ = Caller.objects.get_or_create(region=region, phone=phone)
    return caller


def caller_flags_active(*, caller: Caller, at: datetime | None = None) -> QuerySet[CallerFlag]:
    """The caller's flags and blocks in force at ``at`` (not lifted, not expired)."""
    at = at or timezone.now()
    return caller.flags.filter(lifted_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))


def caller_marks(*, caller: Caller, at: datetime | None = None) -> list[str]:
    """What a new report from ``caller`` is marked with: a sorted subset of ``flagged``, ``blocked``."""
    kinds = set(caller_flags_active(caller=caller, at=at).values_list("kind", flat=True))
    return sorted(MARKS[k] for k in kinds if k in MARKS)


def caller_pranks_counted(*, caller: Caller, at: datetime | None = None) -> QuerySet[Incident]:
    """The reports the prank policy counts for ``caller`` at ``at`` (see the module docstring)."""
    at = at or timezone.now()
    since = at - timedelta(days=settings.SIAGA_PRANK_WINDOW_DAYS)
    last_lift = caller.flags.aggregate(last=Max("lifted_at"))["last"]
    if last_lift is not None and last_lift > since:
        since = last_lift
    return Incident.objects.filter(
        region_id=caller.region_id, caller_phone=caller.phone, outcome=Outcome.PRANK, received_at__gte=since
    )


def caller_policy_apply(*, caller: Caller, at: datetime | None = None) -> CallerFlag | None:
    """Flag ``caller`` if the prank policy says so and no flag is in force; return the new flag or None.

    Parameters
    ----------
    caller
        The number to check.
    at
        The moment the policy is evaluated at (now by default).
    """
    at = at or timezone.now()
    threshold = settings.SIAGA_PRANK_FLAG_COUNT
    if threshold <= 0 or caller_flags_active(caller=caller, at=at).filter(kind=FLAG).exists():
        return None
    pranks = list(
        caller_pranks_counted(caller=caller, at=at).order_by("received_at").values_list("reference", flat=True)
    )
    if len(pranks) < threshold:
        return None
    reason = (
        f"policy: {len(pranks)} reports closed as prank within {settings.SIAGA_PRANK_WINDOW_DAYS:g} days "
        f"(threshold {threshold}): {', '.join(pranks)}"
    )
    return _flag_create(
        caller=caller,
        kind=FLAG,
        reason=reason,
        expires_at=None,
        actor=SYSTEM,
        data={"policy": True, "references": pranks},
    )


def caller_flag(
    *,
    region: Region,
    phone: str,
    reason: str,
    actor: Actor = SYSTEM,
    duration_s: float | None = None,
) -> CallerFlag:
    """Flag a number: new reports from it are marked ``flagged`` (never refused).

    Parameters
    ----------
    region
        The centre whose flag it is: only its new reports are marked.
    phone
        Any form ``phone_normalise`` accepts; the caller is created if the number is new there.
    reason
        Why, in words; required.
    duration_s
        How long the flag lasts, seconds; None (default) until lifted.
    """
    return _flag_by_person(region=region, phone=phone, kind=FLAG, reason=reason, actor=actor, duration_s=duration_s)


def caller_block(
    *,
    region: Region,
    phone: str,
    reason: str,
    actor: Actor = SYSTEM,
    duration_s: float | None = DEFAULT_BLOCK_S,
) -> CallerFlag:
    """Block a number for ``duration_s`` seconds (24 h by default; None: until lifted).

    A block marks new reports ``blocked``; they are still created and shown. What a centre does with a
    blocked number (answer last, call back) is its own procedure.
    """
    return _flag_by_person(region=region, phone=phone, kind=BLOCK, reason=reason, actor=actor, duration_s=duration_s)


def caller_flag_lift(*, flag: CallerFlag, reason: str, actor: Actor = SYSTEM) -> CallerFlag:
    """Lift a flag or block; the row stays, with who lifted it, when and why.

    Raises
    ------
    ReportStateError
        The flag was already lifted.
    """
    if not (reason or "").strip():
        raise InvalidReportError("reason: say why the flag is lifted")
    with transaction.atomic():
        flag = CallerFlag.objects.select_for_update().select_related("caller").get(pk=flag.pk)
        if flag.lifted_at is not None:
            raise ReportStateError(
                f"{flag.kind} {flag.pk} on {flag.caller.phone} was already lifted at {flag.lifted_at}"
            )
        flag.lifted_at = timezone.now()
        flag.lifted_by = actor.person_user
        flag.lift_reason = reason.strip()
        flag.full_clean()
        flag.save()
        audit_record(
            action="caller.flag_lift",
            actor=actor,
            obj=flag,
            data={"phone": flag.caller.phone, "kind": flag.kind, "reason": flag.lift_reason},
        )
    return flag


def _flag_by_person(
    *, region: Region, phone: str, kind: str, reason: str, actor: Actor, duration_s: float | None
) -> CallerFlag:
    if not (reason or "").strip():
        raise InvalidReportError(f"reason: say why the number is given a {kind}")
    if duration_s is not None and not duration_s > 0:
        raise InvalidReportError(f"duration_s must be a positive number of seconds, got {duration_s!r}")
    caller = caller_get_or_create(region=region, phone=phone_normalise(phone))
    expires_at = timezone.now() + timedelta(seconds=duration_s) if duration_s is not None else None
    return _flag_create(
        caller=caller,
        kind=kind,
        reason=reason.strip(),
        expires_at=expires_at,
        actor=actor,
        data={},
    )


def _flag_create(
    *,
    caller: Caller,
    kind: str,
    reason: str,
    expires_at: datetime | None,
    actor: Actor,
    data: dict,
) -> CallerFlag:
    with transaction.atomic():
        flag = CallerFlag(
            caller=caller,
            kind=kind,
            reason=reason,
            expires_at=expires_at,
            created_by=actor.person_user,
        )
        flag.full_clean()
        flag.save()
        audit_record(
            action=f"caller.{kind}",
            actor=actor,
            obj=flag,
            data={
                "phone": caller.phone,
                "reason": reason,
                "expires_at": expires_at.isoformat() if expires_at else None,
                **data,
            },
        )
    return flag


def caller_read_record(*, phone: str, actor: Actor, via: str, obj: models.Model | None = None) -> AuditEntry | None:
    """Audit that a person read a caller's personal data (number, history): ``caller.read``.

    Parameters
    ----------
    phone
        The E.164 number whose data was shown.
    actor
        Who read it, from where: a person (a dispatcher's login: session or HTTP Basic), or a machine
        client's API token (a system read naming the token). Nothing is recorded for the system itself:
        an anonymous request is refused before any caller data is read.
    via
        What showed it: ``caller_detail`` (the caller's record), ``incident_detail`` (a report in full,
        with the caller's number and record).
    obj
        The caller or report read.

    Returns
    -------
    AuditEntry or None
    """
    if actor.person_user is None and not actor.api_token:
        return None
    return audit_record(action="caller.read", actor=actor, obj=obj, data={"phone": phone, "via": via})
