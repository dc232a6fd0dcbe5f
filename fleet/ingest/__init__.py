"""Device protocols: one parser per protocol, each turning a raw payload into canonical fixes.

- ``osmand``: Traccar Client / OsmAnd query string or form (speed in knots).
- ``traccar_json``: Traccar Client 9+ JSON body (speed in m/s, battery 0..1).
- ``owntracks``: OwnTracks HTTP mode (speed in km/h, zero fields omitted).
- ``batch``: Siaga's native batch of many fixes, every unit in its field name.

The parsers are pure (no Django, no database): they read, convert units and name what is wrong.
Validation against the world (range, region, time, speed, duplicates) happens when a fix is
recorded, in ``fleet.services.positions``.
"""

from fleet.ingest.fix import CanonicalFix, PayloadError

__all__ = ["CanonicalFix", "PayloadError"]
