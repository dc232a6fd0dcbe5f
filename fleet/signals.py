"""What the fleet announces to whoever listens (the fleet imports no listener).

``unit_moved(sender=Unit, unit, status)``
    A unit's last fix changed (``fleet.services.positions.position_record``, inside the request, after
    the fix was stored and committed). ``unit.last_fix`` is the new fix; ``status`` is the unit's
    status as locked while recording. Receivers must not raise: the fix is already stored.
"""

from django.dispatch import Signal

unit_moved = Signal()
