"""Writes and business rules of the fleet app, one module per concern (see each module's docstring)."""
