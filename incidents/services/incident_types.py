"""The incident-type taxonomy and what each type needs, loaded from ``fixtures/incident_types.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from fleet.models import AgencyKind, Capability
from fleet.services.audit import audit_record
from incidents.errors import IncidentTypesFileError
from incidents.models import IncidentType, IncidentTypeNeed, Priority

DEFAULT_PATH = Path(settings.BASE_DIR) / "fixtures" / "incident_types.json"
_TYPE_FIELDS = ("name", "name_id", "category", "default_priority")


@dataclass
class IncidentTypesLoadSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"incident types: {len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"
        ]


def incident_types_load(*, path: Path | str | None = None) -> IncidentTypesLoadSummary:
    """Create or update the incident types and their needs from a JSON table; re-running changes nothing.

    Parameters
    ----------
    path
        The table (default ``fixtures/incident_types.json``): ``{"types": [{"code", "name", "name_id",
        "category", "default_priority", "needs": [{"agency_kind", "capability", "count", "optional"}]}]}``;
        ``name`` is English, ``name_id`` Bahasa Indonesia (optional).

    Returns
    -------
    IncidentTypesLoadSummary
        Which type codes were created, updated or left unchanged.

    Notes
    -----
    Types are matched on ``code``, needs on ``(agency_kind, capability)``: the file is the reference for
    the types it lists (a need the file no longer lists is removed, so an edit made in the admin lasts
    until the next load). Types only in the database are left alone; reports may point at them. The
    whole file is validated first, capabilities included (they come from ``fixtures/capabilities.json``),
    and nothing is written when any entry is wrong.
    """
    path = Path(path) if path is not None else DEFAULT_PATH
    specs = _read(path)
    summary = IncidentTypesLoadSummary()
    with transaction.atomic():
        capabilities = {c.code: c for c in Capability.objects.all()}
        missing = sorted({n["capability"] for s in specs for n in s["needs"]} - capabilities.keys())
        if missing:
            raise IncidentTypesFileError(
                f"{path.name}: capabilities {', '.join(missing)} do not exist; load fixtures/capabilities.json first"
            )
        for spec in specs:
            state = _upsert(spec, capabilities)
            getattr(summary, state).append(spec["code"])
        if summary.created or summary.updated:
            audit_record(
                action="incident_types.load",
                data={"path": str(path), "created": summary.created, "updated": summary.updated},
            )
    return summary


def _read(path: Path) -> list[dict]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IncidentTypesFileError(f"{path} not found") from None
    except json.JSONDecodeError as exc:
        raise IncidentTypesFileError(f"{path.name} is not valid JSON: {exc}") from None
    types = document.get("types") if isinstance(document, dict) else None
    if not isinstance(types, list):
        raise IncidentTypesFileError(f'{path.name}: expected an object with a "types" list')
    errors: list[str] = []
    specs = [_spec(entry, i, errors) for i, entry in enumerate(types)]
    codes = [s["code"] for s in specs if s]
    errors += [f"type code {c!r} appears more than once" for c in sorted({c for c in codes if codes.count(c) > 1})]
    if errors:
        raise IncidentTypesFileError(f"{path.name}: " + "; ".join(errors))
    return specs


def _spec(entry: object, i: int, errors: list[str]) -> dict:
    where = f"types[{i}]"
    if not isinstance(entry, dict):
        errors.append(f"{where} is not an object")
        return {}
    for key in ("code", "name", "category"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            errors.append(f"{where}.{key} must be a non-empty string")
    if not isinstance(entry.get("name_id", ""), str):
        errors.append(f"{where}.name_id must be a string (the Indonesian name)")
    priority = entry.get("default_priority", Priority.HIGH)
    if priority not in Priority.values or isinstance(priority, bool):
        errors.append(f"{where}.default_priority must be 1 to 4, got {priority!r}")
    needs, seen = [], set()
    for j, need in enumerate(entry.get("needs", [])):
        at = f"{where}.needs[{j}]"
        if not isinstance(need, dict):
            errors.append(f"{at} is not an object")
            continue
        if need.get("agency_kind") not in AgencyKind.values:
            errors.append(f"{at}.agency_kind {need.get('agency_kind')!r} is not one of {', '.join(AgencyKind.values)}")
        if not isinstance(need.get("capability"), str) or not need["capability"]:
            errors.append(f"{at}.capability must be a capability code such as fire_engine")
        count = need.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            errors.append(f"{at}.count must be a whole number >= 1, got {count!r}")
        pair = (need.get("agency_kind"), need.get("capability"))
        if pair in seen:
            errors.append(f"{at} repeats {pair[0]}/{pair[1]}")
        seen.add(pair)
        needs.append(
            {
                "agency_kind": pair[0],
                "capability": str(pair[1]),
                "count": count,
                "optional": bool(need.get("optional", False)),
            }
        )
    return {
        "code": entry.get("code"),
        "name": entry.get("name"),
        "name_id": str(entry.get("name_id") or "").strip(),
        "category": entry.get("category"),
        "default_priority": priority,
        "needs": needs,
    }


def _upsert(spec: dict, capabilities: dict[str, Capability]) -> str:
    itype = IncidentType.objects.filter(code=spec["code"]).first()
    state = "created" if itype is None else "unchanged"
    itype = itype or IncidentType(code=spec["code"])
    if state == "unchanged" and any(getattr(itype, f) != spec[f] for f in _TYPE_FIELDS):
        state = "updated"
    for f in _TYPE_FIELDS:
        setattr(itype, f, spec[f])
    itype.full_clean()
    itype.save()
    existing = {(n.agency_kind, n.capability.code): n for n in itype.needs.select_related("capability")}
    wanted = {(n["agency_kind"], n["capability"]): n for n in spec["needs"]}
    for key, need in existing.items():
        if key not in wanted:
            need.delete()
            state = "updated" if state == "unchanged" else state
    for key, n in wanted.items():
        need = existing.get(key) or IncidentTypeNeed(
            incident_type=itype, agency_kind=key[0], capability=capabilities[key[1]]
        )
        if need.pk is not None and (need.count, need.optional) == (n["count"], n["optional"]):
            continue
        need.count, need.optional = n["count"], n["optional"]
        need.full_clean()
        need.save()
        state = "updated" if state == "unchanged" else state
    return state
