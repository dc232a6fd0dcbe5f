"""Importers: validate a source fully, then write it in one transaction, upserting on natural keys."""
