"""The ingest spool: OwnTracks HTTP messages kept in Redis while PostgreSQL is away, stored once it is back.

OwnTracks in HTTP mode counts any answer, a 503 too, as delivered and forgets the message, so a fix that
arrived while the database was restarting used to be lost. Now a request whose raw message cannot be stored
(the database is unreachable) is appended to a Redis stream (``SIAGA_SPOOL_STREAM``) as it would have been
stored (``RawRequest``: query and body masked, the headers worth keeping), and the device is answered 200 only
once Redis holds it; when Redis cannot take it either, the answer is a 503.

``spool_replay`` (``manage.py ingest_spool_replay``; the MQTT bridges and the production stack's
``spool_replay`` program run it every ``SIAGA_SPOOL_REPLAY_EVERY_S``) stores each entry as the request it was:
its raw message (received when it was spooled, header ``Spool-Id``), then its fixes, in one transaction; the
entry leaves the stream only after that commits. An entry whose ``Spool-Id`` is stored already (a replay that
stopped between the commit and the removal) is removed without storing it again, and one replayer runs at a
time (a Redis lock), so nothing is doubled. While the database is still away a replay stops at the first entry
and keeps it and everything after it, in order.

Credentials: device secrets are in the database, and the secret itself is never spooled. A device this process
authenticated within ``SIAGA_SPOOL_CREDENTIAL_TTL_S`` is checked against the hash remembered then
(``credential_remember``), unless any process changed its secret since (``credential_changed``, in Redis: the
new hash, or none for a device deactivated); a request that cannot be proven that way gets the 503. The replay
looks the device up again (``device_for_broker``), so one deactivated meanwhile is refused then, its message kept
with why.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from fleet.metrics import SPOOL_APPENDED, SPOOL_REPLAYED
from fleet.models import InboundMessage
from fleet.services.devices import device_for_broker, device_secret_matches
from fleet.services.inbound import RawRequest, inbound_message_close, inbound_message_store
from fleet.services.owntracks_http import owntracks_http_record
from gis_core.errors import DomainError

logger = logging.getLogger(__name__)

# What a request that could not be stored raises: the database is unreachable, or its connection went away.
DATABASE_AWAY = (OperationalError, InterfaceError)
REPLAYABLE_CHANNELS = frozenset({"owntracks"})
_LOCK_TIMEOUT_S = 300
_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0, decode_responses=True)
    return _clients[url]


# -- credentials ---------------------------------------------------------------------------------------

_credentials: dict[str, tuple[str, float]] = {}  # identifier -> (token hash, when it was seen, monotonic)
_credentials_lock = threading.Lock()


def credential_remember(*, identifier: str, token_hash: str) -> None:
    """Keep the hash a device just authenticated against, to check its requests while the database is away."""
    with _credentials_lock:
        _credentials[identifier] = (token_hash, time.monotonic())


def _changed_key(identifier: str) -> str:
    return f"{settings.SIAGA_SPOOL_STREAM}:credential-changed:{identifier}"


def credential_changed(*, identifier: str, token_hash: str | None) -> None:
    """Tell every process that ``identifier``'s secret changed (its new hash) or that it may no longer send (None).

    Each process remembers hashes of its own, so a secret rotated through one process would still be taken by
    another while the database is away. The change is kept in Redis (for the remembering TTL) and read when a
    request is to be spooled, which needs Redis anyway. Best effort: Redis away, nothing can be spooled then.
    """
    try:
        _redis().set(_changed_key(identifier), token_hash or "", ex=max(int(settings.SIAGA_SPOOL_CREDENTIAL_TTL_S), 1))
    except redis.RedisError:
        logger.exception("credential change of %s not shared: other processes keep the old one", identifier)


def credential_verified(*, identifier: str, secret: str | None) -> bool:
    """Whether ``secret`` matches the hash remembered for ``identifier`` (seen within the TTL), or the hash any
    process recorded as changed since (``credential_changed``; '' when the device may not send)."""
    with _credentials_lock:
        remembered = _credentials.get(identifier)
    if remembered is None or not secret:
        return False
    token_hash, seen_at = remembered
    if time.monotonic() - seen_at > settings.SIAGA_SPOOL_CREDENTIAL_TTL_S:
        return False
    try:
        changed = _redis().get(_changed_key(identifier))
    except redis.RedisError:
        return False  # nothing can be spooled without Redis anyway
    if changed is not None:
        token_hash = str(changed)
    return bool(token_hash) and device_secret_matches(secret=secret, token_hash=token_hash)


def credentials_forget() -> None:
    """Forget every remembered hash (tests)."""
    with _credentials_lock:
        _credentials.clear()


# -- spooling ------------------------------------------------------------------------------------------


def spool_append(*, raw: RawRequest, identifier: str, secret: str | None) -> str | None:
    """Spool one request of device ``identifier`` that the database could not take.

    Returns
    -------
    str or None
        The stream entry's id; None when it was not spooled (the secret cannot be checked against a remembered
        hash, or Redis is away too): then the device must be told to send it again.
    """
    if raw.channel not in REPLAYABLE_CHANNELS:
        raise ValueError(f"channel {raw.channel!r} cannot be replayed")
    if not credential_verified(identifier=identifier, secret=secret):
        logger.warning("database away: %s could not be spooled (its secret cannot be checked now)", identifier)
        return None
    entry = {
        "raw": json.dumps(asdict(raw)),
        "identifier": identifier,
        "spooled_at": timezone.now().isoformat(),
    }
    try:
        entry_id = str(_redis().xadd(settings.SIAGA_SPOOL_STREAM, entry))  # type: ignore[arg-type]
    except redis.RedisError:
        logger.exception("database and Redis away: a message of %s could not be spooled", identifier)
        return None
    SPOOL_APPENDED.labels(raw.channel).inc()
    logger.warning("database away: a message of %s was spooled as %s", identifier, entry_id)
    return entry_id


def spool_depth() -> int:
    """How many entries wait in the spool (raises ``redis.RedisError`` when Redis is away)."""
    return int(_redis().xlen(settings.SIAGA_SPOOL_STREAM))


# -- replay --------------------------------------------------------------------------------------------


@dataclass
class SpoolReplayResult:
    """What one replay did: entries stored, already stored (removed), refused (stored with why), left."""

    stored: int = 0
    already_stored: int = 0
    refused: int = 0
    left: int = 0
    database_away: bool = False
    busy: bool = False  # another replayer held the lock


def spool_replay(*, batch: int = 100) -> SpoolReplayResult:
    """Store every spooled entry, oldest first, until the spool is empty or the database fails again."""
    result = SpoolReplayResult()
    client = _redis()
    lock = client.lock(f"{settings.SIAGA_SPOOL_STREAM}:replay-lock", timeout=_LOCK_TIMEOUT_S, blocking=False)
    if not lock.acquire():
        result.busy = True
        return result
    try:
        after = "-"
        while not result.database_away:
            entries: list[tuple[str, dict[str, str]]] = client.xrange(  # type: ignore[assignment]
                settings.SIAGA_SPOOL_STREAM, min=after, max="+", count=batch
            )
            if not entries:
                break
            for entry_id, fields in entries:
                try:
                    outcome = _replay_entry(entry_id, fields)
                except DATABASE_AWAY:
                    logger.warning("spool replay: the database is still away; %s and later entries kept", entry_id)
                    result.database_away = True
                    break
                client.xdel(settings.SIAGA_SPOOL_STREAM, entry_id)
                setattr(result, outcome, getattr(result, outcome) + 1)
                SPOOL_REPLAYED.labels(outcome).inc()
                lock.extend(_LOCK_TIMEOUT_S, replace_ttl=True)
            after = "(" + entries[-1][0]  # exclusive: the next entry after the last one read
    finally:
        result.left = spool_depth()
        lock.release()
    return result


def _replay_entry(entry_id: str, fields: dict[str, str]) -> str:
    """Store one entry; its outcome: ``stored``, ``already_stored`` or ``refused``. Raises ``DATABASE_AWAY``."""
    raw = RawRequest(**json.loads(fields["raw"]))
    spooled_at = datetime.fromisoformat(fields["spooled_at"])
    headers = raw.headers | {"Spool-Id": entry_id}
    done = InboundMessage.objects.filter(
        channel=raw.channel, received_at=spooled_at, headers__contains={"Spool-Id": entry_id}
    )
    if done.exists():
        return "already_stored"
    with transaction.atomic():
        message = inbound_message_store(
            channel=raw.channel, body=raw.body, headers=headers, remote_addr=raw.remote_addr, query=raw.query,
            received_at=spooled_at,
        )  # fmt: skip
        try:
            owntracks_http_record(
                device=device_for_broker(identifier=fields["identifier"]), body=raw.body, message=message
            )
        except DomainError as exc:  # a refusal (unknown or deactivated device, bad payload): kept with why
            inbound_message_close(message=message, outcome="rejected", error=str(exc))
            return "refused"
        except DATABASE_AWAY:
            raise
        except Exception as exc:  # a bug: kept with why, as the endpoint would have kept it
            logger.exception("spool replay: recording %s failed", entry_id)
            inbound_message_close(message=message, outcome="error", error=f"{type(exc).__name__}: {exc}")
            return "refused"
    return "stored"
