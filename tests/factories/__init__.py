"""Factories for tests, one module per app (importable: pytest's pythonpath puts tests/ on sys.path)."""
