"""The fleet's Prometheus counters: raw messages and fixes as ingest sees them.

Counted where it happens (``fleet.services.inbound``, ``fleet.services.positions``); ``ops.metrics`` serves
them. Under the production stack every process writes its counts to ``PROMETHEUS_MULTIPROC_DIR`` and a scrape
sums the processes (prometheus_client's multiprocess mode); without it they live in the process.
``received`` minus ``stored`` is what could not be written (the database failed mid-request).
"""

from __future__ import annotations

from prometheus_client import Counter

INBOUND_MESSAGES = Counter(
    "siaga_inbound_messages", "Raw device, bridge and webhook messages stored, by channel", ["channel"]
)
FIXES_RECEIVED = Counter("siaga_fixes_received", "GPS fixes handed to recording, by protocol", ["protocol"])
FIXES_STORED = Counter("siaga_fixes_stored", "GPS fixes written to the database, by protocol", ["protocol"])
FIXES_FLAGGED = Counter("siaga_fixes_flagged", "Stored GPS fixes carrying a flag, by flag", ["flag"])
SPOOL_APPENDED = Counter(
    "siaga_ingest_spooled", "Device messages spooled because the database could not take them", ["channel"]
)
SPOOL_REPLAYED = Counter("siaga_ingest_spool_replayed", "Spooled messages replayed, by outcome", ["outcome"])
