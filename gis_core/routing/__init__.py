"""Road routing: pure graph code behind the small interface in :mod:`gis_core.routing.engine`."""
